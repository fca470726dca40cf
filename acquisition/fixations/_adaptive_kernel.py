"""The compiled part of the noise-adaptive detector (numba; see ``adaptive.py``).

One call (:func:`feed_samples` or :func:`feed_px`) drops the history no decision needs any
more, appends the new samples to it (binocular average, screen px, degrees), runs the
per-sample decisions (:func:`run`) over them and summarises the events they gave. Every
decision lives in the state arrays, so the events cannot depend on how the stream was
chunked, and a chunk costs one compiled call
(a 60 Hz tracker gives three samples per 50 ms; Python work per call would dominate).

The history is a ``(5, capacity)`` block of columns ``t, x_deg, y_deg, x_px, y_px``; ``H``
holds ``(first used column, samples kept, running index of the first)``. Events are written
as rows of ``out``: ``(kind, start, end, emitted, fixation id, confirmed)`` as running
indices (``end`` and ``confirmed`` are -1 where they do not apply).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "CANCEL",
    "END",
    "N_FLOAT",
    "N_INT",
    "START_CONFIRMED",
    "START_PROVISIONAL",
    "feed_px",
    "feed_samples",
    "finish",
    "new_state",
    "oldest_needed",
    "run",
    "summarise",
]

START_PROVISIONAL, START_CONFIRMED, END, CANCEL = 0, 1, 2, 3

# float state
_SIG, _NN, _CX, _CY, _NFIX, _CCX, _CCY, _CN, _PX, _PY, _DT, _QCX, _QCY, _QN, _LAST_T = range(15)
_T_SEEN = 15
_SIGF = 16  # the noise over the last burst_ms
N_FLOAT = 17
# int state
_IN, _FS, _FE, _OUT, _OUT0, _CS, _LASTV, _PEND, _QS, _QE, _FID, _PROV, _CONF, _CONFI = range(14)
_QFID, _QPROV, _QCONF, _QCONFI, _NEXT = range(14, 19)
N_INT = 19
# parameters (seconds and degrees), in this order
(_A, _RMIN, _RMAX, _NOISE, _CENT, _ONSET, _EXIT, _B, _EMIN, _EDGE, _GAP, _MERGE, _MERGED, _MIN,
 _STEP, _BURST) = range(16)  # fmt: skip


def new_state() -> tuple[np.ndarray, np.ndarray]:
    """Fresh ``(float state, int state)``."""
    f = np.zeros(N_FLOAT)
    f[_PX] = f[_PY] = f[_DT] = f[_LAST_T] = math.nan
    f[_T_SEEN] = -math.inf
    i = np.full(N_INT, -1, dtype=np.int64)
    i[_IN] = i[_OUT] = i[_PEND] = i[_PROV] = i[_CONF] = i[_NEXT] = 0
    return f, i


@njit(cache=True)
def _emit(out, k, kind, s, e, at, fid, confi):
    out[k, 0] = kind
    out[k, 1] = s
    out[k, 2] = e
    out[k, 3] = at
    out[k, 4] = fid
    out[k, 5] = confi
    return k + 1


@njit(cache=True)
def summarise(hist, H, S, out, k, outf):
    """Summaries of event rows ``0 .. k - 1``, written to ``outf`` (one row each).

    Times, centroid (px, and the degrees of the centroid), dispersion and sample count.
    """
    lo, base = H[0], H[2]
    for r in range(k):
        kind, s, e, at, confi = out[r, 0], out[r, 1], out[r, 2], out[r, 3], out[r, 5]
        last = e if e >= 0 else at
        sx = sy = 0.0
        n = 0
        mnx = mny = math.inf
        mxx = mxy = -math.inf
        for c in range(s - base + lo, last - base + lo + 1):
            xp, yp = hist[3, c], hist[4, c]
            if xp == xp and yp == yp:
                sx += xp
                sy += yp
                n += 1
                xd, yd = hist[1, c], hist[2, c]
                mnx, mxx = min(mnx, xd), max(mxx, xd)
                mny, mxy = min(mny, yd), max(mxy, yd)
        t0 = hist[0, s - base + lo]
        outf[r, 0] = hist[0, at - base + lo]
        outf[r, 1] = t0
        outf[r, 2] = hist[0, e - base + lo] if kind == END else math.nan
        if n:
            cx, cy = sx / n, sy / n
            outf[r, 3], outf[r, 4] = cx, cy
            outf[r, 5] = math.degrees(math.atan2((cx - S[0] / 2.0) * S[2], S[4]))
            outf[r, 6] = math.degrees(math.atan2((cy - S[1] / 2.0) * S[3], S[4]))
            outf[r, 8] = (mxx - mnx) + (mxy - mny)
        else:
            outf[r, 3] = outf[r, 4] = outf[r, 5] = outf[r, 6] = outf[r, 8] = math.nan
        outf[r, 7] = (hist[0, last - base + lo] - t0) * 1000.0
        outf[r, 9] = hist[0, confi - base + lo] if confi >= 0 else math.nan
        outf[r, 10] = n


@njit(cache=True)
def _final(out, k, conf, prov, s, e, at, fid, confi):
    """A fixation's last word: its end when confirmed, a cancel when only provisional."""
    if conf == 1:
        return _emit(out, k, END, s, e, at, fid, confi)
    if prov == 1:
        return _emit(out, k, CANCEL, s, e, at, fid, -1)
    return k


