"""The one small interface every tracker backend implements.

A backend owns a device (or a simulation, or an LSL inlet) and pushes every sample into a
:class:`~acquisition.ring_buffer.RingBuffer`, stamped with session-clock time mapped from the
tracker's own timestamp. Everything else (recording, fixation detection, LSL outlets) reads
the buffer. Backends report what happens to the device (connection lost, rate changed, samples
dropped) as :class:`TrackerEvent` objects that the recorder drains into the session store.
"""

from __future__ import annotations

import abc
import dataclasses
import queue
import threading
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from acquisition.affinity import acquisition_thread
from acquisition.clock import ClockOffset, session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag, gaps, missing_in_gaps

__all__ = [
    "Availability",
    "GazeCorrection",
    "Tracker",
    "TrackerError",
    "TrackerEvent",
    "TrackerInfo",
]


class TrackerError(RuntimeError):
    """A tracker could not be found, configured or kept running. The message says why."""


class Availability(NamedTuple):
    """Whether a backend can be used here, and if not, exactly what is missing."""

    ok: bool
    reason: str


@dataclasses.dataclass
class TrackerInfo:
    """Provenance of the device, stored with every session."""

    backend: str
    model: str = ""
    serial: str = ""
    firmware: str = ""
    address: str = ""
    sdk_version: str = ""
    rate_hz: float = 0.0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrackerEvent:
    """Something that happened to the device.

    ``kind`` is one of: ``connection_lost``, ``connection_restored``, ``rate_changed``,
    ``samples_dropped`` (data: ``count``, ``gap_s``), ``buffer_overflow``, ``stream_lost``,
    ``stream_restored``, ``calibration_changed``, ``error``.
    """

    t: float
    kind: str
    message: str = ""
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


