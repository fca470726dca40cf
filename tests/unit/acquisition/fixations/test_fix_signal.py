"""The pure numpy building blocks: gap resolution, gaze rays, windowed velocity."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.fixations._signal import (
    average_eyes_px,
    ray_angle_deg,
    ray_velocity,
    resolve_gaps,
    unit_rays,
)
from acquisition.geometry import angular_distance_deg, deg_to_px_offset
from tests.support.fixation_tracks import SCREEN


def test_short_gap_is_filled_linearly_and_known_when_data_resume():
    t = np.arange(10) * 0.01
    x = np.arange(10, dtype=float)
    y = np.zeros(10)
    x[3:6] = np.nan  # valid neighbours 2 and 6 are 40 ms apart
    n, xf, _, lost, known = resolve_gaps(t, x, y, 0.05, anchored=False, final=False)
    assert n == 10 and not lost.any()
    np.testing.assert_allclose(xf[3:6], [3.0, 4.0, 5.0])
    np.testing.assert_allclose(known[3:6], t[6])
    np.testing.assert_allclose(known[:3], t[:3])


def test_long_gap_is_lost_and_known_once_it_exceeds_the_limit():
    t = np.arange(12) * 0.01
    x = np.ones(12)
    x[2:10] = np.nan  # 80 ms between valid 1 and 10
    n, xf, _, lost, known = resolve_gaps(t, x, x.copy(), 0.05, anchored=False, final=False)
    assert n == 12
    assert lost[2:10].all() and not lost[:2].any() and not lost[10:].any()
    assert np.isnan(xf[2:10]).all()
    # first sample later than t[1] + 50 ms is index 7: earlier lost samples wait for it
    np.testing.assert_allclose(known[2:8], t[7])
    np.testing.assert_allclose(known[8:10], t[8:10])


def test_trailing_gap_stays_pending_until_decidable():
    t = np.arange(6) * 0.01
    x = np.array([1.0, 1.0, 1.0, np.nan, np.nan, np.nan])
    n, *_ = resolve_gaps(t, x, x.copy(), 0.05, anchored=False, final=False)
    assert n == 3
    n, _, _, lost, _ = resolve_gaps(t, x, x.copy(), 0.05, anchored=False, final=True)
    assert n == 6 and lost[3:].all()


def test_rays_give_the_exact_angle():
    x1, y1 = np.array([100.0, 960.0, 1800.0]), np.array([50.0, 540.0, 1000.0])
    x2, y2 = x1 + np.array([30.0, -4.0, 0.5]), y1 + np.array([-20.0, 3.0, 0.1])
    a = ray_angle_deg(unit_rays(SCREEN, x1, y1), unit_rays(SCREEN, x2, y2))
    np.testing.assert_allclose(a, angular_distance_deg(SCREEN, x1, y1, x2, y2), rtol=1e-9)


@pytest.mark.parametrize("rate", [60.0, 300.0, 1200.0])
def test_window_velocity_of_a_constant_movement_is_its_speed(rate):
    n = int(rate)
    t = np.arange(n) / rate
    deg = 40.0 * t - 20.0  # 40 deg/s horizontally through the centre
    x, y = deg_to_px_offset(SCREEN, deg, np.zeros(n))
    u = unit_rays(SCREEN, x, y)
    v, j, i = ray_velocity(t, u, np.zeros(n - 1, dtype=np.int64), 1, 0.02)
    np.testing.assert_allclose(v[10:], 40.0, rtol=1e-6)
    assert (j < i).all() and (t[i] - t[j] <= 0.02 + 1e-12).all()


def test_velocity_never_crosses_a_break():
    t = np.arange(10) * 0.001
    u = unit_rays(SCREEN, np.full(10, 500.0), np.full(10, 500.0))
    seg = np.array([0, 0, 0, 0, 0, 5, 5, 5, 5, 5])
    v, j, _ = ray_velocity(t, u, seg[1:], 1, 0.01)
    assert np.isnan(v[4])  # sample 5 starts a segment: no earlier sample in it
    assert (j[5:] >= 5).all()


def test_average_eyes_px():
    s = np.zeros(
        3,
        dtype=[(f, "f8") for f in ("t", "left_x", "left_y", "right_x", "right_y")]
        + [("left_valid", "u1"), ("right_valid", "u1")],
    )
    s["left_x"], s["right_x"] = [0.2, 0.2, np.nan], [0.4, 0.4, 0.4]
    s["left_y"], s["right_y"] = 0.5, 0.5
    s["left_valid"], s["right_valid"] = [1, 0, 1], [1, 1, 0]
    _, x, _ = average_eyes_px(s, SCREEN)
    np.testing.assert_allclose(x[:2], [0.3 * 1920, 0.4 * 1920])
    assert np.isnan(x[2])  # left flagged valid but NaN, right flagged invalid


@pytest.mark.parametrize(
    ("t", "seen", "message"),
    [
        ([1.0, 0.5], -np.inf, r"must not go back: sample 1 of the chunk has t=0\.5, after t=1\.0"),
        (
            [1.0, np.nan, 2.0],
            -np.inf,
            r"must be finite: sample 1 of the chunk has t=nan \(after t=1\.0\)",
        ),
        ([np.inf], 0.5, r"must be finite: sample 0 of the chunk has t=inf \(after t=0\.5\)"),
        (
            [0.9, 1.0],
            1.0,
            r"chunk starts at t=0\.9, before the previous chunk's last sample at t=1\.0",
        ),
    ],
    ids=["step-back", "nan-inside", "infinite", "before-last-chunk"],
)
def test_check_time_order_refuses_naming_the_sample_and_times(t, seen, message):
    from acquisition.fixations._signal import check_time_order

    with pytest.raises(ValueError, match=message):
        check_time_order(np.asarray(t, dtype=np.float64), seen)


def test_check_time_order_accepts_repeats_and_the_last_time_again():
    from acquisition.fixations._signal import check_time_order

    check_time_order(np.array([1.0, 1.0, 1.5]), 1.0)
