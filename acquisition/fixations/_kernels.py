"""Compiled inner loops of the I-VT detector's signal maths (numba).

Each function is a pure function of numpy arrays, written as plain loops and compiled by
numba on first use (cached on disk, so later processes load it in a fraction of a second).
They exist for speed: a streaming detector sees a few dozen samples per call, where numpy's
cost is the number of calls, not the arithmetic.

Both of the I-VT detector's paths (the general one through :func:`ray_velocity` and the fast
one for clean chunks) compute rays and angles here, with the same operations in the same
order, so they give the same bits and streaming stays exactly equal to offline detection.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = [
    "ROW_MEAS",
    "ROW_T",
    "ROW_X",
    "ROW_Y",
    "chunk_steps",
    "clean_chunk",
    "unit_rays_into",
    "warm_up",
    "window_velocity",
]

_DEG_PER_RAD2 = 360.0 / math.pi  # 2 * asin(c / 2) in degrees is asin(c / 2) * this
_MIN_DT = 1e-9  # equal timestamps count as (very fast) movement, never a division by zero

#: Rows of the I-VT detector's column history that :func:`clean_chunk` writes: time, x, y
#: (px) and the measured flag (row 3, the segment start, is the detector's own).
ROW_T, ROW_X, ROW_Y, ROW_MEAS = 0, 1, 2, 4


@njit(cache=True)
def chunk_steps(
    t: NDArray, x: NDArray, y: NDArray
) -> tuple[float, float, bool]:  # pragma: no cover - compiled
    """Smallest and largest time step, and whether every position is finite.

    The steps are ``t[k] - t[k - 1]``: ``inf`` and ``0.0`` for a single sample, and the
    smallest is NaN if any step is. The three arrays must have the same length (the caller
    checks).
    """
    lo = math.inf
    hi = 0.0
    nan = False
    for k in range(1, t.shape[0]):
        d = t[k] - t[k - 1]
        if d != d:
            nan = True
        elif d < lo:
            lo = d
        if d > hi:
            hi = d
    finite = True
    for k in range(x.shape[0]):
        if not (math.isfinite(x[k]) and math.isfinite(y[k])):
            finite = False
            break
    return (math.nan if nan else lo), hi, finite


@njit(cache=True)
def _angle_deg(u: NDArray, a: int, b: int) -> float:  # pragma: no cover - compiled
    """Angle (deg) between unit rays ``u[a]`` and ``u[b]``: ``2 asin(|u_a - u_b| / 2)``."""
    dx = u[a, 0] - u[b, 0]
    dy = u[a, 1] - u[b, 1]
    dz = u[a, 2] - u[b, 2]
    c = math.sqrt(dx * dx + dy * dy + dz * dz) * 0.5
    if c > 1.0:  # rounding; a NaN (lost gaze) stays NaN
        c = 1.0
    return math.asin(c) * _DEG_PER_RAD2


@njit(cache=True)
def unit_rays_into(
    x: NDArray, y: NDArray, geom: NDArray, out: NDArray
) -> None:  # pragma: no cover - compiled
    """Unit vectors from the eye to screen points ``(x, y)`` px, into ``out`` ``(n, 3)``.

    ``geom`` = ``(width_px / 2, height_px / 2, mm_per_px_x, mm_per_px_y, distance_mm)``: the
    eye sits on the normal through the screen centre. NaN positions give NaN rows.
    """
    hw, hh, mx, my, d = geom[0], geom[1], geom[2], geom[3], geom[4]
    for k in range(x.shape[0]):
        ux = (x[k] - hw) * mx
        uy = (y[k] - hh) * my
        r = math.sqrt(ux * ux + uy * uy + d * d)
        out[k, 0] = ux / r
        out[k, 1] = uy / r
        out[k, 2] = d / r


@njit(cache=True)
def window_velocity(
    t: NDArray, u: NDArray, first: int, j: NDArray, out: NDArray
) -> None:  # pragma: no cover - compiled
    """Angular velocity (deg/s) of samples ``first + k`` over their windows from ``j[k]``.

    ``out[k]`` = angle between ``u[first + k]`` and ``u[j[k]]`` divided by
    ``max(t[first + k] - t[j[k]], 1e-9)`` (NaN where either ray is NaN).
    """
    for k in range(out.shape[0]):
        i = first + k
        jk = j[k]
        dt = t[i] - t[jk]
        if dt < _MIN_DT:
            dt = _MIN_DT
        out[k] = _angle_deg(u, i, jk) / dt


@njit(cache=True)
def clean_chunk(
    cols: NDArray,
    u: NDArray,
    t: NDArray,
    x: NDArray,
    y: NDArray,
    first: int,
    seg0: int,
    window_s: float,
    geom: NDArray,
    j: NDArray,
    v: NDArray,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Append a chunk of measured samples at history row ``first``, with rays and velocities.

    ``cols`` is the detector's column history (rows :data:`ROW_T`, :data:`ROW_X`,
    :data:`ROW_Y`, :data:`ROW_MEAS` are written for the chunk: ``t``, ``x``, ``y``, 1.0), ``u``
    its rays (filled for the chunk, as :func:`unit_rays_into`). The window of each new sample
    starts at the first row timed at or after ``t - window_s`` (a left-side search), never
    before ``seg0``; the caller guarantees it is at least one row back. Fills ``j`` and ``v``
    (as :func:`window_velocity`) and returns the velocities' maximum and minimum.
    """
    m = t.shape[0]
    ht = cols[ROW_T]
    for k in range(m):
        ht[first + k] = t[k]
        cols[ROW_X, first + k] = x[k]
        cols[ROW_Y, first + k] = y[k]
        cols[ROW_MEAS, first + k] = 1.0
    unit_rays_into(x, y, geom, u[first : first + m])
    lo = 0
    for k in range(m):
        target = t[k] - window_s
        hi = first + k
        while lo < hi:  # windows only move forward: search from the previous start
            mid = (lo + hi) >> 1
            if ht[mid] < target:
                lo = mid + 1
            else:
                hi = mid
        j[k] = lo if lo >= seg0 else seg0
    window_velocity(ht, u, first, j, v)
    vmax = -math.inf
    vmin = math.inf
    for k in range(m):
        if v[k] > vmax:
            vmax = v[k]
        if v[k] < vmin:
            vmin = v[k]
    return vmax, vmin


_warm = False


def warm_up() -> None:
    """Compile every kernel for the array types the detectors pass (or load it from the cache).

    Other array types (a caller's strided views, say) still work: numba compiles for them
    on first use.

    Done once per process, so that no chunk of a live stream waits for it: 1.4 s on
    a fresh install, half a second with the on-disk cache, nothing afterwards.
    """
    global _warm
    if _warm:
        return
    geom = np.array([960.0, 540.0, 0.25, 0.25, 600.0])  # see _signal.screen_vector
    t = np.arange(4, dtype=np.float64) * 0.002
    u = np.empty((4, 3))
    j = np.zeros(3, dtype=np.intp)
    v = np.empty(3)
    x = np.full(4, 900.0)
    chunk_steps(t, x, x)
    unit_rays_into(x, x, geom, u)
    window_velocity(t, u, 1, j, v)
    # the detector passes t, x, y contiguous; its column history is a window of a larger
    # block, or the whole block when that is exactly full
    for cols in (np.zeros((8, 8))[:, 2:6], np.zeros((8, 4))):
        clean_chunk(cols, u, t[1:], x[1:], x[1:], 1, 0, 0.02, geom, j, v)
    _warm = True
