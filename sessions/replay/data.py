"""Everything the replay shows of one trial, read from the session store (no Qt).

:func:`trial_summaries` is cheap (trials and responses only) so the window can list a long
session at once; :func:`trial_quality` adds the data-quality figures of one trial with a few SQL
aggregates; :func:`load_trial` reads one trial's samples, fixations, events and image.

Coordinates: the replay's world is the stimulus screen in screen px (origin top-left, y down).
Samples (tracker-normalised) are mapped with the trial's stored :class:`ImageLayout`, so the
image sits exactly on ``layout.screen_rect`` and every overlay is where the recording says.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from acquisition.samples import gaps
from sessions.store import SessionReader
from stimuli.layout import ImageLayout, fit_image

__all__ = [
    "DEFAULT_SCREEN",
    "FIX_DTYPE",
    "TimelineEvent",
    "TrialData",
    "TrialSummary",
    "dropped_spans",
    "event_category",
    "invalid_spans",
    "load_trial",
    "open_for_reading",
    "release",
    "trial_quality",
    "trial_summaries",
]

#: Screen size assumed when a session stores neither a layout nor a screen geometry.
DEFAULT_SCREEN = (1920, 1080)

#: Longest drift check / fixation cross before image onset that the replay range includes (s).
_MAX_LEAD_S = 30.0

#: One row per fixation, screen px and session seconds.
FIX_DTYPE = np.dtype(
    [
        ("t_start", "f8"),
        ("t_end", "f8"),
        ("x", "f8"),
        ("y", "f8"),
        ("duration_ms", "f8"),
        ("image_x", "f8"),
        ("image_y", "f8"),
    ]
)

#: Event kind -> timeline category (categories are drawn in their own colour).
_CATEGORIES: dict[str, str] = {
    "image_onset": "onset",
    "image_offset": "offset",
    "response": "answer",
    "response_start": "answer",
    "drift_check": "drift",
    "fixation_cross": "drift",
    "samples_dropped": "dropped",
    "samples_lost": "dropped",
    "buffer_overflow": "dropped",
    "stream_lost": "dropped",
    "connection_lost": "dropped",
    "recording_error": "dropped",
    "interrupted": "dropped",
    "calibration": "calibration",
    "calibration_start": "calibration",
    "validation": "calibration",
}


def event_category(kind: str) -> str:
    """Timeline category of an event kind: onset, offset, answer, drift, dropped, calibration or other."""
    return _CATEGORIES.get(kind, "other")


@dataclasses.dataclass(frozen=True)
class TimelineEvent:
    """A marker on the timeline: session time, category, and the words shown for it."""

    t: float
    category: str
    label: str


@dataclasses.dataclass
class TrialSummary:
    """One row of the trial list (no samples needed)."""

    trial_id: int
    reader: str
    condition: str
    image_id: str
    image_path: str
    truth: str
    status: str
    answer: str
    confidence: float | None
    rt_s: float | None
    t_onset: float | None
    quality: dict[str, Any] | None = None

    @property
    def number(self) -> int:
        """The trial as people count it: from 1 (the store's ids start at 0)."""
        return self.trial_id + 1

    def quality_text(self) -> str:
        """``valid %`` and dropped samples in words, or '...' while not computed."""
        q = self.quality
        if q is None:
            return "..."
        if not q.get("samples"):
            return "no data"
        text = f"{q['valid_percent']:.0f}% valid"
        if q.get("dropped"):
            text += f", {q['dropped']} dropped"
        return text


@dataclasses.dataclass
class TrialData:
    """One trial ready to replay.

    Attributes
    ----------
    t : ndarray (n,)
        Sample times, session s.
    left, right : ndarray (n, 2)
        Gaze in screen px, NaN where that eye is invalid.
    fixations : ndarray of FIX_DTYPE
        In start order; their index + 1 is the number drawn (the scanpath order).
    t0, t1 : float
        Replay range (drift check / fixation cross to response), session s.
    t_onset, t_offset : float
        Image shown between these (NaN when unknown).
    image : ndarray (h, w) uint8 or None
        Display-ready pixels; None when the file could not be read (``image_error`` says why).
    px_per_degree : (float, float)
        Screen px per degree at the centre, for the 1-degree heatmap kernel.
    """

    summary: TrialSummary
    layout: ImageLayout
    t: NDArray[np.float64]
    left: NDArray[np.float64]
    right: NDArray[np.float64]
    fixations: NDArray[Any]
    events: list[TimelineEvent]
    dropped: NDArray[np.float64]
    lost: NDArray[np.float64]
    t0: float
    t1: float
    t_onset: float
    t_offset: float
    rate_hz: float
    image: NDArray[np.uint8] | None
    image_error: str | None
    px_per_degree: tuple[float, float]
    layout_known: bool = True

    @property
    def trial_id(self) -> int:
        """The trial's id (0-based schedule position)."""
        return self.summary.trial_id

    @property
    def duration(self) -> float:
        """Length of the replay range (s)."""
        return self.t1 - self.t0

    @property
    def screen_size(self) -> tuple[int, int]:
        """Stimulus window size (px)."""
        return (self.layout.screen_width, self.layout.screen_height)

    def sample_index(self, t: float) -> int:
        """Index of the last sample at or before ``t`` (-1 before the first)."""
        return int(np.searchsorted(self.t, t, side="right")) - 1


# ---------------------------------------------------------------------------- opening
def open_for_reading(path: str | Path) -> SessionReader:
    """Open a session read-only to replay it (it may still be recording)."""
    return SessionReader.open(path)


def release(store: SessionReader) -> None:
    """Close a session opened by :func:`open_for_reading` (a reader never checkpoints)."""
    store.close()


# ---------------------------------------------------------------------------- summaries
def _answer_text(resp: dict[str, Any] | None) -> tuple[str, float | None, float | None]:
    if resp is None:
        return "", None, None
    answer = resp.get("authenticity") or resp.get("findings") or ""
    if not answer and resp.get("answer_json"):
        try:
            data = json.loads(resp["answer_json"])
        except (TypeError, ValueError):
            data = {}
        answer = str(data.get("authenticity") or data.get("findings") or "")
    conf = resp.get("confidence")
    rt = resp.get("rt_s")
    return (
        str(answer).replace(";", ", "),
        None if conf is None else float(conf),
        None if rt is None else float(rt),
    )


def trial_summaries(store: SessionReader) -> list[TrialSummary]:
    """The trial list with answers, without touching the samples (fast on any session)."""
    info = store.session_info()
    reader = str(info.get("participant") or "")
    last_resp: dict[int, dict[str, Any]] = {}
    for r in store.responses():
        last_resp[int(r["trial_id"])] = r
    out = []
    for tr in store.trials():
        answer, conf, rt = _answer_text(last_resp.get(int(tr["id"])))
        out.append(
            TrialSummary(
                trial_id=int(tr["id"]),
                reader=reader,
                condition=str(tr.get("condition") or ""),
                image_id=str(tr.get("image_id") or ""),
                image_path=str(tr.get("image_path") or ""),
                truth=str(tr.get("authenticity") or ""),
                status=str(tr.get("status") or ""),
                answer=answer,
                confidence=conf,
                rt_s=rt,
                t_onset=None if tr.get("t_onset") is None else float(tr["t_onset"]),
            )
        )
    return out


def _trial_rows(store: SessionReader) -> dict[int, dict[str, Any]]:
    return {int(tr["id"]): tr for tr in store.trials()}


def _nominal_rate(store: SessionReader) -> float:
    tracker = store.session_info().get("tracker_json") or {}
    for key in ("rate_hz", "rate", "sampling_rate_hz"):
        v = tracker.get(key) if isinstance(tracker, dict) else None
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
    return math.nan


def _viewing_window(tr: dict[str, Any]) -> tuple[float | None, float | None]:
    a = tr.get("t_onset") if tr.get("t_onset") is not None else tr.get("t_start")
    b = tr.get("t_offset")
    return (None if a is None else float(a)), (None if b is None else float(b))


def trial_quality(
    store: SessionReader, trial: dict[str, Any], rate_hz: float | None = None
) -> dict[str, Any]:
    """Data quality of a trial's viewing period (image onset to offset), from SQL aggregates.

    Returns ``samples``, ``valid_percent`` (either eye), ``left_percent``, ``right_percent``,
    ``dropped`` (samples implied missing by gaps > 1.5 periods) and ``rate_hz`` (nominal).
    """
    a, b = _viewing_window(trial)
    rate = rate_hz if rate_hz and rate_hz > 0 else _nominal_rate(store)
    if a is None:
        return {"samples": 0}
    hi = b if b is not None else math.inf
    n, lv, rv, anyv = store.window_validity(a, hi)
    dropped = 0
    if n > 1 and rate and math.isfinite(rate):
        dropped = store.window_dropped(a, hi, rate)
    pct = (lambda v: 100.0 * float(v or 0) / n) if n else (lambda v: math.nan)
    return {
        "samples": n,
        "valid_percent": pct(anyv),
        "left_percent": pct(lv),
        "right_percent": pct(rv),
        "dropped": dropped,
        "rate_hz": rate,
    }


# ---------------------------------------------------------------------------- spans
def dropped_spans(t: NDArray[np.float64], rate_hz: float) -> NDArray[np.float64]:
    """``(k, 2)`` time spans of the gaps (:func:`acquisition.samples.gaps`) between samples."""
    if t.size < 2 or not (rate_hz > 0 and math.isfinite(rate_hz)):
        return np.empty((0, 2))
    d = np.diff(t)
    idx = np.nonzero(gaps(d, 1.0 / rate_hz))[0]
    return np.column_stack((t[idx], t[idx + 1])) if idx.size else np.empty((0, 2))


def invalid_spans(
    t: NDArray[np.float64], valid: NDArray[np.bool_], min_s: float = 0.0
) -> NDArray[np.float64]:
    """``(k, 2)`` spans where ``valid`` is False (from the first invalid sample to the next valid one)."""
    if t.size == 0:
        return np.empty((0, 2))
    bad = ~np.asarray(valid, dtype=bool)
    edges = np.diff(np.concatenate(([0], bad.view(np.int8), [0])))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0]
    t_end = np.append(t, t[-1])[ends]
    spans = np.column_stack((t[starts], t_end)) if starts.size else np.empty((0, 2))
    return spans[(spans[:, 1] - spans[:, 0]) >= min_s] if spans.size else spans