@njit(cache=True)
def _close_pending(IS, at, out, k):
    """The ended fixation waiting for a possible merge is final."""
    if IS[_PEND] == 1:
        k = _final(out, k, IS[_QCONF], IS[_QPROV], IS[_QS], IS[_QE], at, IS[_QFID], IS[_QCONFI])
        IS[_PEND] = 0
    return k


@njit(cache=True)
def _end_now(IS, at, out, k):
    """End the open fixation at its last sample, without waiting for a merge."""
    if IS[_IN] == 1:
        k = _final(out, k, IS[_CONF], IS[_PROV], IS[_FS], IS[_FE], at, IS[_FID], IS[_CONFI])
        IS[_IN] = IS[_PROV] = IS[_CONF] = 0
    return k


@njit(cache=True)
def _restart_candidate(t, x, y, base, F, IS, k0, k1, R):
    """Rebuild the candidate from samples ``k0 .. k1``: the last run within R of its mean."""
    IS[_CS] = -1
    for kk in range(k0, k1 + 1):
        j = kk - base
        if x[j] != x[j] or y[j] != y[j]:
            continue
        if IS[_CS] < 0 or math.hypot(x[j] - F[_CCX], y[j] - F[_CCY]) > R:
            IS[_CS] = kk
            F[_CCX] = x[j]
            F[_CCY] = y[j]
            F[_CN] = 1.0
        else:
            F[_CN] += 1.0
            F[_CCX] += (x[j] - F[_CCX]) / F[_CN]
            F[_CCY] += (y[j] - F[_CCY]) / F[_CN]


@njit(cache=True)
def _confirm(t, base, F, IS, i, out, k, min_s):
    if IS[_IN] == 1 and IS[_CONF] == 0 and t[i - base] - t[IS[_FS] - base] >= min_s:
        IS[_CONF] = 1
        IS[_CONFI] = i
        k = _emit(out, k, START_CONFIRMED, IS[_FS], -1, i, IS[_FID], i)
    return k


@njit(cache=True)
def _still(x, y, j, d, F, P):
    """The step between samples ``j`` and ``j + d`` is within ``edge_step_factor`` noise."""
    jj = j + d
    if jj < 0 or jj >= len(x) or x[jj] != x[jj]:
        return True
    return math.hypot(x[jj] - x[j], y[jj] - y[j]) <= P[_STEP] * F[_SIG]


@njit(cache=True)
def _leave(t, x, y, base, F, IS, P, i, E, R, out, k):
    """The gaze left the fixation: trim its end, hold it for a merge, start a candidate."""
    fs, fe = IS[_FS], IS[_FE]
    kk = fe
    while kk > fs:
        j = kk - base
        if t[fe - base] - t[j] >= P[_EDGE]:
            break
        near = x[j] == x[j] and math.hypot(x[j] - F[_CX], y[j] - F[_CY]) <= E
        if near and _still(x, y, j, -1, F, P):
            break
        kk -= 1
    IS[_PEND] = 1
    IS[_QS], IS[_QE], IS[_QFID] = fs, kk, IS[_FID]
    IS[_QPROV], IS[_QCONF], IS[_QCONFI] = IS[_PROV], IS[_CONF], IS[_CONFI]
    F[_QCX], F[_QCY], F[_QN] = F[_CX], F[_CY], F[_NFIX]
    IS[_IN] = 0
    IS[_PROV] = 0
    IS[_CONF] = 0
    _restart_candidate(t, x, y, base, F, IS, IS[_OUT0], i, R)
    return k


