"""Small hand-made gaze signals for the fixation detector tests (screen px, exact times)."""

from __future__ import annotations

import numpy as np

from acquisition.geometry import ScreenGeometry, deg_to_px_offset
from acquisition.samples import empty_samples

SCREEN = ScreenGeometry(1920, 1080, 531.0, 299.0, 650.0)


def track(
    segments: list[tuple], rate_hz: float = 1000.0, noise_deg: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float, float, float]]]:
    """Build a signal from segments, returning (t, x_px, y_px, true fixations).

    Segments: ``("fix", dur_s, x_deg, y_deg)``, ``("sac", dur_s, x_deg, y_deg)`` (moves
    linearly to the given point), ``("loss", dur_s)`` (NaN, gaze stays).
    True fixations are ``(t_start, t_end, x_deg, y_deg)`` of the "fix" segments.
    """
    rng = np.random.default_rng(seed)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    truth = []
    n0 = 0
    cur = (0.0, 0.0)
    for seg in segments:
        kind, dur = seg[0], seg[1]
        n = round(dur * rate_hz)
        if kind == "fix":
            cur = (seg[2], seg[3])
            dx, dy = np.full(n, cur[0]), np.full(n, cur[1])
            truth.append((n0 / rate_hz, (n0 + n - 1) / rate_hz, cur[0], cur[1]))
        elif kind == "sac":
            f = (np.arange(n) + 1) / n
            dx = cur[0] + (seg[2] - cur[0]) * f
            dy = cur[1] + (seg[3] - cur[1]) * f
            cur = (seg[2], seg[3])
        elif kind == "loss":
            dx, dy = np.full(n, np.nan), np.full(n, np.nan)
        else:
            raise ValueError(kind)
        xs.append(dx)
        ys.append(dy)
        n0 += n
    dx, dy = np.concatenate(xs), np.concatenate(ys)
    if noise_deg:
        dx = dx + rng.normal(0, noise_deg, len(dx))
        dy = dy + rng.normal(0, noise_deg, len(dy))
    x, y = deg_to_px_offset(SCREEN, dx, dy)
    t = np.arange(len(x)) / rate_hz + 100.0
    truth = [(a + 100.0, b + 100.0, cx, cy) for a, b, cx, cy in truth]
    return t, x, y, truth


def to_samples(
    t: np.ndarray, x: np.ndarray, y: np.ndarray, screen: ScreenGeometry = SCREEN
) -> np.ndarray:
    """Binocular SAMPLE_DTYPE rows with both eyes at the given gaze."""
    s = empty_samples(len(t))
    s["t"] = t
    ok = np.isfinite(x) & np.isfinite(y)
    for eye in ("left", "right"):
        s[f"{eye}_x"] = np.where(ok, x / screen.width_px, np.nan)
        s[f"{eye}_y"] = np.where(ok, y / screen.height_px, np.nan)
        s[f"{eye}_valid"] = ok
    return s


def feed_in_chunks(det, t, x, y, sizes) -> list:
    """Feed (t, x, y) in chunks whose sizes come from the iterator ``sizes``; flush."""
    events = []
    a = 0
    n = len(t)
    while a < n:
        k = max(1, int(next(sizes)))
        events += det.feed_px(t[a : a + k], x[a : a + k], y[a : a + k])
        a += k
    return events + det.flush()


def as_tuples(events) -> list[tuple]:
    """Events as comparable tuples (NaN -> None), for exact equality checks."""
    out = []
    for e in events:
        d = e.to_dict()
        out.append(tuple((k, None if isinstance(v, float) and v != v else v) for k, v in d.items()))
    return out
