"""LSL outlets of a running session: the ``Gaze`` sample stream and the ``Markers`` stream.

:class:`GazeOutlet` is one more reader of the ring buffer: a named thread that waits for new
samples and pushes them as one chunk with per-sample timestamps (each sample's session-clock
``t``, which is LSL's ``local_clock()`` domain, so any inlet maps it with ``time_correction()``).
Its channels carry the XDF gaze meta-data (``desc/channels/channel`` with ``label``, ``eye``,
``type``, ``unit``), so :class:`acquisition.trackers.lsl_tracker.LslTracker` and tools such as
LabRecorder/pyxdf understand them without configuration.

:class:`MarkerOutlet` sends string markers (JSON objects from the runner) stamped with the
session-clock time of the event (e.g. a flip time), never the time the call was made.

pylsl is imported when an outlet is created, not when this module is imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from acquisition.affinity import acquisition_thread
from acquisition.ring_buffer import Chunk, Reader

__all__ = ["GAZE_CHANNELS", "GazeChannel", "GazeOutlet", "MarkerOutlet", "gaze_rows_to_matrix"]


class GazeChannel(tuple):
    """``(label, eye, type, unit, field, component)`` of one channel of the Gaze stream.

    ``field`` is the :data:`~acquisition.samples.SAMPLE_DTYPE` field it comes from and
    ``component`` the index into a vector field (eye positions), else -1.
    """

    __slots__ = ()

    def __new__(
        cls, label: str, eye: str, type_: str, unit: str, field: str, component: int = -1
    ) -> GazeChannel:
        """Build one channel description."""
        return super().__new__(cls, (label, eye, type_, unit, field, component))

    label = property(lambda self: self[0], doc="Channel label.")
    eye = property(lambda self: self[1], doc="'left', 'right' or '' (both/none).")
    type = property(lambda self: self[2], doc="XDF gaze channel type (ScreenX, Diameter, ...).")
    unit = property(lambda self: self[3], doc="Unit (normalized, mm, microseconds, ...).")
    field = property(lambda self: self[4], doc="Sample field the value comes from.")
    component = property(lambda self: self[5], doc="Index into a vector field, or -1.")


#: The channels of gazeread's Gaze stream, in order (all float64).
GAZE_CHANNELS: tuple[GazeChannel, ...] = (
    GazeChannel("left_x", "left", "ScreenX", "normalized", "left_x"),
    GazeChannel("left_y", "left", "ScreenY", "normalized", "left_y"),
    GazeChannel("right_x", "right", "ScreenX", "normalized", "right_x"),
    GazeChannel("right_y", "right", "ScreenY", "normalized", "right_y"),
    GazeChannel("left_pupil", "left", "Diameter", "mm", "left_pupil"),
    GazeChannel("right_pupil", "right", "Diameter", "mm", "right_pupil"),
    GazeChannel("left_valid", "left", "Validity", "bool", "left_valid"),
    GazeChannel("right_valid", "right", "Validity", "bool", "right_valid"),
    GazeChannel("left_eye_x", "left", "PositionX", "mm", "left_eye_pos", 0),
    GazeChannel("left_eye_y", "left", "PositionY", "mm", "left_eye_pos", 1),
    GazeChannel("left_eye_z", "left", "PositionZ", "mm", "left_eye_pos", 2),
    GazeChannel("right_eye_x", "right", "PositionX", "mm", "right_eye_pos", 0),
    GazeChannel("right_eye_y", "right", "PositionY", "mm", "right_eye_pos", 1),
    GazeChannel("right_eye_z", "right", "PositionZ", "mm", "right_eye_pos", 2),
    GazeChannel("device_ts", "", "DeviceTimestamp", "microseconds", "device_ts"),
    GazeChannel("flags", "", "Flags", "bitmask", "flags"),
)


def gaze_rows_to_matrix(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Lay samples out as the Gaze stream's ``(n, len(GAZE_CHANNELS))`` float64 matrix.

    Parameters
    ----------
    rows : numpy.ndarray
        Structured array of :data:`~acquisition.samples.SAMPLE_DTYPE`, shape ``(n,)``.
    out : numpy.ndarray, optional
        A C-contiguous float64 array with at least ``n`` rows to fill (avoids allocating).

    Returns
    -------
    numpy.ndarray
        ``(n, 16)`` float64, a view of ``out`` when given.
    """
    n = len(rows)
    m = np.empty((n, len(GAZE_CHANNELS))) if out is None else out[:n]
    for k, ch in enumerate(GAZE_CHANNELS):
        col = rows[ch.field]
        m[:, k] = col if ch.component < 0 else col[:, ch.component]
    return m


