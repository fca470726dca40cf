"""How the channels of an LSL gaze stream fill sample fields (pure; used by the lsl backend).

From the XDF gaze meta-data in the stream's ``desc/channels/channel`` entries (``label``,
``eye`` left/right/both, ``type`` ScreenX/ScreenY/Diameter/PositionX../Validity/Confidence,
``unit`` normalized or pixels/mm), or from an explicit ``mapping``. Re-exported by
:mod:`acquisition.trackers.lsl_tracker`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from acquisition.trackers.base import TrackerError

__all__ = [
    "MAPPING_KEYS",
    "ChannelMapping",
    "map_channels",
    "pick_from_metadata",
    "read_channel_metadata",
]

#: Keys of an explicit ``mapping``: sample fields, eye-position components as ``*_eye_x/y/z``.
MAPPING_KEYS: tuple[str, ...] = (
    "left_x", "left_y", "right_x", "right_y", "left_pupil", "right_pupil",
    "left_valid", "right_valid", "left_eye_x", "left_eye_y", "left_eye_z",
    "right_eye_x", "right_eye_y", "right_eye_z",
)  # fmt: skip

_NORMALISED = {"", "normalized", "normalised", "norm", "relative", "fraction"}
_PIXELS = {"pixels", "pixel", "px", "pix"}
_MM = {"", "mm", "millimeters", "millimetres", "millimeter", "millimetre"}
_TYPES = {  # lower-case XDF gaze type -> (mapping key template, kind)
    "screenx": ("{eye}_x", "gaze_x"),
    "screeny": ("{eye}_y", "gaze_y"),
    "diameter": ("{eye}_pupil", "pupil"),
    "pupildiameter": ("{eye}_pupil", "pupil"),
    "positionx": ("{eye}_eye_x", "pos"),
    "positiony": ("{eye}_eye_y", "pos"),
    "positionz": ("{eye}_eye_z", "pos"),
    "validity": ("{eye}_valid", "valid"),
    "confidence": ("{eye}_valid", "valid"),
}


@dataclasses.dataclass(frozen=True)
class ChannelMapping:
    """How the channels of a stream fill sample fields: ``field = value * scale + offset``.

    Attributes
    ----------
    targets : tuple of (key, channel_index, scale, offset)
        ``key`` is one of :data:`MAPPING_KEYS`.
    source : str
        ``"metadata"`` or ``"explicit"``.
    notes : tuple of str
        Assumptions made (e.g. a gaze channel without a unit taken as normalised).
    """

    targets: tuple[tuple[str, int, float, float], ...]
    source: str
    notes: tuple[str, ...] = ()

    def keys(self) -> set[str]:
        """The mapping keys filled."""
        return {t[0] for t in self.targets}

    def describe(self, labels: list[str]) -> dict[str, str]:
        """``key -> channel label`` for provenance."""
        return {k: labels[i] if i < len(labels) else str(i) for k, i, _, _ in self.targets}


def read_channel_metadata(info: Any) -> list[dict[str, str]]:
    """Per channel ``{"label", "eye", "type", "unit"}`` from a pylsl ``StreamInfo`` (``""`` if absent)."""
    out: list[dict[str, str]] = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() and len(out) < info.channel_count():
        out.append(
            {
                k: ch.child_value(k).strip()
                for k in ("label", "eye", "type", "unit", "coordinate_system")
            }
        )
        ch = ch.next_sibling("channel")
    while len(out) < info.channel_count():
        out.append({"label": "", "eye": "", "type": "", "unit": "", "coordinate_system": ""})
    return out


def map_channels(
    stream: str,
    channels: list[dict[str, str]],
    *,
    mapping: Mapping[str, str | int] | None = None,
    units: str | None = None,
    screen_size_px: tuple[int, int] | None = None,
    y_origin: str = "top",
) -> ChannelMapping:
    """Map a stream's channels to sample fields (pure; raises :class:`TrackerError`).

    Parameters
    ----------
    stream : str
        Stream description used in error messages.
    channels : list of dict
        Per channel ``label``, ``eye``, ``type``, ``unit`` (see :func:`read_channel_metadata`).
    mapping : mapping, optional
        Explicit ``key -> channel label or index`` (keys from :data:`MAPPING_KEYS`); overrides
        the meta-data entirely.
    units : {"normalized", "pixels"}, optional
        Unit of the gaze channels; overrides the channels' ``unit`` meta-data.
    screen_size_px : (width, height), optional
        Needed when gaze is in pixels.
    y_origin : {"top", "bottom"}
        Where y = 0 is in the stream (gazeread uses top, y down).
    """
    labels = [c["label"] or f"#{i}" for i, c in enumerate(channels)]
    if y_origin not in ("top", "bottom"):
        raise TrackerError(f"lsl: y_origin must be 'top' or 'bottom', got {y_origin!r}")
    if units is not None and units.lower() not in _NORMALISED | _PIXELS:
        raise TrackerError(f"lsl: units must be 'normalized' or 'pixels', got {units!r}")
    if mapping is not None:
        source, picked = "explicit", _pick_explicit(stream, labels, mapping)
    else:
        source, picked = "metadata", pick_from_metadata(channels)
    if not any(f"{e}_x" in picked and f"{e}_y" in picked for e in ("left", "right")):
        raise TrackerError(
            f"lsl: cannot map the channels of stream {stream} to gaze: its channel labels are "
            f"{labels} (types {[c['type'] for c in channels]}); at least one eye needs an x and a "
            "y channel. Give the stream XDF gaze meta-data (desc/channels/channel with label, "
            "eye left/right/both, type ScreenX/ScreenY/Diameter, unit normalized/pixels/mm) or "
            "pass mapping={'left_x': <label or index>, 'left_y': ..., 'right_x': ..., "
            "'right_y': ...} (optional: *_pupil, *_valid, *_eye_x/y/z) and units='normalized' "
            "or 'pixels'."
        )
    notes: list[str] = []
    targets = [
        _target(stream, key, picked[key], labels, channels, units, screen_size_px, y_origin, notes)
        for key in MAPPING_KEYS
        if key in picked
    ]
    return ChannelMapping(tuple(targets), source, tuple(notes))


def _pick_explicit(
    stream: str, labels: list[str], mapping: Mapping[str, str | int]
) -> dict[str, int]:
    """``key -> channel index`` from an explicit mapping of keys to labels or indices."""
    picked: dict[str, int] = {}
    for key, ch in mapping.items():
        if key not in MAPPING_KEYS:
            raise TrackerError(
                f"lsl: unknown mapping key {key!r} for stream {stream}; valid keys: "
                f"{', '.join(MAPPING_KEYS)}"
            )
        if isinstance(ch, (int, np.integer)) and not isinstance(ch, bool):
            if not 0 <= ch < len(labels):
                raise TrackerError(
                    f"lsl: mapping {key!r} -> channel index {ch} is out of range for stream "
                    f"{stream} with {len(labels)} channels {labels}"
                )
            picked[key] = int(ch)
        elif ch in labels:
            picked[key] = labels.index(str(ch))
        else:
            raise TrackerError(
                f"lsl: mapping {key!r} -> {ch!r}: no such channel in stream {stream}; "
                f"its channel labels are {labels}"
            )
    return picked


def pick_from_metadata(channels: list[dict[str, str]]) -> dict[str, int]:
    """``key -> channel index`` from XDF types and eyes (or gazeread's own labels).

    ``channels`` as :func:`read_channel_metadata` gives them (``label``, ``eye``, ``type``);
    the one reading of a stream's description, for the tracker backend and the live console.
    """
    picked: dict[str, int] = {}
    for i, c in enumerate(channels):
        typ = c["type"].replace(" ", "").lower()
        if typ not in _TYPES:
            if c["label"] in MAPPING_KEYS and c["label"] not in picked:
                picked[c["label"]] = i  # gazeread-style labels without types
            continue
        eye = c["eye"].lower()
        eyes = ["left", "right"] if eye in ("", "both", "binocular", "cyclopean") else [eye]
        for e in eyes:
            key = _TYPES[typ][0].format(eye=e)
            # an eye-specific channel beats a binocular one
            if e in ("left", "right") and (key not in picked or len(eyes) == 1):
                picked[key] = i
    return picked


def _target(
    stream: str,
    key: str,
    i: int,
    labels: list[str],
    channels: list[dict[str, str]],
    units: str | None,
    screen_size_px: tuple[int, int] | None,
    y_origin: str,
    notes: list[str],
) -> tuple[str, int, float, float]:
    """``(key, channel, scale, offset)``: how channel ``i`` becomes sample field ``key``."""
    unit = (units if units is not None else channels[i]["unit"]).lower()
    if key.endswith("_pupil") and channels[i]["unit"].lower() not in _MM:
        notes.append(f"{labels[i]}: pupil unit {channels[i]['unit']!r} stored as is (schema: mm)")
    if not key.endswith(("_x", "_y")) or "_eye_" in key:
        return key, i, 1.0, 0.0
    scale, offset = 1.0, 0.0
    if unit in _PIXELS:
        if screen_size_px is None:
            raise TrackerError(
                f"lsl: stream {stream} gives gaze in pixels (channel {labels[i]!r}); "
                "pass screen=ScreenGeometry(...) or screen_size_px=(width, height) so it "
                "can be normalised"
            )
        scale = 1.0 / float(screen_size_px[0 if key.endswith("_x") else 1])
    elif unit not in _NORMALISED:
        raise TrackerError(
            f"lsl: channel {labels[i]!r} of stream {stream} has unit {unit!r}; gaze must "
            "be 'normalized' or 'pixels' (override with units=...)"
        )
    elif unit == "" and units is None:
        notes.append(f"{labels[i]}: no unit given, taken as normalized")
    if key.endswith("_y") and y_origin == "bottom":
        scale, offset = -scale, 1.0
    return key, i, scale, offset