# ---------------------------------------------------------------------------- one trial
def _session_screen(info: dict[str, Any]) -> tuple[tuple[int, int], tuple[float, float]]:
    screen = info.get("screen_json") or {}
    size = DEFAULT_SCREEN
    ppd = (math.nan, math.nan)
    if isinstance(screen, dict) and screen.get("width_px") and screen.get("height_px"):
        size = (int(screen["width_px"]), int(screen["height_px"]))
        try:
            from acquisition.geometry import ScreenGeometry, px_per_degree

            ppd = px_per_degree(ScreenGeometry.from_dict(screen))
        except (ValueError, TypeError, KeyError):
            pass
    if not math.isfinite(ppd[0]):
        ppd = (size[0] / 45.0, size[0] / 45.0)  # ~45 deg wide: a typical desktop set-up
    return size, ppd


def _load_pixels(path: str) -> tuple[NDArray[np.uint8] | None, str | None]:
    if not path:
        return None, "the trial stores no image path"
    if not Path(path).is_file():
        return None, f"image file not found: {path} (moved? the replay still shows the gaze)"
    try:
        import warnings

        from stimuli.loading import load_image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a colour PNG is converted: fine for a replay
            img = load_image(path)
    except Exception as exc:  # any unreadable file: show the gaze without it
        return None, f"cannot read image {path}: {exc}"
    return np.ascontiguousarray(img.pixels), None