def _append(node: Any, data: dict[str, Any]) -> None:
    """Append ``data`` under ``node``: nested dicts as child nodes, the rest as text values."""
    for k, v in data.items():
        if isinstance(v, dict):
            _append(node.append_child(str(k)), v)
        elif v is not None and v != "":
            node.append_child_value(str(k), str(v))


def _gaze_info(
    name: str,
    source_id: str,
    rate_hz: float,
    extra: dict[str, str] | None,
    tracker: dict[str, Any] | None = None,
    screen: dict[str, Any] | None = None,
) -> Any:
    import pylsl

    info = pylsl.StreamInfo(
        name, "Gaze", len(GAZE_CHANNELS), float(rate_hz), pylsl.cf_double64, source_id
    )
    desc = info.desc()
    chans = desc.append_child("channels")
    for ch in GAZE_CHANNELS:
        c = chans.append_child("channel")
        c.append_child_value("label", ch.label)
        if ch.eye:
            c.append_child_value("eye", ch.eye)
        c.append_child_value("type", ch.type)
        c.append_child_value("unit", ch.unit)
    tr = tracker or {}
    # The device, where third-party recorders look for it (top level and XDF-style acquisition)
    model = str(tr.get("model") or "")
    manufacturer = str(tr.get("manufacturer") or tr.get("backend") or "unknown")
    desc.append_child_value("manufacturer", manufacturer)
    desc.append_child_value("model", model)
    desc.append_child_value("serial_number", str(tr.get("serial") or ""))
    desc.append_child_value("software", "gazeread")
    _append(
        desc.append_child("acquisition"),
        {
            "manufacturer": manufacturer,
            "model": model,
            "serial_number": tr.get("serial"),
            "firmware": tr.get("firmware"),
            "backend": tr.get("backend"),
            "sdk_version": tr.get("sdk_version"),
            "sampling_rate": float(rate_hz) if rate_hz else None,
        },
    )
    setup = desc.append_child("setup")
    setup.append_child_value(
        "coordinate_system", "normalized display area, origin top-left, y down"
    )
    setup.append_child_value("timestamps", "session clock (LSL local_clock) of the measurement")
    if screen:
        _append(setup.append_child("screen"), screen)
    for key, value in (extra or {}).items():
        desc.append_child_value(str(key), str(value))
    return info