@njit(cache=True)
def _accept(t, x, y, base, F, IS, P, i, E, out, k):
    """The candidate held long enough: continue the held fixation, or start a new one."""
    cs = IS[_CS]
    s = cs
    while s < i:  # the first sample near the candidate's centre (past the landing)
        j = s - base
        if t[j] - t[cs - base] >= P[_EDGE]:
            break
        near = x[j] == x[j] and math.hypot(x[j] - F[_CCX], y[j] - F[_CCY]) <= E
        if near and _still(x, y, j, 1, F, P):
            break
        s += 1
    if IS[_PEND] == 1:
        gap = t[cs - base] - t[IS[_QE] - base]
        if gap <= P[_MERGE] and math.hypot(F[_CCX] - F[_QCX], F[_CCY] - F[_QCY]) <= P[_MERGED]:
            IS[_PEND] = 0
            IS[_IN] = 1
            IS[_FS], IS[_FE], IS[_FID] = IS[_QS], i, IS[_QFID]
            IS[_PROV], IS[_CONF], IS[_CONFI] = IS[_QPROV], IS[_QCONF], IS[_QCONFI]
            F[_CX], F[_CY], F[_NFIX] = F[_CCX], F[_CCY], F[_QN] + F[_CN]
            IS[_OUT] = 0
            IS[_CS] = -1
            return k
        k = _close_pending(IS, i, out, k)
    IS[_NEXT] += 1
    IS[_FID] = IS[_NEXT]
    IS[_IN] = 1
    IS[_FS], IS[_FE] = s, i
    IS[_PROV], IS[_CONF], IS[_CONFI] = 1, 0, -1
    F[_CX], F[_CY], F[_NFIX] = F[_CCX], F[_CCY], F[_CN]
    IS[_OUT] = 0
    IS[_CS] = -1
    return _emit(out, k, START_PROVISIONAL, s, -1, i, IS[_FID], -1)


@njit(cache=True)
def _clock(F, ti):
    """Track the sample interval (for counts of samples in a time)."""
    if F[_LAST_T] == F[_LAST_T]:
        dt = ti - F[_LAST_T]
        if dt > 0.0:
            if F[_DT] != F[_DT]:
                F[_DT] = dt
            else:
                F[_DT] += 0.02 * (min(dt, 2.0 * F[_DT]) - F[_DT])
    F[_LAST_T] = ti


@njit(cache=True)
def _noise(F, P, xi, yi, dtv, first):
    """The noise: running, clipped means of the sample-to-sample distance.

    Two of them: over ``noise_ms`` (the tracker's and the recording's level) and over
    ``burst_ms`` (a burst, as when the head moves or the tracking degrades for a moment). Both
    clip a step at 3 times the slow one, so a saccade moves neither much.
    """
    if not first:
        step = math.hypot(xi - F[_PX], yi - F[_PY])
        n = F[_NN]
        if n < 5.0:
            F[_SIG] = (F[_SIG] * n + step) / (n + 1.0)
            F[_SIGF] = F[_SIG]
        else:
            al = max(1.0 - math.exp(-dtv / P[_NOISE]), 1.0 / (n + 1.0))
            F[_SIG] += al * (min(step, 3.0 * F[_SIG]) - F[_SIG])
            if P[_BURST] > 0.0:
                bl = max(1.0 - math.exp(-dtv / P[_BURST]), 1.0 / (n + 1.0))
                F[_SIGF] += bl * (min(step, 3.0 * F[_SIG]) - F[_SIGF])
            else:
                F[_SIGF] = F[_SIG]
        F[_NN] = n + 1.0
    F[_PX] = xi
    F[_PY] = yi


