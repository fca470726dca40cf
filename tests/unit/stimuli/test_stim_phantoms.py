"""Demo phantoms: deterministic, anatomically arranged, written as PNG and DICOM that display alike."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pydicom
import pytest

from stimuli.demo import (
    GENERATOR_REAL,
    GENERATOR_SYNTHETIC,
    write_demo_stimuli,
    write_phantom_dicom,
)
from stimuli.display import apply_window, to_uint8
from stimuli.loading import load_image
from stimuli.manifest import load_manifest
from stimuli.phantoms import FINDINGS, make_phantom, phantom_window, to_stored

SIZE = (192, 192)


def test_phantom_is_deterministic_and_seed_dependent() -> None:
    a = make_phantom(SIZE, seed=3)
    np.testing.assert_array_equal(a, make_phantom(SIZE, seed=3))
    assert np.abs(a - make_phantom(SIZE, seed=4)).mean() > 1e-3
    assert a.shape == (192, 192) and a.min() >= 0.0 and a.max() <= 1.0


def test_phantom_anatomy_is_where_a_cxr_has_it() -> None:
    a = make_phantom((256, 256), seed=0)
    h, w = a.shape
    lungs = np.mean(
        [
            a[int(0.3 * h) : int(0.5 * h), int(f * w) : int(f * w) + w // 10].mean()
            for f in (0.2, 0.7)
        ]
    )
    mediastinum = a[int(0.3 * h) : int(0.5 * h), int(0.47 * w) : int(0.53 * w)].mean()
    abdomen = a[int(0.88 * h) :, int(0.4 * w) : int(0.6 * w)].mean()
    outside = a[: int(0.05 * h), : int(0.1 * w)].mean()
    assert outside < 0.05  # direct exposure is black
    assert lungs + 0.2 < mediastinum  # dark lungs, bright mediastinum
    assert lungs + 0.2 < abdomen
    # left-right: the heart bulges to the image right (patient left)
    row = a[int(0.6 * h)]
    assert row[int(0.62 * w)] > row[int(0.38 * w)]


@pytest.mark.parametrize("finding", FINDINGS)
def test_each_finding_changes_the_lungs(finding: str) -> None:
    base = make_phantom(SIZE, seed=1)
    with_f = make_phantom(SIZE, seed=1, findings=(finding,))
    assert np.abs(with_f - base).max() > 0.05


def test_phantom_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown finding"):
        make_phantom(SIZE, findings=("pneumothorax",))
    with pytest.raises(ValueError, match="at least 64"):
        make_phantom((10, 10))
    with pytest.raises(ValueError, match="style"):
        make_phantom(SIZE, style="fancy")


def test_png_monochrome2_and_monochrome1_display_identically(tmp_path: Path) -> None:
    stored = to_stored(make_phantom(SIZE, seed=2))
    png = to_uint8(apply_window(stored, *phantom_window()))
    m2 = load_image(write_phantom_dicom(tmp_path / "m2.dcm", stored, photometric="MONOCHROME2"))
    m1 = load_image(write_phantom_dicom(tmp_path / "m1.dcm", stored, photometric="MONOCHROME1"))
    np.testing.assert_array_equal(m2.pixels, png)
    assert np.abs(m1.pixels.astype(int) - png.astype(int)).max() <= 1
    raw1 = pydicom.dcmread(tmp_path / "m1.dcm").pixel_array.astype(int)
    np.testing.assert_array_equal(raw1, 4095 - stored.astype(int))  # really stored inverted
    assert m1.bit_depth == 12 and m1.display == "window" and m1.photometric == "MONOCHROME1"


def test_demo_set_manifest_files_and_labels(tmp_path: Path) -> None:
    manifest = write_demo_stimuli(tmp_path / "demo", seed=0, n=6, size=SIZE)
    m = load_manifest(manifest)
    assert [e.image_id for e in m] == [f"phantom-{i:02d}" for i in range(1, 7)]
    assert [e.authenticity for e in m] == ["real", "synthetic"] * 3
    assert {e.generator for e in m} == {GENERATOR_REAL, GENERATOR_SYNTHETIC}
    assert all("demo, not a real CXR" in e.generator for e in m)
    kinds = [load_image(e.path).kind for e in m]
    assert kinds == ["png", "dicom", "dicom"] * 2
    photometric = [load_image(e.path).photometric for e in m]
    assert photometric.count("MONOCHROME1") == 2
    assert (tmp_path / "demo" / "README.txt").read_text().count("PHANTOM") == 1
    with manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["findings"] == "no finding" and rows[5]["findings"] == "nodule;effusion"


def test_demo_set_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    def digest(folder: Path) -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
        }

    write_demo_stimuli(tmp_path / "a", seed=5, n=3, size=(96, 96))
    write_demo_stimuli(tmp_path / "b", seed=5, n=3, size=(96, 96))
    write_demo_stimuli(tmp_path / "c", seed=6, n=3, size=(96, 96))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["phantom-01.png"] != digest(tmp_path / "c")["phantom-01.png"]


def test_demo_needs_one_image(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        write_demo_stimuli(tmp_path, n=0)
