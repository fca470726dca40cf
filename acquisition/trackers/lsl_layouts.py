"""The gaze-stream layouts of the LSL apps labs already run, in one table (pure; no pylsl).

A lab's first try is the tracker it already has, through the LSL app its vendor ships. Each
:class:`GazeLayout` says how to recognise that app's stream (name, type, channel labels, the
``desc`` fields it writes) and how its channels fill gazeread's samples (which channel is which,
the gaze unit, the pupil unit, the values that mean "missing"). The layouts were read from the
apps' published sources (``source``); docs/acquisition.md has the same table.

Head-mounted trackers (Pupil Core through Pupil Capture's relay, Pupil Invisible and Neon
through the companion relay) give gaze in the scene camera's image, not on the screen: their
layouts are recognised and refused with what is needed to use them (``advice``).

:func:`identify_layout` picks the layout of a stream; :func:`unknown_layout_message` tells a
user with an unknown stream exactly which ``--tracker-option mapping=...`` to write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "LAYOUTS",
    "GazeLayout",
    "StreamView",
    "identify_layout",
    "parse_mapping",
    "unknown_layout_message",
]


@dataclasses.dataclass(frozen=True)
class StreamView:
    """What the table looks at in a stream: its name, type, channels and ``desc`` fields.

    ``desc`` holds the text values of ``desc`` and ``desc/acquisition`` (the latter prefixed
    ``acquisition/``).
    """

    name: str
    type: str
    channels: tuple[dict[str, str], ...]
    desc: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Channel labels (``#i`` for a channel without one)."""
        return [c.get("label") or f"#{i}" for i, c in enumerate(self.channels)]

    def units(self) -> set[str]:
        """The channels' units, lower case."""
        return {c.get("unit", "").lower() for c in self.channels}

    def coordinate_systems(self) -> set[str]:
        """The channels' ``coordinate_system`` values, lower case."""
        return {c.get("coordinate_system", "").lower() for c in self.channels}


@dataclasses.dataclass(frozen=True)
class GazeLayout:
    """One app's stream layout.

    Attributes
    ----------
    key, app, source : str
        Short name, the app, and where its layout was read (repository and file).
    screen_based : bool
        Gaze on the stimulus screen (usable as it is), else in a scene camera (refused).
    stream_types : tuple of str
        The LSL types the app publishes (``gazeread trackers`` lists them all).
    recognise : callable
        ``StreamView -> bool``.
    mapping : dict or None
        Sample field -> channel label; None: the channels' XDF gaze meta-data say it.
    units : str or None
        Gaze unit: ``normalized`` (0..1 of the display area, origin top-left) or ``pixels``
        (of the stimulus screen); None: from the meta-data.
    pupil : str
        ``mm`` (stored as diameters) or ``none`` (the app sends something else, e.g. an area in
        arbitrary units: not stored as mm).
    missing : tuple of float
        Gaze values that mean "no data" (e.g. EyeLink's 0 and -32768).
    clock : str
        Where its timestamps come from (for the docs and provenance).
    advice : str
        For a layout that cannot be used as it is: what to do.
    """

    key: str
    app: str
    source: str
    screen_based: bool
    stream_types: tuple[str, ...]
    recognise: Callable[[StreamView], bool]
    mapping: dict[str, str] | None = None
    units: str | None = None
    pupil: str = "mm"
    missing: tuple[float, ...] = ()
    clock: str = ""
    advice: str = ""

    def describe_mapping(self, view: StreamView) -> str:
        """``left_x <- left_x, ...`` as shown by ``gazeread trackers``."""
        if not self.screen_based:
            return "not usable as it is (gaze in the scene camera)"
        if self.mapping is None:
            return "from the channels' XDF gaze meta-data"
        parts = [f"{k} <- {v}" for k, v in self.mapping.items()]
        return ", ".join(parts) + (f" ({self.units})" if self.units else "")


_TOBII_LABELS = ["left_x", "left_y", "left_pupil", "right_x", "right_y", "right_pupil"]
_EYELINK_LABELS = ["leftEyeX", "leftEyeY", "rightEyeX", "rightEyeY", "leftPupilArea", "rightPupilArea"]  # fmt: skip


def _is_tobii_app(v: StreamView) -> bool:
    return v.labels[:6] == _TOBII_LABELS and (
        "screencoords" in v.units() or v.desc.get("acquisition/application") == "TobiiProApp"
    )