#: Software calibration: maps arrays of normalised (x, y) to corrected (x, y), vectorised.
GazeCorrection = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Tracker(abc.ABC):
    """Base class of the tracker backends.

    Subclasses set :attr:`name`, implement :meth:`is_available`, :meth:`_start`,
    :meth:`_stop`, :meth:`supported_rates` and deliver samples through :meth:`_emit`
    (or push straight into ``self.buffer`` in a hot callback, as the Tobii backend does).

    Parameters
    ----------
    buffer : RingBuffer
        Where samples go.
    clock : callable
        The session clock (default LSL ``local_clock``).
    """

    name: ClassVar[str] = ""

    def __init__(self, buffer: RingBuffer, *, clock: Callable[[], float] = session_clock) -> None:
        self.buffer = buffer
        self.clock = clock
        self.info = TrackerInfo(backend=self.name)
        self._events: queue.SimpleQueue[TrackerEvent] = queue.SimpleQueue()
        # Appended by the tracker's thread, drained by the recorder: a queue, not a swapped list
        # (an append racing the swap could land in a list already handed out).
        self._offsets: queue.SimpleQueue[tuple[str, ClockOffset]] = queue.SimpleQueue()
        self._correction: GazeCorrection | None = None
        self._running = False
        self._lock = threading.Lock()
        self._last_device_ts: int | None = None
        self._thread: threading.Thread | None = None
        self._thread_what = "thread"
        #: The exception that ended the tracker's thread (re-raised by :meth:`stop`), if any.
        self.error: BaseException | None = None
        #: Session time of the last turn of the backend's own thread (None: it has none, e.g.
        #: a vendor callback). A session judges an outage only while this is fresh: a thread
        #: that did not run (a busy CPU) has not lost its tracker (see sessions.run.pipeline).
        self.heartbeat: float | None = None

    # -------------------------------------------------------------- discovery
    @classmethod
    @abc.abstractmethod
    def is_available(cls) -> Availability:
        """Say whether this backend can run here; when not, name what is missing."""

    def expected_noise_deg(self) -> float | None:
        """RMS sample-to-sample noise this tracker is known to give (deg), None if unknown.

        Used to choose the fixation detector before any sample arrived
        (:func:`acquisition.fixations.choose_detector`).
        """
        return None

    @abc.abstractmethod
    def supported_rates(self) -> list[float]:
        """Sampling rates (Hz) the device offers."""

    # -------------------------------------------------------------- lifecycle
    @property
    def rate_hz(self) -> float:
        """Current nominal sampling rate (Hz)."""
        return self.info.rate_hz

    def set_rate(self, rate_hz: float) -> None:
        """Set the sampling rate; an unsupported rate raises naming the supported ones."""
        rates = self.supported_rates()
        if not any(abs(rate_hz - r) < 1e-6 for r in rates):
            raise TrackerError(
                f"{self.name}: sampling rate {rate_hz!r} Hz is not supported; "
                f"supported rates: {', '.join(f'{r:g}' for r in rates)}"
            )
        self._set_rate(rate_hz)
        self.info.rate_hz = float(rate_hz)

    def _set_rate(self, rate_hz: float) -> None:  # noqa: B027 - optional hook
        """Apply a validated rate on the device (override where the device has a rate)."""

    def start(self) -> None:
        """Start pushing samples into the buffer."""
        with self._lock:
            if self._running:
                return
            self._start()
            self._running = True

    def stop(self) -> None:
        """Stop pushing samples. Idempotent."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._running

    @abc.abstractmethod
    def _start(self) -> None: ...

    @abc.abstractmethod
    def _stop(self) -> None: ...

    def __enter__(self) -> Tracker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- events and clocks
    def beat(self) -> None:
        """Note that the backend's thread is running (call once per turn of its loop)."""
        self.heartbeat = self.clock()

    def starved(self, now: float, after_s: float) -> bool:
        """True when the backend's thread is alive but has not run for ``after_s`` seconds.

        A starved thread (a busy CPU) has not lost its device; a thread that ended has.
        """
        thread = self._thread
        beat = self.heartbeat
        return (
            beat is not None and thread is not None and thread.is_alive() and now - beat > after_s
        )

    def post_event(self, kind: str, message: str = "", **data: Any) -> None:
        """Queue a :class:`TrackerEvent` stamped now (thread-safe)."""
        self._events.put(TrackerEvent(self.clock(), kind, message, data))

    def drain_events(self) -> list[TrackerEvent]:
        """Take every queued event, oldest first."""
        out: list[TrackerEvent] = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def record_offset(self, source: str, offset: ClockOffset) -> None:
        """Remember a clock-offset measurement (drained into the store's clock_offsets)."""
        self._offsets.put((source, offset))

    def drain_offsets(self) -> list[tuple[str, ClockOffset]]:
        """Take the clock offsets measured since the last call, oldest first (thread-safe)."""
        out: list[tuple[str, ClockOffset]] = []
        while True:
            try:
                out.append(self._offsets.get_nowait())
            except queue.Empty:
                return out

    # -------------------------------------------------------------- the tracker's thread
    def _start_thread(
        self, target: Callable[[], None], name: str, *, what: str = "thread"
    ) -> threading.Thread:
        """Start ``target`` in a named daemon thread whose exception is surfaced, not lost.

        An exception that ends ``target`` is posted at once as an ``error`` event and stored
        in :attr:`error`; :meth:`_join_thread` (called from ``_stop``) re-raises it as a
        :class:`TrackerError`. ``what`` names the thread in messages ("producer thread").
        """
        self.error = None

        def run() -> None:
            try:
                target()
            except BaseException as exc:  # surfaced: posted now, re-raised by stop()
                self.post_event("error", f"{self.name} {what} failed: {exc!r}", error=repr(exc))
                self.error = exc  # after the event: whoever sees .error finds the event queued

        th = acquisition_thread(run, name, "producer")
        self._thread, self._thread_what = th, what
        th.start()
        return th

    def _join_thread(self, timeout: float, *, cleanup: Callable[[], None] | None = None) -> None:
        """Join the thread of :meth:`_start_thread` (the caller asked it to stop first).

        Raises :class:`TrackerError` when it does not end within ``timeout`` s, or, after
        ``cleanup()`` (closing the device), when it ended with an exception.
        """
        th, what = self._thread, self._thread_what
        if th is not None:
            th.join(timeout=timeout)
            if th.is_alive():
                raise TrackerError(f"{self.name}: {what} did not stop within {timeout:g} s")
        self._thread = None
        if cleanup is not None:
            cleanup()
        if self.error is not None:
            err, self.error = self.error, None
            raise TrackerError(f"{self.name}: {what} failed: {err!r}") from err

    # -------------------------------------------------------------- software calibration
    def set_correction(self, correction: GazeCorrection | None) -> None:
        """Install (or remove with None) a software calibration applied to every sample."""
        self._correction = correction

    @property
    def correction(self) -> GazeCorrection | None:
        """The software calibration in force, if any."""
        return self._correction

    def _emit(self, rows: np.ndarray) -> None:
        """Apply the software calibration, flag gaps, and push a block of rows.

        ``rows`` is a structured array of SAMPLE_DTYPE that the caller owns (it is modified in
        place). Gaps larger than 1.5 sample periods in ``device_ts`` flag the first sample
        after them and post a ``samples_dropped`` event.
        """
        if len(rows) == 0:
            return
        corr = self._correction
        if corr is not None:
            for eye in ("left", "right"):
                # A per-eye correction (calibration.software.BinocularCorrection) has for_eye().
                for_eye = getattr(corr, "for_eye", None)
                fn = for_eye(eye) if for_eye is not None else corr
                x, y = fn(rows[f"{eye}_x"], rows[f"{eye}_y"])
                rows[f"{eye}_x"] = x
                rows[f"{eye}_y"] = y
            rows["flags"] |= np.uint32(SampleFlag.SOFTWARE_CALIBRATED)
        self._flag_gaps(rows)
        self.buffer.push_many(rows)

    def _flag_gaps(self, rows: np.ndarray) -> None:
        rate = self.info.rate_hz
        if rate <= 0:
            return
        period_us = 1e6 / rate
        ts = rows["device_ts"]
        prev = self._last_device_ts
        self._last_device_ts = int(ts[-1])
        if prev is None:
            d = np.diff(ts)
            idx = np.nonzero(gaps(d, period_us))[0] + 1
            gap_us = d[idx - 1]
        else:
            d = np.diff(ts, prepend=prev)
            idx = np.nonzero(gaps(d, period_us))[0]
            gap_us = d[idx]
        if len(idx):
            rows["flags"][idx] |= np.uint32(SampleFlag.AFTER_GAP)
            for i, g, m in zip(idx, gap_us, missing_in_gaps(gap_us, period_us), strict=True):
                missing = int(m)
                self.post_event(
                    "samples_dropped",
                    f"{missing} sample(s) missing before device_ts {int(ts[i])}",
                    count=missing,
                    gap_s=float(g) / 1e6,
                    t=float(rows["t"][i]),
                )
