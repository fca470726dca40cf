"""Screen geometry: exact px <-> deg against hand-computed values, eye distance from the tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.geometry import (
    ScreenGeometry,
    angular_distance_deg,
    deg_to_px_offset,
    eye_distance_mm,
    norm_to_px,
    px_per_degree,
    px_to_deg,
    px_to_norm,
    with_eye_distance,
)
from acquisition.samples import empty_samples

# 1000 px = 500 mm on both axes, eye 500 mm away: offsets of 250 mm are atan(0.5).
G = ScreenGeometry(
    width_px=1000, height_px=1000, width_mm=500.0, height_mm=500.0, distance_mm=500.0
)
ATAN_HALF = math.degrees(math.atan(0.5))  # 26.56505117707799


def test_px_to_deg_hand_computed() -> None:
    dx, dy = px_to_deg(G, [1000.0, 500.0, 0.0], [500.0, 0.0, 1000.0])
    np.testing.assert_allclose(dx, [ATAN_HALF, 0.0, -ATAN_HALF], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dy, [0.0, -ATAN_HALF, ATAN_HALF], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("p1", "p2", "expected"),
    [
        pytest.param((500, 500), (1000, 500), ATAN_HALF, id="centre-to-edge"),
        pytest.param((0, 500), (1000, 500), 2 * ATAN_HALF, id="edge-to-edge"),
        pytest.param(
            (500, 500), (1000, 1000), math.degrees(math.atan(math.sqrt(0.5))), id="diagonal"
        ),
        pytest.param((500, 500), (500, 500), 0.0, id="same"),
        # two points 1 px apart at the edge: not the same angle as at the centre
        pytest.param(
            (999, 500),
            (1000, 500),
            math.degrees(math.atan(0.5) - math.atan(249.5 / 500)),
            id="edge-pixel",
        ),
    ],
)
def test_angular_distance_hand_computed(p1: tuple, p2: tuple, expected: float) -> None:
    got = float(angular_distance_deg(G, p1[0], p1[1], p2[0], p2[1]))
    assert got == pytest.approx(expected, abs=1e-10)


def test_oblique_points_use_the_true_angle_between_rays() -> None:
    # (250,0,500) mm and (0,250,500) mm: cos = 250000 / (sqrt(312500)^2) = 0.8
    got = float(angular_distance_deg(G, 1000, 500, 500, 1000))
    assert got == pytest.approx(math.degrees(math.acos(0.8)), abs=1e-10)


def test_deg_to_px_inverts_px_to_deg() -> None:
    x = np.array([0.0, 123.4, 500.0, 999.0])
    y = np.array([1000.0, 17.0, 500.0, 3.0])
    bx, by = deg_to_px_offset(G, *px_to_deg(G, x, y))
    np.testing.assert_allclose(bx, x, atol=1e-9)
    np.testing.assert_allclose(by, y, atol=1e-9)


def test_px_per_degree_grows_away_from_centre() -> None:
    cx, cy = px_per_degree(G)
    # Around the centre, +-0.5 px (0.25 mm) span 2 * atan(0.25 / 500) degrees.
    assert cx == pytest.approx(1.0 / (2 * math.degrees(math.atan(0.25 / 500))), rel=1e-12)
    assert cy == pytest.approx(cx, rel=1e-12)
    ex, _ = px_per_degree(G, 990.0, 500.0)
    assert ex > cx


def test_norm_px_round_trip() -> None:
    g = ScreenGeometry(1920, 1080)
    x, y = norm_to_px(g, [0.0, 0.5, 1.0], [0.25, 0.5, 1.0])
    np.testing.assert_allclose(x, [0, 960, 1920])
    np.testing.assert_allclose(y, [270, 540, 1080])
    nx, ny = px_to_norm(g, x, y)
    np.testing.assert_allclose(nx, [0, 0.5, 1])
    np.testing.assert_allclose(ny, [0.25, 0.5, 1])


def test_bad_geometry_names_the_field() -> None:
    with pytest.raises(ValueError, match="distance_mm"):
        ScreenGeometry(distance_mm=0)
    with pytest.raises(ValueError, match=r"unknown screen geometry field\(s\) \['depth'\]"):
        ScreenGeometry.from_dict({"depth": 3})


def test_eye_distance_from_tracker_eye_positions() -> None:
    s = empty_samples(40)
    s["left_eye_pos"][:, 2] = 600.0
    s["right_eye_pos"][:, 2] = 620.0
    s["right_eye_pos"][:5, 2] = 5.0  # implausible values are ignored
    assert eye_distance_mm(s) == pytest.approx(610.0)
    g = with_eye_distance(ScreenGeometry(), s)
    assert g.distance_mm == pytest.approx(610.0)


def test_eye_distance_absent_keeps_the_settings_distance() -> None:
    s = empty_samples(100)  # NaN eye positions: the tracker reports none
    assert eye_distance_mm(s) is None
    g = ScreenGeometry(distance_mm=700.0)
    assert with_eye_distance(g, s) is g
