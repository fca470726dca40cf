"""A real PsychoPy window (Xvfb): images land exactly on layout.screen_rect with exact grey levels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stimuli.image import LoadedImage
from stimuli.layout import ImageLayout, fit_image
from stimuli.loading import load_image
from stimuli.preload import resample_for_display

pytestmark = pytest.mark.gui

SIZE = (800, 600)


@pytest.fixture(scope="module")
def win() -> Iterator[Any]:
    from psychopy import visual

    w = visual.Window(SIZE, units="pix", color=(-1, -1, -1), colorSpace="rgb", fullscr=False,
                      allowGUI=False, checkTiming=False, autoLog=False)  # fmt: skip
    yield w
    w.close()


def render(win: Any, image: LoadedImage, layout: ImageLayout) -> np.ndarray:
    """Draw, read the back buffer BEFORE flip (the front buffer is black under Xvfb), flip."""
    from stimuli.image_screen import make_image_stim

    make_image_stim(win, image, layout).draw()
    win.getMovieFrame(buffer="back")
    frame = win.movieFrames.pop()
    win.flip()
    return np.asarray(frame.convert("L"))


def expected_on_screen(image: LoadedImage, layout: ImageLayout) -> np.ndarray:
    px = resample_for_display(image.pixels, layout)
    if layout.scale >= 1 and float(layout.scale).is_integer():
        k = int(layout.scale)
        px = np.kron(px, np.ones((k, k), np.uint8))
    return px


def assert_occupies_rect(shot: np.ndarray, layout: ImageLayout, image: LoadedImage) -> None:
    x0, y0, x1, y1 = (round(v) for v in layout.screen_rect)
    exp = expected_on_screen(image, layout)
    region = shot[y0:y1, x0:x1].astype(int)
    assert region.shape == exp.shape
    # corners (2x2 px inside each) are the image's corners
    for ys, xs in [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(-2, None)),
                   (slice(-2, None), slice(0, 2)), (slice(-2, None), slice(-2, None))]:  # fmt: skip
        assert np.abs(region[ys, xs] - exp[ys, xs]).max() <= 1
    assert np.abs(region - exp.astype(int)).max() <= 1  # the whole image, grey level exact
    # just outside the rect is background (black)
    if x0 > 0:
        assert shot[y0:y1, x0 - 1].max() == 0
    if x1 < shot.shape[1]:
        assert shot[y0:y1, x1].max() == 0
    if y0 > 0:
        assert shot[y0 - 1, x0:x1].max() == 0
    if y1 < shot.shape[0]:
        assert shot[y1, x0:x1].max() == 0


@pytest.mark.parametrize(
    ("name", "fit"),
    [("nih_00000001_000.png", {"integer_scaling": True}), ("cr_chest_monochrome2.dcm", {}),
     ("nih_00027426_000.png", {"max_size": (400, 400)})],
    ids=["png-1x", "dicom-reduced", "png-max-size"],
)  # fmt: skip
def test_real_image_lands_on_screen_rect(
    win: Any, cxr: Path, tmp_path: Path, name: str, fit: dict
) -> None:
    from PIL import Image

    img = load_image(cxr / name)
    layout = fit_image(img.original_size, SIZE, **fit)
    shot = render(win, img, layout)
    Image.fromarray(shot).save(tmp_path / f"{name}.png")
    assert shot.shape == (SIZE[1], SIZE[0])
    assert_occupies_rect(shot, layout, img)


def test_offset_rect_and_orientation(win: Any, cxr: Path) -> None:
    """A hand-made layout off-centre: top-left of the file must be top-left on screen."""
    img = load_image(cxr / "nih_00000001_000.png")
    layout = ImageLayout(512, 512, SIZE[0], SIZE[1], 0.5, 37.0, 61.0)
    shot = render(win, img, layout)
    assert_occupies_rect(shot, layout, img)
    top = shot[61:69, 37:293].mean()
    bottom = shot[61 + 248 : 61 + 256, 37:293].mean()
    assert bottom > top  # NIH image: dark above the shoulders, bright abdomen at the bottom


def test_monochrome1_renders_as_inverse_of_monochrome2(win: Any, cxr: Path) -> None:
    m2 = load_image(cxr / "cr_chest_monochrome2.dcm")
    m1 = load_image(cxr / "cr_chest_monochrome1.dcm")
    layout = fit_image(m2.original_size, SIZE)
    s2 = render(win, m2, layout).astype(int)
    s1 = render(win, m1, layout).astype(int)
    x0, y0, x1, y1 = (round(v) for v in layout.screen_rect)
    assert np.abs(s1[y0:y1, x0:x1] - (255 - s2[y0:y1, x0:x1])).max() <= 1


def test_phantom_dicom_renders(win: Any, tmp_path: Path) -> None:
    from stimuli.demo import write_demo_stimuli
    from stimuli.manifest import load_manifest

    m = load_manifest(write_demo_stimuli(tmp_path, n=3, size=(320, 320)))
    for entry in m:
        img = load_image(entry.path)
        layout = fit_image(img.original_size, SIZE, integer_scaling=True)
        assert_occupies_rect(render(win, img, layout), layout, img)


def test_wrong_window_size_is_refused(win: Any, cxr: Path) -> None:
    from stimuli.image_screen import make_image_stim

    img = load_image(cxr / "nih_00000001_000.png")
    with pytest.raises(ValueError, match=r"compute the layout from win\.size"):
        make_image_stim(win, img, fit_image(img.original_size, (1920, 1080)))
    with pytest.raises(ValueError, match="layout is for"):
        make_image_stim(win, img, fit_image((100, 100), SIZE))
