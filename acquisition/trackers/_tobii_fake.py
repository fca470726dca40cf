"""A stand-in for a Tobii ``EyeTracker`` (and its ``ScreenBasedCalibration``) for tests.

It has the real object's attributes and methods and calls the gaze callback from its own
thread (``fake-tobii-gaze``) at the device rate (1200 Hz by default) with dicts carrying
exactly the SDK's keys, timestamped on the real ``tobii_research.get_system_time_stamp()``
clock. It can simulate connection loss and restoration, a gaze output frequency change and a
stream buffer overflow, each with the SDK's notification dict. It needs the real
``tobii_research`` module (CPython 3.10) for its constants, errors and result classes, so a
test exercises the backend against the real SDK surface with no hardware attached.

>>> fake = FakeEyeTracker()                             # doctest: +SKIP
>>> tracker = make_fake_tracker(buffer, eyetracker=fake)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from acquisition.ring_buffer import RingBuffer
from acquisition.trackers.tobii import TobiiTracker

__all__ = ["FakeEyeTracker", "FakeScreenBasedCalibration", "expected_gaze", "make_fake_tracker"]

_CALLBACK_NS_CAPACITY = 1 << 20


def _tr() -> Any:
    import tobii_research

    return tobii_research


def expected_gaze(k: int, invalid_every: int = 97) -> dict[str, Any]:
    """Gaze content of sample ``k`` (timestamps excluded): deterministic, from ``k`` only.

    Every ``invalid_every``-th sample has an invalid left eye; every ``invalid_every + 4``-th an
    invalid right eye (NaN values with validity 0, as the SDK reports them).
    """
    ph = 2.0 * math.pi * k / 1200.0
    lx, ly = 0.5 + 0.3 * math.sin(ph * 0.5), 0.5 + 0.2 * math.cos(ph * 0.3)
    d: dict[str, Any] = {}
    for eye, dx, bad in (
        ("left", -0.004, k % invalid_every == invalid_every - 1),
        ("right", 0.004, k % (invalid_every + 4) == invalid_every + 3),
    ):
        sx = -32.0 if eye == "left" else 32.0
        if bad:
            nan = math.nan
            d[f"{eye}_gaze_point_on_display_area"] = (nan, nan)
            d[f"{eye}_gaze_point_in_user_coordinate_system"] = (nan, nan, nan)
            d[f"{eye}_gaze_point_validity"] = 0
            d[f"{eye}_pupil_diameter"] = nan
            d[f"{eye}_pupil_validity"] = 0
            d[f"{eye}_gaze_origin_in_user_coordinate_system"] = (nan, nan, nan)
            d[f"{eye}_gaze_origin_validity"] = 0
        else:
            x, y = lx + dx, ly
            d[f"{eye}_gaze_point_on_display_area"] = (x, y)
            d[f"{eye}_gaze_point_in_user_coordinate_system"] = (
                (x - 0.5) * 527.0,
                (0.5 - y) * 296.0 + 200.0,
                60.0,
            )
            d[f"{eye}_gaze_point_validity"] = 1
            d[f"{eye}_pupil_diameter"] = 3.0 + 0.5 * math.sin(ph * 0.1) + (0.05 if dx > 0 else 0.0)
            d[f"{eye}_pupil_validity"] = 1
            d[f"{eye}_gaze_origin_in_user_coordinate_system"] = (
                sx + 2.0 * math.sin(ph * 0.01),
                10.0,
                650.0 + 5.0 * math.cos(ph * 0.01),
            )
            d[f"{eye}_gaze_origin_validity"] = 1
    return d


class FakeEyeTracker:
    """A fake ``tobii_research.EyeTracker`` streaming synthetic gaze from a thread.

    Parameters
    ----------
    serial_number, model, address, firmware_version, device_name : str
        What the device reports.
    frequencies : sequence of float
        ``get_all_gaze_output_frequencies()``.
    frequency : float, optional
        Initial gaze output frequency (the largest by default).
    invalid_every : int
        Period of invalid-eye samples (see :func:`expected_gaze`).
    calibration_rate_hz : float, optional
        When set, entering calibration mode switches the output to this rate (with its
        notification), as some models do.
    """

    def __init__(
        self,
        *,
        serial_number: str = "TPSP1-FAKE0001",
        model: str = "Tobii Pro Spectrum",
        address: str = "tobii-prp://TPSP1-FAKE0001",
        firmware_version: str = "2.6.3-fake",
        device_name: str = "fake-spectrum",
        frequencies: tuple[float, ...] = (60.0, 120.0, 150.0, 300.0, 600.0, 1200.0),
        frequency: float | None = None,
        invalid_every: int = 97,
        calibration_rate_hz: float | None = None,
    ) -> None:
        tr = _tr()
        self._tr = tr
        self.address = address
        self.model = model
        self.serial_number = serial_number
        self.firmware_version = firmware_version
        self.runtime_version = "fake"
        self.device_name = device_name
        self.device_capabilities = (
            tr.CAPABILITY_HAS_GAZE_DATA,
            tr.CAPABILITY_CAN_DO_SCREEN_BASED_CALIBRATION,
        )
        self._freqs = tuple(float(f) for f in frequencies)
        self._freq = float(frequency) if frequency is not None else max(self._freqs)
        self.invalid_every = invalid_every
        self.calibration_rate_hz = calibration_rate_hz
        self._lock = threading.RLock()
        self._gaze_cbs: dict[Callable[[Any], None], bool] = {}
        self._note_cbs: dict[str, dict[Callable[[Any], None], bool]] = {}
        self._other_cbs: dict[str, dict[Callable[[Any], None], bool]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = True
        self._skip = 0
        #: Samples generated so far (delivered or lost); the index of the next one.
        self.next_index = 0
        #: Samples generated but not delivered (connection lost, simulated overflow).
        self.undelivered = 0
        #: Indices of those samples.
        self.undelivered_indices: list[int] = []
        self._callback_ns = np.zeros(_CALLBACK_NS_CAPACITY, dtype=np.int64)
        self._n_timed = 0
        self._seg = (0, 0, 0, 0.0)  # (k0, device_ts0, system_ts0, perf0) of the current rate
        self._device_origin_us = 1_000_000 - int(tr.get_system_time_stamp())
        #: Calibration data collected per point (shared with FakeScreenBasedCalibration).
        self.calibration_points: dict[tuple[float, float], int] = {}
        #: Failures still to return for collect_data at a point, e.g. {(0.5, 0.5): 2}.
        self.calibration_failures: dict[tuple[float, float], int] = {}
        self.in_calibration = False
        self.error: BaseException | None = None

    # ---------------------------------------------------------------- device API
    def get_all_gaze_output_frequencies(self) -> tuple[float, ...]:
        """Supported gaze output frequencies (Hz)."""
        self._check_connected()
        return self._freqs

    def get_gaze_output_frequency(self) -> float:
        """Current gaze output frequency (Hz)."""
        self._check_connected()
        return self._freq

    def set_gaze_output_frequency(self, gaze_output_frequency: float) -> None:
        """Change the rate (notifies subscribers as the device does)."""
        self._check_connected()
        f = float(gaze_output_frequency)
        if f not in self._freqs:
            raise self._tr.EyeTrackerInternalError(
                f"An invalid parameter has been sent to the API. {f}"
            )
        if f != self._freq:
            self.simulate_frequency_change(f)

    def subscribe_to(
        self, subscription_type: str, callback: Callable[[Any], None], as_dictionary: bool = False
    ) -> None:
        """Subscribe as the SDK does; gaze starts streaming with the first gaze subscriber."""
        tr = self._tr
        if not callable(callback):
            raise tr.EyeTrackerInternalError("An invalid parameter has been sent to the API.")
        with self._lock:
            if subscription_type == tr.EYETRACKER_GAZE_DATA:
                if callback in self._gaze_cbs:
                    raise tr.EyeTrackerInvalidOperationError("already subscribed")
                self._gaze_cbs[callback] = as_dictionary
                if self._thread is None:
                    self._start_stream()
            elif subscription_type.startswith("eyetracker_notification_"):
                subs = self._note_cbs.setdefault(subscription_type, {})
                if callback in subs:
                    raise tr.EyeTrackerInvalidOperationError("already subscribed")
                subs[callback] = as_dictionary
            else:
                self._other_cbs.setdefault(subscription_type, {})[callback] = as_dictionary

    def unsubscribe_from(
        self, subscription_type: str, callback: Callable[[Any], None] | None = None
    ) -> None:
        """Unsubscribe one callback (or all of a type); gaze stops with the last one."""
        tr = self._tr
        with self._lock:
            if subscription_type == tr.EYETRACKER_GAZE_DATA:
                if callback is None:
                    self._gaze_cbs.clear()
                else:
                    self._gaze_cbs.pop(callback, None)
                stop = not self._gaze_cbs
            else:
                table = (
                    self._note_cbs
                    if subscription_type.startswith("eyetracker_notification_")
                    else self._other_cbs
                )
                subs = table.get(subscription_type, {})
                if callback is None:
                    subs.clear()
                else:
                    subs.pop(callback, None)
                stop = False
        if stop:
            self._stop_stream()

    # ---------------------------------------------------------------- simulation
    def simulate_connection_lost(self) -> None:
        """Stop delivering gaze (samples keep being 'measured' and are lost) and notify."""
        with self._lock:
            self._connected = False
            self._notify(self._tr.EYETRACKER_NOTIFICATION_CONNECTION_LOST)

    def simulate_connection_restored(self) -> None:
        """Notify, then deliver gaze again."""
        with self._lock:
            self._notify(self._tr.EYETRACKER_NOTIFICATION_CONNECTION_RESTORED)
            self._connected = True

    def simulate_frequency_change(self, hz: float) -> None:
        """Switch the output rate now and send the frequency-changed notification."""
        with self._lock:  # the notification precedes the first sample at the new rate
            k = self.next_index
            dev, sys_ts = self._timestamps(k)
            self._seg = (k, dev, sys_ts, self._perf_of(k))
            self._freq = float(hz)
            self._notify(
                self._tr.EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED,
                gaze_output_frequency=float(hz),
            )

    def simulate_buffer_overflow(self, n_dropped: int = 5) -> None:
        """Drop the next ``n_dropped`` samples and send the stream-buffer-overflow notification."""
        with self._lock:
            self._skip += int(n_dropped)
            self._notify(
                self._tr.EYETRACKER_NOTIFICATION_STREAM_BUFFER_OVERFLOW,
                notification_source_stream="gaze data",
            )

    def wait_for_samples(self, n: int, timeout: float) -> bool:
        """Block until ``n`` samples were generated in total, or ``timeout`` s pass."""
        deadline = time.monotonic() + timeout
        while self.next_index < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    @property
    def streaming(self) -> bool:
        """True while the gaze thread runs."""
        return self._thread is not None

    def callback_ns(self) -> np.ndarray:
        """Time (ns) each gaze callback call took, as measured by the calling thread."""
        return self._callback_ns[: min(self._n_timed, _CALLBACK_NS_CAPACITY)].copy()

    # ---------------------------------------------------------------- internals
    def _check_connected(self) -> None:
        if not self._connected:
            raise self._tr.EyeTrackerConnectionFailedError("Connection to the eye tracker lost.")

    def _notify(self, ntype: str, **extra: Any) -> None:
        data = {
            "notification_type": ntype,
            "system_time_stamp": int(self._tr.get_system_time_stamp()),
            **extra,
        }
        with self._lock:  # under the lock: gaze and notifications never interleave
            for cb, _as_dict in list(self._note_cbs.get(ntype, {}).items()):
                cb(dict(data))

    def _timestamps(self, k: int) -> tuple[int, int]:
        k0, dev0, sys0, _ = self._seg
        step = round((k - k0) * 1e6 / self._freq)
        return dev0 + step, sys0 + step

    def _perf_of(self, k: int) -> float:
        k0, _, _, perf0 = self._seg
        return perf0 + (k - k0) / self._freq

    def _start_stream(self) -> None:
        self._stop.clear()
        sys0 = int(self._tr.get_system_time_stamp())
        # The device clock runs beside the host clock from its own origin (monotonic across
        # restarts of the stream, as a real device's is).
        self._seg = (self.next_index, sys0 + self._device_origin_us, sys0, time.perf_counter())
        self._thread = threading.Thread(target=self._run, name="fake-tobii-gaze", daemon=True)
        self._thread.start()

    def _stop_stream(self) -> None:
        th = self._thread
        self._stop.set()
        if th is not None and th is not threading.current_thread():
            th.join(timeout=5.0)
        self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.perf_counter()
                while True:
                    with self._lock:  # one sample delivered at a time, as the SDK does
                        if not self._step(now):
                            break

                time.sleep(0.0005)
        except BaseException as exc:  # surface it to the test instead of dying silently
            self.error = exc
            raise

    def _step(self, now: float) -> bool:
        """Generate (and deliver, unless dropped) the next sample if it is due by ``now``."""
        k = self.next_index
        if self._perf_of(k) > now:
            return False
        dev, sys_ts = self._timestamps(k)
        self.next_index = k + 1
        if not self._connected or self._skip > 0:
            self._skip = max(0, self._skip - 1)
            self.undelivered += 1
            self.undelivered_indices.append(k)
            return True
        d = expected_gaze(k, self.invalid_every)
        d["device_time_stamp"] = dev
        d["system_time_stamp"] = sys_ts
        for cb, as_dict in list(self._gaze_cbs.items()):
            arg = dict(d) if as_dict else self._tr.GazeData(dict(d))
            t0 = time.perf_counter_ns()
            cb(arg)
            dt = time.perf_counter_ns() - t0
            i = self._n_timed
            if i < _CALLBACK_NS_CAPACITY:
                self._callback_ns[i] = dt
            self._n_timed = i + 1
        return True


class FakeScreenBasedCalibration:
    """A fake ``tobii_research.ScreenBasedCalibration`` bound to a :class:`FakeEyeTracker`.

    ``collect_data`` fails while ``eyetracker.calibration_failures[(x, y)]`` is positive;
    ``compute_and_apply`` fails with fewer than 2 points and otherwise returns a real
    ``tobii_research.CalibrationResult`` with 8 samples per point (one invalid per point).
    Every call raises ``EyeTrackerConnectionFailedError`` while the connection is lost.
    """

    samples_per_point = 8

    def __init__(self, eyetracker: FakeEyeTracker) -> None:
        self._et = eyetracker
        self._tr = eyetracker._tr

    def enter_calibration_mode(self) -> None:
        """Enter calibration mode (optionally switching the rate, as some models do)."""
        et = self._et
        et._check_connected()
        if et.in_calibration:
            raise self._tr.EyeTrackerInvalidOperationError("calibration already started")
        et.in_calibration = True
        if et.calibration_rate_hz is not None and et.calibration_rate_hz != et._freq:
            et.simulate_frequency_change(et.calibration_rate_hz)

    def leave_calibration_mode(self) -> None:
        """Leave calibration mode."""
        et = self._et
        et._check_connected()
        if not et.in_calibration:
            raise self._tr.EyeTrackerInvalidOperationError("calibration not started")
        et.in_calibration = False

    def collect_data(self, x: float, y: float) -> str:
        """Collect data at (x, y): a CALIBRATION_STATUS_* string."""
        et = self._et
        x, y = float(x), float(y)
        self._check_mode()
        left = et.calibration_failures.get((x, y), 0)
        if left > 0:
            et.calibration_failures[(x, y)] = left - 1
            return str(self._tr.CALIBRATION_STATUS_FAILURE)
        et.calibration_points[(x, y)] = et.calibration_points.get((x, y), 0) + 1
        return str(self._tr.CALIBRATION_STATUS_SUCCESS)

    def discard_data(self, x: float, y: float) -> None:
        """Forget the data collected at (x, y)."""
        self._check_mode()
        self._et.calibration_points.pop((float(x), float(y)), None)

    def compute_and_apply(self) -> Any:
        """A real ``CalibrationResult`` built from the collected points."""
        tr = self._tr
        self._check_mode()
        pts = self._et.calibration_points
        if len(pts) < 2:
            return tr.CalibrationResult(tr.CALIBRATION_STATUS_FAILURE, ())
        points = []
        for (x, y), _n in pts.items():
            samples = []
            for i in range(self.samples_per_point):
                ok = i != self.samples_per_point - 1
                dx = 0.002 * math.sin(i)
                left = tr.CalibrationEyeData((x + dx, y - 0.001), 1 if ok else -1)
                right = tr.CalibrationEyeData((x - dx, y + 0.001), 1 if ok else 0)
                samples.append(tr.CalibrationSample(left, right))
            points.append(tr.CalibrationPoint((x, y), tuple(samples)))
        return tr.CalibrationResult(tr.CALIBRATION_STATUS_SUCCESS, tuple(points))

    def _check_mode(self) -> None:
        self._et._check_connected()
        if not self._et.in_calibration:
            raise self._tr.EyeTrackerInvalidOperationError("calibration not started")


def make_fake_tracker(
    buffer: RingBuffer, *, eyetracker: FakeEyeTracker | None = None, **options: Any
) -> TobiiTracker:
    """A :class:`TobiiTracker` wired to a fake device and fake calibration."""
    et = eyetracker if eyetracker is not None else FakeEyeTracker()
    return TobiiTracker(
        buffer, eyetracker=et, calibration_factory=FakeScreenBasedCalibration, **options
    )
