"""Causal, streaming dispersion-threshold (I-DT) fixation detector.

Salvucci & Goldberg's I-DT, made causal: a fixation is *detected* at the first sample ``i``
for which the samples of the last ``min_duration_ms`` (ending at ``i``) lie within
``dispersion_deg``; its start is then moved back to the earliest sample that keeps the
dispersion within the limit (never before the previous fixation or a data loss). It grows
while each new sample keeps the dispersion within the limit and ends at the sample before
the first one that does not. A provisional start is emitted the same way for windows of
``provisional_ms``; if the candidate fails before ``min_duration_ms`` it is cancelled and
the search resumes at the failing sample.

Dispersion is ``(max x - min x) + (max y - min y)`` in degrees from the screen centre,
over measured samples (losses up to ``gap_fill_ms`` are skipped, longer ones end the
fixation). Like :class:`~acquisition.fixations.ivt.OnlineFixationDetector`, chunking does
not change the events, and ``t_emitted`` is the time of the sample that made each decidable.
The work per chunk is vectorised per phase; the Python loop runs once per decision.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from acquisition.fixations._history import History
from acquisition.fixations._signal import average_eyes_px, check_time_order, settle_chunk
from acquisition.fixations.events import FixationEvent
from acquisition.fixations.params import IDTParams
from acquisition.geometry import ScreenGeometry, px_to_deg

__all__ = ["OnlineIDTDetector"]

_SEARCH, _CAND = 0, 1
_BLOCK = 512  # samples examined per vectorised step


class OnlineIDTDetector:
    """Streaming I-DT fixation detector (same interface as the I-VT detector).

    Parameters
    ----------
    screen : ScreenGeometry
    params : IDTParams, optional
    """

    def __init__(self, screen: ScreenGeometry, params: IDTParams | None = None) -> None:
        self.screen = screen
        self.params = params if params is not None else IDTParams()
        p = self.params
        self._disp = p.dispersion_deg
        self._min_s = p.min_duration_ms / 1000.0
        self._prov_s = p.provisional_ms / 1000.0
        self._gap = p.gap_fill_ms / 1000.0
        self.reset()

    def reset(self) -> None:
        """Forget all state."""
        # settled samples from running index self._base: t, x_px, y_px, x_deg, y_deg, known
        # (rows appended in amortised O(new rows), however long the open candidate grows)
        self._hist = History(6)
        self._pend = np.zeros((3, 0))
        self._anchor: tuple[float, float, float] | None = None
        self._t_seen = -math.inf
        self._state = _SEARCH
        self._floor = 0  # earliest running index a window may start at
        self._scan = 0  # next running index to examine
        self._a = 0  # candidate start (running index)
        self._ext = np.zeros(4)  # running min x, max x, min y, max y (deg) of the candidate
        self._prov = self._conf = False
        self._t_conf = math.nan
        self._fid = 0
        self.n_samples = 0

    # ------------------------------------------------------------------ public API
    def feed(self, samples: np.ndarray) -> list[FixationEvent]:
        """Process :data:`~acquisition.samples.SAMPLE_DTYPE` rows (oldest first)."""
        if len(samples) == 0:
            return []
        t, x, y = average_eyes_px(samples, self.screen)
        return self.feed_px(t, x, y)

    def feed_px(self, t: NDArray, x_px: NDArray, y_px: NDArray) -> list[FixationEvent]:
        """Process samples given as session times (s) and screen px (NaN = invalid)."""
        t = np.asarray(t, dtype=np.float64)
        if len(t) == 0:
            return []
        check_time_order(t, self._t_seen)
        self._t_seen = float(t[-1])
        self.n_samples += len(t)
        return self._ingest(t, np.asarray(x_px, np.float64), np.asarray(y_px, np.float64), False)

    def flush(self) -> list[FixationEvent]:
        """End of stream: settle pending samples and end the open fixation, if any."""
        events = self._ingest(np.zeros(0), np.zeros(0), np.zeros(0), True)
        if self._state == _CAND:
            self._finish(self._base + self._buf.shape[1] - 1, self._t_seen, events)
        return events

    # ------------------------------------------------------------------ internals
    @property
    def _buf(self) -> NDArray[np.float64]:
        """The settled samples as columns, shape (6, n) (a view, valid until the next append)."""
        return self._hist.rows.T

    @property
    def _base(self) -> int:
        """Running index of the oldest settled sample kept."""
        return self._hist.base

    def _ingest(self, t: NDArray, x: NDArray, y: NDArray, final: bool) -> list[FixationEvent]:
        sc = settle_chunk(self._pend, self._anchor, t, x, y, self._gap, final=final)
        self._pend, self._anchor = sc.pending, sc.anchor
        ts, xs, ys, ls, ks, meas = sc.t, sc.x, sc.y, sc.lost, sc.known, sc.measured
        events: list[FixationEvent] = []
        if len(ts) == 0:
            return events
        dx, dy = px_to_deg(self.screen, xs, ys)
        # samples skipped in a short loss (filled) are simply absent from the dispersion;
        # a long loss is processed where it occurs
        lost_idx = np.flatnonzero(ls)
        keep = meas | ls
        new = np.stack((ts, xs, ys, dx, dy, ks))
        # split at lost samples: process each stretch, then break at the loss
        stops = [*lost_idx.tolist(), len(ts)]
        a = 0
        for s in stops:
            seg = new[:, a:s][:, keep[a:s]]
            self._append(seg)
            self._advance(events)
            if s < len(ts):  # a long data loss: ends/cancels the candidate, resets the search
                if self._state == _CAND:
                    self._finish(self._base + self._buf.shape[1] - 1, float(ks[s]), events)
                self._state = _SEARCH
                self._floor = self._scan = self._base + self._buf.shape[1]
            a = s + 1
        self._trim()
        return events

    def _append(self, seg: NDArray) -> None:
        if seg.shape[1]:
            self._hist.append(seg.T)

    def _trim(self) -> None:
        if self._state == _CAND:
            lo = self._a
        else:
            t = self._buf[0]
            n = len(t)
            if n == 0:
                return
            i = int(np.searchsorted(t, t[-1] - self._min_s, side="right")) - 2
            lo = max(self._floor, self._base + max(0, i))
        self._hist.trim(lo)

    def _advance(self, events: list[FixationEvent]) -> None:
        """Examine buffered samples from ``self._scan`` on, deciding as far as possible."""
        while self._scan < self._base + self._buf.shape[1]:
            if self._state == _SEARCH:
                self._search(events)
            else:
                self._grow(events)

    def _search(self, events: list[FixationEvent]) -> None:
        """Find the first scanned sample ending a provisional window within the limit.

        Examines at most ``_BLOCK`` samples per call, so the work stays linear.
        """
        b = self._buf
        lo = max(0, self._floor - self._base)
        s0 = self._scan - self._base
        t = b[0]
        s1 = min(len(t), s0 + _BLOCK)
        i = np.arange(s0, s1)
        a = np.searchsorted(t, t[s0:s1] - self._prov_s, side="right") - 1
        ok = a >= lo
        if not ok.any():
            self._scan = self._base + s1
            return
        width = int((i - a)[ok].max()) + 1
        idx = np.minimum(np.maximum(a, lo)[:, None] + np.arange(width), i[:, None])
        xd, yd = b[3][idx], b[4][idx]
        d = xd.max(1) - xd.min(1) + yd.max(1) - yd.min(1)
        hit = np.flatnonzero(ok & (d <= self._disp))
        if len(hit) == 0:
            self._scan = self._base + s1
            return
        k = s0 + int(hit[0])
        # extend the start back as far as the dispersion allows
        xs, ys = b[3][lo : k + 1][::-1], b[4][lo : k + 1][::-1]
        dd = (
            np.maximum.accumulate(xs)
            - np.minimum.accumulate(xs)
            + np.maximum.accumulate(ys)
            - np.minimum.accumulate(ys)
        )
        back = int(np.flatnonzero(dd <= self._disp)[-1])
        a0 = k - back
        self._a = self._base + a0
        self._ext = np.array(
            [xs[: back + 1].min(), xs[: back + 1].max(), ys[: back + 1].min(), ys[: back + 1].max()]
        )
        self._state = _CAND
        self._fid += 1
        self._prov = self._conf = False
        self._t_conf = math.nan
        self._scan = self._base + k
        self._check_duration(k, events)
        self._scan = self._base + k + 1

    def _grow(self, events: list[FixationEvent]) -> None:
        """Extend the candidate over scanned samples until the dispersion is exceeded."""
        b = self._buf
        s0 = self._scan - self._base
        s1 = min(b.shape[1], s0 + _BLOCK)
        xs, ys = b[3][s0:s1], b[4][s0:s1]
        e = self._ext
        mnx = np.minimum.accumulate(np.concatenate(([e[0]], xs)))[1:]
        mxx = np.maximum.accumulate(np.concatenate(([e[1]], xs)))[1:]
        mny = np.minimum.accumulate(np.concatenate(([e[2]], ys)))[1:]
        mxy = np.maximum.accumulate(np.concatenate(([e[3]], ys)))[1:]
        over = np.flatnonzero(mxx - mnx + mxy - mny > self._disp)
        stop = s0 + int(over[0]) if len(over) else s1
        if stop > s0:
            j = stop - s0 - 1
            self._ext = np.array([mnx[j], mxx[j], mny[j], mxy[j]])
            self._check_duration(stop - 1, events)
        if len(over):
            self._finish(self._base + stop - 1, float(b[5][stop]), events)
            self._state = _SEARCH
            self._floor = self._scan = self._base + stop
            return
        self._scan = self._base + stop

    def _check_duration(self, k: int, events: list[FixationEvent]) -> None:
        """Emit the starts that became due by buffer index ``k`` (inclusive)."""
        if self._conf:
            return
        b = self._buf
        a = self._a - self._base
        t = b[0]
        s0 = max(a, self._scan - self._base)
        for thr, kind in ((self._prov_s, "start_provisional"), (self._min_s, "start_confirmed")):
            if kind == "start_provisional" and self._prov:
                continue
            if t[k] < t[a] + thr:  # the same comparison as the searchsorted below
                return
            j = s0 + int(np.searchsorted(t[s0 : k + 1], t[a] + thr, side="left"))
            if kind == "start_provisional":
                self._prov = True
            else:
                self._conf = True
                self._t_conf = float(b[5][j])
            events.append(self._event(kind, a, j, float(b[5][j])))

    def _event(self, kind: str, a: int, j: int, t_emit: float, end: bool = False) -> FixationEvent:
        b = self._buf
        sl = slice(a, j + 1)
        # contiguous copies: the same summation order as on a contiguous column
        cx = float(np.mean(np.ascontiguousarray(b[1][sl])))
        cy = float(np.mean(np.ascontiguousarray(b[2][sl])))
        dx, dy = px_to_deg(self.screen, cx, cy)
        disp = float(np.ptp(b[3][sl]) + np.ptp(b[4][sl]))
        return FixationEvent(
            kind=kind,  # type: ignore[arg-type]
            t_emitted=t_emit,
            t_start=float(b[0][a]),
            t_end=float(b[0][j]) if end else math.nan,
            x_px=cx,
            y_px=cy,
            x_deg=float(dx),
            y_deg=float(dy),
            duration_ms=(float(b[0][j]) - float(b[0][a])) * 1000.0,
            dispersion_deg=disp,
            fixation_id=self._fid,
            t_confirmed=self._t_conf,
            n_samples=j - a + 1,
        )

    def _finish(self, last: int, t_emit: float, events: list[FixationEvent]) -> None:
        a = self._a - self._base
        j = last - self._base
        if self._conf:
            events.append(self._event("end", a, j, t_emit, end=True))
        elif self._prov:
            ev = self._event("cancel", a, j, t_emit)
            events.append(
                FixationEvent(
                    kind="cancel",
                    t_emitted=t_emit,
                    t_start=ev.t_start,
                    duration_ms=ev.duration_ms,
                    fixation_id=self._fid,
                )
            )
        self._state = _SEARCH
        self._prov = self._conf = False
