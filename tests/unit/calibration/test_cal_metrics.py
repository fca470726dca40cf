"""Data-quality metrics against hand-computed values (exact), and the gate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry
from acquisition.samples import empty_samples
from calibration.metrics import (
    PointValidation,
    QualityGate,
    accuracy_deg,
    data_loss_pct,
    grade,
    mean_gaze,
    median_gaze,
    point_quality,
    rms_s2s_deg,
    sd_deg,
    summarise,
)

# 1 px = 1 mm, eye 1000 mm from the centre (500, 500): a point k px from the centre on an axis
# is atan(k / 1000) away.
G = ScreenGeometry(
    width_px=1000, height_px=1000, width_mm=1000.0, height_mm=1000.0, distance_mm=1000.0
)
NAN = math.nan


def a(k: float) -> float:
    return math.degrees(math.atan(k / 1000.0))


def test_accuracy_is_the_mean_angular_offset() -> None:
    got = accuracy_deg(G, [510.0, 480.0, NAN], [500.0, 500.0, 500.0], 500.0, 500.0)
    assert got == pytest.approx((a(10) + a(20)) / 2, abs=1e-12)


def test_accuracy_without_data_is_nan() -> None:
    assert math.isnan(accuracy_deg(G, [NAN], [NAN], 500, 500))
    assert math.isnan(accuracy_deg(G, [], [], 500, 500))


def test_rms_s2s_uses_consecutive_valid_pairs_only() -> None:
    x = [500.0, 510.0, NAN, 500.0, 520.0]
    y = [500.0] * 5
    assert rms_s2s_deg(G, x, y) == pytest.approx(
        math.sqrt((a(10) ** 2 + a(20) ** 2) / 2), abs=1e-12
    )
    assert rms_s2s_deg(G, [500.0, 510.0, 500.0, 510.0], [500.0] * 4) == pytest.approx(
        a(10), abs=1e-12
    )
    assert math.isnan(rms_s2s_deg(G, [500.0, NAN, 500.0], [500.0] * 3))
    assert math.isnan(rms_s2s_deg(G, [500.0], [500.0]))


def test_sd_is_rms_angle_from_the_centroid() -> None:
    assert sd_deg(G, [490.0, 510.0], [500.0, 500.0]) == pytest.approx(a(10), abs=1e-12)
    # four points around the centre (centroid = centre), 10 px away each
    got = sd_deg(G, [490.0, 510.0, 500.0, 500.0], [500.0, 500.0, 490.0, 510.0])
    assert got == pytest.approx(a(10), abs=1e-12)
    assert sd_deg(G, [500.0, 500.0], [500.0, 500.0]) == 0.0
    assert math.isnan(sd_deg(G, [NAN], [NAN]))


@pytest.mark.parametrize(
    ("valid", "expected"),
    [([1, 0, 0, 1], 50.0), ([1, 1, 1], 0.0), ([0, 0], 100.0), ([], 100.0), ([1, 1, 1, 0], 25.0)],
)
def test_data_loss(valid: list[int], expected: float) -> None:
    assert data_loss_pct(valid) == expected


def _samples(
    left: list[tuple[float, float] | None], right: list[tuple[float, float] | None]
) -> np.ndarray:
    s = empty_samples(len(left))
    s["t"] = np.arange(len(left)) / 100.0
    for eye, pts in (("left", left), ("right", right)):
        for i, p in enumerate(pts):
            if p is not None:
                s[f"{eye}_x"][i], s[f"{eye}_y"][i] = p
                s[f"{eye}_valid"][i] = 1
    return s


def test_mean_gaze_averages_the_valid_eyes() -> None:
    s = _samples([(0.4, 0.5), (0.4, 0.5), None], [(0.6, 0.5), None, None])
    x, _, v = mean_gaze(s)
    np.testing.assert_allclose(x[:2], [0.5, 0.4])
    assert math.isnan(x[2]) and list(v) == [True, True, False]


def test_median_gaze_of_the_valid_samples_only() -> None:
    s = _samples([(0.1, 0.2), (0.3, 0.4), (0.9, 0.9), None], [None, None, None, None])
    s["left_valid"][2] = 0  # coordinates present, flagged invalid: ignored
    s["left_x"][3] = 5.0  # a value without the valid flag: ignored
    assert median_gaze(s, "left") == pytest.approx((0.2, 0.3))
    assert all(math.isnan(v) for v in median_gaze(s, "right"))


def test_invalid_flag_wins_over_coordinates() -> None:
    s = _samples([(0.51, 0.5)], [(0.51, 0.5)])
    s["right_valid"] = 0
    q = point_quality(G, s, (0.5, 0.5), "right")
    assert q.n_valid == 0 and q.data_loss_pct == 100.0 and math.isnan(q.accuracy_deg)


def test_point_quality_hand_computed() -> None:
    # left eye at +10 px and +30 px in x (normalised 0.51, 0.53), one invalid sample
    s = _samples([(0.51, 0.5), (0.53, 0.5), None, (0.51, 0.5)], [None] * 4)
    q = point_quality(G, s, (0.5, 0.5), "left")
    assert q.n_samples == 4 and q.n_valid == 3
    assert q.data_loss_pct == 25.0
    assert q.accuracy_deg == pytest.approx((2 * a(10) + a(30)) / 3, abs=1e-12)
    # mean gaze at 500 + 50/3 px
    assert q.offset_x_deg == pytest.approx(a(50 / 3), abs=1e-12)
    assert q.offset_y_deg == pytest.approx(0.0, abs=1e-12)
    assert q.mean_x == pytest.approx(0.5 + 50 / 3 / 1000)
    # consecutive valid pair: only (0, 1): 20 px apart at 10 and 30 px from the axis
    assert q.rms_s2s_deg == pytest.approx(a(30) - a(10), abs=1e-12)
    assert len(q.gaze) == 3


def _pv(
    index: int, left_acc: float, right_acc: float | None = None, n_valid: int = 10
) -> PointValidation:
    from calibration.metrics import EyePointQuality

    def eq(eye: str, acc: float | None) -> EyePointQuality:
        nv = 0 if acc is None else n_valid
        return EyePointQuality(
            eye,
            10,
            nv,
            100.0 * (10 - nv) / 10,
            NAN if acc is None else acc,
            0.0,
            0.0,
            0.1,
            0.2,
            0.5,
            0.5,
        )

    return PointValidation(
        index, (0.5, 0.5), {"left": eq("left", left_acc), "right": eq("right", right_acc)}
    )


@pytest.mark.parametrize(
    ("avg", "worst", "expected"),
    [
        (0.99, 1.49, "GOOD"),
        (1.0, 1.0, "FAIR"),
        (0.5, 1.5, "FAIR"),
        (1.49, 1.99, "FAIR"),
        (1.5, 1.6, "POOR"),
        (1.2, 2.0, "POOR"),
        (NAN, 1.0, "POOR"),
    ],
)
def test_grade_boundaries(avg: float, worst: float, expected: str) -> None:
    assert grade(avg, worst) == expected


def test_summary_uses_the_worse_eye_and_names_the_worst_point() -> None:
    pts = [_pv(0, 0.2, 0.4), _pv(1, 0.6, 1.2), _pv(2, 0.4, 0.5)]
    s = summarise(pts)
    assert s.per_eye["left"]["accuracy_deg"] == pytest.approx(0.4)
    assert s.per_eye["right"]["accuracy_deg"] == pytest.approx(0.7)
    assert s.accuracy_deg == pytest.approx(0.7)
    assert s.worst_deg == pytest.approx(1.2) and s.worst_point == 1
    assert s.grade == "GOOD" and s.passed and not s.recommended
    assert s.verdict.startswith("PASS (GOOD)")


def test_summary_fails_on_worst_point_and_says_why() -> None:
    s = summarise([_pv(0, 0.3, 0.3), _pv(1, 1.6, 0.3)])
    assert not s.passed and s.grade == "FAIR"
    assert any("point 2" in m for m in s.messages)


def test_recommended_level() -> None:
    s = summarise([_pv(0, 0.3, 0.3), _pv(1, 0.4, 0.2)])
    assert s.passed and s.recommended


def test_single_eye_is_gated_on_the_tracked_eye() -> None:
    s = summarise([_pv(0, 0.3, None), _pv(1, 0.5, None)])
    assert s.eyes_used == ["left"] and s.passed
    assert any("right eye: no valid samples" in m for m in s.messages)


def test_no_data_fails_with_a_message() -> None:
    s = summarise([_pv(0, None, None), _pv(1, None, None)])
    assert not s.passed and s.grade == "POOR" and math.isnan(s.accuracy_deg)
    assert any("no valid gaze samples" in m for m in s.messages)
    assert not summarise([]).passed


def test_a_point_without_data_fails_and_is_named() -> None:
    s = summarise([_pv(0, 0.3, 0.3), _pv(1, None, 0.3)])
    assert not s.passed
    assert any("point 2: no valid left-eye samples" in m for m in s.messages)


def test_data_loss_gate() -> None:
    gate = QualityGate(max_data_loss_pct=20.0)
    s = summarise([_pv(0, 0.3, 0.3, n_valid=7), _pv(1, 0.3, 0.3, n_valid=7)], gate)
    assert not s.passed and any("data loss 30 %" in m for m in s.messages)


def test_summary_and_points_serialise_without_nan() -> None:
    import json

    pts = [_pv(0, 0.3, None)]
    s = summarise(pts)
    json.dumps(s.to_dict(), allow_nan=False)
    d = pts[0].to_dict()
    json.dumps(d, allow_nan=False)
    back = PointValidation.from_dict(d)
    assert math.isnan(back.eyes["right"].accuracy_deg) and back.eyes["left"].accuracy_deg == 0.3


def test_gate_validation() -> None:
    with pytest.raises(ValueError, match="max_worst_deg"):
        QualityGate(max_worst_deg=-1)


def test_a_point_with_half_its_gaze_lost_fails_the_validation() -> None:
    """~50 % loss at one point used to pass as GOOD; the per-point gate (40 %) fails it."""
    pts = [_pv(0, 0.3, 0.3), _pv(1, 0.3, 0.3, n_valid=5), _pv(2, 0.3, 0.3), _pv(3, 0.3, 0.3)]
    s = summarise(pts)
    assert not s.passed and s.grade == "GOOD"  # accurate, but half the gaze was lost
    assert s.data_loss_pct < 50.0  # the average gate alone let it pass
    assert any("point 2 left 50 %" in m and "above 40 %" in m for m in s.messages)
    assert summarise(pts, QualityGate(max_point_data_loss_pct=None)).passed
    assert summarise([_pv(0, 0.3, 0.3, n_valid=7), _pv(1, 0.3, 0.3)]).passed  # one blink: fine
