"""The acquisition pipeline of a running session, started and stopped as one.

``tracker --push--> RingBuffer --reader--> Recorder -> SessionStore``
``                            --reader--> fixation worker -> Recorder + LSL "Fixations"``
``                            --reader--> LSL "Gaze" outlet``
plus the LSL ``Markers`` outlet the runner pushes flip-timed markers to (and the store).

:meth:`Pipeline.health` says, in words, when something is wrong (recorder write error,
tracker connection lost, no samples for a while, a thread that died), so the runner can stop
cleanly instead of recording nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

from acquisition.clock import session_clock
from acquisition.fixations import FixationOutlet, FixationWorker, OnlineFixationDetector
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers import Tracker, TrackerEvent, create_tracker
from calibration.geometry import ScreenGeometry
from sessions.recorder import Recorder
from sessions.store import SessionStore, with_recorded_session

__all__ = ["Pipeline"]


class _EventTap:
    """Stands between the tracker and the recorder: passes events on, remembers the bad ones."""

    def __init__(self, tracker: Tracker, on_event: Callable[[TrackerEvent], None]) -> None:
        self._tracker = tracker
        self._on_event = on_event

    def drain_events(self) -> list[TrackerEvent]:
        events = self._tracker.drain_events()
        for ev in events:
            self._on_event(ev)
        return events

    def drain_offsets(self) -> list[Any]:
        return self._tracker.drain_offsets()


class Pipeline:
    """Tracker, ring buffer, recorder, online fixations and LSL outlets of one session.

    Parameters
    ----------
    tracker_name : str
        Backend name (``simulated``, ``tobii``, ``lsl``, ``mouse``, ``replay``).
    store : SessionStore
    geometry : ScreenGeometry
    source_id : str
        Stable prefix of the LSL source ids (``<prefix>-gaze``, ``-markers``, ``-fixations``).
    tracker_options : dict
        Passed to the backend's constructor.
    lsl : bool
        Open the LSL outlets (Gaze, Markers, Fixations).
    rate_hz : float, optional
        Sampling rate to set on the tracker.
    stall_s : float
        No new sample for this long while running counts as a lost tracker.
    """

    def __init__(
        self,
        tracker_name: str,
        store: SessionStore,
        geometry: ScreenGeometry,
        *,
        source_id: str,
        tracker_options: dict[str, Any] | None = None,
        lsl: bool = True,
        rate_hz: float | None = None,
        stall_s: float = 2.0,
        capacity: int = 1 << 18,
    ) -> None:
        self.store = store
        self.geometry = geometry
        self.buffer = RingBuffer(capacity)
        options, self._recording = with_recorded_session(tracker_name, dict(tracker_options or {}))
        try:
            self.tracker = create_tracker(tracker_name, self.buffer, **options)
        except BaseException:
            if self._recording is not None:
                self._recording.close()
            raise
        if rate_hz is not None:
            self.tracker.set_rate(rate_hz)
        self.stall_s = stall_s
        self._problem: str | None = None
        self._lost: tuple[float, str] | None = None  # (when, what) while the tracker is away
        self.recorder = Recorder(
            self.buffer.reader("recorder"),
            store,
            tracker=_EventTap(self.tracker, self._on_tracker_event),
            name="recorder",
        )
        self._fix_outlet: Any = None
        self.gaze_outlet: Any = None
        self.marker_outlet: Any = None
        if lsl:
            from acquisition.lsl_outlets import GazeOutlet, MarkerOutlet

            self.gaze_outlet = GazeOutlet(
                self.buffer.reader("lsl-gaze"),
                self.tracker.rate_hz,
                f"{source_id}-gaze",
                tracker=self.tracker.info.to_dict(),
                screen=geometry.to_dict(),
            )
            self.marker_outlet = MarkerOutlet(f"{source_id}-markers")
        detector = OnlineFixationDetector(geometry)
        if lsl:
            self._fix_outlet = FixationOutlet(
                f"{source_id}-fixations",
                screen=geometry.to_dict(),
                params={"method": type(detector).__name__, **dataclasses.asdict(detector.params)},
            )
        self.fixation_worker = self._make_fixation_worker(detector)
        self._started = False
        self._t_start = math.nan

    # ------------------------------------------------------------------ parts
    def _make_fixation_worker(self, detector: OnlineFixationDetector) -> FixationWorker:
        sinks: list[Callable[[Any], None]] = [self.recorder.add_fixation_event]
        if self._fix_outlet is not None:
            sinks.append(self._fix_outlet.push)
        return FixationWorker(self.buffer.reader("fixations"), detector, sinks, name="fixations")

    def _on_tracker_event(self, ev: TrackerEvent) -> None:
        if ev.kind == "error" and self._problem is None:
            self._problem = f"tracker error: {ev.message or 'no details'}"
        elif ev.kind in ("connection_lost", "stream_lost"):
            # A tracker that comes back within stall_s (Tobii and LSL reconnect by themselves)
            # only leaves a recorded gap; one that stays away ends the session (see health()).
            self._lost = (
                ev.t,
                f"tracker {ev.kind.replace('_', ' ')}: {ev.message or 'no details'}",
            )
        elif ev.kind in ("connection_restored", "stream_restored"):
            self._lost = None

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start every part: consumers first, then the tracker."""
        if self._started:
            return
        self.recorder.start()
        self.fixation_worker.start()
        if self.gaze_outlet is not None:
            self.gaze_outlet.start()
        self.tracker.start()
        self._t_start = session_clock()
        self._started = True

    def stop(self, timeout: float = 5.0) -> list[str]:
        """Stop the tracker, let the consumers drain, stop them; returns problems met (words)."""
        problems: list[str] = []
        if not self._started:
            return problems
        self._started = False
        for label, fn in (
            ("tracker", self.tracker.stop),
            ("fixation worker", lambda: self.fixation_worker.stop(timeout)),
            (
                "LSL gaze outlet",
                (lambda: self.gaze_outlet.stop(timeout)) if self.gaze_outlet else None,
            ),
            ("recorder", lambda: self.recorder.stop(timeout)),
        ):
            if fn is None:
                continue
            try:
                fn()
            except Exception as exc:
                problems.append(f"{label}: {exc}")
        for outlet in (self.marker_outlet, self._fix_outlet):
            if outlet is not None and hasattr(outlet, "close"):
                try:
                    outlet.close()
                except Exception as exc:  # pragma: no cover - closing an outlet
                    problems.append(f"LSL outlet: {exc}")
        if self._recording is not None:
            self._recording.close()
        if self.recorder.error:
            problems.append(self.recorder.error)
        return problems

    # ------------------------------------------------------------------ markers
    def marker(
        self, t: float, kind: str, trial_id: int | None = None, message: str = "", **data: Any
    ) -> None:
        """Record a marker in the store and push it on the LSL Markers stream, stamped ``t``."""
        self.store.add_event(t, kind, message, trial_id, **data)
        if self.marker_outlet is not None and t > 0:
            payload = {
                "event": kind,
                **({"trial": trial_id} if trial_id is not None else {}),
                **data,
            }
            self.marker_outlet.push(json.dumps(payload, default=str), t)

    # ------------------------------------------------------------------ health
    def health(self) -> str | None:
        """None when all is well; else what went wrong, in words, with what to do."""
        if self.recorder.error:
            return self.recorder.error
        if self._problem:
            return self._problem
        lost = self._lost
        if lost is not None and session_clock() - lost[0] > self.stall_s:
            return (
                f"{lost[1]} (not back after {self.stall_s:g} s). Check its cable/power, then "
                "continue with --resume."
            )
        err = getattr(self.fixation_worker, "error", None)
        if err is not None:
            return f"online fixation detection stopped: {err!r}"
        if self._started:
            latest = self.buffer.latest()
            now = session_clock()
            last_t = float(latest["t"]) if latest is not None else self._t_start
            if now - last_t > self.stall_s and now - self._t_start > self.stall_s:
                if self._lost is not None:  # the tracker said why: say that
                    return (
                        f"{self._lost[1]} (no samples for {now - last_t:.1f} s). Check its "
                        "cable/power, then continue with --resume."
                    )
                return (
                    f"no gaze samples from the tracker for {now - last_t:.1f} s: it may be "
                    "disconnected. Check its cable/power, then continue with --resume."
                )
        return None
