"""PNG/JPEG loading, error messages, and the pure display maths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stimuli.display import apply_lut, apply_window, invert, scale_range, to_uint8
from stimuli.image import ImageLoadError, ImageWarning
from stimuli.loading import load_image


# ---------------------------------------------------------------- real PNGs
@pytest.mark.parametrize("name", ["nih_00000001_000.png", "nih_00027426_000.png"])
def test_nih_pngs_load_as_stored(cxr: Path, name: str) -> None:
    img = load_image(cxr / name)
    raw = np.asarray(Image.open(cxr / name))
    assert img.kind == "png" and img.bit_depth == 8
    assert img.original_size == (512, 512) and img.pixel_spacing_mm is None
    np.testing.assert_array_equal(img.pixels, raw)
    assert img.display == "as stored" and img.notes == ()
    assert len(img.sha256) == 64
    assert img.source == str((cxr / name).resolve())


def test_relative_and_str_paths_resolve(cxr: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cxr)
    img = load_image("nih_00000001_000.png")
    assert Path(img.source).is_absolute()


# ---------------------------------------------------------------- synthetic PNG/JPEG
def test_16_bit_png_is_stretched_min_max(tmp_path: Path) -> None:
    data = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 3 + 1000).astype(np.uint16)
    p = tmp_path / "sixteen.png"
    Image.fromarray(data).save(p)
    img = load_image(p)
    assert img.bit_depth == 16 and img.display == "min-max"
    assert img.pixels.min() == 0 and img.pixels.max() == 255
    assert (np.diff(img.pixels.ravel().astype(int)) >= 0).all()


def test_16_bit_png_window_override(tmp_path: Path) -> None:
    data = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    p = tmp_path / "sixteen.png"
    Image.fromarray(data).save(p)
    img = load_image(p, window=(2048, 1025))
    assert img.display == "window (override)" and img.window == (2048.0, 1025.0)
    flat = img.pixels.ravel()
    assert flat[1000] == 0 and flat[3000] == 255


def test_rgb_png_converted_with_warning_naming_the_file(tmp_path: Path) -> None:
    grey = np.tile(np.arange(256, dtype=np.uint8), (16, 1))
    p = tmp_path / "colour.png"
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(p)
    with pytest.warns(ImageWarning, match="nothing was lost") as rec:
        img = load_image(p)
    assert str(p.resolve()) in str(rec[0].message)
    np.testing.assert_array_equal(img.pixels, grey)
    assert img.photometric == "RGB" and img.notes


def test_really_coloured_png_says_colour_discarded(tmp_path: Path) -> None:
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 255
    p = tmp_path / "red.png"
    Image.fromarray(rgb).save(p)
    img = load_image(p, warn=False)  # warn=False: recorded, not issued
    assert any("colour information was discarded" in n for n in img.notes)
    assert int(img.pixels[0, 0]) == 76  # ITU-R 601 luma of pure red


def test_jpeg_greyscale(tmp_path: Path) -> None:
    p = tmp_path / "x.jpg"
    Image.fromarray(np.full((32, 48), 128, np.uint8)).save(p, quality=95)
    img = load_image(p)
    assert img.kind == "jpeg" and img.original_size == (48, 32)
    assert abs(int(img.pixels.mean()) - 128) <= 1


def test_multi_frame_gif_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "anim.gif"
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (0, 255)]
    frames[0].save(p, save_all=True, append_images=frames[1:])
    with pytest.raises(ImageLoadError, match="2 frames"):
        load_image(p)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "file not found"),
        (b"", "empty"),
        (b"just some text, no image", "not an image gazeread can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "cannot be decoded|not an image"),
    ],
    ids=["missing", "empty", "text", "broken-png"],
)
def test_bad_files_fail_naming_the_file(tmp_path: Path, content: bytes | None, match: str) -> None:
    p = tmp_path / "bad.png"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(ImageLoadError, match=match) as err:
        load_image(p)
    assert str(p) in str(err.value)
    assert err.value.path == str(p.resolve())


def test_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("window", [(100, 0), (float("nan"), 10), ("a", "b")])
def test_bad_window_is_refused(cxr: Path, window: tuple) -> None:
    with pytest.raises(ImageLoadError, match="window"):
        load_image(cxr / "nih_00000001_000.png", window=window)


def test_describe_is_json_ready(cxr: Path) -> None:
    import json

    d = load_image(cxr / "cr_chest_monochrome2.dcm").describe()
    assert json.loads(json.dumps(d))["pixel_spacing_mm"] == [0.168, 0.168]


# ---------------------------------------------------------------- pure maths
def test_to_uint8_rounds_half_up_and_clips() -> None:
    np.testing.assert_array_equal(
        to_uint8([-5, 0.49, 0.5, 254.5, 300, np.nan]), [0, 0, 1, 255, 255, 0]
    )


def test_invert_is_exact() -> None:
    a = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(invert(a), 255 - a)
    np.testing.assert_array_equal(invert(invert(a)), a)


def test_scale_range_flat_input_is_black() -> None:
    assert (scale_range(np.full(4, 7.0), 7, 7) == 0).all()
    np.testing.assert_allclose(scale_range([0, 5, 10], 0, 10), [0, 127.5, 255])


def test_window_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="width >= 1"):
        apply_window([1, 2], 0, 0.5)
    with pytest.raises(ValueError, match="not one of"):
        apply_window([1, 2], 0, 10, "GAMMA")
    np.testing.assert_array_equal(apply_window([0, 9, 10, 11], 10.5, 1), [0, 0, 0, 255])


def test_apply_lut_clamps_both_ends() -> None:
    out = apply_lut([-10, 5, 6, 7, 8, 100], [10, 20, 30], first_mapped=6)
    np.testing.assert_array_equal(out, [10, 10, 10, 20, 30, 30])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8])
def test_display_values_lookup_equals_direct(dtype: type) -> None:
    from stimuli.display import display_values

    info = np.iinfo(dtype)
    v: np.ndarray = (
        np.random.default_rng(1)
        .integers(info.min, int(info.max) + 1, size=(200, 300))
        .astype(dtype)
    )
    for fn in (lambda x: apply_window(x, 100.0, 3001.0), lambda x: apply_window(x, -5.0, 40.0, "SIGMOID"),
               lambda x: scale_range(x, float(v.min()), float(v.max()))):  # fmt: skip
        np.testing.assert_array_equal(display_values(v, fn), to_uint8(fn(v.astype(np.float64))))
