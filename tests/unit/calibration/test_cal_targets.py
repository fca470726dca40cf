"""Target layouts, order and the animated target."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.targets import (
    TargetTiming,
    calibration_points,
    order_points,
    target_state,
    validation_points,
)


@pytest.mark.parametrize("n", [5, 9, 13])
def test_layouts_have_n_distinct_on_screen_points(n: int) -> None:
    pts = calibration_points(n)
    assert pts.shape == (n, 2)
    assert len({tuple(p) for p in pts.tolist()}) == n
    assert ((pts > 0) & (pts < 1)).all()
    assert [0.5, 0.5] in pts.tolist()


def test_13_extends_the_9_grid() -> None:
    nine = {tuple(p) for p in calibration_points(9).tolist()}
    thirteen = {tuple(p) for p in calibration_points(13).tolist()}
    assert nine < thirteen


def test_bad_layouts_are_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match=r"one of \(5, 9, 13\).*got 7"):
        calibration_points(7)
    with pytest.raises(ValueError, match=r"custom calibration points\[1\] = \(1\.2, 0\.5\)"):
        calibration_points(custom=[(0.5, 0.5), (1.2, 0.5)])
    with pytest.raises(ValueError, match="pairs"):
        calibration_points(custom=[0.5, 0.5])


def test_custom_points() -> None:
    pts = calibration_points(custom=[(0.2, 0.3), (0.8, 0.7), (0.5, 0.5)])
    np.testing.assert_array_equal(pts, [[0.2, 0.3], [0.8, 0.7], [0.5, 0.5]])


@pytest.mark.parametrize("n_cal", [5, 9, 13])
@pytest.mark.parametrize("n_val", [1, 4, 5])
def test_validation_points_are_not_calibration_points(n_cal: int, n_val: int) -> None:
    cal = calibration_points(n_cal)
    val = validation_points(n_val, exclude=cal)
    assert len(val) == n_val
    d = np.hypot(val[:, None, 0] - cal[None, :, 0], val[:, None, 1] - cal[None, :, 1])
    assert d.min() >= 0.04


def test_too_many_validation_points() -> None:
    with pytest.raises(ValueError, match="between 1 and 10"):
        validation_points(11)


def test_order_is_a_seeded_permutation() -> None:
    a = order_points(9, True, seed=3)
    assert sorted(a) == list(range(9))
    assert a == order_points(9, True, seed=3)
    assert a != list(range(9)) or order_points(9, True, seed=4) != list(range(9))
    assert order_points(9, False, seed=3) == list(range(9))


def test_target_glides_then_shrinks() -> None:
    tm = TargetTiming(move_s=1.0, shrink_s=0.5, outer_deg=2.0, inner_deg=0.5)
    s0 = target_state(0.0, (0.0, 0.0), (1.0, 0.5), tm)
    assert (s0.x, s0.y, s0.phase, s0.diameter_deg) == (0.0, 0.0, "moving", 2.0)
    mid = target_state(0.5, (0.0, 0.0), (1.0, 0.5), tm)
    assert mid.x == pytest.approx(0.5) and mid.y == pytest.approx(
        0.25
    )  # eased: halfway at half time
    early = target_state(0.1, (0.0, 0.0), (1.0, 0.5), tm)
    assert early.x < 0.1  # slow start
    arrive = target_state(1.0, (0.0, 0.0), (1.0, 0.5), tm)
    assert (arrive.x, arrive.y, arrive.phase, arrive.diameter_deg) == (1.0, 0.5, "dwelling", 2.0)
    half = target_state(1.25, (0.0, 0.0), (1.0, 0.5), tm)
    assert half.diameter_deg == pytest.approx(1.25)
    assert target_state(9.0, (0.0, 0.0), (1.0, 0.5), tm).diameter_deg == pytest.approx(0.5)
    first = target_state(0.0, None, (0.3, 0.3), tm)
    assert first.phase == "dwelling" and (first.x, first.y) == (0.3, 0.3)


def test_timing_validation() -> None:
    with pytest.raises(ValueError, match="collect_s"):
        TargetTiming(collect_s=0)
    with pytest.raises(ValueError, match="settle_s"):
        TargetTiming(settle_s=-1)
    with pytest.raises(ValueError, match="inner_deg"):
        TargetTiming(inner_deg=3, outer_deg=1)
    assert TargetTiming(settle_s=0.25, collect_s=0.75).dwell_s == 1.0
