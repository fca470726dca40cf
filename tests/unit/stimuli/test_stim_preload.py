"""ImagePreloader: loads in a named background thread; errors surface on get()."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from stimuli.image import ImageLoadError, LoadedImage
from stimuli.layout import fit_image
from stimuli.loading import load_image
from stimuli.preload import ImagePreloader, resample_for_display


def test_loads_in_a_named_thread_and_prepares_for_the_screen(cxr: Path) -> None:
    seen: list[str] = []

    def loader(path: Path, window: tuple[float, float] | None) -> LoadedImage:
        seen.append(threading.current_thread().name)
        return load_image(path, window, warn=False)

    with ImagePreloader(screen_size=(800, 600), loader=loader, name="test-preload") as pre:
        pre.request("cr", cxr / "cr_chest_monochrome2.dcm")
        got = pre.get("cr", timeout=60)
        assert pre.is_ready("cr")
    assert seen and seen[0].startswith("test-preload") and seen[0] != threading.main_thread().name
    assert got.layout is not None and got.layout.image_width == 1024
    assert got.display is not None and got.display.shape == (600, 600)  # 1024 px shown at 600 px
    assert not any(
        t.name.startswith("test-preload") and t.is_alive() for t in threading.enumerate()
    )


def test_error_surfaces_on_get_and_is_not_cached(tmp_path: Path) -> None:
    bad = tmp_path / "missing.png"
    with ImagePreloader() as pre:
        pre.request("x", bad)
        with pytest.raises(ImageLoadError, match="file not found"):
            pre.get("x", timeout=30)
        assert not pre.is_ready("x")  # forgotten: a retry loads again
        with pytest.raises(ImageLoadError):
            pre.get("x", bad, timeout=30)


def test_get_without_request_needs_a_path(cxr: Path) -> None:
    with ImagePreloader() as pre:
        with pytest.raises(KeyError, match="not requested"):
            pre.get("nothing")
        got = pre.get("nih", cxr / "nih_00000001_000.png", timeout=30)
        assert got.layout is None and got.image.width == 512


def test_timeout_is_reported(cxr: Path) -> None:
    gate = threading.Event()

    def slow(path: Path, window: tuple[float, float] | None) -> LoadedImage:
        gate.wait(10)
        return load_image(path, window, warn=False)

    pre = ImagePreloader(loader=slow)
    try:
        pre.request("a", cxr / "nih_00000001_000.png")
        with pytest.raises(TimeoutError, match="not ready"):
            pre.get("a", timeout=0.05)
        gate.set()
        assert pre.get("a", timeout=30).image.width == 512
    finally:
        gate.set()
        pre.close()
    with pytest.raises(RuntimeError, match="closed"):
        pre.request("b", cxr / "nih_00000001_000.png")


def test_cache_is_bounded(cxr: Path) -> None:
    with ImagePreloader(max_cached=2) as pre:
        for k in "abc":
            pre.request(k, cxr / "nih_00000001_000.png")
        with pytest.raises(KeyError):
            pre.get("a", timeout=1)
        assert pre.get("c", timeout=30).image.width == 512


def test_resample_for_display_sizes() -> None:
    px = np.random.default_rng(0).integers(0, 256, (300, 200), dtype=np.uint8)
    down = fit_image((200, 300), (100, 100))
    out = resample_for_display(px, down)
    assert out.shape == (100, round(200 * 100 / 300))
    up = fit_image((200, 300), (1000, 1000))
    assert resample_for_display(px, up) is px
