"""Building blocks of the detectors: eye averaging, gap resolution, velocity.

Pure functions of numpy arrays; the per-sample loops of rays and velocities are compiled
(:mod:`acquisition.fixations._kernels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from acquisition.fixations._kernels import unit_rays_into, window_velocity
from acquisition.geometry import ScreenGeometry

__all__ = [
    "Runs",
    "average_eyes_px",
    "check_time_order",
    "label_runs",
    "ray_angle_deg",
    "ray_velocity",
    "resolve_gaps",
    "unit_rays",
]


def check_time_order(t: NDArray[np.float64], t_seen: float) -> None:
    """Refuse a chunk of sample times that is not finite and non-decreasing.

    Parameters
    ----------
    t : numpy.ndarray, shape (n,), n >= 1
        Session times (s) of the chunk.
    t_seen : float
        The last time of the previous chunk (``-inf`` before the first).

    Raises
    ------
    ValueError
        When a time is NaN/infinite, goes back within the chunk, or precedes ``t_seen``.
    """
    bad = np.flatnonzero(~np.isfinite(t))
    if len(bad):
        k = int(bad[0])
        raise ValueError(
            f"sample times must be finite: sample {k} of the chunk has t={float(t[k])!r} "
            f"(after t={float(t[k - 1]) if k else t_seen!r})"
        )
    if float(t[0]) < t_seen:
        raise ValueError(
            f"sample times must not go back: the chunk starts at t={float(t[0])!r}, before the "
            f"previous chunk's last sample at t={t_seen!r}; feed samples in time order"
        )
    back = np.flatnonzero(t[1:] < t[:-1])
    if len(back):
        k = int(back[0]) + 1
        raise ValueError(
            f"sample times must not go back: sample {k} of the chunk has t={float(t[k])!r}, "
            f"after t={float(t[k - 1])!r}; feed samples in time order"
        )


def average_eyes_px(
    samples: np.ndarray, screen: ScreenGeometry
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Binocular gaze of :data:`~acquisition.samples.SAMPLE_DTYPE` rows in screen pixels.

    An eye counts when its validity flag is set and both its coordinates are finite. Where
    both eyes count, the gaze is their mean; where one does, that eye; else NaN (as Tobii's
    "average" eye selection). A switch between one and two eyes can shift the gaze by the
    difference between the eyes; that is rare and short and shows as a brief movement.

    Parameters
    ----------
    samples : numpy.ndarray, shape (n,)
        Structured rows with fields ``t, left_x, left_y, right_x, right_y, left_valid,
        right_valid`` (normalised display coordinates, origin top-left).
    screen : ScreenGeometry
        Gives the resolution to scale normalised coordinates to pixels.

    Returns
    -------
    t, x_px, y_px : numpy.ndarray, shape (n,)
        Session time (s) and gaze in screen px (NaN where no eye counts).
    """
    t = np.asarray(samples["t"], dtype=np.float64)
    lx, ly = samples["left_x"], samples["left_y"]
    rx, ry = samples["right_x"], samples["right_y"]
    lv = (samples["left_valid"] != 0) & np.isfinite(lx) & np.isfinite(ly)
    rv = (samples["right_valid"] != 0) & np.isfinite(rx) & np.isfinite(ry)
    both = lv & rv
    x = np.where(both, (lx + rx) * 0.5, np.where(lv, lx, np.where(rv, rx, np.nan)))
    y = np.where(both, (ly + ry) * 0.5, np.where(lv, ly, np.where(rv, ry, np.nan)))
    return t, x * float(screen.width_px), y * float(screen.height_px)


