"""The analysis maths against hand-computed values and published reference examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sessions.analysis import agreement as ag
from sessions.analysis import decisions as dec


def test_saliency_metrics_on_hand_computed_maps() -> None:
    s = np.array([[0.1, 0.4], [0.35, 0.8]])
    fixated = np.array([[False, False], [True, True]])
    # NSS: the z-scored map at the fixated cells (population SD, as the MIT benchmark's std)
    z = (s - s.mean()) / s.std()
    assert ag.nss(s, fixated) == pytest.approx((z[1, 0] + z[1, 1]) / 2)
    # AUC-Judd, by the MIT algorithm: thresholds 0.8 then 0.35 (map rescaled to 0..1);
    # TP 1/2 then 2/2; FP 0/2 then 1/2 (0.4 lies above 0.35); curve (0,0)(0,.5)(.5,1)(1,1)
    assert ag.auc_judd(s, fixated) == pytest.approx(0.5 * 0.75 + 0.5 * 1.0)
    assert ag.cc(s, s) == pytest.approx(1.0) and ag.cc(s, -s) == pytest.approx(-1.0)
    assert ag.similarity(s, s) == pytest.approx(1.0)
    assert ag.similarity(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])) == 0.0
    assert ag.kl_divergence(s, s) == pytest.approx(0.0, abs=1e-12)
    g = np.array([[0.0, 0.0], [0.5, 0.5]])
    expected = sum(gi * math.log(ag.EPS + gi / (si / s.sum() + ag.EPS)) for gi, si in
                   zip(g.ravel(), s.ravel(), strict=True))  # fmt: skip
    assert ag.kl_divergence(s, g) == pytest.approx(expected)


def test_density_maps_and_leave_one_out() -> None:
    rng = np.random.default_rng(0)
    hot = np.array([[0.3, 0.3], [0.7, 0.6]])

    def reader() -> np.ndarray:
        c = hot[rng.integers(0, 2, 20)] + rng.normal(0, 0.02, (20, 2))
        return np.column_stack((c, np.full(20, 0.25)))

    same = ag.leave_one_out({f"r{k}": reader() for k in range(5)}, sigma_cells=2.0)
    rand = ag.leave_one_out(
        {
            f"r{k}": np.column_stack((rng.uniform(0, 1, (20, 2)), np.full(20, 0.25)))
            for k in range(5)
        },
        sigma_cells=2.0,
    )
    assert same["auc_judd"] > 0.85 and same["nss"] > 2.0 and same["cc"] > 0.7
    assert rand["auc_judd"] < same["auc_judd"] and rand["cc"] < same["cc"]
    assert math.isnan(ag.leave_one_out({"only": reader()}, 2.0)["cc"])
    m = ag.density_map(reader(), 2.0)
    assert m.shape == (ag.GRID, ag.GRID) and m.sum() == pytest.approx(1.0)


def test_scanpath_distances() -> None:
    a = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.2]])
    assert ag.dtw_distance(a, a) == 0.0
    assert ag.dtw_distance(a, a + np.array([0.1, 0.0])) == pytest.approx(0.1)
    f = np.column_stack((a, [0.2, 0.3, 0.25]))
    mm = ag.multimatch(f, f, (1024, 1024))
    assert mm.shape == (5,) and np.allclose(mm, 1.0, atol=1e-6)
    assert np.isnan(ag.multimatch(f[:2], f, (1024, 1024))).all()  # too short


def test_fleiss_kappa_on_the_classic_example() -> None:
    # Fleiss (1971) / Wikipedia: 10 subjects, 14 raters, 5 categories -> kappa 0.210
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]  # fmt: skip
    ratings = np.array([[c for c, n in enumerate(row) for _ in range(n)] for row in counts])
    assert dec.fleiss_kappa(ratings) == pytest.approx(0.210, abs=0.001)


def test_rates_auc_calibration_and_the_bootstrap() -> None:
    truth = np.array([True, True, False, False, True, False])
    called = np.array([True, False, False, True, True, False])
    r = dec.rates(truth, called)
    assert r == {"accuracy": 4 / 6, "sensitivity": 2 / 3, "specificity": 2 / 3}
    assert dec.auc(truth, np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.3])) == 1.0
    assert math.isnan(dec.auc(np.ones(3, bool), np.zeros(3)))
    c = dec.calibration(np.array([True, False, True, True]), np.array([1.0, 1.0, 0.6, 0.6]))
    # bins: 0.6 -> accuracy 1.0 (gap 0.4, half the answers); 1.0 -> accuracy 0.5 (gap 0.5)
    assert c["ece"] == pytest.approx(0.5 * 0.4 + 0.5 * 0.5)
    assert c["overconfidence"] == pytest.approx(0.8 - 0.75)
    readers = np.repeat(np.arange(5), 8)
    images = np.tile(np.arange(8), 5)
    correct = np.random.default_rng(1).random(40) < 0.8
    lo, hi = dec.bootstrap_ci(lambda idx: float(correct[idx].mean()), readers, images, n_boot=300)
    assert lo <= correct.mean() <= hi and 0.5 < lo < hi < 1.0
    p = dec.confidence_to_probability(np.array([1.0, 3.0, 5.0]), 1.0, 5.0)
    assert list(p) == [0.5, 0.75, 1.0]
