"""DICOM display: real CR files, pydicom's examples, synthetic files for every VOI path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_windowing

from stimuli.image import ImageLoadError, ImageWarning
from stimuli.loading import load_image

RAMP = np.arange(4096, dtype=np.uint16).reshape(64, 64)  # every 12-bit value once


def _pydicom_display(path: Path) -> np.ndarray:
    """pydicom's own windowing, scaled from its output range (unsigned 12-bit) to 0..255."""
    ds = pydicom.dcmread(path)
    out = apply_windowing(ds.pixel_array.astype(np.float64), ds)
    return out / 4095.0 * 255.0


# ---------------------------------------------------------------- real CR files
def test_cr_jpeg_baseline_decodes_with_spacing(cxr: Path) -> None:
    img = load_image(cxr / "cr_chest_monochrome2.dcm")
    assert pydicom.dcmread(
        cxr / "cr_chest_monochrome2.dcm"
    ).file_meta.TransferSyntaxUID.name.startswith("JPEG Baseline")
    assert img.kind == "dicom"
    assert img.original_size == (1024, 1024)
    assert img.pixels.shape == (1024, 1024) and img.pixels.dtype == np.uint8
    assert img.pixel_spacing_mm == (0.168, 0.168)
    assert img.bit_depth == 8
    assert img.photometric == "MONOCHROME2"
    assert img.display == "as stored"
    assert img.pixels.std() > 20  # a real image, not a blank
    assert not img.pixels.flags.writeable


def test_monochrome1_displays_as_exact_inverse_of_monochrome2(cxr: Path) -> None:
    m2 = load_image(cxr / "cr_chest_monochrome2.dcm")
    m1 = load_image(cxr / "cr_chest_monochrome1.dcm")
    assert m1.photometric == "MONOCHROME1"
    np.testing.assert_array_equal(m1.pixels.astype(int), 255 - m2.pixels.astype(int))
    assert m1.sha256 != m2.sha256


