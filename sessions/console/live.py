"""What the operator console knows about a running session (plain Python, no Qt, no LSL).

:class:`LiveState` ingests what the LSL client pulls (gaze chunks, JSON markers, fixation
events) and hands the window a consistent :class:`LiveSnapshot` under a lock. It computes the
data-quality meters: effective rate and validity per eye over the last ``window_s`` seconds,
samples lost (gaps longer than 1.5 nominal periods, counted since connection) and the time since
the last sample.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["FixationDot", "LiveSnapshot", "LiveState", "gaze_columns"]

#: Channel labels the console needs from a Gaze stream.
_NEEDED = ("left_x", "left_y", "right_x", "right_y", "left_valid", "right_valid")


def gaze_columns(
    labels: list[str], types: list[str] | None = None, eyes: list[str] | None = None
) -> dict[str, int]:
    """Column index of each channel the console needs, from a stream's channel descriptions.

    Read as the LSL tracker reads it (:func:`acquisition.trackers.lsl_channels.pick_from_metadata`:
    XDF gaze meta-data, ``type`` ScreenX / ScreenY / Validity with ``eye``, or gazeread's own
    labels); a stream with one eye only is shown for both; a stream that describes nothing is
    read in gazeread's order (:data:`acquisition.lsl_outlets.GAZE_CHANNELS`).
    """
    from acquisition.trackers.lsl_channels import pick_from_metadata

    n = max(len(labels), len(types or []), len(eyes or []))
    channels = [
        {
            "label": labels[i] if i < len(labels) else "",
            "type": (types or [])[i] if i < len(types or []) else "",
            "eye": (eyes or [])[i] if i < len(eyes or []) else "",
        }
        for i in range(n)
    ]
    picked = pick_from_metadata(channels)
    for a, b in (("left", "right"), ("right", "left")):  # one eye only: shown for both
        if f"{a}_x" in picked and f"{b}_x" not in picked and f"{b}_y" not in picked:
            for field in ("x", "y", "valid"):
                if f"{a}_{field}" in picked:
                    picked[f"{b}_{field}"] = picked[f"{a}_{field}"]
    cols = {k: i for k, i in picked.items() if k in _NEEDED}
    if all(k in cols for k in _NEEDED[:4]):
        return cols
    return {"left_x": 0, "left_y": 1, "right_x": 2, "right_y": 3, "left_valid": 6, "right_valid": 7}


@dataclasses.dataclass(frozen=True)
class FixationDot:
    """A recent fixation: screen px, duration so far (ms), order number, still going on."""

    x_px: float
    y_px: float
    duration_ms: float
    number: int
    ongoing: bool


@dataclasses.dataclass
class LiveSnapshot:
    """A consistent copy of the console's state for one repaint."""

    connected: dict[str, str | None]
    gaze_left: tuple[float, float] | None
    gaze_right: tuple[float, float] | None
    trail_left: NDArray[np.float64]
    trail_right: NDArray[np.float64]
    fixations: list[FixationDot]
    screen_size: tuple[int, int] | None
    layout: dict[str, Any] | None
    image_path: str | None
    image_visible: bool
    trial: int | None
    n_trials: int | None
    trials_done: int
    condition: str
    image_id: str
    t_image_onset: float | None
    calibration: dict[str, Any] | None
    drift: dict[str, Any] | None
    rate_hz: float
    nominal_rate_hz: float
    valid_left_percent: float
    valid_right_percent: float
    samples_lost: int
    since_last_sample_s: float
    session_status: str
    last_marker: str
    now: float


