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

import json
import math
from collections.abc import Callable
from typing import Any

from acquisition.clock import session_clock
from acquisition.fixations import (
    Detector,
    FixationOutlet,
    FixationWorker,
    batch_interval_s,
    choose_detector,
)
from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers import Tracker, TrackerEvent, create_tracker
from sessions.run.recorder import Recorder
from sessions.store import SessionStore, with_recorded_session

__all__ = ["OUTAGE_GRACE_S", "RECONNECT_S", "STARVED_S", "Pipeline"]

#: Added to the outage limit: how late an outage's end can be seen (the LSL backend checks
#: every 0.25 s whether a lost stream's outlet is back; reading the buffer takes a frame).
OUTAGE_GRACE_S = 0.5
#: Once a lost LSL outlet is back, how long liblsl may take to reconnect the inlet (measured:
#: 1.8 s on loopback) before the session stops on "back but no data".
RECONNECT_S = 10.0
#: A tracker thread that has not run for this long is starved (a busy CPU), not disconnected:
#: silence is then not counted as an outage, up to :data:`STARVED_LIMIT_S`.
STARVED_S = 0.5
STARVED_LIMIT_S = 30.0


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
    detector, detector_params :
        The protocol's ``[fixations]`` choice: ``auto`` picks the detector from the tracker,
        its rate and its expected noise (:func:`acquisition.fixations.choose_detector`); the
        choice and its reason go to the store (``settings_json.fixation_detector``) and to
        the Fixations stream's meta-data.
    stall_s : float
        The outage limit (protocol ``[tracker] outage_limit_s``, default 2 s): an outage
        shorter than this never ends the session, however long the tracker then takes to
        reconnect; one longer stops it cleanly (resumable). The outage is measured from the
        tracker's own last sample time to the moment the tracker is back (for LSL: its outlet
        can be resolved again); silence while the tracker's own thread is not running (a busy
        CPU) is not an outage.
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
        detector: str = "auto",
        detector_params: dict[str, Any] | None = None,
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
        self._back: float | None = None  # when a lost LSL outlet was seen again
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
        self.detector_choice = choose_detector(
            tracker_name,
            self.tracker.rate_hz,
            self.tracker.expected_noise_deg(),
            method=detector,
            params=detector_params,
        )
        choice = self.detector_choice.to_dict()
        settings = dict(store.session_info().get("settings_json") or {})
        store.update_session(settings_json={**settings, "fixation_detector": choice})
        if lsl:
            self._fix_outlet = FixationOutlet(
                f"{source_id}-fixations",
                screen=geometry.to_dict(),
                params={"method": choice["method"], "reason": choice["reason"], **choice["params"]},
            )
        self.fixation_worker = self._make_fixation_worker(self.detector_choice.build(geometry))
        self._started = False
        self._t_start = math.nan

    # ------------------------------------------------------------------ parts
    def _make_fixation_worker(self, detector: Detector) -> FixationWorker:
        sinks: list[Callable[[Any], None]] = [self.recorder.add_fixation_event]
        if self._fix_outlet is not None:
            sinks.append(self._fix_outlet.push)
        return FixationWorker(
            self.buffer.reader("fixations"), detector, sinks, name="fixations",
            min_interval_s=batch_interval_s(self.tracker.rate_hz),
        )  # fmt: skip

    def _on_tracker_event(self, ev: TrackerEvent) -> None:
        if ev.kind == "error" and self._problem is None:
            self._problem = f"tracker error: {ev.message or 'no details'}"
        elif ev.kind in ("connection_lost", "stream_lost"):
            # A tracker that comes back within stall_s (Tobii and LSL reconnect by themselves)
            # only leaves a recorded gap; one that stays away ends the session (see health()).
            self._back = None
            self._lost = (
                ev.t,
                f"tracker {ev.kind.replace('_', ' ')}: {ev.message or 'no details'}",
            )
        elif ev.kind == "stream_available":
            self._back = ev.t
        elif ev.kind in ("connection_restored", "stream_restored"):
            self._lost = None
            self._back = None

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
        err = getattr(self.fixation_worker, "error", None)
        if err is not None:
            return f"online fixation detection stopped: {err!r}"
        if self._started:
            return self._outage()
        return None

    def _outage(self) -> str | None:
        """An outage past the limit, in words; None while the tracker is (or may be) fine."""
        now = session_clock()
        if self._back is not None:  # the outlet is back: the outage is over, let it reconnect
            if now - self._back > RECONNECT_S:
                return (
                    f"the tracker's stream was published again {now - self._back:.0f} s ago but "
                    "sends no data to this computer. Check the network and the tracker "
                    "software, then continue with --resume."
                )
            return None
        latest = self.buffer.latest()
        last_t = float(latest["t"]) if latest is not None else self._t_start
        silence = now - max(last_t, self._t_start)
        limit = self.stall_s + OUTAGE_GRACE_S
        if silence <= limit:
            return None
        if self.tracker.starved(now, STARVED_S) and silence <= STARVED_LIMIT_S:
            return None  # its thread did not run (a busy CPU): not an outage yet
        if self._lost is not None:  # the tracker said why: say that
            return (
                f"{self._lost[1]} (no samples for {silence:.1f} s, limit {self.stall_s:g} s). "
                "Check its cable/power, then continue with --resume."
            )
        return (
            f"no gaze samples from the tracker for {silence:.1f} s (limit {self.stall_s:g} s): "
            "it may be disconnected. Check its cable/power, then continue with --resume."
        )
