"""ImageLayout / fit_image: exact round trips (property tests), fitting rules, storage."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stimuli.layout import ImageLayout, fit_image

sizes = st.tuples(st.integers(16, 8000), st.integers(16, 8000))
screens = st.tuples(st.integers(320, 7680), st.integers(240, 4320))
unit = st.floats(-0.5, 1.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(image=sizes, screen=screens, integer=st.booleans(), margin=st.integers(0, 100),
       fx=st.floats(0, 1), fy=st.floats(0, 1))  # fmt: skip
def test_image_screen_image_identity(
    image: tuple[int, int],
    screen: tuple[int, int],
    integer: bool,
    margin: int,
    fx: float,
    fy: float,
) -> None:
    if 2 * margin >= min(screen):
        margin = 0
    lay = fit_image(image, screen, integer_scaling=integer, margin_px=margin)
    xs = np.array([0.0, image[0], fx * image[0], 0.5])
    ys = np.array([0.0, image[1], fy * image[1], 0.5])
    bx, by = lay.screen_to_image(*lay.image_to_screen(xs, ys))
    assert np.abs(bx - xs).max() < 1e-6 and np.abs(by - ys).max() < 1e-6
    nx, ny = lay.image_to_normalised(xs, ys)
    cx, cy = lay.normalised_to_image(nx, ny)
    assert np.abs(cx - xs).max() < 1e-6 and np.abs(cy - ys).max() < 1e-6


@settings(max_examples=300, deadline=None)
@given(image=sizes, screen=screens, x=unit, y=unit)
def test_normalised_screen_round_trip(
    image: tuple[int, int], screen: tuple[int, int], x: float, y: float
) -> None:
    lay = fit_image(image, screen)
    sx, sy = lay.normalised_to_screen(x, y)
    bx, by = lay.screen_to_normalised(sx, sy)
    assert abs(float(bx) - x) < 1e-12 and abs(float(by) - y) < 1e-12
    ix, iy = lay.normalised_to_image(x, y)
    nx, ny = lay.image_to_normalised(ix, iy)
    assert abs(float(nx) - x) < 1e-9 and abs(float(ny) - y) < 1e-9


@settings(max_examples=300, deadline=None)
@given(image=sizes, screen=screens, margin=st.integers(0, 60))
def test_fit_is_centred_inside_and_fills_one_axis(
    image: tuple[int, int], screen: tuple[int, int], margin: int
) -> None:
    if 2 * margin >= min(screen):
        margin = 0
    lay = fit_image(image, screen, margin_px=margin)
    x0, y0, x1, y1 = lay.screen_rect
    eps = 1e-6
    assert x0 >= margin - eps and y0 >= margin - eps
    assert x1 <= screen[0] - margin + eps and y1 <= screen[1] - margin + eps
    assert math.isclose(x0 + x1, screen[0], abs_tol=1e-6) and math.isclose(
        y0 + y1, screen[1], abs_tol=1e-6
    )
    fills_w = math.isclose(x1 - x0, screen[0] - 2 * margin, abs_tol=1e-6)
    fills_h = math.isclose(y1 - y0, screen[1] - 2 * margin, abs_tol=1e-6)
    assert fills_w or fills_h
    assert math.isclose(lay.shown_width / lay.shown_height, image[0] / image[1], rel_tol=1e-9)


@settings(max_examples=300, deadline=None)
@given(image=sizes, screen=screens)
def test_integer_scaling_is_integer_or_unit_fraction(
    image: tuple[int, int], screen: tuple[int, int]
) -> None:
    lay = fit_image(image, screen, integer_scaling=True)
    s = lay.scale
    if s >= 1:
        assert s == int(s)
        assert image[0] * (s + 1) > screen[0] or image[1] * (s + 1) > screen[1]  # largest that fits
    else:
        k = round(1 / s)
        assert math.isclose(s, 1 / k, rel_tol=1e-15)
        assert image[0] / (k - 1) > screen[0] or image[1] / (k - 1) > screen[1] if k > 1 else True
    assert lay.offset_x == int(lay.offset_x) and lay.offset_y == int(lay.offset_y)
    assert lay.shown_width <= screen[0] + 1e-9 and lay.shown_height <= screen[1] + 1e-9
    if s >= 1:  # whole image pixels land on whole screen pixels
        sx, _ = lay.image_to_screen(np.arange(5), np.zeros(5))
        assert np.all(sx == np.round(sx))


@pytest.mark.parametrize(
    ("image", "screen", "scale"),
    [((3000, 3000), (1000, 1000), 1 / 3), ((512, 512), (1920, 1080), 2.0), ((1000, 1000), (1000, 1000), 1.0),
     ((2048, 2500), (1920, 1080), 1 / 3)],
    ids=["third", "double", "one", "portrait"],
)  # fmt: skip
def test_integer_scaling_exact_cases(
    image: tuple[int, int], screen: tuple[int, int], scale: float
) -> None:
    assert fit_image(image, screen, integer_scaling=True).scale == scale


def test_max_size_limits_the_image() -> None:
    lay = fit_image((2000, 2500), (1920, 1080), max_size=(800, 800))
    assert lay.shown_height == 800 and lay.shown_width == 640
    assert lay.screen_rect == (640.0, 140.0, 1280.0, 940.0)


@settings(max_examples=100, deadline=None)
@given(image=sizes, screen=screens)
def test_centred_rect_matches_screen_rect(image: tuple[int, int], screen: tuple[int, int]) -> None:
    lay = fit_image(image, screen)
    cx, cy, w, h = lay.centred_rect()
    x0, y0, x1, y1 = lay.screen_rect
    # centre-origin y-up back to top-left y-down
    assert math.isclose(cx - w / 2 + screen[0] / 2, x0, abs_tol=1e-9)
    assert math.isclose(screen[1] / 2 - (cy + h / 2), y0, abs_tol=1e-9)
    assert math.isclose(w, x1 - x0) and math.isclose(h, y1 - y0)


def test_on_image_and_map_gaze() -> None:
    lay = fit_image((1000, 500), (1000, 1000))  # image on rows 250..750
    xi, yi, on = lay.map_gaze(
        [0.5, 0.5, 0.1, np.nan, 0.0, 0.999], [0.5, 0.1, 0.5, 0.5, 0.25, 0.7499]
    )
    assert on.tolist() == [True, False, True, False, True, True]
    assert xi[0] == pytest.approx(500) and yi[0] == pytest.approx(250)
    assert yi[1] < 0
    assert not lay.on_image(1000.0, 10.0) and lay.on_image(999.999, 499.999)


def test_to_dict_round_trip_through_json() -> None:
    lay = fit_image((2500, 2048), (1920, 1080), margin_px=20)
    back = ImageLayout.from_dict(json.loads(json.dumps(lay.to_dict())))
    assert back == lay


@pytest.mark.parametrize(
    "kwargs",
    [dict(image_width=0), dict(scale=0.0), dict(scale=float("inf")), dict(offset_x=float("nan"))],
    ids=["width", "scale0", "scale-inf", "offset-nan"],
)
def test_layout_validates(kwargs: dict[str, Any]) -> None:
    base: dict[str, Any] = dict(
        image_width=10,
        image_height=10,
        screen_width=100,
        screen_height=100,
        scale=1.0,
        offset_x=0.0,
        offset_y=0.0,
    )
    base.update(kwargs)
    with pytest.raises(ValueError, match="ImageLayout"):
        ImageLayout(**base)


def test_fit_image_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_image((0, 10), (100, 100))
    with pytest.raises(ValueError, match="margin_px"):
        fit_image((10, 10), (100, 100), margin_px=50)
