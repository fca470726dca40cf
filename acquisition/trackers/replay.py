"""The replay tracker: a recorded session streamed live again, with its original timing.

Samples are read from a recorded session in blocks and emitted through
:meth:`Tracker._emit` when their time comes: sample ``i`` goes out at
``start + (t_i - t_first) / speed`` on the session clock and is re-stamped with that time
(``device_ts`` keeps the original; ``flags`` gets ``REPLAYED``). Downstream readers (recorder,
fixation detector, LSL outlet) cannot tell it from a live tracker, which is the point: tests,
demos and LSL consumers without an eye tracker.

Options: ``session`` (a :class:`RecordedSession`: the sessions layer opens the session's store
read-only and hands it over; ``gazeread run --tracker replay --tracker-option session=PATH``
does that), ``speed`` (1 = real time, 2 = twice as fast, ``math.inf`` = as fast as the buffer
takes it), and the part to play: ``t0``/``t1`` (session-clock seconds of the recording) or
``trial`` (a trial id: its onset to offset). This module reads no file itself: the acquisition
layer knows nothing of the session store.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from acquisition.clock import session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag, estimate_rate_hz
from acquisition.trackers.base import Availability, Tracker, TrackerError

__all__ = ["RecordedSession", "ReplayTracker"]

_BLOCK_S = 5.0  # seconds of recording read at once


@runtime_checkable
class RecordedSession(Protocol):
    """What the replay tracker needs of a recorded session (read-only, thread-safe)."""

    @property
    def label(self) -> str:
        """Where the recording is (for messages and the tracker's address)."""
        ...

    def tracker_info(self) -> dict[str, Any]:
        """The recording's tracker description (``tracker_json``)."""
        ...

    def time_range(self) -> tuple[float, float] | None:
        """First and last sample time, None when there are no samples."""
        ...

    def trial_window(self, trial: int) -> tuple[float | None, float | None] | None:
        """``(onset or start, offset)`` of a trial, None if there is no such trial."""
        ...

    def trial_count(self) -> int:
        """Number of trials."""
        ...

    def samples(self, t0: float, t1: float) -> np.ndarray:
        """Samples with ``t0 <= t < t1`` as SAMPLE_DTYPE rows, in time order."""
        ...


class ReplayTracker(Tracker):
    """Stream a recorded session's samples into a ring buffer in real time (or scaled).

    Parameters
    ----------
    buffer : RingBuffer
    session : RecordedSession
        The recording (``sessions.store.recorded_session(PATH)`` opens a session folder).
    speed : float
        Playback speed factor, > 0 (``math.inf``: no pacing).
    t0, t1 : float, optional
        Part of the recording to play (session-clock s of the recording, ``t0 <= t < t1``).
    trial : int, optional
        Play this trial's viewing period (image onset to offset); exclusive with t0/t1.
    loop : bool
        Start again from the beginning when the end is reached.
    clock : callable
        Session clock for the new time stamps (default LSL ``local_clock``).
    wake_interval_s : float
        Sleep between emitted chunks (default 5 ms).
    """

    name: ClassVar[str] = "replay"

    def __init__(
        self,
        buffer: RingBuffer,
        *,
        session: RecordedSession,
        speed: float = 1.0,
        t0: float | None = None,
        t1: float | None = None,
        trial: int | None = None,
        loop: bool = False,
        clock: Callable[[], float] = session_clock,
        wake_interval_s: float = 0.005,
    ) -> None:
        super().__init__(buffer, clock=clock)
        if not (speed > 0):
            raise TrackerError(f"replay: speed must be > 0 (math.inf for no pacing), got {speed!r}")
        if trial is not None and (t0 is not None or t1 is not None):
            raise TrackerError("replay: give either trial or t0/t1, not both")
        if not isinstance(session, RecordedSession):
            raise TrackerError(
                f"replay: session must be a recorded session opened by the sessions layer "
                f"(sessions.store.recorded_session(PATH)), got {session!r}"
            )
        src = session
        tracker: dict[str, Any] = src.tracker_info()
        span = src.time_range()
        if span is None:
            raise TrackerError(f"replay: the session at {src.label} holds no samples")
        if trial is not None:
            win = src.trial_window(trial)
            if win is None:
                raise TrackerError(
                    f"replay: the session at {src.label} has no trial {trial!r} "
                    f"(it has trials 0..{src.trial_count() - 1})"
                )
            if win[0] is None:
                raise TrackerError(f"replay: trial {trial} was never shown")
            t0, t1 = win
        cols = src.samples(span[0], span[0] + 2.0)["t"]
        self.source = src
        self.session_label = src.label
        self.speed = float(speed)
        self.t_begin = float(span[0] if t0 is None else max(t0, span[0]))
        self.t_end = float(span[1] + 1e-9 if t1 is None else t1)
        if self.t_end <= self.t_begin:
            raise TrackerError(
                f"replay: empty range t0={self.t_begin!r} .. t1={self.t_end!r} "
                f"(recording spans {span[0]:.3f} .. {span[1]:.3f} s)"
            )
        self.loop = bool(loop)
        self._wake_s = float(wake_interval_s)
        rate = float(tracker.get("rate_hz") or 0.0)
        if rate <= 0:
            rate = estimate_rate_hz(cols, default=0.0)
        self._rate = rate
        self.info.rate_hz = rate
        self.info.model = f"replay of {tracker.get('model') or tracker.get('backend') or 'unknown'}"
        self.info.serial = str(tracker.get("serial") or "")
        self.info.address = f"replay://{self.session_label}"
        self.info.extra = {
            "session": self.session_label,
            "speed": self.speed,
            "t0": self.t_begin,
            "t1": self.t_end,
            "trial": trial,
            "original_tracker": tracker,
        }
        self._stop_evt = threading.Event()
        self._finished = threading.Event()
        self.emitted = 0

    @classmethod
    def is_available(cls) -> Availability:
        """Always available (needs only a recorded session, given as ``session=``)."""
        return Availability(True, "replays a recorded gazeread session (option session=PATH)")

    def supported_rates(self) -> list[float]:
        """Only the recording's own rate."""
        return [self._rate]

    @property
    def finished(self) -> bool:
        """True once the whole range was emitted (never with ``loop``)."""
        return self._finished.is_set()

    def wait_finished(self, timeout: float) -> bool:
        """Block until the replay reaches the end or ``timeout`` s pass; True if finished."""
        return self._finished.wait(timeout)

    def _start(self) -> None:
        self._stop_evt.clear()
        self._finished.clear()
        self._start_thread(self._run, "gazeread-replay", what="reader thread")

    def _stop(self) -> None:
        self._stop_evt.set()
        self._join_thread(5.0)

    def _run(self) -> None:
        while not self._stop_evt.is_set():
            self._play_once(self.source)
            if not self.loop:
                break
        if not self._stop_evt.is_set():
            self._finished.set()
            self.post_event("replay_finished", "the replayed range ended", emitted=self.emitted)

    def _play_once(self, store: RecordedSession) -> None:
        start_clock = self.clock()
        start_wall = time.monotonic()
        self._last_device_ts = None  # a loop restarts the gap detection
        a = self.t_begin
        while a < self.t_end and not self._stop_evt.is_set():
            b = min(a + _BLOCK_S, self.t_end)
            block = store.samples(a, b)
            a = b
            i = 0
            while i < len(block) and not self._stop_evt.is_set():
                self.beat()
                if math.isinf(self.speed):
                    j = len(block)
                else:
                    due = self.t_begin + (time.monotonic() - start_wall) * self.speed
                    j = int(np.searchsorted(block["t"], due, side="right"))
                    if j <= i:
                        wait = (block["t"][i] - due) / self.speed
                        self._stop_evt.wait(min(max(wait, 0.0), self._wake_s))
                        continue
                rows = block[i:j].copy()
                i = j
                rel = (rows["t"] - self.t_begin) / (1.0 if math.isinf(self.speed) else self.speed)
                rows["t"] = start_clock + rel
                rows["flags"] |= np.uint32(SampleFlag.REPLAYED)
                self._emit(rows)
                self.emitted += len(rows)