def resolve_gaps(
    t: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    gap_s: float,
    *,
    anchored: bool,
    final: bool,
) -> tuple[int, NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """Fill short data losses by linear interpolation and decide which samples are settled.

    A run of invalid samples between valid samples ``p`` and ``b`` is filled when
    ``t[b] <= t[p] + gap_s``; the filled values become known at ``t[b]``. Otherwise the run
    is *lost*; a lost sample is known once a sample later than ``t[p] + gap_s`` arrived.
    Every test is written as ``t <= t[p] + gap_s`` so that rounding can never make two of
    them disagree (which would make the result depend on how the data were chunked).

    Parameters
    ----------
    t, x, y : numpy.ndarray, shape (n,)
        Non-decreasing times (s) and positions (px; NaN invalid).
    gap_s : float
        Longest loss that is filled, seconds (valid neighbour to valid neighbour).
    anchored : bool
        True when ``t[0], x[0], y[0]`` is the last valid sample of earlier data (an anchor
        for interpolation that is not itself part of the output).
    final : bool
        The stream ended: trailing invalid samples are settled as lost.

    Returns
    -------
    n_settled : int
        Number of leading samples (anchor included) that are settled.
    xf, yf : numpy.ndarray, shape (n_settled,)
        Positions with filled gaps (NaN where lost).
    lost : numpy.ndarray of bool, shape (n_settled,)
    known : numpy.ndarray, shape (n_settled,)
        Time (s) at which each sample's value became known.
    """
    n = len(t)
    valid = np.isfinite(x) & np.isfinite(y)
    idx = np.arange(n)
    vidx = np.flatnonzero(valid)
    last = int(vidx[-1]) if len(vidx) else -1
    if final or n == 0:
        n_set = n
    elif last >= 0 and t[-1] <= t[last] + gap_s:  # same expression as every test below
        n_set = last + 1
    elif last < 0 and anchored:  # cannot happen: an anchor is valid
        n_set = 0
    else:
        n_set = n
    t_s, x_s, y_s, v_s = t[:n_set], x[:n_set].copy(), y[:n_set].copy(), valid[:n_set]
    known = t_s.copy()
    lost = ~v_s
    if n_set and not v_s.all():
        inv = np.flatnonzero(~v_s)
        prev = np.maximum.accumulate(np.where(v_s, idx[:n_set], -1))[inv]
        nxt_all = np.where(v_s, idx[:n_set], n_set)
        nxt = np.minimum.accumulate(nxt_all[::-1])[::-1][inv]
        has_prev = prev >= 0
        has_next = nxt < n_set
        p = np.where(has_prev, prev, 0)
        b = np.where(has_next, nxt, 0)
        fill = has_prev & has_next & (t_s[b] <= t_s[p] + gap_s)
        if fill.any():
            k, pf, bf = inv[fill], p[fill], b[fill]
            w = (t_s[k] - t_s[pf]) / (t_s[bf] - t_s[pf])
            x_s[k] = x_s[pf] + (x_s[bf] - x_s[pf]) * w
            y_s[k] = y_s[pf] + (y_s[bf] - y_s[pf]) * w
            known[k] = t_s[bf]
            lost[k] = False
        lo = ~fill
        if lo.any():
            k, pl = inv[lo], p[lo]
            q = np.searchsorted(t_s, t_s[pl] + gap_s, side="right")
            q = np.where(has_prev[lo], np.maximum(q, k), k)
            q = np.minimum(q, n_set - 1)
            known[k] = np.maximum(t_s[q], t_s[k])
            x_s[k] = np.nan
            y_s[k] = np.nan
    return n_set, x_s, y_s, lost, known


class SettledChunk(NamedTuple):
    """What :func:`settle_chunk` decided about the samples fed so far."""

    t: NDArray[np.float64]  #: settled times (s)
    x: NDArray[np.float64]  #: settled positions as measured (px; NaN invalid)
    y: NDArray[np.float64]
    x_filled: NDArray[np.float64]  #: the same with short losses filled
    y_filled: NDArray[np.float64]
    measured: NDArray[np.bool_]  #: finite x and y as measured
    lost: NDArray[np.bool_]  #: part of a loss too long to fill
    known: NDArray[np.float64]  #: session time each value became known
    pending: NDArray[np.float64]  #: (3, m) t/x/y not settled yet, fed again next time
    anchor: tuple[float, float, float] | None  #: newest measured settled sample


def settle_chunk(
    pending: NDArray[np.float64],
    anchor: tuple[float, float, float] | None,
    t: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    gap_s: float,
    *,
    final: bool,
) -> SettledChunk:
    """One streaming step of :func:`resolve_gaps`, shared by the I-VT and I-DT detectors.

    The new samples are appended to the unsettled tail of the previous call (``pending``,
    shape ``(3, m)``) and resolved with the last measured sample (``anchor``) in front; what
    cannot be decided yet comes back as the new ``pending``.
    """
    anchored = anchor is not None
    parts = [pending, np.stack((t, x, y))]
    if anchored:
        parts.insert(0, np.array(anchor).reshape(3, 1))
    tt, xx, yy = np.concatenate(parts, axis=1)
    n_set, xf, yf, lost, known = resolve_gaps(tt, xx, yy, gap_s, anchored=anchored, final=final)
    off = 1 if anchored else 0
    xs, ys = xx[off:n_set], yy[off:n_set]
    meas = np.isfinite(xs) & np.isfinite(ys)
    vidx = np.flatnonzero(meas)
    if len(vidx):
        k = int(vidx[-1])
        anchor = (float(tt[off + k]), float(xs[k]), float(ys[k]))
    return SettledChunk(
        tt[off:n_set],
        xs,
        ys,
        xf[off:],
        yf[off:],
        meas,
        lost[off:],
        known[off:],
        np.stack((tt[n_set:], xx[n_set:], yy[n_set:])),
        anchor,
    )


def unit_rays(
    screen: ScreenGeometry, x: NDArray, y: NDArray, out: NDArray | None = None
) -> NDArray[np.float64]:
    """Unit vectors from the eye to screen points (px), shape ``(n, 3)``.

    The eye sits on the normal through the screen centre at ``screen.distance_mm``; the
    angle between two gaze points is ``2 * arcsin(|u1 - u2| / 2)`` (exact, and well
    conditioned for the small angles of fixational movement). ``out`` (shape ``(n, 3)``,
    may be a strided view) receives the result when given.
    """
    x = np.asarray(x, dtype=np.float64, order="C")
    y = np.asarray(y, dtype=np.float64, order="C")
    u = np.empty((len(x), 3)) if out is None else out
    if x.ndim != 1 or y.shape != x.shape or u.shape != (len(x), 3):  # the loop checks no bounds
        raise ValueError(
            f"unit_rays needs 1-D x and y of equal length and out of shape (n, 3), got shapes "
            f"{x.shape}, {y.shape} and {u.shape}"
        )
    unit_rays_into(x, y, screen_vector(screen), u)
    return u


def screen_vector(screen: ScreenGeometry) -> NDArray[np.float64]:
    """The screen as the compiled kernels take it.

    ``(width_px / 2, height_px / 2, mm_per_px_x, mm_per_px_y, distance_mm)``.
    """
    return np.array(
        [
            screen.width_px / 2.0,
            screen.height_px / 2.0,
            screen.mm_per_px_x,
            screen.mm_per_px_y,
            float(screen.distance_mm),
        ]
    )


def ray_angle_deg(u1: NDArray, u2: NDArray) -> NDArray[np.float64]:
    """Angle in degrees between rows of two ``(n, 3)`` unit-vector arrays (NaN propagates).

    The numpy formulation of what the detectors compute in compiled loops (a reference).
    """
    d = u1 - u2
    c = np.einsum("ij,ij->i", d, d)
    np.sqrt(c, out=c)
    c *= 0.5
    np.arcsin(np.minimum(c, 1.0, out=c), out=c)
    c *= 360.0 / np.pi
    return c


def ray_velocity(
    t: NDArray[np.float64],
    u: NDArray[np.float64],
    seg_start: NDArray,
    first: int,
    window_s: float,
    *,
    may_break: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Angular velocity over a backward time window, for samples ``first..n-1``.

    The velocity at ``i`` is the angle between the gaze rays at ``j`` and ``i`` divided by
    ``t[i] - t[j]``, where ``j`` is the first sample with ``t[j] >= t[i] - window_s``, at
    least one sample back and never before ``seg_start[i]`` (the first sample after a break).
    Equal timestamps give a huge velocity (a movement), never a division warning.

    Parameters
    ----------
    t : numpy.ndarray, shape (n,)
        Non-decreasing times, s.
    u : numpy.ndarray, shape (n, 3)
        Unit gaze rays (:func:`unit_rays`); NaN rows where the gaze is lost.
    seg_start : numpy.ndarray, shape (n - first,)
        Index of the first sample of the unbroken segment of each sample from ``first``.
    first : int
        First index to compute (earlier rows are history).
    window_s : float
        Window length, s.
    may_break : bool
        False when the caller knows no sample from ``first`` on starts a segment (then
        every sample has an earlier one in its segment and the check is skipped).

    Returns
    -------
    v : numpy.ndarray, shape (n - first,)
        deg/s; NaN when undefined (lost gaze, or no earlier sample in the segment).
    j : numpy.ndarray of int, shape (n - first,)
        The window start used.
    i : numpy.ndarray of int, shape (n - first,)
        The sample indices ``first..n-1``.
    """
    n = len(t)
    if u.shape != (n, 3) or len(seg_start) != n - first or not 0 <= first <= n:
        raise ValueError(  # the compiled loop checks no bounds
            f"ray_velocity needs u of shape (len(t), 3) = ({n}, 3) and seg_start of length "
            f"len(t) - first = {n - first}, got {u.shape} and {len(seg_start)} (first={first})"
        )
    i = np.arange(first, n)
    tn = t[first:]
    j = t.searchsorted(tn - window_s, side="left")
    np.minimum(j, i - 1, out=j)
    np.maximum(j, seg_start, out=j, casting="unsafe")
    bad = None
    if may_break:
        bad = j >= i
        if bad.any():
            j[bad] = i[bad]
        else:
            bad = None
    v = np.empty(len(j))
    window_velocity(t, u, first, j, v)  # equal timestamps count as (very fast) movement
    if bad is not None:
        v[bad] = np.nan
    return v, j, i


Runs = Sequence[tuple[int, int, int]]  #: (first, stop, label) of runs of equal labels


def label_runs(thr: NDArray, v: NDArray, lost: NDArray | None = None) -> Runs:
    """Runs of equal I-VT labels of velocities ``v`` (deg/s) against ``thr`` = (onset, movement).

    Labels: 3 fixation (below onset), 2 between the thresholds, 1 movement, 0 lost (where
    ``lost`` is True). Comparisons with NaN are False and raise no warning.
    """
    lab = thr.searchsorted(v, side="right")  # 0, 1, 2: labels 3, 2, 1
    if lost is not None:
        lab[lost] = 3  # label 0
    cut = (lab[1:] != lab[:-1]).nonzero()[0]
    cut += 1
    starts = [0, *cut.tolist()]
    stops = [*starts[1:], len(lab)]
    labs = lab.tolist()
    return [(a, b, 3 - labs[a]) for a, b in zip(starts, stops, strict=True)]
