"""Fixation maps and duration-weighted Gaussian density maps."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry, px_per_degree
from sessions.metrics.maps import (
    fixation_count_map,
    fixation_density_map,
    map_to_uint8,
    sigma_image_px,
)


def test_count_map_counts_and_ignores_off_image() -> None:
    m = fixation_count_map([1.5, 1.2, 9.0, -1.0, np.nan], [2.5, 2.9, 0.0, 0.0, 1.0], (10, 5))
    assert m.shape == (5, 10)
    assert m[2, 1] == 2 and m[0, 9] == 1 and m.sum() == 3


def test_density_peaks_at_the_longer_fixation_and_sums_to_one() -> None:
    m = fixation_density_map([20.5, 80.5], [30.5, 30.5], [100.0, 300.0], (100, 60), 5.0)
    assert m.sum() == pytest.approx(1.0)
    iy, ix = np.unravel_index(np.argmax(m), m.shape)
    assert (ix, iy) == (80, 30)
    assert m[30, 80] / m[30, 20] == pytest.approx(3.0, rel=1e-6)


def test_density_has_the_requested_sd() -> None:
    m = fixation_density_map([200.0], [100.0], None, (400, 200), (10.0, 20.0), normalise=False)
    xs = np.arange(400) + 0.5
    row = m[99] / m[99].max()
    sd = np.sqrt(np.sum(row * (xs - 200.0) ** 2) / np.sum(row))
    assert sd == pytest.approx(10.0, rel=1e-3)
    col = m[:, 199] / m[:, 199].max()
    ys = np.arange(200) + 0.5
    assert np.sqrt(np.sum(col * (ys - 100.0) ** 2) / np.sum(col)) == pytest.approx(20.0, rel=1e-2)


def test_empty_and_bad_input() -> None:
    assert fixation_density_map([], [], [], (4, 3), 1.0).shape == (3, 4)
    with pytest.raises(ValueError, match="sigma_px"):
        fixation_density_map([1], [1], [1], (4, 3), 0.0)
    with pytest.raises(ValueError, match="same length"):
        fixation_density_map([1, 2], [1], None, (4, 3), 1.0)
    with pytest.raises(ValueError, match="image_size"):
        fixation_count_map([1], [1], (0, 3))


def test_one_degree_in_image_pixels() -> None:
    geom = ScreenGeometry()
    ppd = px_per_degree(geom)
    sx, sy = sigma_image_px(ppd, 0.5)  # image shown at half size: a degree spans twice the px
    assert sx == pytest.approx(2 * ppd[0]) and sy == pytest.approx(2 * ppd[1])


def test_uint8_scaling() -> None:
    assert map_to_uint8(np.array([[0.0, 0.5, 1.0]])).tolist() == [[0, 128, 255]]
    assert map_to_uint8(np.zeros((2, 2))).max() == 0


def test_fixation_points_image_is_visible() -> None:
    from sessions.metrics.maps import fixation_points_image

    m = np.zeros((1000, 800), dtype=np.uint16)
    m[100, 200] = 1
    m[500, 400] = 2
    img = fixation_points_image(m)
    r = 5.0  # 0.5 % of 1000 px
    assert img.dtype == np.uint8 and set(np.unique(img)) == {0, 255}
    lit = int((img == 255).sum())
    assert 2 * 0.8 * np.pi * r * r < lit < 2 * 1.2 * np.pi * r * r
    assert img[100, 200 + 4] == 255 and img[100, 200 + 7] == 0
    assert fixation_points_image(np.zeros((10, 10))).max() == 0
