"""The simulated tracker: realistic synthetic gaze in real time, from :mod:`acquisition.simulation`.

A named daemon thread wakes every few milliseconds (sleeping, never spinning), generates every
sample whose time has come and emits them as one chunk through :meth:`Tracker._emit` (so the
software calibration and gap flagging of the base class apply). Sample ``k`` is at session time
``t_origin + k / rate`` with ``device_ts = round(k * 1e6 / rate)`` microseconds; its content
depends only on the seed, the settings and the commands (targets, attention) given before it,
never on thread timing (:attr:`SimulatedTracker.schedule` replays offline through
:func:`~acquisition.simulation.simulate_recording`).

Trouble for tests: :meth:`SimulatedTracker.disconnect` / :meth:`SimulatedTracker.reconnect`
(events ``connection_lost`` / ``connection_restored``, no samples meanwhile, then a flagged gap
and a ``samples_dropped`` event), :meth:`SimulatedTracker.drop_samples` (a silent loss: flagged
gap and ``samples_dropped`` only), :meth:`SimulatedTracker.stall` (the thread blocks, then
delivers a late burst, losing nothing) and :meth:`SimulatedTracker.fail` (the thread raises; the
error is posted as an ``error`` event and re-raised by :meth:`stop`).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from acquisition.clock import ClockOffset, session_clock
from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.simulation import (
    TRACKER_PROFILES,
    CalibrationError,
    GazeGenerator,
    GazeParams,
    GroundTruthEvent,
)
from acquisition.trackers.base import Availability, Tracker, TrackerError

__all__ = ["SimulatedTracker"]

_MAX_CHUNK_S = 0.5  # generate long catch-ups in pieces of at most this much time


class SimulatedTracker(Tracker):
    """Synthetic binocular tracker producing samples in real time.

    Parameters
    ----------
    buffer : RingBuffer
    rate_hz : float
        One of :attr:`RATES` (default 1200).
    seed : int
        Non-negative; the serial number is derived from it.
    screen : ScreenGeometry, optional
        Geometry used to convert degrees to normalised coordinates.
    calibration_error : None, dict or CalibrationError
        ``dict(offset=(dx, dy) normalised, gain=(gx, gy), rotation_deg=r)`` applied to the
        measured gaze (not to the ground truth).
    profile : {"quiet", "tobii"}, optional
        The measurement quality of a kind of tracker
        (:data:`~acquisition.simulation.TRACKER_PROFILES`): ``tobii`` gives the noise and
        loss of a screen-based Tobii in a real lab. Applied before the shortcuts below.
    noise_deg, blink_rate_hz, dropout_prob : float
        Shortcuts for the same fields of :class:`~acquisition.simulation.GazeParams`.
    params : GazeParams, optional
        Every other setting; the shortcuts above override its fields.
    clock : callable
        Session clock (default LSL ``local_clock``).
    wake_interval_s : float
        How long the thread sleeps between chunks (default 3 ms).
    """

    name: ClassVar[str] = "simulated"
    #: Rates offered; 30-2000 Hz are the tested range, 5000/10000 Hz exist for stress benchmarks.
    RATES: ClassVar[tuple[float, ...]] = (
        30.0, 60.0, 90.0, 120.0, 150.0, 250.0, 300.0, 500.0, 600.0,
        1000.0, 1200.0, 2000.0, 5000.0, 10000.0,
    )  # fmt: skip

    def __init__(
        self,
        buffer: RingBuffer,
        *,
        rate_hz: float = 1200.0,
        seed: int = 0,
        screen: ScreenGeometry | None = None,
        calibration_error: CalibrationError | dict[str, Any] | None = None,
        profile: str | None = None,
        noise_deg: float | None = None,
        blink_rate_hz: float | None = None,
        dropout_prob: float | None = None,
        params: GazeParams | None = None,
        clock: Callable[[], float] = session_clock,
        wake_interval_s: float = 0.003,
    ) -> None:
        super().__init__(buffer, clock=clock)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TrackerError(f"simulated: seed must be a non-negative int, got {seed!r}")
        if not 0.0005 <= wake_interval_s <= 0.1:
            raise TrackerError(
                f"simulated: wake_interval_s must be between 0.0005 and 0.1 s, got {wake_interval_s!r}"
            )
        p = params or GazeParams()
        changes: dict[str, Any] = {}
        if profile is not None:
            if profile not in TRACKER_PROFILES:
                raise TrackerError(
                    f"simulated: unknown profile {profile!r}; valid: {', '.join(TRACKER_PROFILES)}"
                )
            changes.update(TRACKER_PROFILES[profile])
        if noise_deg is not None:
            changes["noise_deg"] = noise_deg
        if blink_rate_hz is not None:
            changes["blink_rate_hz"] = blink_rate_hz
        if dropout_prob is not None:
            changes["dropout_prob"] = dropout_prob
        try:
            if calibration_error is not None:
                changes["calibration_error"] = CalibrationError.from_any(calibration_error)
            self.params = dataclasses.replace(p, **changes) if changes else p
        except (TypeError, ValueError) as exc:
            raise TrackerError(f"simulated: invalid setting: {exc}") from exc
        self.seed = int(seed)
        self.screen = screen or ScreenGeometry()
        self._wake_s = float(wake_interval_s)
        self._gen_lock = threading.Lock()
        self._gen: GazeGenerator | None = None
        self._origins: list[tuple[float, float]] = []  # (device s at (re)start, session origin)
        self._past_events: list[GroundTruthEvent] = []  # from before the last rate change
        self._stop_evt = threading.Event()
        self._connected = True
        self._after_reconnect = False
        self._fail_msg: str | None = None
        self._to_drop = 0
        self._stall_s = 0.0
        self.set_rate(rate_hz)
        self.info.model = "gazeread simulated"
        self.info.serial = f"SIM-{self.seed:08d}"
        self.info.firmware = "gaze_model 1"
        self.info.address = f"simulated://seed={self.seed}"
        self.info.sdk_version = f"numpy {np.__version__}"
        self.info.extra = {
            "params": {k: v for k, v in dataclasses.asdict(self.params).items()},
            "screen": self.screen.to_dict(),
        }

    # ---------------------------------------------------------------- discovery
    @classmethod
    def is_available(cls) -> Availability:
        """Always available (pure Python/numpy)."""
        return Availability(True, "always available (synthetic gaze)")

    @classmethod
    def discover(cls, timeout: float = 0.0) -> list[str]:
        """One line describing the simulated device (for ``gazeread trackers``)."""
        rates = ", ".join(f"{r:g}" for r in cls.RATES)
        return [f"simulated: synthetic binocular gaze, rates {rates} Hz, seeded"]

    def expected_noise_deg(self) -> float | None:
        """The RMS sample-to-sample noise of its white noise: twice the per-axis SD."""
        return 2.0 * float(self.params.noise_deg)

    def supported_rates(self) -> list[float]:
        """Rates offered (Hz)."""
        return list(self.RATES)

    def _set_rate(self, rate_hz: float) -> None:
        """A new rate starts a new simulation (same seed); while running it restarts at once."""
        running = self._running
        if running:
            self._stop()
        if self._gen is not None and self._origins:
            self._past_events = self.ground_truth(include_ongoing=running)  # includes older ones
        with self._gen_lock:
            old = self.info.rate_hz
            self._gen = GazeGenerator(rate_hz, self.seed, self.screen, self.params)
            self._origins = []
            self._last_device_ts = None
        if running:
            self.info.rate_hz = float(rate_hz)
            self._start()
            self.post_event(
                "rate_changed", f"simulated rate {old:g} -> {rate_hz:g} Hz", rate_hz=rate_hz
            )

    # ---------------------------------------------------------------- commands
    @property
    def generator(self) -> GazeGenerator:
        """The underlying generator (not thread-safe: inspect it only while stopped)."""
        if self._gen is None:  # pragma: no cover - set in __init__ through set_rate
            raise TrackerError("simulated: no generator (set_rate was never called)")
        return self._gen

    def set_target(self, x: float | None, y: float | None = None) -> None:
        """Look at normalised ``(x, y)`` from the next generated sample on; ``None`` frees the gaze.

        Thread-safe. Recorded in :attr:`schedule` and in the ground truth.
        """
        if x is None:
            xy = None
        else:
            if y is None:
                raise TrackerError(f"simulated: set_target needs both x and y, got x={x!r}, y=None")
            xy = (float(x), float(y))
            if not (math.isfinite(xy[0]) and math.isfinite(xy[1])):
                raise TrackerError(f"simulated: target must be finite, got ({x!r}, {y!r})")
        with self._gen_lock:
            self.generator.set_target(xy)

    def set_attention(
        self,
        points: ArrayLike | None = None,
        saliency: ArrayLike | None = None,
        rect: Sequence[float] = (0.0, 0.0, 1.0, 1.0),
        weights: ArrayLike | None = None,
    ) -> None:
        """What free viewing scans (see :meth:`GazeGenerator.set_attention`). Thread-safe."""
        try:
            with self._gen_lock:
                self.generator.set_attention(points, saliency, rect, weights)
        except ValueError as exc:
            raise TrackerError(f"simulated: {exc}") from exc

    @property
    def schedule(self) -> list[tuple[int, str, Any]]:
        """Commands given so far as ``(sample_index, kind, payload)``."""
        with self._gen_lock:
            return list(self.generator.schedule)

    def offline_commands(self) -> list[tuple[float, str, Any]]:
        """:attr:`schedule` in the form :func:`simulate_recording` takes (``t = k / rate``)."""
        rate = self.rate_hz
        out: list[tuple[float, str, Any]] = []
        for k, kind, payload in self.schedule:
            if kind == "attention":
                payload = {key: val for key, val in payload.items() if val is not None}
            out.append((k / rate, kind, payload))
        return out

    def ground_truth(self, include_ongoing: bool = False) -> list[GroundTruthEvent]:
        """True fixations, saccades and blinks so far, in session seconds.

        ``include_ongoing`` adds the event in progress, closed at the next sample (truncated).
        Before the first :meth:`start` the times are simulation seconds (from sample 0).
        """
        with self._gen_lock:
            gen = self.generator
            events = list(gen.events)
            if include_ongoing:
                ev = gen.current_event()
                if ev is not None:
                    events.append(ev)
            origins = list(self._origins)
            past = list(self._past_events)
        if not origins:
            return past + events
        starts = [d for d, _ in origins]

        def to_session(t: float) -> float:
            i = max(0, bisect.bisect_right(starts, t) - 1)
            return origins[i][1] + t

        return past + [
            dataclasses.replace(e, t_start=to_session(e.t_start), t_end=to_session(e.t_end))
            for e in events
        ]

    # ---------------------------------------------------------------- trouble
    def disconnect(self) -> None:
        """Simulate a lost connection: no samples until :meth:`reconnect`."""
        if self._connected:
            self._connected = False
            self.post_event("connection_lost", "simulated connection lost (disconnect())")

    def reconnect(self) -> None:
        """End a simulated disconnection; the first sample after it is flagged."""
        if not self._connected:
            self._after_reconnect = True
            self._connected = True
            self.post_event("connection_restored", "simulated connection restored (reconnect())")

    @property
    def connected(self) -> bool:
        """False between :meth:`disconnect` and :meth:`reconnect`."""
        return self._connected

    def fail(self, message: str = "simulated failure") -> None:
        """Make the producer thread raise (to test error surfacing)."""
        self._fail_msg = message

    def drop_samples(self, n: int) -> None:
        """Lose the next ``n`` samples silently, as a device dropping data would.

        The base class then flags the gap and posts ``samples_dropped``; no connection events.
        """
        if not isinstance(n, int) or n < 0:
            raise TrackerError(f"simulated: drop_samples needs an int >= 0, got {n!r}")
        with self._gen_lock:
            self._to_drop += n

    def stall(self, seconds: float) -> None:
        """Block the producer thread for ``seconds`` (max 10), then let it catch up in a burst.

        No sample is lost: readers see a late burst, as after a scheduling hiccup.
        """
        if not 0 <= seconds <= 10:
            raise TrackerError(f"simulated: stall needs 0..10 s, got {seconds!r}")
        self._stall_s = float(seconds)

    # ---------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        self._stop_evt.clear()
        now = self.clock()
        with self._gen_lock:
            d = self.generator.t_next
            origin = now - d
            self._origins.append((d, origin))
        self.record_offset("simulated_device", ClockOffset(now, origin, 0.0))
        self._start_thread(self._run, f"gazeread-simulated-{self.seed}", what="producer thread")

    def _stop(self) -> None:
        self._stop_evt.set()
        self._join_thread(5.0)

    def _run(self) -> None:
        origin = self._origins[-1][1]
        rate = self.rate_hz
        max_chunk = max(1, int(rate * _MAX_CHUNK_S))
        while not self._stop_evt.is_set():
            self.beat()
            if self._fail_msg is not None:
                msg, self._fail_msg = self._fail_msg, None
                raise RuntimeError(msg)
            if self._stall_s > 0:
                stall, self._stall_s = self._stall_s, 0.0
                self._stop_evt.wait(stall)
            due = math.floor((self.clock() - origin) * rate) + 1  # samples with t <= now
            self._produce(due, max_chunk)
            # sleep the wake interval, or until the next sample is due when that is later
            # (low rates): a sample is never emitted before its time
            until_next = origin + due / rate - self.clock()
            self._stop_evt.wait(max(self._wake_s, until_next + 1e-4))

    def _produce(self, due: int, max_chunk: int) -> None:
        gen = self.generator
        origin = self._origins[-1][1]
        while True:
            with self._gen_lock:
                n = min(due - gen.n_generated, max_chunk)
                if n <= 0:
                    return
                if not self._connected:
                    gen.skip(n)
                    continue
                if self._to_drop:
                    m = min(n, self._to_drop)
                    gen.skip(m)
                    self._to_drop -= m
                    continue
                rows = gen.generate(n)
            rows["t"] += origin
            if self._after_reconnect:
                self._after_reconnect = False
                rows["flags"][0] |= np.uint32(SampleFlag.AFTER_RECONNECT)
            self._emit(rows)
