"""Fixtures for the stimuli tests: real test images, pydicom's examples, synthetic DICOMs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CXR = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "cxr"


@pytest.fixture
def cxr() -> Path:
    """The real chest X-rays of ../shared/testdata/cxr (skips when absent)."""
    if not (CXR / "cr_chest_monochrome2.dcm").exists():
        pytest.skip(f"real test images not found in {CXR.resolve()} (shared testdata absent)")
    return CXR.resolve()


@pytest.fixture
def example() -> Callable[[str], Path]:
    """Path of a ``pydicom.examples`` file by name (skips when pydicom's data are missing)."""

    def get(name: str) -> Path:
        import pydicom.examples

        try:
            p = Path(pydicom.examples.get_path(name))
        except (ValueError, OSError) as exc:  # pragma: no cover - depends on the install
            pytest.skip(f"pydicom example {name!r} unavailable: {exc}")
        if not p.exists():  # pragma: no cover
            pytest.skip(f"pydicom example {name!r} not installed at {p}")
        return p

    return get


@pytest.fixture
def make_dicom(tmp_path: Path) -> Callable[..., Path]:
    """Write a single-frame uncompressed DICOM from an array plus extra elements."""
    counter = iter(range(10_000))

    def write(
        pixels: np.ndarray,
        name: str | None = None,
        *,
        bits: int = 12,
        signed: bool = False,
        photometric: str = "MONOCHROME2",
        **elements: Any,
    ) -> Path:
        from pydicom.dataset import FileDataset, FileMetaDataset
        from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

        arr = np.asarray(pixels)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.1")
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = tmp_path / (name or f"synthetic_{next(counter)}.dcm")
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CR"
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.Rows, ds.Columns = arr.shape
        ds.BitsAllocated = 16
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = 1 if signed else 0
        for key, value in elements.items():
            setattr(ds, key, value)
        ds.PixelData = arr.astype("<i2" if signed else "<u2").tobytes()
        ds.save_as(path, enforce_file_format=True)
        return path

    return write
