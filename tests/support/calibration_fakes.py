"""A deterministic fake tracker on a fake clock, for the calibration tests (no threads).

Imported by the tests as ``tests.support.calibration_fakes``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import empty_samples
from acquisition.trackers.base import Availability, Tracker


class FakeClock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def apply_error(
    x: np.ndarray, y: np.ndarray, error: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The injected calibration error: gain and rotation about the centre, then offset."""
    gx, gy = error.get("gain", (1.0, 1.0))
    dx, dy = error.get("offset", (0.0, 0.0))
    a = math.radians(error.get("rotation_deg", 0.0))
    u, v = (x - 0.5) * gx, (y - 0.5) * gy
    ur = u * math.cos(a) - v * math.sin(a)
    vr = u * math.sin(a) + v * math.cos(a)
    return ur + 0.5 + dx, vr + 0.5 + dy


class FakeTracker(Tracker):
    """Generates samples up to the fake clock's time whenever pumped.

    Gaze = target through ``error`` plus Gaussian noise (``noise`` normalised SD); options
    to lose an eye, make every sample invalid, or stop producing (disconnect) after a time.
    """

    name = "fake"

    def __init__(
        self,
        buffer: RingBuffer,
        clock: FakeClock,
        *,
        rate_hz: float = 300.0,
        error: dict[str, Any] | None = None,
        noise: float = 0.0005,
        seed: int = 0,
        eyes: tuple[str, ...] = ("left", "right"),
        all_invalid: bool = False,
        stop_at: float | None = None,
        right_extra_offset: tuple[float, float] = (0.0, 0.0),
        lose: Any = None,
    ) -> None:
        super().__init__(buffer, clock=clock)
        self.info.rate_hz = rate_hz
        self.error = error or {}
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.eyes = eyes
        self.all_invalid = all_invalid
        self.stop_at = stop_at
        self.right_extra_offset = right_extra_offset
        #: target -> share of samples to lose there (every other one for 0.5)
        self.lose = lose
        self.target = (0.5, 0.5)
        self._next_t = clock()
        self.targets_seen: list[tuple[float, float]] = []

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True, "")

    def supported_rates(self) -> list[float]:
        return [self.info.rate_hz]

    def _start(self) -> None:
        pass

    def _stop(self) -> None:
        pass

    def set_target(self, x: float, y: float) -> None:
        self.target = (x, y)
        self.targets_seen.append((x, y))

    def pump(self) -> None:
        now = self.clock()
        if self.stop_at is not None:
            now = min(now, self.stop_at)
        period = 1.0 / self.info.rate_hz
        n = math.floor((now - self._next_t) / period) + 1
        if n <= 0:
            return
        rows = empty_samples(n)
        rows["t"] = self._next_t + np.arange(n) * period
        rows["device_ts"] = np.round(rows["t"] * 1e6).astype(np.int64)
        self._next_t += n * period
        tx = np.full(n, self.target[0])
        ty = np.full(n, self.target[1])
        ex, ey = apply_error(tx, ty, self.error)
        for eye in ("left", "right"):
            if eye not in self.eyes or self.all_invalid:
                continue
            ox, oy = self.right_extra_offset if eye == "right" else (0.0, 0.0)
            rows[f"{eye}_x"] = ex + ox + self.rng.normal(0, self.noise, n)
            rows[f"{eye}_y"] = ey + oy + self.rng.normal(0, self.noise, n)
            rows[f"{eye}_valid"] = 1
            rows[f"{eye}_eye_pos"] = (0.0, 0.0, 640.0)
        share = float(self.lose(self.target)) if self.lose is not None else 0.0
        if share > 0:
            k = np.arange(n) + round(rows["t"][0] * self.info.rate_hz)
            gone = (k % 100) < share * 100
            for eye in ("left", "right"):
                rows[f"{eye}_valid"][gone] = 0
                rows[f"{eye}_x"][gone] = np.nan
                rows[f"{eye}_y"][gone] = np.nan
        self._emit(rows)


class Rig:
    """A fake clock, buffer, tracker and a frame callback that advances time and pumps."""

    def __init__(self, **tracker_opts: Any) -> None:
        self.clock = FakeClock()
        self.buffer = RingBuffer(1 << 15)
        self.tracker = FakeTracker(self.buffer, self.clock, **tracker_opts)
        self.reader = self.buffer.reader("calibration")

    def frame(self) -> None:
        self.clock.advance(1.0 / 60.0)
        self.tracker.pump()
