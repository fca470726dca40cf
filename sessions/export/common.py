"""What every exporter needs: sessions split into readings, gaze mapped to screen and image px.

A *reading* is one trial: one image read by one reader in one condition. Its window runs from
the image onset to the image offset (flip times).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from acquisition.fixations._signal import average_eyes_px
from acquisition.geometry import ScreenGeometry
from acquisition.samples import estimate_rate_hz
from sessions.store import SessionReader, trial_window
from stimuli.layout import ImageLayout

__all__ = [
    "ExportError",
    "ExportWarning",
    "Progress",
    "Reading",
    "SessionData",
    "average_gaze",
    "bids_label",
    "display_window",
    "export_readings",
    "iter_readings",
    "load_session",
    "reading_name",
]

#: Called once per finished unit of work with a short description.
Progress = Callable[[str], None]
T = TypeVar("T")


class ExportError(RuntimeError):
    """An export could not be written; the message names the session/file and why."""


class ExportWarning(UserWarning):
    """An export went on without something (e.g. the image behind a scanpath); says what."""


def display_window(trial: dict[str, Any]) -> tuple[float | None, float | None]:
    """``(window_center, window_width)`` a trial was shown with, each None when not recorded.

    The runner stores them in ``trials.layout_json`` next to the layout fields, as
    ``window_center`` and ``window_width`` (``window_level`` is read as the centre too).
    """
    raw = trial.get("layout_json")
    try:
        d = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
    except ValueError:
        return None, None
    if not isinstance(d, dict):
        return None, None
    center = d.get("window_center", d.get("window_level"))
    width = d.get("window_width")

    def num(v: Any) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return f if math.isfinite(f) else None

    return num(center), num(width)


@dataclasses.dataclass
class SessionData:
    """A session's metadata read once for an export."""

    path: Path
    info: dict[str, Any]
    screen: ScreenGeometry
    trials: list[dict[str, Any]]
    responses: dict[int, dict[str, Any]]
    calibrations: list[dict[str, Any]]
    events: list[dict[str, Any]]
    nominal_rate_hz: float

    @property
    def label(self) -> str:
        """``<study>/sub-<participant>/ses-<n>``."""
        i = self.info
        return f"{i['study']}/sub-{i['participant']}/ses-{i['session_number']}"


@dataclasses.dataclass
class Reading:
    """One trial with its samples and fixations."""

    session: SessionData
    trial: dict[str, Any]
    response: dict[str, Any] | None
    layout: ImageLayout | None
    samples: np.ndarray
    fixations: list[dict[str, Any]]
    t_onset: float
    t_offset: float

    @property
    def name(self) -> str:
        """Folder-safe name of the reading."""
        return reading_name(self.trial)


def reading_name(trial: dict[str, Any]) -> str:
    """``trial-003_<image_id>_<condition>`` (unsafe characters replaced).

    The number counts from 1 as people do: the store's trial id + 1.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{trial['image_id']}_{trial['condition']}")
    return f"trial-{int(trial['id']) + 1:03d}_{safe}"


def bids_label(value: Any) -> str:
    """A BIDS label (letters and digits only) from any value; raises when nothing is left."""
    out = re.sub(r"[^A-Za-z0-9]", "", str(value))
    if not out:
        raise ExportError(f"{value!r} cannot be made into a BIDS label (letters and digits)")
    return out


def load_session(store: SessionReader) -> SessionData:
    """Read what exporters need (everything but samples)."""
    info = store.session_info()
    screen_d = info.get("screen_json") or {}
    try:
        screen = ScreenGeometry.from_dict(screen_d) if screen_d else ScreenGeometry()
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"{store.path}: session.screen_json is not a screen geometry: {exc}"
        ) from exc
    tracker = info.get("tracker_json") or {}
    rate = float(tracker.get("rate_hz") or 0.0) if isinstance(tracker, dict) else 0.0
    if rate <= 0:
        rate = estimate_rate_hz(store.sample_arrays(("t",), -np.inf, np.inf)["t"][:2000])
    responses: dict[int, dict[str, Any]] = {}
    for r in store.responses():  # the last response of a trial wins
        r["answer"] = json.loads(r.get("answer_json") or "{}")
        responses[int(r["trial_id"])] = r
    return SessionData(
        path=store.folder,
        info=info,
        screen=screen,
        trials=store.trials(),
        responses=responses,
        calibrations=store.calibrations(),
        events=store.events(),
        nominal_rate_hz=rate,
    )


def iter_readings(store: SessionReader, data: SessionData | None = None) -> Iterator[Reading]:
    """Each trial that was shown (has an onset), with its samples and fixations."""
    data = data or load_session(store)
    for tr in data.trials:
        t0, t1 = trial_window(tr)
        if t0 is None:
            continue
        if t1 is None:  # interrupted while shown: up to the last sample before the next trial
            nxt = [x for x in data.trials if x["id"] > tr["id"] and trial_window(x)[0] is not None]
            t1 = trial_window(nxt[0])[0] if nxt else None
        samples = store.samples_between(t0, np.inf if t1 is None else t1)
        if t1 is None:
            t1 = float(samples["t"][-1]) if len(samples) else t0
        layout = ImageLayout.from_dict(json.loads(tr["layout_json"])) if tr["layout_json"] else None
        fix = store.trial_fixations(int(tr["id"]), t0, t1 + 1e-9)  # the one rule: the trial's rows
        yield Reading(
            session=data,
            trial=tr,
            response=data.responses.get(int(tr["id"])),
            layout=layout,
            samples=samples,
            fixations=fix,
            t_onset=float(t0),
            t_offset=float(t1),
        )


#: A 1 x 1 px screen: :func:`average_eyes_px` then returns normalised coordinates exactly.
_UNIT_SCREEN = ScreenGeometry(width_px=1, height_px=1)


def average_gaze(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binocular average of normalised gaze, using the valid eye when only one is valid.

    The rule is the online fixation detector's
    (:func:`acquisition.fixations._signal.average_eyes_px`), so the exported gaze and the
    exported fixations agree: an eye counts when its validity flag is set *and* both its
    coordinates are finite; both count -> their mean, one -> that eye, none -> NaN.
    """
    _, x, y = average_eyes_px(samples, _UNIT_SCREEN)
    return x, y


def export_readings(
    store: SessionReader,
    out: str | Path,
    write: Callable[[Reading, Path], T],
    progress: Progress | None = None,
) -> list[T]:
    """Write every reading of one session below ``out/<study>/sub-<p>_ses-<n>/<reading>/``.

    ``write(reading, folder)`` writes one reading's files (the folder exists) and returns what
    the caller collects; ``progress(name)`` is called after each.
    """
    out = Path(out)
    data = load_session(store)
    info = data.info
    base = out / str(info["study"]) / f"sub-{info['participant']}_ses-{info['session_number']}"
    results = []
    for r in iter_readings(store, data):
        folder = base / r.name
        folder.mkdir(parents=True, exist_ok=True)
        results.append(write(r, folder))
        if progress:
            progress(r.name)
    return results