def _is_pupil_capture(v: StreamView) -> bool:
    return "pupil_lsl_relay_version" in v.desc or (
        v.name == "pupil_capture" and "norm_pos_x" in v.labels
    )


def _is_pupil_companion(v: StreamView) -> bool:
    return (
        "acquisition/pl_companion_lsl_relay_version" in v.desc
        or "pupil_invisible_lsl_relay_version" in v.desc
        or v.name == "pupil_invisible"
        or (
            v.desc.get("acquisition/manufacturer") == "Pupil Labs"
            and "world" in v.coordinate_systems()
        )
    )


def _is_eyelink_app(v: StreamView) -> bool:
    return v.labels[:6] == _EYELINK_LABELS


def _is_gazeread(v: StreamView) -> bool:
    return v.desc.get("software") == "gazeread" or v.desc.get("manufacturer") == "gazeread"


def _has_xdf_gaze(v: StreamView) -> bool:
    types = {c.get("type", "").replace(" ", "").lower() for c in v.channels}
    labels = set(v.labels)
    # the XDF types, or gazeread's own field names as labels (left_x, left_y, ...)
    return {"screenx", "screeny"} <= types or any(
        {f"{eye}_x", f"{eye}_y"} <= labels for eye in ("left", "right")
    )


_SCENE_ADVICE = (
    "gives gaze in its scene camera's image, not on the screen, so it cannot be mapped onto the "
    "X-ray as it is. Map it to the screen first: put AprilTag markers on the monitor's corners, "
    "define the monitor as a surface ({how}), and publish the surface-mapped gaze (normalised "
    "0..1 on the monitor, origin top-left) as an LSL stream with XDF gaze meta-data (channel "
    "type ScreenX/ScreenY, unit normalized); then pass that stream with --tracker-option "
    "source_id=... . A screen-based tracker (Tobii, EyeLink) needs none of this."
)

#: The known layouts, most specific first (the generic XDF meta-data last).
LAYOUTS: tuple[GazeLayout, ...] = (
    GazeLayout(
        key="app-tobiipro",
        app="App-TobiiPro (Lab Streaming Layer's Tobii Pro app)",
        source="labstreaminglayer/App-TobiiPro mainwindow.cpp",
        screen_based=True,
        stream_types=("Gaze", "Eyetracker"),
        recognise=_is_tobii_app,
        mapping={
            "left_x": "left_x",
            "left_y": "left_y",
            "left_pupil": "left_pupil",
            "right_x": "right_x",
            "right_y": "right_y",
            "right_pupil": "right_pupil",
        },
        units="normalized",  # 'screencoords': the active display area, 0..1, origin top-left
        pupil="mm",
        clock="the Tobii SDK's system clock (system_time_stamp / 1e6)",
    ),
    GazeLayout(
        key="app-eyelink",
        app="App-EyeLink (Lab Streaming Layer's EyeLink app)",
        source="labstreaminglayer/App-EyeLink eyelink.py",
        screen_based=True,
        stream_types=("Gaze",),
        recognise=_is_eyelink_app,
        mapping={
            "left_x": "leftEyeX",
            "left_y": "leftEyeY",
            "right_x": "rightEyeX",
            "right_y": "rightEyeY",
        },
        units="pixels",  # EyeLink gaze in the display's pixels (its screen_pixel_coords)
        pupil="none",  # pupil AREA in arbitrary units: not a diameter in mm
        missing=(0.0, -32768.0, 1e8),
        clock="LSL local_clock of the EyeLink host computer at reception",
    ),
    GazeLayout(
        key="pupil-capture",
        app="Pupil Capture LSL relay (Pupil Core, head-mounted)",
        source="labstreaminglayer/App-PupilLabs pupil_capture_lsl_relay (channel.py, outlet.py)",
        screen_based=False,
        stream_types=("Gaze",),
        recognise=_is_pupil_capture,
        advice="Pupil Core (Pupil Capture's LSL relay) "
        + _SCENE_ADVICE.format(how="Pupil Capture's Surface Tracker plugin"),
    ),
    GazeLayout(
        key="pupil-companion",
        app="Pupil Labs companion LSL relay (Neon, Pupil Invisible; head-mounted)",
        source="pupil-labs/lsl-relay pl_companion_lsl_relay/outlets.py; "
        "labstreaminglayer/App-PupilLabs pupil_invisible_lsl_relay/pi_gaze_relay.py",
        screen_based=False,
        stream_types=("Gaze",),
        recognise=_is_pupil_companion,
        advice="Neon / Pupil Invisible (the companion LSL relay) "
        + _SCENE_ADVICE.format(
            how="Pupil Cloud's Marker Mapper, or the real-time-screen-gaze "
            "package on the companion's stream"
        ),
    ),
    GazeLayout(
        key="gazeread",
        app="gazeread's own Gaze stream",
        source="acquisition/lsl_outlets.py",
        screen_based=True,
        stream_types=("Gaze",),
        recognise=_is_gazeread,
        clock="the recording computer's LSL local_clock (the tracker's measurement time)",
    ),
    GazeLayout(
        key="xdf",
        app="any stream with the XDF gaze meta-data (channel type ScreenX/ScreenY) or "
        "channels labelled with gazeread's field names (left_x, left_y, ...)",
        source="sccn/xdf wiki: Gaze Meta-Data",
        screen_based=True,
        stream_types=("Gaze",),
        recognise=_has_xdf_gaze,
    ),
)