def load_trial(
    store: SessionReader,
    trial_id: int,
    *,
    with_image: bool = True,
    summary: TrialSummary | None = None,
) -> TrialData:
    """Read one trial: samples of its replay range, fixations, events, image.

    The replay range runs from the trial's start (drift check / fixation cross; else its image
    onset) to its response (else its image offset, else its last sample).
    """
    trials = _trial_rows(store)
    if trial_id not in trials:
        raise KeyError(f"{store.path}: there is no trial {trial_id + 1} (trials: 1..{len(trials)})")
    tr = trials[trial_id]
    info = store.session_info()
    if summary is None:
        summary = next(s for s in trial_summaries(store) if s.trial_id == trial_id)
    screen_size, ppd = _session_screen(info)
    layout_known = bool(tr.get("layout_json"))
    if layout_known:
        layout = ImageLayout.from_dict(json.loads(tr["layout_json"]))
    else:
        layout = fit_image((1024, 1024), screen_size)
    rate = _nominal_rate(store)

    t_onset = math.nan if tr.get("t_onset") is None else float(tr["t_onset"])
    t_offset = math.nan if tr.get("t_offset") is None else float(tr["t_offset"])
    t0, t1, resp = _replay_range(store, tr, trial_id, t_onset, t_offset)

    cols = ("t", "left_x", "left_y", "right_x", "right_y", "left_valid", "right_valid")
    arr = store.sample_arrays(cols, t0, t1, include_end=True)
    t = np.ascontiguousarray(arr["t"])
    sw, sh = layout.screen_width, layout.screen_height
    lv = arr["left_valid"] > 0
    rv = arr["right_valid"] > 0
    left = np.column_stack((arr["left_x"] * sw, arr["left_y"] * sh))
    right = np.column_stack((arr["right_x"] * sw, arr["right_y"] * sh))
    left[~lv] = np.nan
    right[~rv] = np.nan
    if not (rate > 0):
        from sessions.metrics.quality import estimate_rate

        rate = estimate_rate(t)
    fix = _fixation_array(store.trial_fixations(trial_id, t0, t1))
    events = _timeline_events(store, t0, t1, resp)
    image, err = _load_pixels(summary.image_path) if with_image else (None, None)
    if image is not None and (image.shape[1], image.shape[0]) != (
        layout.image_width,
        layout.image_height,
    ):
        err = (
            f"image {summary.image_path} is {image.shape[1]}x{image.shape[0]} px but the trial "
            f"was shown as {layout.image_width}x{layout.image_height}: drawn stretched to the "
            "recorded layout"
        )
    return TrialData(
        summary=summary,
        layout=layout,
        t=t,
        left=left,
        right=right,
        fixations=fix,
        events=events,
        dropped=dropped_spans(t, rate),
        lost=invalid_spans(t, lv | rv, min_s=0.05),
        t0=t0,
        t1=t1,
        t_onset=t_onset,
        t_offset=t_offset,
        rate_hz=float(rate),
        image=image,
        image_error=err,
        px_per_degree=ppd,
        layout_known=layout_known,
    )


