"""Decision-level findings: accuracy, sensitivity, specificity, ROC AUC, calibration, agreement.

Pure functions over arrays. Conventions (docs/analysis.md):

- Authenticity: a *synthetic* image is the positive class (the task is to detect fakes).
  Sensitivity = synthetic images called synthetic; specificity = real images called real.
- The confidence-weighted rating for the ROC: ``+c`` for a "synthetic" answer, ``-c`` for a
  "real" one, ``c`` the confidence mapped to 0..1 on its scale (GazeVaLM's rating curve).
- Confidence as a probability of being right: ``0.5 + 0.5 * c`` (the lowest scale point
  means a guess, the highest certainty); expected calibration error over equal-width bins.
- 95% CIs: percentile bootstrap resampling readers and images together (two-way), so that both
  the reader and the image sample are treated as random.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "auc",
    "bootstrap_ci",
    "calibration",
    "confidence_to_probability",
    "fleiss_kappa",
    "rates",
]

Metric = Callable[[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]], float]


def rates(truth: NDArray[np.bool_], called: NDArray[np.bool_]) -> dict[str, float]:
    """Accuracy, sensitivity and specificity of binary calls (``truth`` True = positive)."""
    truth = np.asarray(truth, bool)
    called = np.asarray(called, bool)
    pos, neg = truth.sum(), (~truth).sum()
    return {
        "accuracy": float(np.mean(truth == called)) if len(truth) else math.nan,
        "sensitivity": float((truth & called).sum() / pos) if pos else math.nan,
        "specificity": float((~truth & ~called).sum() / neg) if neg else math.nan,
    }


def auc(truth: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    """ROC AUC of ``score`` for ``truth`` (scikit-learn); NaN with one class only."""
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(truth, bool)
    if truth.all() or not truth.any():
        return math.nan
    return float(roc_auc_score(truth, np.asarray(score, float)))


def confidence_to_probability(
    conf: NDArray[np.float64], lo: float, hi: float
) -> NDArray[np.float64]:
    """A confidence on ``lo..hi`` as the probability of being right, 0.5 (guess) to 1."""
    c = (np.asarray(conf, float) - lo) / (hi - lo) if hi > lo else np.ones_like(conf, float)
    return 0.5 + 0.5 * np.clip(c, 0.0, 1.0)


def calibration(
    correct: NDArray[np.bool_], prob: NDArray[np.float64], bins: int = 5
) -> dict[str, object]:
    """Expected calibration error, over/under-confidence and the reliability bins.

    ``ece`` = sum over bins of (share of answers) x |accuracy - mean probability|, bins of
    equal width on 0.5..1. ``overconfidence`` = mean probability - accuracy (positive: more
    sure than right).
    """
    correct = np.asarray(correct, bool)
    prob = np.asarray(prob, float)
    ok = np.isfinite(prob)
    correct, prob = correct[ok], prob[ok]
    if len(prob) == 0:
        return {"ece": math.nan, "overconfidence": math.nan, "bins": []}
    edges = np.linspace(0.5, 1.0, bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    out_bins = []
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        acc, conf = float(correct[m].mean()), float(prob[m].mean())
        ece += m.mean() * abs(acc - conf)
        out_bins.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": int(m.sum()),
                         "accuracy": acc, "confidence": conf})  # fmt: skip
    return {
        "ece": float(ece),
        "overconfidence": float(prob.mean() - correct.mean()),
        "bins": out_bins,
    }


def fleiss_kappa(ratings: NDArray[np.int_]) -> float:
    """Fleiss' kappa of a ``(items, raters)`` table of category codes (statsmodels).

    Items not rated by every rater are left out (Fleiss' kappa needs the same number of
    ratings per item).
    """
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as fk

    r = np.asarray(ratings)
    if r.ndim != 2 or r.shape[0] < 2 or r.shape[1] < 2:
        return math.nan
    table, _ = aggregate_raters(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(fk(table, method="fleiss"))


def bootstrap_ci(
    statistic: Callable[[NDArray[np.int_]], float],
    readers: NDArray[np.int_],
    images: NDArray[np.int_],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of ``statistic(rows)`` resampling readers and images together.

    ``readers`` and ``images`` give each row's reader and image code (0..n-1). Each draw takes
    readers and images with replacement and keeps every row whose reader and image were drawn,
    repeated as often as both were (the two-way bootstrap of MRMC reader studies).
    """
    rng = np.random.default_rng(seed)
    readers = np.asarray(readers)
    images = np.asarray(images)
    nr, ni = int(readers.max()) + 1, int(images.max()) + 1
    by_cell: dict[tuple[int, int], list[int]] = {}
    for k, (r, i) in enumerate(zip(readers.tolist(), images.tolist(), strict=True)):
        by_cell.setdefault((r, i), []).append(k)
    cells = {key: np.asarray(v) for key, v in by_cell.items()}
    vals = []
    for _ in range(n_boot):
        rc = np.bincount(rng.integers(0, nr, nr), minlength=nr)
        ic = np.bincount(rng.integers(0, ni, ni), minlength=ni)
        rows = [np.repeat(v, rc[r] * ic[i]) for (r, i), v in cells.items() if rc[r] and ic[i]]
        if not rows:
            continue
        v = statistic(np.concatenate(rows))
        if math.isfinite(v):
            vals.append(v)
    if not vals:
        return (math.nan, math.nan)
    a = (1.0 - level) / 2.0
    return (float(np.quantile(vals, a)), float(np.quantile(vals, 1.0 - a)))
