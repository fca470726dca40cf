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

__all__ = ["clean_velocity", "geometry_vector", "unit_rays_into", "warm_up", "window_velocity"]

_DEG_PER_RAD2 = 360.0 / math.pi  # 2 * asin(c / 2) in degrees is asin(c / 2) * this
_MIN_DT = 1e-9  # equal timestamps count as (very fast) movement, never a division by zero


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
def clean_velocity(
    ht: NDArray,
    u: NDArray,
    x: NDArray,
    y: NDArray,
    first: int,
    seg0: int,
    window_s: float,
    geom: NDArray,
    j: NDArray,
    v: NDArray,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Rays and velocities of a chunk of measured samples appended at history row ``first``.

    ``ht`` holds the history's times, the chunk's included (rows ``first..``), ``u`` its
    rays, filled here for the chunk from ``x``, ``y`` (px). The window of each new sample
    starts at the first row timed at or after ``t - window_s`` (a left-side search), never
    before ``seg0``; the caller guarantees it is at least one row back. Fills ``j`` and ``v``
    (as :func:`window_velocity`) and returns the velocities' maximum and minimum.
    """
    m = x.shape[0]
    unit_rays_into(x, y, geom, u[first : first + m])
    vmax = -math.inf
    vmin = math.inf
    lo = 0
    for k in range(m):
        target = ht[first + k] - window_s
        hi = first + k
        while lo < hi:  # windows only move forward: search from the previous start
            mid = (lo + hi) >> 1
            if ht[mid] < target:
                lo = mid + 1
            else:
                hi = mid
        jk = lo if lo >= seg0 else seg0
        j[k] = jk
    window_velocity(ht, u, first, j, v)
    for k in range(m):
        if v[k] > vmax:
            vmax = v[k]
        if v[k] < vmin:
            vmin = v[k]
    return vmax, vmin


def geometry_vector(
    width_px: float, height_px: float, mm_per_px_x: float, mm_per_px_y: float, dist: float
) -> NDArray[np.float64]:
    """The ``geom`` argument of the kernels."""
    return np.array([width_px / 2.0, height_px / 2.0, mm_per_px_x, mm_per_px_y, dist])


_warm = False


def warm_up() -> None:
    """Compile every kernel for the array types the detectors pass (or load it from the cache).

    Done once per process, so that no chunk of a live stream waits for it: about a second on
    a fresh install, half a second with the on-disk cache, nothing afterwards.
    """
    global _warm
    if _warm:
        return
    geom = geometry_vector(1920.0, 1080.0, 0.25, 0.25, 600.0)
    t = np.arange(4, dtype=np.float64) * 0.002
    u = np.empty((4, 3))
    j = np.zeros(3, dtype=np.intp)
    v = np.empty(3)
    # positions arrive contiguous or as strided views (columns of a larger array)
    for x in (np.full(4, 900.0), np.full(8, 900.0)[::2]):
        unit_rays_into(x, x, geom, u)
        clean_velocity(t, u, x[1:], x[1:], 1, 0, 0.02, geom, j, v)
    window_velocity(t, u, 1, j, v)
    _warm = True
