"""The ``lsl`` backend: any LSL gaze stream as a tracker.

The stream is resolved by name / type (default ``Gaze``) / source_id with a finite timeout.
Its channels are mapped to :data:`~acquisition.samples.SAMPLE_DTYPE` fields from the XDF gaze
meta-data in the stream's ``desc/channels/channel`` entries (``label``, ``eye`` left/right/both,
``type`` ScreenX/ScreenY/Diameter/PositionX../Validity/Confidence, ``unit`` normalized or
pixels/mm), or from an explicit ``mapping``. Remote timestamps are mapped to the session clock
with ``time_correction()``; every measurement is stored through :meth:`Tracker.record_offset`.

A named inlet thread drains the inlet with the lowest-latency call pylsl offers (a blocking pull
of the first sample, GIL released inside liblsl, then a non-blocking drain of the rest). When the
outlet goes away the thread posts ``stream_lost``; when it comes back (liblsl's own recovery for
streams with a source_id, else by resolving again) it posts ``stream_restored``, flags the first
sample ``AFTER_RECONNECT`` and the base class records the gap as ``samples_dropped``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from acquisition.clock import ClockOffset, session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag, empty_samples
from acquisition.trackers.base import Availability, Tracker, TrackerError
from acquisition.trackers.lsl_channels import (
    MAPPING_KEYS,
    ChannelMapping,
    map_channels,
    read_channel_metadata,
)
from acquisition.trackers.lsl_layouts import (
    GazeLayout,
    StreamView,
    identify_layout,
    parse_mapping,
    unknown_layout_message,
)

#: A gaze stream when no type is asked for: ``Gaze`` (the XDF convention) or ``Eyetracker``
#: (older builds of App-TobiiPro).
GAZE_TYPES = ("Gaze", "Eyetracker")

__all__ = ["MAPPING_KEYS", "ChannelMapping", "LslTracker", "map_channels", "read_channel_metadata"]


def _quote(prop: str, value: str) -> str:
    if "'" in value:
        raise TrackerError(
            f"lsl: {prop} {value!r} contains a single quote, which LSL queries cannot match"
        )
    return f"{prop}='{value}'"


def stream_view(info: Any, channels: list[dict[str, str]] | None = None) -> StreamView:
    """What the layout table looks at in a full ``pylsl.StreamInfo`` (with its description)."""
    desc: dict[str, str] = {}
    node = info.desc().first_child()
    while not node.empty():
        name = node.name()
        if name == "acquisition":
            sub = node.first_child()
            while not sub.empty():
                desc[f"acquisition/{sub.name()}"] = sub.child_value().strip()
                sub = sub.next_sibling()
        elif name != "channels":
            desc[name] = node.child_value().strip()
        node = node.next_sibling()
    chans = channels if channels is not None else read_channel_metadata(info)
    return StreamView(info.name(), info.type(), tuple(chans), desc)


def _describe(info: Any) -> str:
    return (
        f"{info.name()!r} (type {info.type()}, {info.channel_count()} ch @ "
        f"{info.nominal_srate():g} Hz, source_id {info.source_id()!r}, host {info.hostname()})"
    )


def _time_correction(inlet: Any, timeout: float) -> tuple[float, float]:
    """Return ``(offset_s, uncertainty_s)`` of an inlet's clock.

    Uses liblsl's ``lsl_time_correction_ex`` (pylsl itself only returns the offset); where the
    library lacks it, the uncertainty is NaN.
    """
    import ctypes

    from pylsl.util import handle_error

    try:
        from pylsl.lib import lib

        proto = ctypes.CFUNCTYPE(
            ctypes.c_double, ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_double), ctypes.c_double, ctypes.POINTER(ctypes.c_int),
        )  # fmt: skip
        func = proto(("lsl_time_correction_ex", lib))
    except (ImportError, AttributeError, TypeError):
        return float(inlet.time_correction(timeout=timeout)), float("nan")
    remote, unc, err = ctypes.c_double(), ctypes.c_double(), ctypes.c_int()
    tc = func(inlet.obj, ctypes.byref(remote), ctypes.byref(unc), float(timeout), ctypes.byref(err))
    handle_error(err)
    return float(tc), float(unc.value)


def _np_dtype(channel_format: int) -> type:
    dtypes = {1: np.float32, 2: np.float64, 4: np.int32, 5: np.int16, 6: np.int8, 7: np.int64}
    if channel_format not in dtypes:
        raise TrackerError(
            f"lsl: channel format {channel_format} is not numeric; gaze needs numbers"
        )
    return dtypes[channel_format]


class LslTracker(Tracker):
    """Gaze from an LSL stream.

    Parameters
    ----------
    buffer : RingBuffer
        Where samples go.
    name, type, source_id : str, optional
        Properties the stream must have (``type`` None: ``Gaze`` or ``Eyetracker``).
    resolve_timeout : float
        Seconds to wait for the stream (finite).
    mapping, units, y_origin : optional
        See :func:`map_channels`; ``mapping`` may also be text ``"left_x:GazeX,left_y:GazeY"``
        (``--tracker-option mapping=...``). Without a mapping the stream's layout is looked up
        in :data:`~acquisition.trackers.lsl_layouts.LAYOUTS` (App-TobiiPro, App-EyeLink, the
        Pupil Labs relays, gazeread's own, the XDF gaze meta-data).
    screen : object with ``width_px``/``height_px``, optional
        Screen geometry (e.g. :class:`acquisition.geometry.ScreenGeometry`) for pixel streams.
    screen_size_px : (int, int), optional
        The same as ``screen``, as a tuple.
    recover : bool
        Let liblsl reconnect silently to a restarted outlet with the same source_id; otherwise
        (and for streams without source_id) the thread resolves the stream again.
    stall_timeout_s : float, optional
        No data for this long posts ``stream_lost`` (default max(0.5 s, 20 periods)).
    offset_interval_s : float
        How often ``time_correction()`` is re-measured (its offsets are stored when they
        change by more than 50 us or every 30 s).
    clock : callable
        Session clock (LSL ``local_clock``; inlets must share it).
    """

    name: ClassVar[str] = "lsl"

    def __init__(
        self,
        buffer: RingBuffer,
        *,
        name: str | None = None,
        type: str | None = None,
        source_id: str | None = None,
        resolve_timeout: float = 5.0,
        mapping: Mapping[str, str | int] | None = None,
        units: str | None = None,
        y_origin: str = "top",
        screen: Any = None,
        screen_size_px: tuple[int, int] | None = None,
        recover: bool = True,
        stall_timeout_s: float | None = None,
        offset_interval_s: float = 5.0,
        max_chunk: int = 1024,
        clock: Callable[[], float] = session_clock,
    ) -> None:
        super().__init__(buffer, clock=clock)
        avail = self.is_available()
        if not avail.ok:
            raise TrackerError(f"lsl: {avail.reason}")
        if not (0 < resolve_timeout < math.inf):
            raise TrackerError(
                f"lsl: resolve_timeout must be a finite number > 0 s, got {resolve_timeout!r}"
            )
        conds = [
            _quote(p, v) for p, v in (("name", name), ("type", type), ("source_id", source_id)) if v
        ]
        if type is None and not (name or source_id):
            conds.append("(" + " or ".join(_quote("type", t) for t in GAZE_TYPES) + ")")
        self._predicate = " and ".join(conds)
        if isinstance(mapping, str):
            try:
                mapping = parse_mapping(mapping)
            except ValueError as exc:
                raise TrackerError(f"lsl: --tracker-option mapping: {exc}") from None
        self._resolve_timeout = float(resolve_timeout)
        if screen is not None and screen_size_px is None:
            screen_size_px = (int(screen.width_px), int(screen.height_px))
        # the resolved info opens inlets; the full one (with desc) describes the stream
        self._resolved = self._resolve(self._predicate, self._resolve_timeout)
        self._stream_info = self._full_info(self._resolved)
        si = self._stream_info
        self._channels = read_channel_metadata(si)
        self.layout: GazeLayout | None = None
        if mapping is None:
            view = stream_view(si, self._channels)
            self.layout = identify_layout(view)
            if self.layout is None:
                raise TrackerError(unknown_layout_message(_describe(si), view))
            if not self.layout.screen_based:
                raise TrackerError(f"lsl: stream {_describe(si)}: {self.layout.advice}")
            if self.layout.mapping is not None:
                mapping = dict(self.layout.mapping)
                units = units or self.layout.units
        self._missing = np.array(self.layout.missing if self.layout else (), dtype=np.float64)
        self.mapping = map_channels(
            _describe(si), self._channels, mapping=mapping, units=units,
            screen_size_px=screen_size_px, y_origin=y_origin,
        )  # fmt: skip
        self._dtype = _np_dtype(si.channel_format())
        self._recover = bool(recover)
        self._max_chunk = int(max_chunk)
        self._nominal = float(si.nominal_srate())
        period = 1.0 / self._nominal if self._nominal > 0 else 0.1
        self._stall_s = stall_timeout_s if stall_timeout_s is not None else max(0.5, 20 * period)
        self._offset_interval = float(offset_interval_s)
        self._offset_src = f"lsl:{si.source_id() or si.name()}"
        self._stop_evt = threading.Event()
        self._inlet: Any = None
        self._offset = 0.0
        self._offset_at = -math.inf
        self._offset_recorded: tuple[float, float] | None = None
        self.lost = False
        self._available_posted = False
        import pylsl

        labels = [c["label"] or f"#{i}" for i, c in enumerate(self._channels)]
        desc = si.desc()
        self.info.rate_hz = self._nominal
        acq = desc.child("acquisition")  # the XDF gaze meta-data puts the device there
        self.info.model = (
            desc.child_value("model")
            or acq.child_value("model")
            or desc.child_value("manufacturer")
            or acq.child_value("manufacturer")
            or si.name()
        )
        self.info.serial = (
            desc.child_value("serial_number") or acq.child_value("serial_number") or si.source_id()
        )
        self.info.address = f"lsl://{si.hostname()}/{si.name()}"
        self.info.sdk_version = f"pylsl {pylsl.__version__}, liblsl {pylsl.library_version()}"
        self.info.extra = {
            "stream": si.name(), "type": si.type(), "source_id": si.source_id(),
            "uid": si.uid(), "hostname": si.hostname(), "channel_count": si.channel_count(),
            "channel_labels": labels, "mapping": self.mapping.describe(labels),
            "mapping_source": self.mapping.source, "mapping_notes": list(self.mapping.notes),
            "layout": self.layout.key if self.layout else "explicit mapping",
            "layout_app": self.layout.app if self.layout else "",
        }  # fmt: skip

    # ------------------------------------------------------------------ discovery
    @classmethod
    def is_available(cls) -> Availability:
        """True when pylsl imports and its liblsl loads."""
        try:
            import pylsl
        except ImportError as exc:
            return Availability(False, f"pylsl is not installed ({exc}); pip install pylsl")
        except Exception as exc:  # liblsl missing or broken: pylsl raises at import
            return Availability(False, f"pylsl could not load liblsl: {exc}")
        try:
            lib = pylsl.library_version()
        except Exception as exc:
            return Availability(False, f"liblsl does not answer: {exc}")
        return Availability(True, f"pylsl {pylsl.__version__}, liblsl {lib}")

    @classmethod
    def discover(cls, timeout: float = 1.0) -> list[str]:
        """Describe every gaze stream seen within ``timeout`` s, with the layout it will use.

        A gaze stream is one of type Gaze or Eyetracker, or any stream a known layout
        recognises; each line says how its channels will be mapped, that it is head-mounted
        (and cannot be used as it is), or which ``--tracker-option mapping=...`` to write.
        """
        if not cls.is_available().ok:
            return []
        import pylsl

        out = []
        for info in pylsl.resolve_streams(wait_time=float(timeout)):
            if info.type() in ("Markers", "Fixations"):
                continue
            try:
                inlet = pylsl.StreamInlet(info, max_buflen=1, recover=False)
                try:
                    full = inlet.info(timeout=min(2.0, max(0.5, timeout)))
                finally:
                    del inlet
            except Exception:  # a stream that vanished meanwhile
                continue
            view = stream_view(full)
            layout = identify_layout(view)
            gazeish = info.type() in GAZE_TYPES
            if not gazeish and (layout is None or layout.key == "xdf"):
                continue  # another kind of stream (only a known app's layout makes it gaze)
            head = f"lsl: {_describe(info)}"
            if layout is None:
                out.append(f"{head} - unknown layout. {unknown_layout_message('', view)[20:]}")
            elif not layout.screen_based:
                out.append(f"{head} - {layout.app}: head-mounted, {layout.advice}")
            else:
                out.append(f"{head} - {layout.app}: {layout.describe_mapping(view)}")
        return out

    def supported_rates(self) -> list[float]:
        """The stream's nominal rate (an LSL inlet cannot change it; 0 = irregular)."""
        return [self._nominal]

    @property
    def stream_info(self) -> Any:
        """The resolved ``pylsl.StreamInfo``."""
        return self._stream_info

    def _resolve(self, predicate: str, timeout: float) -> Any:
        import pylsl

        found = pylsl.resolve_bypred(predicate, 1, timeout)
        if not found:
            seen = [_describe(i) for i in pylsl.resolve_streams(wait_time=min(0.5, timeout))]
            raise TrackerError(
                f"lsl: no stream matching {predicate} found within {timeout:g} s; streams seen: "
                f"{seen or 'none'}. Start the outlet, or pass name=/type=/source_id= that match."
            )
        if len(found) > 1:
            raise TrackerError(
                f"lsl: {len(found)} streams match {predicate}: {[_describe(i) for i in found]}; "
                "pass source_id= (or name=) to choose one"
            )
        return found[0]

    def _full_info(self, info: Any) -> Any:
        """The stream's full description (a resolved info carries no ``desc``)."""
        import pylsl

        inlet = pylsl.StreamInlet(info, max_buflen=1, recover=False)
        try:
            return inlet.info(timeout=self._resolve_timeout)
        except Exception as exc:
            raise TrackerError(
                f"lsl: could not read the description of stream {_describe(info)}: {exc!r}"
            ) from exc
        finally:
            del inlet

    # ------------------------------------------------------------------ lifecycle
    def _open(self, info: Any) -> Any:
        import pylsl

        buflen = max(10, int(10 * self._stall_s))
        inlet = pylsl.StreamInlet(info, max_buflen=buflen, recover=self._recover)
        try:
            inlet.open_stream(timeout=self._resolve_timeout)
            self._measure_offset(inlet, timeout=self._resolve_timeout, record=True)
        except Exception as exc:
            with contextlib.suppress(Exception):
                inlet.close_stream()
            raise TrackerError(f"lsl: could not open stream {_describe(info)}: {exc!r}") from exc
        return inlet

    def _measure_offset(self, inlet: Any, *, timeout: float = 0.5, record: bool = False) -> None:
        """Re-measure ``time_correction()``; keep the previous value if it fails.

        A timeout or a lost stream (``pylsl.util.LostError``) during a periodic re-measure is
        not an error of the thread: the previous offset is kept and the next pull notices the
        loss (``stream_lost``, then re-resolve). Only the first measurement of an inlet
        (``record=True``) must succeed.
        """
        from pylsl.util import LostError
        from pylsl.util import TimeoutError as LslTimeoutError

        now = self.clock()
        try:
            tc, uncertainty = _time_correction(inlet, timeout)
        except (LslTimeoutError, LostError):
            if record:  # the first measurement of an inlet must succeed
                raise
            self._offset_at = now
            return
        last = self._offset_recorded
        if record or last is None or abs(tc - last[1]) > 50e-6 or now - last[0] > 30.0:
            self.record_offset(self._offset_src, ClockOffset(now, tc, uncertainty))
            self._offset_recorded = (now, tc)
        self._offset = tc
        self._offset_at = now

    def _start(self) -> None:
        self._stop_evt.clear()
        self._inlet = self._open(self._resolved)
        name = f"gazeread-lsl-inlet-{self._stream_info.name()}"
        self._start_thread(self._run, name, what="inlet thread")

    def _stop(self) -> None:
        self._stop_evt.set()
        self._join_thread(5.0, cleanup=self._close_inlet)

    def _close_inlet(self) -> None:
        if self._inlet is not None:
            with contextlib.suppress(Exception):
                self._inlet.close_stream()
            self._inlet = None

    # ------------------------------------------------------------------ inlet thread
    def _run(self) -> None:
        import pylsl
        from pylsl.util import LostError

        n_ch = self._stream_info.channel_count()
        dest = np.empty((self._max_chunk, n_ch), dtype=self._dtype)
        blank = empty_samples(self._max_chunk)
        has_min = "min_samples" in inspect.signature(pylsl.StreamInlet.pull_chunk).parameters
        last_data = self.clock()
        last_t = -math.inf
        flag_next = False
        next_probe = -math.inf
        while not self._stop_evt.is_set():
            self.beat()
            try:
                ts = self._pull(self._inlet, dest, has_min)
            except LostError:
                ts = None
            now = self.clock()
            if ts is None or (len(ts) == 0 and now - last_data > self._stall_s):
                if not self.lost:
                    self.lost = True
                    self._available_posted = False
                    self.post_event(
                        "stream_lost",
                        f"no data from LSL stream {self._stream_info.name()!r} for "
                        f"{now - last_data:.2f} s",
                        source_id=self._stream_info.source_id(),
                        last_data=last_data,
                    )
                if ts is None or not self._recover or not self._stream_info.source_id():
                    self._reresolve()
                elif not self._available_posted and now >= next_probe:
                    # liblsl reconnects by itself, which can take ~2 s after the outlet is
                    # back: say when the outlet is there again, so the outage ends there
                    next_probe = now + 0.25
                    self._probe_outlet()
                continue
            if len(ts) == 0:
                continue
            last_data = now
            if self.lost:
                self.lost = False
                flag_next = True
                self._measure_offset(self._inlet, record=False)
                self.post_event(
                    "stream_restored",
                    f"LSL stream {self._stream_info.name()!r} is back",
                    source_id=self._stream_info.source_id(),
                )
            elif now - self._offset_at > self._offset_interval:
                self._measure_offset(self._inlet)
            rows = self._convert(dest, np.asarray(ts, dtype=np.float64), blank, last_t)
            if flag_next:
                rows["flags"][0] |= np.uint32(SampleFlag.AFTER_RECONNECT)
                flag_next = False
            last_t = float(rows["t"][-1])
            self._emit(rows)

    def _pull(self, inlet: Any, dest: np.ndarray, has_min: bool) -> list[float]:
        """Wait up to 0.1 s for the first sample (GIL released), then take all that is there."""
        if has_min:
            _, ts = inlet.pull_chunk(
                timeout=0.1, max_samples=len(dest), dest_obj=dest, min_samples=1
            )
            return list(ts)
        sample, t0 = inlet.pull_sample(timeout=0.1)
        if sample is None:
            return []
        dest[0] = sample
        _, ts = inlet.pull_chunk(timeout=0.0, max_samples=len(dest) - 1, dest_obj=dest[1:])
        return [t0, *ts]

    def _probe_outlet(self) -> None:
        """Post ``stream_available`` once the lost stream's outlet can be resolved again."""
        import pylsl

        sid = self._stream_info.source_id()
        with contextlib.suppress(Exception):
            if pylsl.resolve_bypred(_quote("source_id", sid), 1, 0.2):
                self._available_posted = True
                self.post_event(
                    "stream_available",
                    f"LSL stream {self._stream_info.name()!r} is published again; reconnecting",
                    source_id=sid,
                )

    def _reresolve(self) -> None:
        """Resolve the stream again (outlet restarted without liblsl recovery); short waits."""
        import pylsl

        with contextlib.suppress(Exception):
            self._inlet.close_stream()
        pred = self._predicate
        while not self._stop_evt.is_set():
            self.beat()
            found = pylsl.resolve_bypred(pred, 1, 0.5)
            if found:
                if not self._available_posted:
                    self._available_posted = True
                    self.post_event(
                        "stream_available",
                        f"LSL stream {self._stream_info.name()!r} is published again; reconnecting",
                        source_id=self._stream_info.source_id(),
                    )
                try:
                    self._inlet = self._open(found[0])
                except TrackerError:
                    continue
                self._resolved = found[0]
                return

    def _convert(
        self, data: np.ndarray, ts: np.ndarray, blank: np.ndarray, last_t: float
    ) -> np.ndarray:
        n = len(ts)
        rows = blank[:n].copy()
        t = ts + self._offset
        if t[0] < last_t or np.any(np.diff(t) < 0):  # an offset step must not send t backwards
            t = np.maximum.accumulate(np.maximum(t, last_t))
        rows["t"] = t
        rows["device_ts"] = np.round(ts * 1e6).astype(np.int64)
        d = data[:n]
        if self._missing.size:  # the app's "no data" values (e.g. EyeLink's 0 and -32768)
            d = d.astype(np.float64)
            for key, ch, _, _ in self.mapping.targets:
                if key.endswith(("_x", "_y")) and "_eye_" not in key:
                    col = d[:, ch]
                    col[np.isin(col, self._missing) | (np.abs(col) >= 1e7)] = np.nan
        explicit_valid = set()
        for key, ch, scale, offset in self.mapping.targets:
            col = d[:, ch].astype(np.float64)
            if scale != 1.0 or offset != 0.0:
                col = col * scale + offset
            if "_eye_" in key:
                rows[key[:-2] + "_pos"][:, "xyz".index(key[-1])] = col
            elif key.endswith("_valid"):
                rows[key] = col > 0.5
                explicit_valid.add(key)
            else:
                rows[key] = col
        for eye in ("left", "right"):
            x, y = rows[f"{eye}_x"], rows[f"{eye}_y"]
            finite = np.isfinite(x) & np.isfinite(y)
            if f"{eye}_valid" in explicit_valid:
                valid = rows[f"{eye}_valid"].astype(bool) & finite
            else:
                valid = finite
            rows[f"{eye}_valid"] = valid
            x[~valid] = np.nan
            y[~valid] = np.nan
        return rows