class LiveState:
    """Thread-safe state fed by the LSL client and read by the window.

    Parameters
    ----------
    window_s : float
        Span of the rate and validity meters (s).
    trail_s : float
        Seconds of raw gaze kept for the trail.
    max_fixations : int
        Recent fixations kept for display.
    """

    def __init__(
        self, window_s: float = 2.0, trail_s: float = 0.5, max_fixations: int = 12
    ) -> None:
        self.window_s = float(window_s)
        self.trail_s = float(trail_s)
        self._lock = threading.Lock()
        self._hist = np.empty((0, 5))  # t, lx, ly, rx, ry (NaN invalid)
        self._valid = np.empty((0, 2), dtype=bool)
        self._cols = gaze_columns([])
        self._nominal = math.nan
        self._last_t = math.nan
        self._first_t = math.nan
        self._lost = 0
        self._connected: dict[str, str | None] = {"Gaze": None, "Markers": None, "Fixations": None}
        self._fix_open: dict[int, FixationDot] = {}
        self._fix_done: collections.deque[FixationDot] = collections.deque(maxlen=max_fixations)
        self._fix_count = 0
        self._fix_screen: tuple[int, int] | None = None
        self._reset_session()

    def _reset_session(self) -> None:
        self._layout: dict[str, Any] | None = None
        self._image_path: str | None = None
        self._image_visible = False
        self._trial: int | None = None
        self._n_trials: int | None = None
        self._done = 0
        self._condition = ""
        self._image_id = ""
        self._t_onset: float | None = None
        self._calibration: dict[str, Any] | None = None
        self._drift: dict[str, Any] | None = None
        self._status = "waiting for a session"
        self._last_marker = ""

    # ------------------------------------------------------------------ connections
    def set_connected(
        self,
        kind: str,
        name: str | None,
        *,
        nominal_rate: float | None = None,
        labels: list[str] | None = None,
        types: list[str] | None = None,
        eyes: list[str] | None = None,
        screen: tuple[int, int] | None = None,
    ) -> None:
        """A stream of ``kind`` (Gaze/Markers/Fixations) was opened (name) or lost (None)."""
        with self._lock:
            self._connected[kind] = name
            if kind == "Gaze":
                self._hist = np.empty((0, 5))
                self._valid = np.empty((0, 2), dtype=bool)
                self._last_t = math.nan
                self._first_t = math.nan
                if name is not None:
                    self._lost = 0
                    self._nominal = (
                        float(nominal_rate) if nominal_rate and nominal_rate > 0 else math.nan
                    )
                    self._cols = gaze_columns(labels or [], types, eyes)
            elif kind == "Fixations":
                self._fix_open.clear()
            if name is not None and screen is not None:  # joining late: known before any onset
                self._fix_screen = screen

    # ------------------------------------------------------------------ gaze
    def ingest_gaze(self, ts: Any, chunk: Any) -> None:
        """A chunk of Gaze samples: timestamps ``(n,)`` (session clock) and values ``(n, channels)``."""
        t = np.asarray(ts, dtype=np.float64).ravel()
        if t.size == 0:
            return
        m = np.asarray(chunk, dtype=np.float64).reshape(t.size, -1)
        c = self._cols
        lv = m[:, c["left_valid"]] > 0 if "left_valid" in c else np.isfinite(m[:, c["left_x"]])
        rv = m[:, c["right_valid"]] > 0 if "right_valid" in c else np.isfinite(m[:, c["right_x"]])
        rows = np.column_stack(
            (t, m[:, c["left_x"]], m[:, c["left_y"]], m[:, c["right_x"]], m[:, c["right_y"]])
        )
        rows[~lv, 1:3] = np.nan
        rows[~rv, 3:5] = np.nan
        with self._lock:
            if not math.isfinite(self._first_t):
                self._first_t = float(t[0])
            rate = self._nominal
            if math.isfinite(rate):
                prev = np.concatenate(([self._last_t], t)) if math.isfinite(self._last_t) else t
                d = np.diff(prev)
                big = d > 1.5 / rate
                if big.any():
                    self._lost += int(np.sum(np.rint(d[big] * rate) - 1))
            self._last_t = (
                float(max(t[-1], self._last_t)) if math.isfinite(self._last_t) else float(t[-1])
            )
            keep_from = self._last_t - max(self.window_s, self.trail_s)
            self._hist = np.concatenate((self._hist, rows))
            self._valid = np.concatenate((self._valid, np.column_stack((lv, rv))))
            k = int(np.searchsorted(self._hist[:, 0], keep_from, side="left"))
            if k:
                self._hist = self._hist[k:]
                self._valid = self._valid[k:]

    # ------------------------------------------------------------------ markers
    def ingest_marker(self, t: float, text: str) -> None:
        """One Markers sample (JSON object text from the runner, or any string)."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            data = None
        with self._lock:
            if not isinstance(data, dict):
                self._last_marker = str(text)[:200]
                return
            ev = str(data.get("event", ""))
            self._last_marker = ev
            handler = self._MARKERS.get(ev)
            if handler is not None:
                handler(self, float(t), data)

    def _on_session_start(self, t: float, data: dict[str, Any]) -> None:
        self._reset_session()
        self._clear_fixations()
        self._n_trials = _int(data.get("n_trials"))
        self._status = "running"
        self._last_marker = "session_start"

    def _on_image_onset(self, t: float, data: dict[str, Any]) -> None:
        """A new image: its fixations are numbered from 1, the last screen's are gone."""
        self._clear_fixations()
        self._trial = _int(data.get("trial"))
        self._image_path = data.get("image_path") or None
        lay = data.get("layout")
        self._layout = lay if isinstance(lay, dict) else None
        self._image_visible = True
        self._condition = str(data.get("condition") or "")
        self._image_id = str(data.get("image_id") or "")
        self._t_onset = t
        self._status = "running"

    def _on_image_offset(self, t: float, data: dict[str, Any]) -> None:
        self._image_visible = False
        self._clear_fixations()  # the response screen shows no image: nothing to draw on

    def _on_trial_end(self, t: float, data: dict[str, Any]) -> None:
        self._done += 1

    def _on_calibration_start(self, t: float, data: dict[str, Any]) -> None:
        self._calibration = {"state": "calibrating", "t": t}

    def _on_calibration(self, t: float, data: dict[str, Any]) -> None:
        self._calibration = {
            "state": "done",
            "accuracy_deg": data.get("accuracy_deg"),
            "passed": data.get("passed"),
            "t": t,
        }

    def _on_drift_check(self, t: float, data: dict[str, Any]) -> None:
        self._drift = {"passed": data.get("passed"), "offset_deg": data.get("offset_deg"), "t": t}

    def _on_session_end(self, t: float, data: dict[str, Any]) -> None:
        self._status = f"ended ({data.get('status', 'finished')})"
        self._image_visible = False
        self._trial = None
        self._clear_fixations()

    def _on_pause(self, t: float, data: dict[str, Any]) -> None:
        self._status = "paused" if data.get("event") == "pause" else "break"

    def _on_resume(self, t: float, data: dict[str, Any]) -> None:
        self._status = "running"

    _MARKERS: ClassVar[dict[str, Callable[[LiveState, float, dict[str, Any]], None]]] = {
        "session_start": _on_session_start,
        "image_onset": _on_image_onset,
        "image_offset": _on_image_offset,
        "trial_end": _on_trial_end,
        "calibration_start": _on_calibration_start,
        "calibration": _on_calibration,
        "drift_check": _on_drift_check,
        "session_end": _on_session_end,
        "pause": _on_pause,
        "break_start": _on_pause,
        "pause_end": _on_resume,
        "break_end": _on_resume,
    }

    def _clear_fixations(self) -> None:
        self._fix_open.clear()
        self._fix_done.clear()
        self._fix_count = 0

    # ------------------------------------------------------------------ fixations
    def ingest_fixation(
        self, kind: str, fixation_id: int, x_px: float, y_px: float, duration_ms: float
    ) -> None:
        """One fixation event (kinds of :mod:`acquisition.fixations.events`)."""
        with self._lock:
            if kind == "cancel":
                self._fix_open.pop(fixation_id, None)
                return
            if self._connected["Markers"] and not self._image_visible:
                return  # between images there is nothing to draw a fixation on
            if not (math.isfinite(x_px) and math.isfinite(y_px)):
                return
            if kind == "end":
                old = self._fix_open.pop(fixation_id, None)
                number = old.number if old else self._next_number()
                self._fix_done.append(FixationDot(x_px, y_px, duration_ms, number, False))
            else:
                old = self._fix_open.get(fixation_id)
                number = old.number if old else self._next_number()
                self._fix_open[fixation_id] = FixationDot(
                    x_px, y_px, duration_ms if math.isfinite(duration_ms) else 0.0, number, True
                )

    def _next_number(self) -> int:
        self._fix_count += 1
        return self._fix_count

    # ------------------------------------------------------------------ reading
    def snapshot(self, now: float) -> LiveSnapshot:
        """The state at session-clock time ``now`` (for the meters' windows)."""
        with self._lock:
            h, v = self._hist, self._valid
            w0 = now - self.window_s
            k = int(np.searchsorted(h[:, 0], w0, side="left")) if h.size else 0
            n_win = h.shape[0] - k
            # a stream connected less than window_s ago is measured over what it has sent
            span = min(self.window_s, now - self._first_t) if math.isfinite(self._first_t) else 0.0
            rate = n_win / span if span >= 0.25 else math.nan
            vl = 100.0 * float(v[k:, 0].mean()) if n_win else math.nan
            vr = 100.0 * float(v[k:, 1].mean()) if n_win else math.nan
            j = (
                int(np.searchsorted(h[:, 0], self._last_t - self.trail_s, side="left"))
                if h.size
                else 0
            )
            trail_l = h[j:, 1:3].copy()
            trail_r = h[j:, 3:5].copy()
            gl = gr = None
            if h.size and now - self._last_t < 0.25:
                last = h[-1]
                gl = (float(last[1]), float(last[2])) if math.isfinite(last[1]) else None
                gr = (float(last[3]), float(last[4])) if math.isfinite(last[3]) else None
            screen = None
            if self._layout:
                try:
                    screen = (int(self._layout["screen_width"]), int(self._layout["screen_height"]))
                except (KeyError, TypeError, ValueError):
                    screen = None
            screen = screen or self._fix_screen
            fix = list(self._fix_done) + sorted(self._fix_open.values(), key=lambda f: f.number)
            return LiveSnapshot(
                connected=dict(self._connected),
                gaze_left=gl,
                gaze_right=gr,
                trail_left=trail_l,
                trail_right=trail_r,
                fixations=fix,
                screen_size=screen,
                layout=dict(self._layout) if self._layout else None,
                image_path=self._image_path,
                image_visible=self._image_visible,
                trial=self._trial,
                n_trials=self._n_trials,
                trials_done=self._done,
                condition=self._condition,
                image_id=self._image_id,
                t_image_onset=self._t_onset,
                calibration=dict(self._calibration) if self._calibration else None,
                drift=dict(self._drift) if self._drift else None,
                rate_hz=rate if self._connected["Gaze"] else math.nan,
                nominal_rate_hz=self._nominal,
                valid_left_percent=vl,
                valid_right_percent=vr,
                samples_lost=self._lost,
                since_last_sample_s=(now - self._last_t)
                if math.isfinite(self._last_t)
                else math.inf,
                session_status=self._status,
                last_marker=self._last_marker,
                now=now,
            )


def _int(v: Any) -> int | None:
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None
