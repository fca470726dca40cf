"""The fixation detector as one more reader of the ring buffer, in its own thread."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from acquisition.affinity import acquisition_thread
from acquisition.clock import session_clock
from acquisition.fixations.events import FixationEvent
from acquisition.ring_buffer import Reader

__all__ = ["Detector", "FixationWorker"]

_log = logging.getLogger(__name__)

Sink = Callable[[FixationEvent], None]


#: The live worker hands the detector at least this much time of samples per call ...
MIN_INTERVAL_S = 0.05
#: ... and at least this many samples (a 60 Hz tracker: 100 ms), so that the per-call cost of
#: a detector (a few microseconds) stays under 1 us per sample at every rate.
MIN_BATCH_SAMPLES = 6


def batch_interval_s(rate_hz: float) -> float:
    """How often the live worker calls the detector at ``rate_hz``: the chunk size of a session.

    It delays the delivery of events by at most this much, never their ``t_emitted``.
    """
    return max(MIN_INTERVAL_S, MIN_BATCH_SAMPLES / rate_hz) if rate_hz > 0 else MIN_INTERVAL_S


class Detector(Protocol):
    """What the worker needs of a detector (both I-VT and I-DT detectors have it)."""

    def feed(self, samples: np.ndarray) -> list[FixationEvent]:
        """Process samples; return the events they made decidable."""
        ...

    def flush(self) -> list[FixationEvent]:
        """End of stream."""
        ...


class FixationWorker:
    """A named thread feeding new ring-buffer samples to a detector, events to sinks.

    Every event goes to each sink, in order.

    Parameters
    ----------
    reader : Reader
        Its own cursor into the session's ring buffer (``buffer.reader("fixations")``).
    detector : Detector
        An :class:`~acquisition.fixations.ivt.OnlineFixationDetector` (or I-DT) instance.
    sinks : sequence of callables
        Each gets every :class:`FixationEvent` (with ``t_delivered`` set), e.g. the
        recorder's ``add_fixation_event``, ``FixationOutlet.push``, a GUI queue's ``put``.
        A sink that raises is reported (:attr:`sink_errors`, the log) and keeps receiving
        later events; it cannot stop detection for the others.
    name : str
        Thread name.
    poll_s : float
        Longest wait for new samples before checking for stop (finite).
    min_interval_s : float
        Shortest time between two detector calls: batches samples so the per-call overhead
        stays below 1 us per sample (a session uses :func:`batch_interval_s` of its rate:
        50 ms, or 6 samples at low rates). It delays delivery by at most this much; it does
        not change the events or their ``t_emitted`` (chunking never does).
    clock : callable
        Session clock for ``t_delivered``.

    Attributes
    ----------
    error : BaseException or None
        The exception that stopped the thread (detector failure), if any.
    sink_errors : int
        Exceptions raised by sinks (the first is kept in :attr:`first_sink_error`).
    samples_lost : int
        Samples this reader lost to buffer overflow (the detector sees a time gap there).
    """

    def __init__(
        self,
        reader: Reader,
        detector: Detector,
        sinks: Sequence[Sink] = (),
        name: str = "fixations",
        *,
        poll_s: float = 0.1,
        min_interval_s: float = MIN_INTERVAL_S,
        clock: Callable[[], float] = session_clock,
    ) -> None:
        if not 0 < poll_s <= 5:
            raise ValueError(f"poll_s must be in (0, 5] s, got {poll_s!r}")
        if not 0 <= min_interval_s <= 1:
            raise ValueError(f"min_interval_s must be in [0, 1] s, got {min_interval_s!r}")
        self.reader = reader
        self.detector = detector
        self.sinks = list(sinks)
        self._poll = poll_s
        self._min_interval = min_interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread = acquisition_thread(self._run, name, "reader")
        self.error: BaseException | None = None
        self.first_sink_error: BaseException | None = None
        self.sink_errors = 0
        self.samples_lost = 0
        self.samples_seen = 0
        self.events_emitted = 0

    @property
    def name(self) -> str:
        """Thread name."""
        return self._thread.name

    def start(self) -> FixationWorker:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        """Whether the thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish: process what is left, flush the detector, deliver, join the thread.

        Flushing ends the open fixation, so its ``end`` event reaches the sinks.

        Raises
        ------
        TimeoutError
            When the thread did not finish within ``timeout`` seconds.
        RuntimeError
            When the detector failed while running (the original exception is chained).
        """
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"fixation worker {self.name!r} did not stop within {timeout} s")
        if self.error is not None:
            raise RuntimeError(
                f"fixation worker {self.name!r} failed: {self.error!r}"
            ) from self.error

    # ------------------------------------------------------------------ thread body
    def _run(self) -> None:
        try:
            last = 0.0
            while not self._stop.is_set():
                t0 = time.monotonic()
                if not self.reader.wait(self._poll):
                    # a closed buffer answers at once: do not spin until stop() is called
                    if time.monotonic() - t0 < self._poll / 2:
                        self._stop.wait(self._poll)
                    continue
                wait = last + self._min_interval - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
                last = time.monotonic()
                self._step()
            self._step()
            self._deliver(self.detector.flush())
        except BaseException as exc:  # surfaced by stop() and .error, never lost
            self.error = exc
            _log.exception("fixation worker %s stopped on an error", self.name)

    def _step(self) -> None:
        chunk = self.reader.consume()
        self.samples_lost += chunk.lost
        if len(chunk.samples):
            self.samples_seen += len(chunk.samples)
            self._deliver(self.detector.feed(chunk.samples))

    def _deliver(self, events: list[FixationEvent]) -> None:
        if not events:
            return
        now = self._clock()
        for ev in events:
            ev = dataclasses.replace(ev, t_delivered=now)
            self.events_emitted += 1
            for sink in self.sinks:
                try:
                    sink(ev)
                except Exception as exc:
                    self.sink_errors += 1
                    if self.first_sink_error is None:
                        self.first_sink_error = exc
                        _log.exception("fixation sink %r failed", sink)
