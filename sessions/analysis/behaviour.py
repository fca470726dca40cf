"""Gaze behaviour and pupil, real against synthetic images, with the reader as a random effect.

Per trial (pure functions over the trial's fixations): fixation count, mean fixation
duration, coverage (share of a 10 x 10 grid over the image holding a fixation), mean saccade
amplitude (degrees), and the saccades' amplitudes and directions for the distributions. A
comparison of real against synthetic fits a linear mixed model (statsmodels ``MixedLM``:
``metric ~ synthetic`` with a random intercept per reader) and reports the fixed effect, its
95% CI and p value, and Cohen's d of the per-reader paired differences (d_z).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["compare", "saccades", "trial_metrics"]

COVERAGE_GRID = 10


def saccades(fix: NDArray[np.float64], px_per_deg: float, size: tuple[int, int]) -> NDArray:
    """``(n - 1, 2)`` amplitude (deg) and direction (deg, 0 = right, 90 = up) between fixations."""
    if len(fix) < 2:
        return np.zeros((0, 2))
    dx = np.diff(fix[:, 0]) * size[0] / px_per_deg
    dy = -np.diff(fix[:, 1]) * size[1] / px_per_deg  # image y runs down; up is positive
    return np.column_stack((np.hypot(dx, dy), np.degrees(np.arctan2(dy, dx)) % 360.0))


def trial_metrics(
    fix: NDArray[np.float64], px_per_deg: float, size: tuple[int, int]
) -> dict[str, float]:
    """Fixation count, mean duration (ms), coverage (0..1) and mean saccade amplitude (deg)."""
    n = len(fix)
    cells = set()
    for x, y in fix[:, :2].tolist() if n else []:
        cells.add(
            (
                min(int(x * COVERAGE_GRID), COVERAGE_GRID - 1),
                min(int(y * COVERAGE_GRID), COVERAGE_GRID - 1),
            )
        )
    sac = saccades(fix, px_per_deg, size)
    return {
        "n_fixations": float(n),
        "mean_fixation_ms": float(fix[:, 2].mean() * 1000.0) if n else math.nan,
        "coverage": len(cells) / COVERAGE_GRID**2,
        "saccade_amplitude_deg": float(sac[:, 0].mean()) if len(sac) else math.nan,
    }


def compare(
    values: Sequence[float], synthetic: Sequence[bool], readers: Sequence[str]
) -> dict[str, float]:
    """Real against synthetic: means, the mixed-model effect of synthetic, and paired d_z.

    Returns ``real``, ``synthetic`` (means), ``effect`` (synthetic - real, fixed effect of the
    mixed model), ``ci`` (95%, as a two-item list), ``p``, ``d`` (Cohen's d_z of the per-reader
    mean differences) and ``n_readers``.
    """
    v = np.asarray(values, float)
    s = np.asarray(synthetic, bool)
    r = np.asarray(readers)
    ok = np.isfinite(v)
    v, s, r = v[ok], s[ok], r[ok]
    out: dict[str, float | list[float]] = {
        "real": float(v[~s].mean()) if (~s).any() else math.nan,
        "synthetic": float(v[s].mean()) if s.any() else math.nan,
        "effect": math.nan, "ci": [math.nan, math.nan], "p": math.nan, "d": math.nan,
        "n_readers": float(len(set(r.tolist()))),
    }  # fmt: skip
    if not (s.any() and (~s).any()):
        return out  # type: ignore[return-value]
    diffs = []
    for reader in sorted(set(r.tolist())):
        m = r == reader
        if (m & s).any() and (m & ~s).any():
            diffs.append(v[m & s].mean() - v[m & ~s].mean())
    if len(diffs) >= 2 and np.std(diffs, ddof=1) > 0:
        out["d"] = float(np.mean(diffs) / np.std(diffs, ddof=1))
    out.update(_mixed_model(v, s, r))
    return out  # type: ignore[return-value]


def _mixed_model(v: NDArray, s: NDArray, r: NDArray) -> dict[str, float | list[float]]:
    """``value ~ synthetic + (1 | reader)``; ordinary least squares with one reader."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = {"value": v, "synthetic": s.astype(float), "reader": r}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if len(set(r.tolist())) >= 2:
                fit = smf.mixedlm("value ~ synthetic", data, groups=data["reader"]).fit()
            else:
                fit = sm.OLS(v, sm.add_constant(s.astype(float))).fit()
        params = np.asarray(fit.params)
        ci = np.asarray(fit.conf_int())
        pv = np.asarray(fit.pvalues)
        return {
            "effect": float(params[1]),
            "ci": [float(ci[1][0]), float(ci[1][1])],
            "p": float(pv[1]),
        }
    except (ValueError, np.linalg.LinAlgError):
        return {}