class GazeOutlet:
    """Stream the samples of a ring-buffer reader as an LSL ``Gaze`` outlet, from a thread.

    Parameters
    ----------
    reader : Reader
        The ring-buffer reader to drain (make it with ``buffer.reader("lsl-gaze")``).
    rate_hz : float
        Nominal rate of the stream: the tracker's rate.
    source_id : str
        Stable identifier (e.g. ``"gazeread-<study>-<participant>-gaze"``), so that inlets
        reconnect to it after a restart.
    name : str
        Stream name.
    extra : dict, optional
        More ``key -> value`` pairs written into the stream's ``desc`` (tracker model, ...).
    wait_timeout : float
        Longest single wait (s) of the thread, so that :meth:`stop` is honoured promptly.
    observer : callable, optional
        Called in the thread with each :class:`~acquisition.ring_buffer.Chunk` just before it is
        pushed (for diagnostics and benchmarks); must be quick.

    Notes
    -----
    Call :meth:`start` (or use it as a context manager). Samples a slow outlet thread lost to
    ring-buffer overflow are counted in :attr:`lost_total`. An exception in the thread stops it
    and is kept in :attr:`error`; :meth:`stop` re-raises it as :class:`RuntimeError`.
    """

    def __init__(
        self,
        reader: Reader,
        rate_hz: float,
        source_id: str,
        name: str = "gazeread-Gaze",
        *,
        extra: dict[str, str] | None = None,
        tracker: dict[str, Any] | None = None,
        screen: dict[str, Any] | None = None,
        wait_timeout: float = 0.1,
        max_chunk: int = 4096,
        observer: Callable[[Chunk], None] | None = None,
    ) -> None:
        import pylsl

        if not source_id:
            raise ValueError(
                "source_id must be a non-empty, stable string (inlets reconnect by it)"
            )
        if rate_hz < 0:
            raise ValueError(f"rate_hz must be >= 0 (0 = irregular), got {rate_hz!r}")
        self.reader = reader
        self.name = name
        self.source_id = source_id
        self.rate_hz = float(rate_hz)
        self._outlet = pylsl.StreamOutlet(
            _gaze_info(name, source_id, rate_hz, extra, tracker, screen)
        )
        self._wait_timeout = wait_timeout
        self._max_chunk = max_chunk
        self._matrix = np.empty((max_chunk, len(GAZE_CHANNELS)))
        self._observer = observer
        self._stop = threading.Event()
        self._thread = acquisition_thread(self._run, f"lsl-outlet-{name}", "reader")
        self.pushed = 0
        self.lost_total = 0
        self.error: BaseException | None = None

    def start(self) -> GazeOutlet:
        """Start the thread (returns self)."""
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Push what is left, stop the thread and close the outlet; re-raise a thread error."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"GazeOutlet {self.name!r}: thread did not stop within {timeout} s")
        self._outlet = None
        if self.error is not None:
            raise RuntimeError(f"GazeOutlet {self.name!r} failed: {self.error!r}") from self.error

    def have_consumers(self) -> bool:
        """True when at least one inlet is connected."""
        return self._outlet is not None and bool(self._outlet.have_consumers())

    def __enter__(self) -> GazeOutlet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            reader = self.reader
            while True:
                stopping = self._stop.is_set()
                if reader.wait(0.0 if stopping else self._wait_timeout):
                    self._push(reader.consume(self._max_chunk))
                elif stopping or reader.buffer.closed:
                    return
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def _push(self, chunk: Chunk) -> None:
        rows = chunk.samples
        if chunk.lost:
            self.lost_total += chunk.lost
        if self._observer is not None:
            self._observer(chunk)
        if len(rows) == 0:
            return
        m = gaze_rows_to_matrix(rows, self._matrix)
        self._outlet.push_chunk(m, rows["t"].tolist())
        self.pushed += len(rows)


class MarkerOutlet:
    """An LSL ``Markers`` stream (one string channel, irregular rate).

    Parameters
    ----------
    source_id : str
        Stable identifier of the stream.
    name : str
        Stream name.

    Examples
    --------
    >>> markers = MarkerOutlet("gazeread-demo-markers")  # doctest: +SKIP
    >>> markers.push('{"event": "image_onset", "trial": 3}', t=flip_time)  # doctest: +SKIP
    """

    def __init__(self, source_id: str, name: str = "gazeread-Markers") -> None:
        import pylsl

        if not source_id:
            raise ValueError(
                "source_id must be a non-empty, stable string (inlets reconnect by it)"
            )
        self.name = name
        self.source_id = source_id
        info = pylsl.StreamInfo(
            name, "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, source_id
        )
        info.desc().append_child_value("manufacturer", "gazeread")
        self._outlet: Any = pylsl.StreamOutlet(info)
        self._lock = threading.Lock()

    def push(self, text: str, t: float) -> None:
        """Send one marker stamped with session-clock time ``t`` (s, e.g. a flip time).

        Thread-safe. ``t`` must be a real session-clock time: an LSL timestamp of 0 would mean
        "now", so 0 and non-finite values are refused.
        """
        if not isinstance(text, str):
            raise TypeError(f"marker text must be str, got {type(text).__name__}")
        if not np.isfinite(t) or t <= 0:
            raise ValueError(f"marker time must be a positive session-clock time, got {t!r}")
        with self._lock:
            if self._outlet is None:
                raise RuntimeError(f"MarkerOutlet {self.name!r} is closed")
            self._outlet.push_sample([text], float(t))

    def have_consumers(self) -> bool:
        """True when at least one inlet is connected."""
        return self._outlet is not None and bool(self._outlet.have_consumers())

    def close(self) -> None:
        """Destroy the outlet (inlets see the stream go). Idempotent."""
        with self._lock:
            self._outlet = None

    def __enter__(self) -> MarkerOutlet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