def _replay_range(
    store: SessionReader, tr: dict[str, Any], trial_id: int, t_onset: float, t_offset: float
) -> tuple[float, float, float | None]:
    """``(t0, t1, response time)`` of the trial's replay.

    From the trial's start (drift check / fixation cross, else its image onset) to its response
    (else its image offset, else the next trial's start or the last sample).
    """
    t_start = tr.get("t_start")
    t0 = float(t_start) if t_start is not None else t_onset
    if t_start is None and not math.isnan(t_onset):
        # no stored start: begin at the trial's fixation cross / drift check (within 30 s)
        pre = store.first_trial_event_time(
            trial_id, ("fixation_cross", "drift_check"), t_onset - _MAX_LEAD_S, t_onset
        )
        if pre is not None:
            t0 = pre
    if math.isnan(t0):
        raise ValueError(f"trial {trial_id + 1} was never shown (status {tr.get('status')!r})")
    resp = store.last_response_time(trial_id)
    ends = [v for v in (resp, None if math.isnan(t_offset) else t_offset) if v is not None]
    if ends:
        t1 = float(max(ends))
    else:  # shown but never finished: up to the next trial's start or the last sample
        nxt = store.next_trial_start(t0)
        last = store.last_sample_time(t0)
        t1 = nxt if nxt is not None else (last if last is not None else t0 + 1.0)
    return t0, max(t1, t0 + 1e-3), resp


def _fixation_array(rows: list[dict[str, Any]]) -> np.ndarray:
    """The trial's fixation rows as a :data:`FIX_DTYPE` array (rows without a position left out).

    The rows are the trial's by the one rule (:mod:`sessions.run.fixation_trials`), as every
    export reads them.
    """
    fx_rows = [f for f in rows if f.get("eye", "average") == "average"]
    fix = np.zeros(len(fx_rows), dtype=FIX_DTYPE)
    for i, f in enumerate(fx_rows):
        fix[i] = (
            f["t_start"],
            f["t_end"],
            np.nan if f.get("x_px") is None else f["x_px"],
            np.nan if f.get("y_px") is None else f["y_px"],
            f["duration_ms"],
            np.nan if f.get("image_x") is None else f["image_x"],
            np.nan if f.get("image_y") is None else f["image_y"],
        )
    return fix[np.isfinite(fix["x"]) & np.isfinite(fix["y"])]


def _timeline_events(
    store: SessionReader, t0: float, t1: float, resp: float | None
) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for t_ev, kind, message in store.events_between(t0, t1):
        label = kind.replace("_", " ") + (f": {message}" if message else "")
        events.append(TimelineEvent(t_ev, event_category(kind), label))
    if resp is not None and not any(e.category == "answer" for e in events):
        events.append(TimelineEvent(float(resp), "answer", "response"))
    events.sort(key=lambda e: e.t)
    return events
