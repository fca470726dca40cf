"""Tobii Pro eye trackers through the Tobii Pro SDK (``tobii_research``, CPython 3.10 only).

How samples flow
----------------
The SDK calls our gaze callback from its own thread once per sample, with a fresh ``dict``
(``as_dictionary=True``: the SDK builds a new dict for every call and never touches it again).
The callback does one thing: it stores that reference in a preallocated ring of slots and
bumps a counter (about 0.12 us warm; see ``docs/tobii.md`` for the measurements). A named
converter thread (``tobii-gaze-convert``) wakes every ``batch_interval_s`` (2 ms by default),
takes every staged dict, converts the batch to :data:`~acquisition.samples.SAMPLE_DTYPE` rows
(validity -> NaN, timestamps -> session clock) and pushes them through :meth:`Tracker._emit`
(gap detection, software correction, ring buffer). Converting in the callback instead costs
about 15x more per sample (1.6-3 us) on the SDK's delivery thread, the thread whose stalls make
the SDK overflow its stream buffer and drop samples.

Clocks
------
Each sample carries the SDK's ``system_time_stamp`` (microseconds on the host clock that
``tobii_research.get_system_time_stamp()`` reads). Session time is
``system_time_stamp * 1e-6 + offset`` where ``offset`` comes from paired reads of
``get_system_time_stamp()`` and the session clock (:func:`acquisition.clock.measure_offset`),
measured at start, every ``offset_interval_s`` and after a reconnection; each measurement is
stored with :meth:`Tracker.record_offset` under the source ``"tobii_system_time_stamp"``.

The SDK is imported only when a tracker is built, so importing this module never fails.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from acquisition.affinity import acquisition_thread
from acquisition.clock import ClockOffset, measure_offset, session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers._tobii_sdk import (
    describe_eyetracker,
    find_all,
    load_sdk,
    sdk_unavailable_reason,
)
from acquisition.trackers._tobii_stage import GAZE_KEYS, GazeStage, gaze_dicts_to_samples
from acquisition.trackers.base import Availability, Tracker, TrackerError

__all__ = [
    "GAZE_KEYS",
    "OFFSET_SOURCE",
    "TobiiTracker",
    "describe_eyetracker",
    "gaze_dicts_to_samples",
    "sdk_unavailable_reason",
]

#: ``source`` of the clock offsets this backend records.
OFFSET_SOURCE = "tobii_system_time_stamp"

#: The SDK notifications subscribed to (see :meth:`TobiiTracker._on_notification`).
_NOTIFICATIONS: tuple[str, ...] = (
    "EYETRACKER_NOTIFICATION_CONNECTION_LOST",
    "EYETRACKER_NOTIFICATION_CONNECTION_RESTORED",
    "EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED",
    "EYETRACKER_NOTIFICATION_STREAM_BUFFER_OVERFLOW",
    "EYETRACKER_NOTIFICATION_CALIBRATION_CHANGED",
    "EYETRACKER_NOTIFICATION_DEVICE_FAULTS",
)


class TobiiTracker(Tracker):
    """A Tobii Pro screen-based eye tracker at its native rate.

    Parameters
    ----------
    buffer : RingBuffer
        Where samples go.
    serial : str, optional
        Serial number to look for (``gazeread trackers`` lists them).
    address : str, optional
        Address (URI) to connect to directly, e.g. ``tet-tcp://169.254.7.39``.
    model : str, optional
        Model name to look for (case-insensitive substring, e.g. ``"spectrum"``).
    name : str, optional
        Device name to look for (exactly as set in Tobii Pro Eye Tracker Manager and listed by
        ``gazeread trackers``).
    rate_hz : float, optional
        Gaze output frequency; the device's maximum by default.
    eyetracker : object, optional
        An already built ``tobii_research.EyeTracker`` (or a stand-in with the same
        attributes, such as :class:`acquisition.trackers._tobii_fake.FakeEyeTracker`).
    calibration_factory : callable, optional
        Builds the ``ScreenBasedCalibration`` for the native calibration (``calibration.native``)
        (``tobii_research.ScreenBasedCalibration`` by default).
    clock : callable
        The session clock.
    find_timeout_s : float
        Longest wait for ``find_all_eyetrackers()``.
    batch_interval_s : float
        How often the converter thread moves staged samples into the buffer (latency bound).
    offset_interval_s : float
        How often the clock offset is measured again while running.
    stage_capacity : int
        Slots of the callback's staging ring (power of two; 2**15 holds 27 s at 1200 Hz).
    """

    name: ClassVar[str] = "tobii"
    #: ``gazeread trackers`` marks the backend unusable when discover() finds nothing.
    needs_device: ClassVar[bool] = True

    def __init__(
        self,
        buffer: RingBuffer,
        *,
        serial: str | None = None,
        address: str | None = None,
        model: str | None = None,
        name: str | None = None,
        rate_hz: float | None = None,
        eyetracker: Any = None,
        calibration_factory: Callable[[Any], Any] | None = None,
        clock: Callable[[], float] = session_clock,
        find_timeout_s: float = 10.0,
        batch_interval_s: float = 0.002,
        offset_interval_s: float = 10.0,
        stage_capacity: int = 1 << 15,
    ) -> None:
        super().__init__(buffer, clock=clock)
        if not batch_interval_s > 0:
            raise ValueError(f"batch_interval_s must be > 0, got {batch_interval_s!r}")
        if not offset_interval_s > 0:
            raise ValueError(f"offset_interval_s must be > 0, got {offset_interval_s!r}")
        self._tr = load_sdk()
        self._batch_interval_s = float(batch_interval_s)
        self._offset_interval_s = float(offset_interval_s)
        self._calibration_factory = calibration_factory
        self.eyetracker = (
            eyetracker
            if eyetracker is not None
            else self._find(
                serial=serial, address=address, model=model, name=name, timeout=find_timeout_s
            )
        )
        et = self.eyetracker
        if serial is not None and str(et.serial_number) != str(serial):
            raise TrackerError(
                f"tobii: the given eye tracker has serial {et.serial_number!r}, not {serial!r}"
            )
        if name is not None and str(et.device_name) != str(name):
            raise TrackerError(
                f"tobii: the given eye tracker is named {et.device_name!r}, not {name!r}"
            )
        self._stage = GazeStage(stage_capacity)
        self._on_gaze = self._stage.make_callback()
        self._read = 0
        self._offset: ClockOffset | None = None
        self._last_offset_at = -math.inf
        self._calibrating = False
        #: (stage index, Hz) of rate changes notified but not yet reached by the converter.
        self._rate_changes: list[tuple[int, float]] = []
        #: Running stage index of the first sample staged after a connection loss.
        self._first_after_loss: int | None = None
        self._recheck = threading.Event()
        self._stop_flag = False
        self._thread: threading.Thread | None = None
        self._subscribed: list[str] = []
        #: The last exception raised in the converter thread (also posted as an ``error`` event).
        self.error: BaseException | None = None
        rates = self.supported_rates()
        self.requested_rate_hz = float(rate_hz) if rate_hz is not None else max(rates)
        self.info.model = str(et.model)
        self.info.serial = str(et.serial_number)
        self.info.firmware = str(et.firmware_version)
        self.info.address = str(et.address)
        self.info.sdk_version = str(getattr(self._tr, "__version__", ""))
        self.info.extra.update(
            device_name=str(et.device_name),
            runtime_version=str(getattr(et, "runtime_version", "")),
            supported_rates_hz=rates,
        )
        self.info.rate_hz = float(self._call(et.get_gaze_output_frequency, "read the rate"))
        self.set_rate(self.requested_rate_hz)

    # ------------------------------------------------------------------ discovery
    @classmethod
    def is_available(cls) -> Availability:
        """True when ``tobii_research`` imports; otherwise exactly why it cannot."""
        reason = sdk_unavailable_reason()
        if reason is not None:
            return Availability(False, reason)
        import tobii_research

        version = getattr(tobii_research, "__version__", "?")
        return Availability(
            True, f"tobii_research {version} installed; eye trackers found are listed below"
        )

    @classmethod
    def discover(cls, timeout: float = 5.0) -> list[str]:
        """Describe every Tobii eye tracker found on this computer and its network."""
        return [describe_eyetracker(et) for et in find_all(load_sdk(), timeout)]

    def _find(
        self,
        *,
        serial: str | None,
        address: str | None,
        model: str | None,
        timeout: float,
        name: str | None = None,
    ) -> Any:
        tr = self._tr
        if address is not None:
            try:
                return tr.EyeTracker(address)
            except Exception as exc:
                raise TrackerError(
                    f"tobii: cannot connect to the eye tracker at address {address!r}: {exc}; "
                    "check the cable/network and the address shown by 'gazeread trackers'"
                ) from exc
        found = list(find_all(tr, timeout))
        listing = "; ".join(describe_eyetracker(e) for e in found) or "none found"
        criteria = (("serial", serial), ("model", model), ("name", name))
        wanted = ", ".join(f"{k} {v!r}" for k, v in criteria if v is not None)
        if not found:
            raise TrackerError(
                "tobii: no Tobii eye tracker found (is it connected, powered and visible in "
                "Tobii Pro Eye Tracker Manager?)" + (f"; looked for {wanted}" if wanted else "")
            )
        matches = found
        if serial is not None:
            matches = [e for e in matches if str(e.serial_number) == str(serial)]
        if model is not None:
            matches = [e for e in matches if model.lower() in str(e.model).lower()]
        if name is not None:
            matches = [e for e in matches if str(e.device_name) == str(name)]
        if not matches:
            raise TrackerError(f"tobii: no eye tracker with {wanted}; trackers found: {listing}")
        if len(matches) > 1:
            raise TrackerError(
                f"tobii: {len(matches)} eye trackers match; choose one with "
                "--tracker-option serial=SERIAL (or name=, address=): " + listing
            )
        return matches[0]

    # ------------------------------------------------------------------ rates
    def supported_rates(self) -> list[float]:
        """Gaze output frequencies (Hz) the device offers, ascending."""
        rates = self._call(self.eyetracker.get_all_gaze_output_frequencies, "list the rates")
        return sorted(float(r) for r in rates)

    def _set_rate(self, rate_hz: float) -> None:
        et = self.eyetracker
        if abs(float(self._call(et.get_gaze_output_frequency, "read the rate")) - rate_hz) > 1e-6:
            self._call(lambda: et.set_gaze_output_frequency(float(rate_hz)), "set the rate")
        now = float(self._call(et.get_gaze_output_frequency, "read the rate"))
        if abs(now - rate_hz) > 1e-6:
            raise TrackerError(
                f"tobii: asked {self.info.model} {self.info.serial} for {rate_hz:g} Hz "
                f"but it reports {now:g} Hz"
            )
        self.requested_rate_hz = float(rate_hz)

    def read_rate(self) -> float:
        """Ask the device for its current gaze output frequency (Hz) and remember it."""
        self.info.rate_hz = float(
            self._call(self.eyetracker.get_gaze_output_frequency, "read the rate")
        )
        return self.info.rate_hz

    def _call(self, fn: Callable[[], Any], what: str) -> Any:
        try:
            return fn()
        except TrackerError:
            raise
        except Exception as exc:
            raise TrackerError(
                f"tobii: could not {what} on {self.eyetracker.model} "
                f"{self.eyetracker.serial_number}: {type(exc).__name__}: {exc}"
            ) from exc

    # ------------------------------------------------------------------ clocks
    def measure_clock_offset(self) -> ClockOffset:
        """Measure and record ``session clock - system_time_stamp`` by paired reads."""
        get = self._tr.get_system_time_stamp
        off = measure_offset(lambda: get() * 1e-6, self.clock)
        self._offset = off
        self._last_offset_at = time.monotonic()
        self.record_offset(OFFSET_SOURCE, off)
        return off

    @property
    def clock_offset(self) -> ClockOffset | None:
        """The offset in force (None before :meth:`start`)."""
        return self._offset

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        tr = self._tr
        et = self.eyetracker
        # made (not started) first: a bad GAZEREAD_ACQUISITION_CPU fails before any subscription
        thread = acquisition_thread(self._convert_loop, "tobii-gaze-convert", "producer")
        self.measure_clock_offset()
        self._read = self._stage.count[0]
        self._last_device_ts = None
        self._rate_changes.clear()
        self._first_after_loss = None
        self._stop_flag = False
        self.error = None
        try:
            for const in _NOTIFICATIONS:
                sub = getattr(tr, const, None)
                if sub is not None:
                    et.subscribe_to(sub, self._on_notification, as_dictionary=True)
                    self._subscribed.append(sub)
            et.subscribe_to(tr.EYETRACKER_STREAM_ERRORS, self._on_stream_error, as_dictionary=True)
            self._subscribed.append(tr.EYETRACKER_STREAM_ERRORS)
            et.subscribe_to(tr.EYETRACKER_GAZE_DATA, self._on_gaze, as_dictionary=True)
            self._subscribed.append(tr.EYETRACKER_GAZE_DATA)
        except Exception as exc:
            self._unsubscribe_all()
            raise TrackerError(
                f"tobii: could not subscribe to {describe_eyetracker(et)}: {exc}"
            ) from exc
        self._thread = thread
        thread.start()

    def _stop(self) -> None:
        self._unsubscribe_all()
        self._stop_flag = True
        th = self._thread
        if th is not None:
            th.join(timeout=5.0)
            if th.is_alive():
                self.post_event("error", "tobii converter thread did not stop within 5 s")
        self._thread = None

    def _unsubscribe_all(self) -> None:
        et = self.eyetracker
        callbacks = {
            self._tr.EYETRACKER_GAZE_DATA: self._on_gaze,
            self._tr.EYETRACKER_STREAM_ERRORS: self._on_stream_error,
        }
        while self._subscribed:
            sub = self._subscribed.pop()
            try:
                et.unsubscribe_from(sub, callbacks.get(sub, self._on_notification))
            except Exception as exc:  # device gone: nothing more will arrive anyway
                self.post_event("error", f"tobii: unsubscribe from {sub} failed: {exc}")

    # ------------------------------------------------------------------ converter thread
    def _convert_loop(self) -> None:
        # A plain sleep costs less per wake-up than Event.wait (no lock allocation); stop()
        # waits at most one interval for the last pass.
        interval = self._batch_interval_s
        while not self._stop_flag:
            time.sleep(interval)
            self._convert_once()
        self._convert_once()  # the samples staged before the unsubscribe

    def _convert_once(self) -> None:
        # Each step fails on its own: an unreachable clock or rate read never stops the samples.
        try:
            if self._recheck.is_set():
                self._recheck.clear()
                self._after_reconnect()
            elif time.monotonic() - self._last_offset_at >= self._offset_interval_s:
                self._last_offset_at = time.monotonic()  # retried next interval, not next pass
                self.measure_clock_offset()
        except Exception as exc:
            self._report(exc, "clock/rate check")
        try:
            self.drain_stage()
        except Exception as exc:
            self._report(exc, "conversion")

    def _report(self, exc: BaseException, step: str, **data: Any) -> None:
        """Keep acquiring; surface the exception to the recorder (event) and the caller."""
        self.error = exc
        self.post_event(
            "error",
            f"tobii converter ({step}): {type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
            **data,
        )

    def drain_stage(self) -> int:
        """Convert every staged gaze dict and push it; returns the number of samples pushed.

        Called by the converter thread; exposed for benchmarks and tests.
        """
        items, self._read, lost = self._stage.take(self._read)
        if lost:
            self.post_event(
                "buffer_overflow",
                f"tobii: gazeread's staging ring overflowed; {lost} sample(s) lost "
                "(the converter thread was starved for longer than the ring holds)",
                count=lost,
                source="gazeread_stage",
            )
        if not items:
            return 0
        first = self._read - len(items)  # running stage index of items[0]
        converted = self._convert(items, first)
        if converted is None:
            return 0
        rows, index = converted

        def position(stage_index: int) -> int:
            """Row of the first kept sample staged at or after ``stage_index``."""
            if index is None:
                return min(max(0, stage_index - first), len(rows))
            return int(np.searchsorted(index, stage_index, side="left"))

        mark = self._first_after_loss
        if mark is not None and mark < self._read:
            # The first sample staged after the loss notification is the first one after the
            # reconnection (a lost connection delivers nothing in between).
            j = position(mark)
            if j < len(rows):  # else it was malformed: flag the next good one
                self._first_after_loss = None
                rows["flags"][j] |= np.uint32(SampleFlag.AFTER_RECONNECT)
        self._emit_across_rate_changes(rows, position, malformed=index is not None)
        return len(rows)

    def _convert(
        self, items: list[dict[str, Any]], first: int
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Rows for the staged dicts, and the stage index of each row when some were malformed.

        Malformed SDK data keeps the good samples and counts the rest (an error event); None
        when none was good.
        """
        flags = int(SampleFlag.DURING_CALIBRATION if self._calibrating else 0)
        offset = self._offset_s()
        try:
            return gaze_dicts_to_samples(items, offset, flags), None
        except Exception as exc:
            good, kept = [], []
            for k, d in enumerate(items):
                try:
                    good.append(gaze_dicts_to_samples([d], offset, flags))
                except Exception:
                    continue
                kept.append(first + k)
            self._report(exc, "conversion", count=len(items) - len(good))
            if not good:
                return None
            return np.concatenate(good), np.asarray(kept, dtype=np.int64)

    def _emit_across_rate_changes(
        self, rows: np.ndarray, position: Callable[[int], int], *, malformed: bool
    ) -> None:
        """Emit ``rows``; a rate change applies from the first sample staged after its notice.

        The rows before it go at the old rate, so gap detection never misreads the new spacing.
        The boundary sample's spacing lies between the two periods: it is checked against the
        longer one.
        """
        n = len(rows)
        done = 0  # rows emitted so far
        while self._rate_changes and self._rate_changes[0][0] < self._read:
            j = position(self._rate_changes[0][0])
            if j >= n and malformed:  # the boundary sample was malformed: the next
                break  # good one (in a later batch) is the boundary
            j = max(j, done)  # two changes before one sample: the next row is the boundary
            new_hz = self._rate_changes.pop(0)[1]
            if j > done:
                self._emit(rows[done:j])
            self.info.rate_hz = min(self.info.rate_hz, new_hz)
            self._emit(rows[j : j + 1])
            self.info.rate_hz = new_hz
            done = j + 1
        self._emit(rows[done:])

    def _offset_s(self) -> float:
        off = self._offset
        return off.offset_s if off is not None else self.measure_clock_offset().offset_s

    def _after_reconnect(self) -> None:
        self.measure_clock_offset()
        before = self.info.rate_hz
        now = self.read_rate()
        if abs(now - before) > 1e-6:
            self.post_event(
                "rate_changed",
                f"tobii: after reconnecting the tracker runs at {now:g} Hz (was {before:g} Hz)",
                old_hz=before,
                new_hz=now,
                requested_hz=self.requested_rate_hz,
            )

    # ------------------------------------------------------------------ notifications
    def _on_notification(self, data: Mapping[str, Any]) -> None:
        """Turn an SDK notification into a TrackerEvent (runs on the SDK thread: no SDK calls)."""
        tr = self._tr
        ntype = data.get("notification_type", "")
        sts = data.get("system_time_stamp")
        fields: dict[str, Any] = {"notification_type": ntype}
        if sts is not None:
            fields["system_time_stamp"] = int(sts)
            if self._offset is not None:
                fields["t_device"] = sts * 1e-6 + self._offset.offset_s
        who = f"{self.info.model} {self.info.serial}"
        if ntype == tr.EYETRACKER_NOTIFICATION_CONNECTION_LOST:
            self._first_after_loss = self._stage.count[0]
            self.post_event("connection_lost", f"tobii: connection to {who} lost", **fields)
        elif ntype == tr.EYETRACKER_NOTIFICATION_CONNECTION_RESTORED:
            self._recheck.set()
            self.post_event("connection_restored", f"tobii: connection to {who} restored", **fields)
        elif ntype == tr.EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED:
            old = self._rate_changes[-1][1] if self._rate_changes else self.info.rate_hz
            new = float(data.get("gaze_output_frequency", math.nan))
            if math.isfinite(new) and new > 0:
                self._rate_changes.append((self._stage.count[0], new))
            self.post_event(
                "rate_changed",
                f"tobii: {who} now outputs {new:g} Hz (was {old:g} Hz, requested "
                f"{self.requested_rate_hz:g} Hz)",
                old_hz=old,
                new_hz=new,
                requested_hz=self.requested_rate_hz,
                during_calibration=self._calibrating,
                **fields,
            )
        elif ntype == tr.EYETRACKER_NOTIFICATION_STREAM_BUFFER_OVERFLOW:
            src = data.get("notification_source_stream", "")
            self.post_event(
                "buffer_overflow",
                f"tobii: the SDK's {src or 'stream'} buffer overflowed on {who}; samples were "
                "dropped before reaching gazeread (is the computer overloaded?)",
                source=str(src),
                **fields,
            )
        elif ntype == tr.EYETRACKER_NOTIFICATION_CALIBRATION_CHANGED:
            self.post_event("calibration_changed", f"tobii: calibration of {who} changed", **fields)
        elif ntype == getattr(tr, "EYETRACKER_NOTIFICATION_DEVICE_FAULTS", None):
            self.post_event(
                "error", f"tobii: device faults on {who}: {data.get('faults', '')}", **fields
            )
        else:
            self.post_event("error", f"tobii: notification {ntype!r} from {who}", **fields)

    def _on_stream_error(self, data: Mapping[str, Any]) -> None:
        self.post_event(
            "error",
            f"tobii stream error ({data.get('source', '?')}): {data.get('error', '?')} "
            f"{data.get('message', '')}".strip(),
            system_time_stamp=data.get("system_time_stamp"),
        )

    # ------------------------------------------------------------------ calibration
    def set_calibrating(self, on: bool) -> None:
        """Flag the samples taken while the device is in calibration mode."""
        self._calibrating = bool(on)

    def make_screen_based_calibration(self) -> Any:
        """A ``ScreenBasedCalibration`` bound to this device."""
        factory = self._calibration_factory or self._tr.ScreenBasedCalibration
        return factory(self.eyetracker)
