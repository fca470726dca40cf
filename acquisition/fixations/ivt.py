"""Causal, streaming velocity-threshold (I-VT) fixation detector.

The detector sees samples in time order, in chunks of any size, and never looks ahead: every
decision uses only samples already received, and each event records, in ``t_emitted``, the
time of the sample whose arrival made it decidable. Feeding a recording in one piece or in
chunks of any sizes (down to one sample) gives exactly the same events, bit for bit.

Pipeline per chunk (vectorised, or compiled loops in :mod:`acquisition.fixations._kernels`;
the only Python loop runs over runs of equal labels):

1. binocular average and scaling to screen px (:func:`average_eyes_px`);
2. gap resolution: losses up to ``gap_fill_ms`` are filled linearly once data resume,
   longer ones break the signal (:func:`resolve_gaps`);
3. velocity over a backward window of ``window_ms`` (:func:`ray_velocity`, exact angles
   between gaze rays), labelled fixation (below ``onset_threshold_deg_s``), in-between
   (continues a fixation, starts none), movement (at or above ``threshold_deg_s``) or lost;
4. a small state machine over runs of labels: candidate start (provisional), confirmation
   after ``min_duration_ms``, merging across short interruptions that land close by,
   discarding of short candidates, and the end with centroid, duration and dispersion.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from acquisition.fixations._history import ColumnHistory, History
from acquisition.fixations._kernels import (
    ROW_MEAS,
    ROW_T,
    ROW_X,
    ROW_Y,
    chunk_steps,
    clean_chunk,
    warm_up,
)
from acquisition.fixations._signal import (
    Runs,
    average_eyes_px,
    check_time_order,
    label_runs,
    ray_velocity,
    screen_vector,
    settle_chunk,
    unit_rays,
)
from acquisition.fixations.events import FixationEvent, _new_event
from acquisition.fixations.params import IVTParams
from acquisition.geometry import ScreenGeometry

__all__ = ["OnlineFixationDetector", "detect_fixations"]

_LOST, _MOVE, _MID, _FIX = 0, 1, 2, 3
_IDLE, _IN_FIX, _IN_GAP = 0, 1, 2

# history columns: time, gap-filled x/y (px), first running index of the unbroken segment,
# 1.0 where the position was measured (not filled or lost) (the layout the compiled
# clean_chunk writes); the unit gaze rays are kept in a second history of (n, 3) rows,
# trimmed alike.
_T, _X, _Y, _SEG, _MEAS = ROW_T, ROW_X, ROW_Y, 3, ROW_MEAS
_W = 5
_Q = 1024.0  # centroids sum positions rounded to 1/1024 px: integer-valued, exact in any order
_TRIM_BATCH = 256  # history rows dropped at a time
_FEW = 4  # up to this many samples (a short velocity window), centroid sums in Python
_BIG = 2.0**48  # |x * _Q| below this: sums of _FEW of them are exact in float64


class OnlineFixationDetector:
    """Streaming I-VT fixation detector for one session.

    Parameters
    ----------
    screen : ScreenGeometry
        The session's screen: converts normalised gaze to px and px to degrees.
    params : IVTParams, optional
        Detector settings (ms and degrees); the documented defaults when omitted.

    Notes
    -----
    State kept between chunks: the samples of the last ``window_ms`` (for velocity), the
    samples of the open fixation candidate (for its centroid and dispersion), unresolved
    trailing data loss (at most ``gap_fill_ms``), and a few scalars.

    Examples
    --------
    >>> det = OnlineFixationDetector(ScreenGeometry(), IVTParams())  # doctest: +SKIP
    >>> events = det.feed(chunk) + det.flush()                          # doctest: +SKIP
    """

    def __init__(self, screen: ScreenGeometry, params: IVTParams | None = None) -> None:
        self.screen = screen
        self.params = params if params is not None else IVTParams()
        p = self.params
        self._win = p.window_ms / 1000.0
        # the fast path needs every velocity window to reach the sample before: a step up to
        # the window, less a margin far above the rounding of t - window (60 Hz qualifies)
        self._win_fast = 0.999 * self._win
        self._gap = p.gap_fill_ms / 1000.0
        self._merge_s = p.merge_ms / 1000.0
        self._min_s = p.min_duration_ms / 1000.0
        self._prov_s = p.provisional_ms / 1000.0
        self._thr = np.array([p.onset_threshold_deg_s, p.threshold_deg_s])
        self._on, self._move = float(p.onset_threshold_deg_s), float(p.threshold_deg_s)
        self._centre = bool(p.centre_window)
        self._hw, self._hh = screen.width_px / 2.0, screen.height_px / 2.0
        self._mx, self._my = screen.mm_per_px_x, screen.mm_per_px_y
        self._d = float(screen.distance_mm)
        self._geom = screen_vector(screen)
        warm_up()  # compile the kernels now, not while the first chunk of a stream waits
        self.reset()

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        """Forget all state (as a new detector)."""
        self._hist = ColumnHistory(_W)
        self._rays = History(3)
        self._pend = np.zeros((3, 0))
        self._anchor: tuple[float, float, float] | None = None
        self._t_last = -math.inf
        self._t_seen = -math.inf
        self._prev_lost = True
        self._unmeas = -1  # running index of the newest sample not measured (filled or lost)
        self._seg = 0.0
        self._state = _IDLE
        self._fid = 0
        self._a_m = 0  # running index of the candidate's first sample
        self._a_t = 0.0  # and its time
        self._b_m = 0  # running index of its last sample so far
        self._b_tm = 0.0  # and its time
        self._b_tv = 0.0  # time of the velocity sample that last extended it
        self._b_j = self._b_i = 0  # velocity window of that sample
        self._prov = self._conf = False
        self._t_conf = math.nan
        #: Samples received so far.
        self.n_samples = 0

    def feed(self, samples: np.ndarray) -> list[FixationEvent]:
        """Process :data:`~acquisition.samples.SAMPLE_DTYPE` rows (oldest first).

        Returns the events that became decidable with these samples, in order.
        """
        if len(samples) == 0:
            return []
        t, x, y = average_eyes_px(samples, self.screen)
        return self.feed_px(t, x, y)

    def feed_px(self, t: NDArray, x_px: NDArray, y_px: NDArray) -> list[FixationEvent]:
        """Process samples given as session times (s) and screen px (NaN = invalid)."""
        # contiguous float64 (copies only what is not): what the compiled kernels take
        t = np.asarray(t, dtype=np.float64, order="C")
        x = np.asarray(x_px, dtype=np.float64, order="C")
        y = np.asarray(y_px, dtype=np.float64, order="C")
        if t.ndim != 1 or x.shape != t.shape or y.shape != t.shape:
            raise ValueError(
                f"feed_px needs three 1-D arrays of equal length (times, x px, y px), got "
                f"shapes {t.shape}, {x.shape}, {y.shape}"
            )
        m = len(t)
        if m == 0:
            return []
        t0, t1 = t.item(0), t.item(-1)
        dt_min, dt_max, finite = chunk_steps(t, x, y)
        if not (t0 >= self._t_seen and math.isfinite(t0) and math.isfinite(t1) and dt_min >= 0.0):
            check_time_order(t, self._t_seen)  # raises, naming the offending time
        self._t_seen = t1
        self.n_samples += m
        # fast path: nothing pending, no break (loss or gap) and every velocity window of
        # the chunk reaches at least one sample back; checked exactly as _ingest does
        step = t0 - self._t_last
        if (
            not self._prev_lost
            and self._pend.shape[1] == 0
            and not step > self._gap
            and not dt_max > self._gap
            and max(step, dt_max) <= self._win_fast
            and finite
        ):
            return self._ingest_clean(t, x, y)
        return self._ingest(t, x, y)

    def flush(self) -> list[FixationEvent]:
        """End of stream: settle pending samples and end the open fixation, if any."""
        events = self._ingest(np.zeros(0), np.zeros(0), np.zeros(0), final=True)
        if self._state != _IDLE:
            self._finalize(self._t_seen, events)
        return events

    # ------------------------------------------------------------------ stages 1-3
    def _ingest(
        self, t: NDArray, x: NDArray, y: NDArray, *, final: bool = False
    ) -> list[FixationEvent]:
        meas = np.isfinite(x)
        meas &= np.isfinite(y)
        clean = not final and self._pend.shape[1] == 0 and bool(meas.all())
        if clean:
            ts, xs, ys, ks = t, x, y, t  # fast path: nothing pending, no loss here
            ls = None
            self._anchor = (float(t[-1]), float(x[-1]), float(y[-1]))
        else:
            ts, xs, ys, meas, ls, ks = self._settle(t, x, y, final)
            if len(ts) == 0:
                return []
            if not ls.any():
                ls = None
        m = len(ts)
        h = self._hist
        g0 = h.stop
        blk = h.grow(m)[:, -m:]
        blk[_T] = ts
        blk[_X] = xs
        blk[_Y] = ys
        unit_rays(self.screen, xs, ys, out=self._rays.grow(m)[-m:])
        # segments: a lost sample, or a time jump longer than the gap fill, breaks the signal
        brk = self._prev_lost or ts[0] - self._t_last > self._gap
        if not brk and ls is None and m > 1:
            brk = bool((ts[1:] - ts[:-1]).max() > self._gap)
        if brk or ls is not None:
            jump = np.empty(m, dtype=bool)
            jump[0] = self._prev_lost or ts[0] - self._t_last > self._gap
            np.greater(ts[1:] - ts[:-1], self._gap, out=jump[1:])
            if ls is not None:
                jump[1:] |= ls[:-1]
            seg = np.maximum.accumulate(np.where(jump, np.arange(g0, g0 + m), self._seg))
            blk[_SEG] = seg
            self._seg = float(seg[-1])
            brk = bool(jump.any())
        else:
            blk[_SEG] = self._seg
        self._t_last = float(ts[-1])
        self._prev_lost = ls is not None and bool(ls[-1])
        if clean:
            blk[_MEAS] = 1.0
        else:
            blk[_MEAS] = meas
            unmeas = np.flatnonzero(~meas)
            if len(unmeas):
                self._unmeas = g0 + int(unmeas[-1])
        events = self._label_and_track(g0, ls, ks, brk)
        # keep what the next velocity windows and the open candidate need
        ht = h.cols[_T]
        keep = h.base + max(0, int(ht.searchsorted(ht[-1] - self._win, side="left")) - 2)
        if self._state != _IDLE:
            keep = min(keep, self._a_m - 1, self._b_j - 1)
        self._trim(keep)
        return events

    def _ingest_clean(self, t: NDArray, x: NDArray, y: NDArray) -> list[FixationEvent]:
        """:meth:`_ingest` for a chunk of measured samples that continues the segment.

        Same arithmetic, in the same order, as the general path (hence the same bits), but
        written for the common case: rows are written straight into the history, rays and
        velocities come from one compiled call, and a chunk whose samples all fall on one
        side of the thresholds is tracked as a single run without labelling each sample.
        The segment column, only ever read for the rows just written by :meth:`_ingest`, is
        not written here.
        """
        m = len(t)
        self._anchor = (t.item(-1), x.item(-1), y.item(-1))
        h = self._hist
        base = h.base
        first = len(h)
        cols = h.grow(m)
        ht = cols[_T]
        self._t_last = t.item(-1)
        self._prev_lost = False
        # history rows, unit_rays and ray_velocity in one compiled call: the window start
        # never needs clipping to i - 1 (checked by the caller), only to the segment start,
        # which is the same for the whole chunk
        j = np.empty(m, dtype=np.intp)
        v = np.empty(m)
        v_max, v_min = clean_chunk(
            cols,
            self._rays.grow(m),
            t,
            x,
            y,
            first,
            int(self._seg) - base,
            self._win,
            self._geom,
            j,
            v,
        )
        j_last = j.item(-1)
        # labels (no sample is lost here). Consecutive runs that the state machine treats
        # alike are one run: all below the movement threshold inside (or starting) a
        # fixation, or all at or above the onset threshold outside one.
        st = self._state
        events: list[FixationEvent]
        if v_max < self._move and (st == _IN_FIX or v.item(0) < self._on):
            if st == _IN_FIX and self._conf:  # _track's whole effect for this one run
                z = m - 1
                jz = j.item(z)
                mz = (jz + first + z) >> 1 if self._centre else first + z
                self._b_m, self._b_tm, self._b_tv = mz + base, ht.item(mz), ht.item(first + z)
                self._b_j, self._b_i = jz + base, base + first + z
                events = []
            else:
                events = self._track(((0, m, _FIX),), ht, first, j, base, t)
        elif v_min >= self._on and (st != _IN_FIX or v.item(0) >= self._move):
            events = [] if st == _IDLE else self._track(((0, m, _MOVE),), ht, first, j, base, t)
        else:
            events = self._track(label_runs(self._thr, v), ht, first, j, base, t)
        keep = base + max(0, j_last - 2)
        if self._state != _IDLE:
            keep = min(keep, self._a_m - 1, self._b_j - 1)
        self._trim(keep)
        return events

    def _trim(self, keep: int) -> None:
        """Forget history rows before running index ``keep``, in batches.

        Nothing reads a row below ``keep`` again (window starts only move forward), so
        keeping a few hundred more rows changes no result and saves a call per chunk.
        """
        if keep - self._hist.base >= _TRIM_BATCH:
            self._hist.trim(keep)
            self._rays.trim(keep)

    def _settle(
        self, t: NDArray, x: NDArray, y: NDArray, final: bool
    ) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray, NDArray]:
        """Gap resolution with the pending tail and the last valid sample as anchor."""
        sc = settle_chunk(self._pend, self._anchor, t, x, y, self._gap, final=final)
        self._pend, self._anchor = sc.pending, sc.anchor
        return sc.t, sc.x_filled, sc.y_filled, sc.measured, sc.lost, sc.known

    def _label_and_track(
        self, g0: int, lost: NDArray | None, known: NDArray, brk: bool
    ) -> list[FixationEvent]:
        h = self._hist
        cols = h.cols
        first = g0 - h.base
        ht = cols[_T]
        v, j, _ = ray_velocity(
            ht, self._rays.rows, cols[_SEG, first:] - h.base, first, self._win, may_break=brk
        )
        lost_too = None
        if brk or lost is not None:
            lost_too = np.isnan(v)
            if lost is not None:
                lost_too |= lost
        return self._track(label_runs(self._thr, v, lost_too), ht, first, j, h.base, known)

    # ------------------------------------------------------------------ stage 4
    def _track(
        self,
        runs: Runs,
        ht: NDArray,
        first: int,
        j: NDArray,
        base: int,
        known: NDArray,
    ) -> list[FixationEvent]:
        """Run the candidate state machine over runs of equal labels.

        ``runs`` holds ``(r0, r1, label)`` for chunk positions ``r0 .. r1 - 1``. For the
        velocity sample at position ``k`` of this chunk (history row ``first + k``):
        ``ht[first + k]`` is its time, ``j[k]`` the history row starting its window (a
        fixation ending there is dated at the row in the middle of the window, or at the
        sample itself without ``centre_window``) and ``known[k]`` when it became decidable.
        Scalars are read with ``.item`` where needed rather than converting whole arrays.
        """
        events: list[FixationEvent] = []
        merge_s = self._merge_s
        for r0, r1, lb in runs:
            st = self._state
            if lb == _MID and st == _IN_FIX:
                lb = _FIX  # between the two thresholds: continues a fixation, starts none
            if lb == _FIX:
                self._fixation_run(r0, r1, ht, first, j, base, known, events)
            elif lb != _LOST:  # movement, or a mid-velocity run outside a fixation
                if st == _IN_FIX:
                    self._state = st = _IN_GAP
                if st == _IN_GAP and ht.item(first + r1 - 1) > self._b_tv + merge_s:
                    tv = ht[first + r0 : first + r1]
                    k = r0 + int(tv.searchsorted(self._b_tv + merge_s, side="right"))
                    self._finalize(known.item(k), events)
            elif st != _IDLE:
                self._finalize(known.item(r0), events)
        return events

    def _fixation_run(
        self,
        r0: int,
        r1: int,
        ht: NDArray,
        first: int,
        j: NDArray,
        base: int,
        known: NDArray,
        events: list[FixationEvent],
    ) -> None:
        """A run of fixation samples: merge with, continue or start a candidate; emit starts."""
        g0 = base + first
        st = self._state
        if st == _IN_GAP:
            if ht.item(first + r0) <= self._b_tv + self._merge_s and self._close(
                j.item(r0) + base, g0 + r0
            ):
                st = _IN_FIX
            else:
                self._finalize(known.item(r0), events)
                st = _IDLE
        if st == _IDLE:
            self._fid += 1
            self._a_m = g0 + r0
            self._a_t = ht.item(first + r0)
            self._prov = self._conf = False
            self._t_conf = math.nan
        self._state = _IN_FIX
        z = r1 - 1
        mz = (j.item(z) + first + z) >> 1 if self._centre else first + z
        self._b_m, self._b_tm, self._b_tv = mz + base, ht.item(mz), ht.item(first + z)
        self._b_j, self._b_i = j.item(z) + base, g0 + z
        if self._conf:
            return
        for kind, thr in (("start_provisional", self._prov_s), ("start_confirmed", self._min_s)):
            if kind == "start_provisional" and self._prov:
                continue
            if not self._b_tm >= self._a_t + thr:
                break
            k, mk = self._first_dated(r0, z, self._a_t + thr, ht, first, j)
            if kind == "start_provisional":
                self._prov = True
            else:
                self._conf = True
                self._t_conf = known.item(k)
            events.append(self._start_event(kind, ht.item(mk), mk + base, known.item(k)))

    def _first_dated(
        self, lo: int, hi: int, target: float, ht: NDArray, first: int, j: NDArray
    ) -> tuple[int, int]:
        """First run position dated at or after ``target``, and its dating row.

        The dates are non-decreasing: searchsorted, side left, as a scalar bisection.
        """
        centre = self._centre
        while lo < hi:
            k = (lo + hi) >> 1
            mk = (j.item(k) + first + k) >> 1 if centre else first + k
            if ht.item(mk) < target:
                lo = k + 1
            else:
                hi = k
        mk = (j.item(lo) + first + lo) >> 1 if centre else first + lo
        return lo, mk

    # ------------------------------------------------------------------ summaries
    def _measured(self, m0: int, m1: int) -> NDArray:
        """Samples ``[m0, m1]`` (running indices) of x, y for measured samples only.

        Returned as columns: shape ``(2, n)``.
        """
        h = self._hist
        blk = h.cols[:, m0 - h.base : m1 - h.base + 1]
        xy = blk[_X:_SEG]
        if blk.shape[1] == 0:
            return xy
        if m0 > self._unmeas:
            return xy
        meas = blk[_MEAS]
        if np.minimum.reduce(meas) > 0:
            return xy
        return xy[:, meas > 0]

    def _mean_between(self, m0: int, m1: int) -> tuple[float, float, int]:
        """Mean (px) of the measured samples with running index in ``[m0, m1]``.

        Positions are rounded to 1/1024 px before summing, so the sums are integers held
        exactly in float64 and do not depend on summation order (hence not on chunking).
        A few samples (a velocity window) are summed as Python integers, which gives the
        same result faster; a zero sum (whose sign numpy would keep) or a huge coordinate
        take the numpy route.
        """
        h = self._hist
        a0 = m0 - h.base
        if m1 - m0 < _FEW and m0 > self._unmeas and a0 >= 0:  # a few, all measured
            xs, ys = h.cols[_X:_SEG, a0 : m1 - h.base + 1].tolist()
            sx = sy = 0
            for a, b in zip(xs, ys, strict=True):
                a *= _Q
                b *= _Q
                if not (-_BIG < a < _BIG and -_BIG < b < _BIG):
                    break
                sx += round(a)
                sy += round(b)
            else:
                n = len(xs)
                if n == 0:
                    return math.nan, math.nan, 0
                if sx and sy:
                    return sx / _Q / n, sy / _Q / n, n
        return self._mean_of(self._measured(m0, m1))

    @staticmethod
    def _mean_of(xy: NDArray) -> tuple[float, float, int]:
        """:meth:`_mean_between` of the samples given (columns x, y px, all measured)."""
        n = xy.shape[1]
        if n == 0:
            return math.nan, math.nan, 0
        sx, sy = np.add.reduce(np.rint(xy * _Q), axis=1).tolist()
        return sx / _Q / n, sy / _Q / n, n

    def _ray(self, x: float, y: float) -> tuple[float, float, float]:
        ux, uy, uz = (x - self._hw) * self._mx, (y - self._hh) * self._my, self._d
        r = math.sqrt(ux * ux + uy * uy + uz * uz)
        return ux / r, uy / r, uz / r

    def _close(self, j: int, i: int) -> bool:
        """Whether an interrupted candidate may merge with the run resuming at sample ``i``.

        True when the mean gaze over samples ``[j, i]`` (the velocity window of the sample
        that resumes) lies within ``merge_deg`` of the mean gaze over the velocity window of
        the last fixation sample before the interruption.
        """
        x0, y0, n0 = self._mean_between(self._b_j, self._b_i)
        x1, y1, n1 = self._mean_between(j, i)
        if n0 == 0 or n1 == 0:
            return False
        a, b = self._ray(x0, y0), self._ray(x1, y1)
        chord = math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)
        return math.degrees(2.0 * math.asin(min(1.0, chord / 2.0))) <= self.params.merge_deg

    def _summary(
        self, m0: int, m1: int, dispersion: bool = True
    ) -> tuple[float, float, float, float, float, int]:
        """Centroid (px, deg), dispersion (deg) and sample count of samples ``[m0, m1]``."""
        if not dispersion:
            cx, cy, n = self._mean_between(m0, m1)
            if n == 0:
                return math.nan, math.nan, math.nan, math.nan, math.nan, 0
            return cx, cy, self._deg_x(cx), self._deg_y(cy), math.nan, n
        xy = self._measured(m0, m1)
        cx, cy, n = self._mean_of(xy)
        if n == 0:
            return math.nan, math.nan, math.nan, math.nan, math.nan, 0
        disp = math.nan
        if dispersion:
            x0, y0 = np.minimum.reduce(xy, axis=1).tolist()
            x1, y1 = np.maximum.reduce(xy, axis=1).tolist()
            # px -> deg is monotonic on each axis, so the extremes map to the extremes
            disp = self._deg_x(x1) - self._deg_x(x0) + self._deg_y(y1) - self._deg_y(y0)
        return cx, cy, self._deg_x(cx), self._deg_y(cy), disp, n

    def _deg_x(self, x: float) -> float:
        """Scalar :func:`~acquisition.geometry.px_to_deg` along x."""
        return math.degrees(math.atan2((x - self._hw) * self._mx, self._d))

    def _deg_y(self, y: float) -> float:
        """Scalar :func:`~acquisition.geometry.px_to_deg` along y."""
        return math.degrees(math.atan2((y - self._hh) * self._my, self._d))

    def _start_event(self, kind: str, t_k: float, m_k: int, known_k: float) -> FixationEvent:
        # a provisional start is about speed: centroid only, no dispersion
        cx, cy, dx, dy, disp, n = self._summary(
            self._a_m, max(self._a_m, m_k), dispersion=kind != "start_provisional"
        )
        return _new_event(
            kind=kind,
            t_emitted=known_k,
            t_start=self._a_t,
            x_px=cx,
            y_px=cy,
            x_deg=dx,
            y_deg=dy,
            duration_ms=max(0.0, t_k - self._a_t) * 1000.0,
            dispersion_deg=disp,
            fixation_id=self._fid,
            t_confirmed=self._t_conf,
            n_samples=n,
        )

    def _finalize(self, t_emit: float, events: list[FixationEvent]) -> None:
        if self._conf:
            cx, cy, dx, dy, disp, n = self._summary(self._a_m, self._b_m)
            events.append(
                _new_event(
                    kind="end",
                    t_emitted=t_emit,
                    t_start=self._a_t,
                    t_end=self._b_tm,
                    x_px=cx,
                    y_px=cy,
                    x_deg=dx,
                    y_deg=dy,
                    duration_ms=(self._b_tm - self._a_t) * 1000.0,
                    dispersion_deg=disp,
                    fixation_id=self._fid,
                    t_confirmed=self._t_conf,
                    n_samples=n,
                )
            )
        elif self._prov:
            events.append(
                _new_event(
                    kind="cancel",
                    t_emitted=t_emit,
                    t_start=self._a_t,
                    duration_ms=max(0.0, self._b_tm - self._a_t) * 1000.0,
                    fixation_id=self._fid,
                )
            )
        self._state = _IDLE
        self._prov = self._conf = False


def detect_fixations(
    samples: np.ndarray, screen: ScreenGeometry, params: IVTParams | None = None
) -> list[FixationEvent]:
    """Offline convenience: all events of a whole recording (feed everything, then flush)."""
    det = OnlineFixationDetector(screen, params)
    return det.feed(samples) + det.flush()
