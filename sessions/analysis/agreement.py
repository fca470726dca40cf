"""Gaze agreement between readers: fixation density maps and scanpaths.

Saliency metrics follow the MIT saliency benchmark's definitions (Bylinskii, Judd, Oliva,
Torralba & Durand 2019, "What do different evaluation metrics tell us about saliency
models?"): CC, NSS, AUC-Judd, SIM and KL, with the benchmark's epsilon. Maps are fixation
density maps on a grid over the image (duration-weighted, Gaussian of 1 degree of visual
angle). Agreement is leave-one-reader-out: each reader's fixations against the map of all the
other readers on the same image in the same condition. Scanpaths are compared pairwise by
dynamic time warping (positions in image widths) and MultiMatch (``multimatch-gaze``;
Jarodzka, Holmqvist & Nyström 2010; Dewhurst et al. 2012).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "EPS",
    "GRID",
    "auc_judd",
    "cc",
    "density_map",
    "dtw_distance",
    "kl_divergence",
    "leave_one_out",
    "multimatch",
    "nss",
    "scanpath_agreement",
    "similarity",
]

#: Grid of the density maps, cells across the image's width and height.
GRID = 64
#: The MIT saliency benchmark's epsilon (``eps`` in MATLAB).
EPS = 2.220446049250313e-16


def density_map(fix: NDArray[np.float64], sigma_cells: float, grid: int = GRID) -> NDArray:
    """Duration-weighted fixation density on a ``grid x grid`` map (sums to 1, or all 0).

    ``fix`` rows are ``x, y`` (0..1 of the image) and duration (s).
    """
    from scipy.ndimage import gaussian_filter

    m = np.zeros((grid, grid))
    if len(fix):
        ix = np.clip((fix[:, 0] * grid).astype(int), 0, grid - 1)
        iy = np.clip((fix[:, 1] * grid).astype(int), 0, grid - 1)
        np.add.at(m, (iy, ix), fix[:, 2])
        m = gaussian_filter(m, sigma_cells, mode="constant")
    s = m.sum()
    return m / s if s > 0 else m


def fixation_cells(fix: NDArray[np.float64], grid: int = GRID) -> NDArray[np.bool_]:
    """The binary fixation map: cells holding at least one fixation."""
    m = np.zeros((grid, grid), dtype=bool)
    if len(fix):
        ix = np.clip((fix[:, 0] * grid).astype(int), 0, grid - 1)
        iy = np.clip((fix[:, 1] * grid).astype(int), 0, grid - 1)
        m[iy, ix] = True
    return m


def cc(s: NDArray, g: NDArray) -> float:
    """Pearson's linear correlation coefficient between two maps."""
    a, b = np.asarray(s, float).ravel(), np.asarray(g, float).ravel()
    if a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def nss(s: NDArray, fixated: NDArray[np.bool_]) -> float:
    """Normalised scanpath saliency: the z-scored map's mean at the fixated cells."""
    a = np.asarray(s, float)
    if a.std() == 0 or not fixated.any():
        return math.nan
    z = (a - a.mean()) / a.std()
    return float(z[fixated].mean())


def auc_judd(s: NDArray, fixated: NDArray[np.bool_]) -> float:
    """AUC-Judd, as the MIT benchmark's ``AUC_Judd``.

    Thresholds at the saliency of each fixated cell; TPR over the fixated cells, FPR over the
    other cells.
    """
    a = np.asarray(s, float)
    a = (a - a.min()) / (a.max() - a.min()) if a.max() > a.min() else np.zeros_like(a)
    sal_fix = np.sort(a[fixated])[::-1]
    n_fix, n_pix = len(sal_fix), a.size
    if n_fix == 0 or n_fix == n_pix:
        return math.nan
    tp = np.zeros(n_fix + 2)
    fp = np.zeros(n_fix + 2)
    tp[-1] = fp[-1] = 1.0
    for i, thresh in enumerate(sal_fix, start=1):
        above = int((a >= thresh).sum())
        tp[i] = i / n_fix
        fp[i] = (above - i) / (n_pix - n_fix)
    return float(np.sum(np.diff(fp) * (tp[1:] + tp[:-1]) / 2.0))  # the trapezoid rule


def similarity(s: NDArray, g: NDArray) -> float:
    """SIM: the sum of the cell-wise minimum of the two maps, each normalised to sum 1."""
    a, b = np.asarray(s, float), np.asarray(g, float)
    if a.sum() <= 0 or b.sum() <= 0:
        return math.nan
    return float(np.minimum(a / a.sum(), b / b.sum()).sum())