def identify_layout(view: StreamView) -> GazeLayout | None:
    """The first layout of :data:`LAYOUTS` that recognises ``view``, None when none does."""
    for layout in LAYOUTS:
        if layout.recognise(view):
            return layout
    return None


def parse_mapping(text: str) -> dict[str, str | int]:
    """``"left_x:ch0,left_y:ch1"`` (or with ``=``) -> ``{"left_x": "ch0", ...}``.

    A channel given as a plain number is an index. Raises ``ValueError`` naming the bad item.
    """
    out: dict[str, str | int] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        sep = ":" if ":" in item else "="
        key, found, ch = (s.strip() for s in item.partition(sep))
        if not found or not key or not ch:
            raise ValueError(
                f"mapping item {item!r} must look like FIELD:CHANNEL (e.g. left_x:GazeX)"
            )
        out[key] = int(ch) if ch.isdigit() else ch
    if not out:
        raise ValueError(
            "mapping is empty; write FIELD:CHANNEL pairs, e.g. left_x:GazeX,left_y:GazeY"
        )
    return out


def unknown_layout_message(stream: str, view: StreamView) -> str:
    """What to tell a user whose stream no layout knows: its channels and the option to write."""
    labels = view.labels
    guess: dict[str, str] = {}
    for lab in labels:
        lo = "".join(ch for ch in lab.lower() if ch.isalnum())
        axis = lo[-1:] if lo[-1:] in ("x", "y") else ""
        stem = lo[:-1]
        eye = (
            "left" if "left" in lo or stem.endswith("l")
            else "right" if "right" in lo or stem.endswith("r")
            else ""
        )  # fmt: skip
        field = f"{eye}_{axis}"
        if eye and axis and field not in guess:
            guess[field] = lab
    if len(guess) < 2 and len(labels) >= 2:
        guess = {"left_x": labels[0], "left_y": labels[1]}
    example = ",".join(f"{k}:{v}" for k, v in guess.items())
    types = [c.get("type", "") for c in view.channels]
    return (
        f"lsl: stream {stream} has no layout gazeread knows (App-TobiiPro, App-EyeLink, the "
        f"Pupil Labs relays, XDF gaze meta-data): its channels are {labels} (types {types}). "
        f"Say which channel is which, e.g. --tracker-option mapping={example} and "
        "--tracker-option units=normalized (0..1 of the screen, origin top-left) or "
        "units=pixels (of the stimulus screen); fields: left_x, left_y, right_x, right_y, "
        "left_pupil, right_pupil (mm), left_valid, right_valid"
    )


def layout_table(layouts: Sequence[GazeLayout] = LAYOUTS) -> list[dict[str, str]]:
    """The table as rows (for the docs and ``gazeread trackers --layouts``)."""
    return [
        {
            "layout": g.key,
            "app": g.app,
            "types": "/".join(g.stream_types),
            "screen-based": "yes" if g.screen_based else "no (scene camera)",
            "gaze unit": g.units or "meta-data",
            "pupil": g.pupil,
            "source": g.source,
        }
        for g in layouts
    ]