def test_cr_lungs_are_dark_and_mediastinum_bright(cxr: Path) -> None:
    """Displayed correctly, a CXR has dark lungs beside a bright mediastinum."""
    px = load_image(cxr / "cr_chest_monochrome2.dcm").pixels.astype(float)
    h, w = px.shape
    centre = px[int(h * 0.35) : int(h * 0.55), int(w * 0.45) : int(w * 0.55)].mean()
    lungs = np.mean(
        [
            px[int(h * 0.35) : int(h * 0.55), int(w * f) : int(w * f) + w // 10].mean()
            for f in (0.25, 0.65)
        ]
    )
    assert centre > lungs + 30


# ---------------------------------------------------------------- pydicom examples
def test_example_mr_window_matches_pydicom(example: Callable[[str], Path]) -> None:
    path = example("mr")
    img = load_image(path)
    ds = pydicom.dcmread(path)
    assert img.display == "window" and img.window == (600.0, 1600.0)
    ref = apply_windowing(ds.pixel_array.astype(np.float64), ds)
    y_min, y_max = -(2**15), 2**15 - 1  # signed 16-bit, no rescale
    expected = (ref - y_min) / (y_max - y_min) * 255.0
    assert np.abs(img.pixels.astype(float) - expected).max() <= 0.5 + 1e-6
    assert img.pixel_spacing_mm == (0.3125, 0.3125)


def test_example_ct_without_window_is_min_max_of_hounsfield(example: Callable[[str], Path]) -> None:
    img = load_image(example("ct"))
    assert img.display == "min-max"
    assert img.pixels.min() == 0 and img.pixels.max() == 255
    assert img.bit_depth == 16
    assert img.window is not None and img.window[1] > 0


def test_example_with_two_windows_uses_the_first_and_says_so(
    example: Callable[[str], Path],
) -> None:
    path = example("overlay")
    with pytest.warns(ImageWarning, match="first of 2 windows") as rec:
        img = load_image(path)
    assert str(path) in str(rec[0].message)
    assert img.window == (450.0, 790.0)


def test_colour_dicom_is_converted_with_a_warning_naming_the_file(
    example: Callable[[str], Path],
) -> None:
    path = example("rgb_color")
    with pytest.warns(ImageWarning, match="converted to greyscale") as rec:
        img = load_image(path)
    assert str(path) in str(rec[0].message)
    assert img.pixels.ndim == 2 and img.photometric == "RGB"


def test_non_image_dicom_fails_naming_file_and_reason(example: Callable[[str], Path]) -> None:
    path = example("rt_plan")
    with pytest.raises(ImageLoadError, match="without pixel data") as err:
        load_image(path)
    assert str(path) in str(err.value) and "RTPLAN" in str(err.value)


def test_multiframe_dicom_fails_naming_frames(example: Callable[[str], Path]) -> None:
    path = example("rt_dose")
    with pytest.raises(ImageLoadError, match=r"multi-frame DICOM \(15 frames\)") as err:
        load_image(path)
    assert str(path) in str(err.value) and "single-frame" in str(err.value)


# ---------------------------------------------------------------- synthetic files
@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_window_functions_match_pydicom(make_dicom: Callable[..., Path], function: str) -> None:
    path = make_dicom(RAMP, WindowCenter=2000, WindowWidth=1001, VOILUTFunction=function)
    img = load_image(path)
    assert img.display == "window" and img.window == (2000.0, 1001.0)
    diff = np.abs(img.pixels.astype(float) - _pydicom_display(path))
    assert diff.max() <= 0.5 + 1e-6


def test_linear_window_limits(make_dicom: Callable[..., Path]) -> None:
    c, w = 1000.0, 201.0
    px = load_image(make_dicom(RAMP, WindowCenter=c, WindowWidth=w)).pixels.ravel().astype(int)
    values = RAMP.ravel()
    assert (px[values <= c - 0.5 - (w - 1) / 2] == 0).all()
    assert (px[values > c - 0.5 + (w - 1) / 2] == 255).all()
    assert (np.diff(px) >= 0).all()
    assert px[int(c)] in (127, 128)


def test_voi_lut_sequence_is_applied_and_scaled(make_dicom: Callable[..., Path]) -> None:
    from pydicom.dataset import Dataset

    lut = np.round(4095 * (np.arange(4096) / 4095.0) ** 0.5).astype(np.uint16)  # a gamma curve
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.LUTData = lut.astype("<u2").tobytes()  # OW, as most modalities write it
    path = make_dicom(RAMP, VOILUTSequence=[item], WindowCenter=100, WindowWidth=10)  # LUT wins
    img = load_image(path)
    assert img.display == "voi lut"
    expected = np.floor(lut.reshape(64, 64) / 4095.0 * 255.0 + 0.5)
    np.testing.assert_array_equal(img.pixels, expected.astype(np.uint8))


def test_voi_lut_with_first_mapped_value(make_dicom: Callable[..., Path]) -> None:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.LUTDescriptor = [256, 1000, 8]  # values < 1000 -> first entry, >= 1255 -> last
    item.add_new(0x00283006, "US", list(range(256)))  # LUTData as US values
    img = load_image(make_dicom(RAMP, VOILUTSequence=[item]))
    flat = img.pixels.ravel()
    assert (flat[:1000] == 0).all() and (flat[1255:] == 255).all()
    np.testing.assert_array_equal(flat[1000:1256], np.arange(256))


def test_manifest_window_override_beats_file_window(make_dicom: Callable[..., Path]) -> None:
    path = make_dicom(RAMP, WindowCenter=100, WindowWidth=10)
    img = load_image(path, window=(3000.0, 501.0))
    assert img.display == "window (override)" and img.window == (3000.0, 501.0)
    assert img.pixels.ravel()[2700] == 0 and img.pixels.ravel()[3300] == 255


def test_rescale_then_window_in_modality_units(make_dicom: Callable[..., Path]) -> None:
    stored = np.full((8, 8), 1064, dtype=np.int16)  # HU 40 with intercept -1024
    stored[0, 0] = 1024 - 200  # HU -200 (below the 40/400 window)
    path = make_dicom(stored, bits=16, signed=True, RescaleSlope=1, RescaleIntercept=-1024,
                      WindowCenter=40, WindowWidth=400)  # fmt: skip
    px = load_image(path).pixels
    assert px[0, 0] == 0
    assert abs(int(px[1, 1]) - 128) <= 1


def test_monochrome1_with_window_is_inverted_after_windowing(
    make_dicom: Callable[..., Path],
) -> None:
    m2 = load_image(make_dicom(RAMP, WindowCenter=2000, WindowWidth=1500))
    m1 = load_image(
        make_dicom(RAMP, photometric="MONOCHROME1", WindowCenter=2000, WindowWidth=1500)
    )
    np.testing.assert_array_equal(m1.pixels.astype(int), 255 - m2.pixels.astype(int))


def test_no_window_12_bit_is_min_max(make_dicom: Callable[..., Path]) -> None:
    data = (RAMP // 4 + 500).astype(np.uint16)  # 500..1523
    img = load_image(make_dicom(data))
    assert img.display == "min-max" and img.window == (1011.5, 1023.0)
    assert img.pixels.min() == 0 and img.pixels.max() == 255


def test_imager_pixel_spacing_used_when_pixel_spacing_absent(
    make_dicom: Callable[..., Path],
) -> None:
    only_imager = load_image(make_dicom(RAMP, ImagerPixelSpacing=[0.2, 0.15]))
    assert only_imager.pixel_spacing_mm == (0.2, 0.15)  # [row, column]
    both = load_image(make_dicom(RAMP, PixelSpacing=[0.1, 0.12], ImagerPixelSpacing=[0.2, 0.15]))
    assert both.pixel_spacing_mm == (0.1, 0.12)
    assert load_image(make_dicom(RAMP)).pixel_spacing_mm is None


def test_undecodable_compressed_pixel_data_names_file_and_syntax(tmp_path: Path) -> None:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID, JPEGBaseline8Bit, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.1")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    path = tmp_path / "broken_jpeg.dcm"
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = (
        meta.MediaStorageSOPClassUID,
        meta.MediaStorageSOPInstanceUID,
        "CR",
    )
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 16
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xe0 this is not a JPEG stream" * 4])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ImageLoadError, match="cannot be decoded") as err:
        load_image(path)
    assert str(path) in str(err.value) and "JPEG Baseline" in str(err.value)


def test_truncated_dicom_fails_naming_the_file(cxr: Path, tmp_path: Path) -> None:
    data = (cxr / "cr_chest_monochrome2.dcm").read_bytes()
    cut = tmp_path / "truncated.dcm"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageLoadError) as err:
        load_image(cut)
    assert str(cut) in str(err.value)


def test_garbage_with_dcm_suffix_is_not_dicom(tmp_path: Path) -> None:
    p = tmp_path / "notes.dcm"
    p.write_text("this is a text file")
    with pytest.raises(ImageLoadError, match="not a readable DICOM"):
        load_image(p)


@pytest.mark.parametrize("fraction", [0.5, 0.01])
def test_a_truncated_dicom_is_named_as_such_without_library_warnings(
    tmp_path: Path, fraction: float
) -> None:
    import warnings

    from stimuli.image import ImageLoadError
    from stimuli.loading import load_image

    src = (
        Path(__file__).resolve().parents[4]
        / "shared"
        / "testdata"
        / "cxr"
        / "cr_chest_monochrome2.dcm"
    )
    if not src.exists():
        pytest.skip(f"test data not found: {src}")
    data = src.read_bytes()
    p = tmp_path / "cut.dcm"
    p.write_bytes(data[: int(len(data) * fraction)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pydicom warning leaking out would fail here
        with pytest.raises(ImageLoadError, match="truncated or corrupt DICOM") as info:
            load_image(p)
    assert "cut.dcm" in str(info.value) and "re-export" in str(info.value)