def kl_divergence(s: NDArray, g: NDArray) -> float:
    """KL divergence of the saliency map ``s`` from the fixation map ``g``, as the MIT benchmark.

    ``sum g * log(eps + g / (s + eps))``, both maps normalised to sum 1.
    """
    a, b = np.asarray(s, float), np.asarray(g, float)
    if a.sum() <= 0 or b.sum() <= 0:
        return math.nan
    a, b = a / a.sum(), b / b.sum()
    return float(np.sum(b * np.log(EPS + b / (a + EPS))))


def leave_one_out(
    fixations: dict[str, NDArray[np.float64]], sigma_cells: float
) -> dict[str, float]:
    """Mean agreement of each reader with the others on one image (CC, NSS, AUC-Judd, SIM, KL).

    ``fixations`` maps reader -> fixation rows (x, y, duration). Readers without fixations are
    left out; fewer than two readers gives NaN.
    """
    readers = [r for r, f in fixations.items() if len(f)]
    keys = ("cc", "nss", "auc_judd", "sim", "kl")
    if len(readers) < 2:
        return dict.fromkeys(keys, math.nan)
    maps = {r: density_map(fixations[r], sigma_cells) for r in readers}
    total = sum(maps.values())
    out: dict[str, list[float]] = {k: [] for k in keys}
    for r in readers:
        others = total - maps[r]
        g, fixated = maps[r], fixation_cells(fixations[r])
        out["cc"].append(cc(others, g))
        out["nss"].append(nss(others, fixated))
        out["auc_judd"].append(auc_judd(others, fixated))
        out["sim"].append(similarity(others, g))
        out["kl"].append(kl_divergence(others, g))
    return {k: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan for k, v in out.items()}


def dtw_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Dynamic time warping distance of two scanpaths (``x, y`` rows, image widths).

    The cost of the best warping divided by its length: the mean distance between matched
    fixations.
    """
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return math.nan
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    cost = np.full((n + 1, m + 1), np.inf)
    steps = np.zeros((n + 1, m + 1))
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            k = int(np.argmin((cost[i - 1, j - 1], cost[i - 1, j], cost[i, j - 1])))
            pi, pj = ((i - 1, j - 1), (i - 1, j), (i, j - 1))[k]
            cost[i, j] = d[i - 1, j - 1] + cost[pi, pj]
            steps[i, j] = steps[pi, pj] + 1
    return float(cost[n, m] / steps[n, m])


def multimatch(a: NDArray[np.float64], b: NDArray[np.float64], size: tuple[int, int]) -> NDArray:
    """MultiMatch's five similarities (vector, direction, length, position, duration), 0..1.

    Scanpaths need at least three fixations each (two saccades); otherwise NaN.
    """
    if len(a) < 3 or len(b) < 3:
        return np.full(5, np.nan)
    import multimatch_gaze

    def rec(f: NDArray[np.float64]) -> np.recarray:
        dtype = [("start_x", "f8"), ("start_y", "f8"), ("duration", "f8")]
        return np.rec.fromarrays([f[:, 0] * size[0], f[:, 1] * size[1], f[:, 2]], dtype=dtype)

    with np.errstate(all="ignore"):
        return np.asarray(
            multimatch_gaze.docomparison(rec(a), rec(b), screensize=list(size)), float
        )


def scanpath_agreement(
    fixations: dict[str, NDArray[np.float64]],
    size: tuple[int, int],
    *,
    max_pairs: int = 30,
    seed: int = 0,
) -> dict[str, float]:
    """Mean DTW distance and MultiMatch similarities over pairs of readers on one image.

    At most ``max_pairs`` pairs (drawn with ``seed``) are compared: MultiMatch costs tens of
    milliseconds a pair, and 16 readers make 120 pairs an image.
    """
    readers = sorted(r for r, f in fixations.items() if len(f))
    pairs = list(itertools.combinations(readers, 2))
    if len(pairs) > max_pairs:
        rng = np.random.default_rng(seed)
        pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), max_pairs, replace=False))]
    keys = ("mm_vector", "mm_direction", "mm_length", "mm_position", "mm_duration")
    if not pairs:
        return {"dtw": math.nan, "multimatch": math.nan, **dict.fromkeys(keys, math.nan)}
    dtw = [dtw_distance(fixations[a][:, :2], fixations[b][:, :2]) for a, b in pairs]
    mm = np.array([multimatch(fixations[a], fixations[b], size) for a, b in pairs])
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        mean_mm = np.nanmean(mm, axis=0) if np.isfinite(mm).any() else np.full(5, np.nan)
    out = {"dtw": float(np.nanmean(dtw)) if np.isfinite(dtw).any() else math.nan}
    out.update({k: float(v) for k, v in zip(keys, mean_mm, strict=True)})
    out["multimatch"] = float(np.nanmean(mean_mm)) if np.isfinite(mean_mm).any() else math.nan
    return out
