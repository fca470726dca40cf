"""Per-sample random streams of the synthetic gaze generator (:mod:`acquisition.simulation`).

Each stream is a function of the seed and the sample index (or time) only, never of how the
samples are chunked: measurement noise comes in fixed blocks of :data:`NOISE_BLOCK` samples
seeded by ``(seed, block)``; dropout episodes are drawn from their own generator in time order;
the slow drift is a first-order recursion evaluated in sample order.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

from acquisition.simulation.types import GazeParams

__all__ = [
    "NOISE_BLOCK",
    "NOISE_COLS",
    "STREAM_CONST",
    "STREAM_DROPOUTS",
    "STREAM_EVENTS",
    "STREAM_NOISE",
    "Dropouts",
    "NoiseBlocks",
    "ar1",
]

NOISE_BLOCK = 4096
NOISE_COLS = 8  # lx, ly, rx, ry, drift_x, drift_y, pupil_l, pupil_r

#: Second seed word of each random stream: ``default_rng([seed, STREAM_*])``.
STREAM_NOISE, STREAM_EVENTS, STREAM_DROPOUTS, STREAM_CONST = 1, 2, 3, 4


def ar1(c: NDArray, a: float, y0: float) -> NDArray:
    """``y[k] = a * y[k-1] + c[k]`` from ``y[-1] = y0``, in the same order however chunked."""
    steps = itertools.accumulate(c.tolist(), lambda y, x: a * y + x, initial=float(y0))
    return np.fromiter(steps, dtype=float, count=len(c) + 1)[1:]


class NoiseBlocks:
    """Standard normal noise, ``NOISE_COLS`` columns per sample, addressed by sample index."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._idx = -1
        self._block = np.empty((0, NOISE_COLS))

    def take(self, k0: int, n: int) -> NDArray:
        """Noise of samples ``k0 .. k0 + n - 1``, shape ``(n, NOISE_COLS)``."""
        out = np.empty((n, NOISE_COLS))
        i = 0
        while i < n:
            k = k0 + i
            b, off = divmod(k, NOISE_BLOCK)
            if b != self._idx:
                rng = np.random.default_rng([self.seed, STREAM_NOISE, b])
                self._block = rng.standard_normal((NOISE_BLOCK, NOISE_COLS))
                self._idx = b
            m = min(n - i, NOISE_BLOCK - off)
            out[i : i + m] = self._block[off : off + m]
            i += m
        return out


class Dropouts:
    """Episodes where the left, the right or both eyes are lost (``GazeParams.dropout_*``).

    Episodes last ``Exp(dropout_mean_s)`` and are spaced so that about ``dropout_prob`` of the
    samples are covered; 40 % lose the left eye, 40 % the right, 20 % both.
    """

    def __init__(self, seed: int, params: GazeParams) -> None:
        self._params = params
        self._rng = np.random.default_rng([int(seed), STREAM_DROPOUTS])
        self._next = self._draw(0.0)

    def _draw(self, t: float) -> tuple[float, float, int]:
        p = self._params
        if p.dropout_prob <= 0:
            return (math.inf, math.inf, 0)
        gap_mean = p.dropout_mean_s * (1.0 - p.dropout_prob) / p.dropout_prob
        start = t + float(self._rng.exponential(gap_mean))
        end = start + float(self._rng.exponential(p.dropout_mean_s))
        eyes = int(self._rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))  # 1 left, 2 right, 3 both
        return (start, end, eyes)

    def masks(self, t: NDArray) -> tuple[NDArray, NDArray]:
        """Lost-left and lost-right masks of the samples at times ``t`` (in time order)."""
        lost_l = np.zeros(t.shape, dtype=bool)
        lost_r = np.zeros(t.shape, dtype=bool)
        if len(t) == 0:
            return lost_l, lost_r
        t_last = t[-1]
        while self._next[0] <= t_last:
            s, e, eyes = self._next
            lo, hi = np.searchsorted(t, [s, e], side="left")
            if eyes & 1:
                lost_l[lo:hi] = True
            if eyes & 2:
                lost_r[lo:hi] = True
            if e > t_last:
                break
            self._next = self._draw(e)
        return lost_l, lost_r