@njit(cache=True)
def _in_fixation(t, x, y, base, F, IS, P, i, dtv, R, E, out, k):
    """A sample while in a fixation: extend it, or count it out (and leave after exit_ms)."""
    xi, yi = x[i - base], y[i - base]
    if math.hypot(xi - F[_CX], yi - F[_CY]) <= R:
        IS[_OUT] = 0
        IS[_FE] = i
        F[_NFIX] += 1.0
        al = max(1.0 - math.exp(-dtv / P[_CENT]), 1.0 / F[_NFIX])
        F[_CX] += al * (xi - F[_CX])
        F[_CY] += al * (yi - F[_CY])
        return _confirm(t, base, F, IS, i, out, k, P[_MIN])
    IS[_OUT] += 1
    if IS[_OUT] == 1:
        IS[_OUT0] = i
    n_out = 2.0
    if F[_DT] == F[_DT] and F[_DT] > 0.0:
        n_out = max(2.0, math.floor(P[_EXIT] / F[_DT] + 0.5))
    if IS[_OUT] >= n_out:
        k = _leave(t, x, y, base, F, IS, P, i, E, R, out, k)
        if IS[_CS] >= 0 and t[i - base] - t[IS[_CS] - base] >= P[_ONSET]:
            k = _accept(t, x, y, base, F, IS, P, i, E, out, k)
            k = _confirm(t, base, F, IS, i, out, k, P[_MIN])
    return k


@njit(cache=True)
def _searching(t, x, y, base, F, IS, P, i, R, E, out, k):
    """A sample outside a fixation: grow (or restart) the candidate; accept it after onset_ms."""
    xi, yi = x[i - base], y[i - base]
    if IS[_CS] >= 0 and math.hypot(xi - F[_CCX], yi - F[_CCY]) <= R:
        F[_CN] += 1.0
        F[_CCX] += (xi - F[_CCX]) / F[_CN]
        F[_CCY] += (yi - F[_CCY]) / F[_CN]
    else:
        IS[_CS] = i
        F[_CCX], F[_CCY], F[_CN] = xi, yi, 1.0
    if t[i - base] - t[IS[_CS] - base] >= P[_ONSET]:
        k = _accept(t, x, y, base, F, IS, P, i, E, out, k)
        k = _confirm(t, base, F, IS, i, out, k, P[_MIN])
    return k


@njit(cache=True)
def run(t, x, y, base, i0, i1, F, IS, P, out):
    """Process samples ``i0 .. i1 - 1``; return the number of event rows written to ``out``."""
    k = 0
    for i in range(i0, i1):
        j = i - base
        ti = t[j]
        _clock(F, ti)
        if IS[_PEND] == 1 and ti - t[IS[_QE] - base] > P[_MERGE] + P[_ONSET]:
            k = _close_pending(IS, i, out, k)  # no candidate can continue it any more
        lv = IS[_LASTV]
        if lv >= 0 and ti - t[lv - base] > P[_GAP]:  # a long loss ends everything before it
            k = _close_pending(IS, i, out, k)
            k = _end_now(IS, i, out, k)
            IS[_CS] = -1
            IS[_LASTV] = lv = -1
        xi, yi = x[j], y[j]
        if xi != xi or yi != yi:
            continue
        dtv = ti - t[lv - base] if lv >= 0 else 0.0
        _noise(F, P, xi, yi, dtv, lv < 0)
        IS[_LASTV] = i
        R = min(P[_RMAX], max(P[_RMIN], P[_A] * max(F[_SIG], F[_SIGF])))
        E = min(R, max(P[_EMIN], P[_B] * F[_SIG]))
        if IS[_IN] == 1:
            k = _in_fixation(t, x, y, base, F, IS, P, i, dtv, R, E, out, k)
        else:
            k = _searching(t, x, y, base, F, IS, P, i, R, E, out, k)
    return k


@njit(cache=True)
def finish(F, IS, at, out):
    """End of stream: the held fixation, then the open one, are final (emitted at ``at``)."""
    k = _close_pending(IS, at, out, 0)
    return _end_now(IS, at, out, k)


@njit(cache=True)
def oldest_needed(IS, newest):
    """The oldest running index the next call may read (everything older can be dropped)."""
    keep = newest
    if IS[_IN] == 1:
        keep = min(keep, IS[_FS])
    if IS[_PEND] == 1:
        keep = min(keep, IS[_QS])
    if IS[_CS] >= 0:
        keep = min(keep, IS[_CS])
    if IS[_LASTV] >= 0:
        keep = min(keep, IS[_LASTV])
    return keep


