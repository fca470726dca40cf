"""The PsychoPy screens for real (under Xvfb): image trial, diagnostic form, authenticity form.

Screenshots are asserted on pixels: dark background, light legible text, the image where
the layout says, selected targets highlighted. Set GAZEREAD_SCREENSHOTS=<dir> to keep PNGs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry
from experiment_protocols.forms import FormState, layout_form
from experiment_protocols.loader import load_protocol
from stimuli.layout import fit_image

pytestmark = pytest.mark.gui

GEOM = ScreenGeometry(1280, 800, 286.0, 179.0, 550.0)


@pytest.fixture(scope="module")
def presenter() -> Any:
    from experiment_protocols.presenter_screen import Presenter

    p = Presenter(GEOM, fullscreen=False)
    yield p
    p.close()


def _save(img: np.ndarray, name: str) -> None:
    folder = os.environ.get("GAZEREAD_SCREENSHOTS")
    if folder:
        from PIL import Image

        Path(folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(Path(folder) / f"{name}.png")


def _grey(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, dtype=float)[..., :3].mean(axis=2)


def _phantom() -> Any:
    from stimuli.image import LoadedImage

    yy, xx = np.mgrid[0:600, 0:500]
    pix = (40 + 180 * np.exp(-(((xx - 250) / 160.0) ** 2 + ((yy - 300) / 220.0) ** 2))).astype(
        np.uint8
    )
    pix[:, :20] = 255  # a bright band on the image's left edge: checks orientation
    return LoadedImage(pix, (500, 600), None, "/synthetic.png", "0" * 64, 8, "png")


def test_image_trial_screenshot(presenter: Any) -> None:
    img = _phantom()
    layout = fit_image((img.width, img.height), presenter.size, margin_px=20)
    stim = presenter.image_stim(img, layout)
    shot = presenter.screenshot([stim])
    _save(shot, "image_trial")
    g = _grey(shot)
    h, w = g.shape
    assert (h, w) == (800, 1280)
    x0, y0, x1, y1 = (round(v) for v in layout.screen_rect)
    assert g[: y0 - 2, :].max() < 10  # dark surround (reading room)
    assert g[:, : x0 - 2].max() < 10
    centre = g[(y0 + y1) // 2, (x0 + x1) // 2]
    assert centre > 150  # the bright middle of the phantom
    band = g[(y0 + y1) // 2, x0 + 3 : x0 + 10]
    assert band.min() > 240  # the bright band is on the left: not mirrored
    top_left = g[y0 + 5, x0 + 40]
    assert 25 < top_left < 90  # the dim corner: grey levels passed through unchanged-ish


@pytest.mark.parametrize("kind", ["diagnostic", "authenticity"])
def test_form_screenshot(presenter: Any, kind: str) -> None:
    from experiment_protocols.forms_screen import FormScreen

    proto = load_protocol("gazeval").protocol
    cond = proto.conditions[kind]
    state = FormState(kind, cond.form)
    screen = FormScreen(presenter, state)
    blank = _grey(presenter.screenshot(screen.stims()))
    if kind == "diagnostic":
        state.toggle_finding("Cardiomegaly")
        state.toggle_finding("Pleural effusion")
    else:
        state.choose("synthetic")
    state.set_confidence(cond.form.confidence_scale[3])
    shot = presenter.screenshot(screen.stims())
    _save(shot, f"form_{kind}")
    g = _grey(shot)
    assert np.median(g) < 20  # dark theme
    assert (g > 180).mean() > 0.002  # there is light text
    rgb = shot[..., :3].astype(int)
    targets = layout_form(cond.form, *presenter.size)
    for t in targets:
        assert t.rect.size[1] >= 0.05 * presenter.size[1]  # large targets
        # sample inside the button, off its label (left margin)
        px = rgb[int(t.rect.y0 + 4), int(t.rect.x0 + 6)]
        selected = t.group != "text" and (
            (t.group == "finding" and t.value in state.findings)
            or (t.group == "choice" and t.value == state.choice)
            or (t.group == "confidence" and t.value == state.confidence)
            or (t.group == "submit" and state.complete)
        )
        if selected:
            assert px[2] > 150 and px[2] > px[0] + 60, (t.label, px)  # accent blue
        else:
            assert px.max() < 80, (t.label, px)  # dark button
    # the un-filled form says what is missing in amber; the filled one does not
    amber = lambda a: ((a[..., 0] > 180) & (a[..., 1] > 120) & (a[..., 2] < 100)).sum()  # noqa: E731
    assert amber(presenter.screenshot(screen.stims())[..., :3].astype(int)) == 0
    assert blank.mean() < g.mean()


def test_pause_menu_and_text_screens(presenter: Any) -> None:
    from experiment_protocols.pause_screen import pause_menu

    assert pause_menu(presenter, "during image", auto_choice="recalibrate") == "recalibrate"
    key, _ = presenter.show_text("Title", "Body", timeout_s=0.1)
    assert key == "timeout"