@njit(cache=True)
def _make_room(hist, H, IS, m):
    """Drop what no decision needs, then make room for ``m`` samples; False if too small."""
    lo, n, base = H[0], H[1], H[2]
    if n > 0:
        drop = min(max(0, oldest_needed(IS, base + n - 1) - base), n)
        lo += drop
        n -= drop
        base += drop
    cap = hist.shape[1]
    if lo + n + m > cap:
        if n + m > cap:
            H[0], H[1], H[2] = lo, n, base
            return False
        for r in range(hist.shape[0]):
            for c in range(n):
                hist[r, c] = hist[r, lo + c]
        lo = 0
    H[0], H[1], H[2] = lo, n, base
    return True


@njit(cache=True)
def _put(hist, H, S, F, c, t, xp, yp):
    """Store one sample at column ``c`` (px -> degrees per axis from the screen centre)."""
    hist[0, c] = t
    hist[3, c] = xp
    hist[4, c] = yp
    # S: width_px, height_px, mm_per_px_x, mm_per_px_y, distance_mm
    hist[1, c] = math.degrees(math.atan2((xp - S[0] / 2.0) * S[2], S[4]))
    hist[2, c] = math.degrees(math.atan2((yp - S[1] / 2.0) * S[3], S[4]))


@njit(cache=True)
def _time_ok(F, t):
    if not math.isfinite(t) or t < F[_T_SEEN]:
        return False
    F[_T_SEEN] = t
    return True


@njit(cache=True)
def _run_new(hist, H, S, F, IS, P, out, outf, m):
    """Run the decisions over the ``m`` new samples, and summarise the events they gave."""
    lo, n, base = H[0], H[1], H[2]
    H[1] = n + m
    end = lo + n + m
    k = run(hist[0, lo:end], hist[1, lo:end], hist[2, lo:end], base, base + n,
            base + n + m, F, IS, P, out)  # fmt: skip
    if k > 0:
        summarise(hist, H, S, out, k, outf)
    return k


@njit(cache=True)
def feed_px(t, xp, yp, hist, H, S, F, IS, P, out, outf):
    """Append samples given in screen px and process them; the number of events written.

    The events' rows are in ``out`` and their summaries (:func:`summarise`) in ``outf``.

    -1: the history block is too small (grow it and call again; nothing was done);
    ``-2 - k``: sample ``k``'s time is not finite or goes back (nothing was processed).
    """
    m = len(t)
    if not _make_room(hist, H, IS, m):
        return -1
    t_seen = F[_T_SEEN]
    for k in range(m):
        if not _time_ok(F, t[k]):
            F[_T_SEEN] = t_seen
            return -2 - k
    c = H[0] + H[1]
    for k in range(m):
        _put(hist, H, S, F, c + k, t[k], xp[k], yp[k])
    return _run_new(hist, H, S, F, IS, P, out, outf, m)


@njit(cache=True)
def feed_samples(samples, hist, H, S, F, IS, P, out, outf):
    """As :func:`feed_px`, from sample rows: the binocular average where both eyes count."""
    m = len(samples)
    if not _make_room(hist, H, IS, m):
        return -1
    t_seen = F[_T_SEEN]
    for k in range(m):
        if not _time_ok(F, samples[k].t):
            F[_T_SEEN] = t_seen
            return -2 - k
    c = H[0] + H[1]
    for k in range(m):
        r = samples[k]
        lok = r.left_valid != 0 and math.isfinite(r.left_x) and math.isfinite(r.left_y)
        rok = r.right_valid != 0 and math.isfinite(r.right_x) and math.isfinite(r.right_y)
        if lok and rok:
            x, y = (r.left_x + r.right_x) * 0.5, (r.left_y + r.right_y) * 0.5
        elif lok:
            x, y = r.left_x, r.left_y
        elif rok:
            x, y = r.right_x, r.right_y
        else:
            x = y = math.nan
        _put(hist, H, S, F, c + k, r.t, x * S[0], y * S[1])
    return _run_new(hist, H, S, F, IS, P, out, outf, m)
