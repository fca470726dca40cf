"""Write the built-in demo stimulus set: chest phantoms as PNG and DICOM plus a manifest.

The set mixes the formats a real study meets (8-bit PNG, 12-bit DICOM MONOCHROME2 and
MONOCHROME1 with a stored window) and labels half the images ``real`` and half
``synthetic`` so the demo can run a visual Turing test. They are all procedural phantoms;
the manifest's ``generator`` column says so on every row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from stimuli.display import apply_window, to_uint8
from stimuli.manifest import write_manifest
from stimuli.phantoms import PHANTOM_BITS, make_phantom, phantom_window, to_stored

__all__ = [
    "DEMO_FINDINGS",
    "GENERATOR_REAL",
    "GENERATOR_SYNTHETIC",
    "write_demo_stimuli",
    "write_phantom_dicom",
]

GENERATOR_REAL = "gazeread-phantom (demo, not a real CXR)"
GENERATOR_SYNTHETIC = (
    "gazeread-phantom smooth style (demo, not a real CXR; stands in for a generative model)"
)
#: Findings of the demo images, cycled.
DEMO_FINDINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("nodule",),
    ("cardiomegaly",),
    ("effusion",),
    ("consolidation",),
    ("nodule", "effusion"),
)
_FORMATS = ("png", "dicom-monochrome2", "dicom-monochrome1")
_FIELD_OF_VIEW_MM = 350.0


def write_demo_stimuli(
    folder: str | Path,
    seed: int = 0,
    n: int = 6,
    *,
    size: tuple[int, int] = (1024, 1024),
) -> Path:
    """Write ``n`` phantoms and ``manifest.csv`` into ``folder``; return the manifest path.

    Image ``i`` (from 0) is ``phantom-{i+1:02d}``: its format cycles PNG, DICOM
    MONOCHROME2, DICOM MONOCHROME1; even images are labelled ``real`` (plain phantom),
    odd ones ``synthetic`` (smooth style); findings cycle through :data:`DEMO_FINDINGS`.
    Deterministic: the same ``seed``, ``n`` and ``size`` give byte-identical files.
    Existing files of the same names are replaced; nothing else in ``folder`` is touched.

    Parameters
    ----------
    folder : str or Path
        Created if missing.
    seed : int
        Base seed (image ``i`` uses ``seed * 1000 + i``).
    n : int
        Number of images (>= 1).
    size : (width, height)
        Image size in px.

    Returns
    -------
    Path
        The manifest.
    """
    if n < 1:
        raise ValueError(f"n={n!r}: the demo needs at least one image")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        image_id = f"phantom-{i + 1:02d}"
        real = i % 2 == 0
        findings = DEMO_FINDINGS[i % len(DEMO_FINDINGS)]
        fmt = _FORMATS[i % len(_FORMATS)]
        img_seed = seed * 1000 + i
        att = make_phantom(
            size, seed=img_seed, findings=findings, style="plain" if real else "smooth"
        )
        stored = to_stored(att)
        if fmt == "png":
            from PIL import Image

            name = f"{image_id}.png"
            c, w = phantom_window()
            Image.fromarray(to_uint8(apply_window(stored, c, w))).save(out / name, optimize=False)
        else:
            name = f"{image_id}.dcm"
            photometric = "MONOCHROME1" if fmt.endswith("1") else "MONOCHROME2"
            write_phantom_dicom(
                out / name,
                stored,
                photometric=photometric,
                uid_seed=f"{seed}-{i}-{size}",
                findings=findings,
            )
        rows.append(
            {
                "image_id": image_id,
                "path": name,
                "authenticity": "real" if real else "synthetic",
                "generator": GENERATOR_REAL if real else GENERATOR_SYNTHETIC,
                "findings": list(findings) or ["no finding"],
            }
        )
    manifest = write_manifest(out / "manifest.csv", rows)
    (out / "README.txt").write_text(
        "gazeread demo stimuli: procedural chest-radiograph PHANTOMS made by gazeread.\n"
        "None of them is a real radiograph; the 'real'/'synthetic' labels in manifest.csv exist\n"
        "only so the demo can run a visual Turing test. Do not use them as clinical images.\n",
        encoding="utf-8",
    )
    return manifest


def write_phantom_dicom(
    path: str | Path,
    stored: NDArray[np.uint16],
    *,
    photometric: str = "MONOCHROME2",
    bits: int = PHANTOM_BITS,
    window: tuple[float, float] | None = None,
    uid_seed: str = "0",
    findings: tuple[str, ...] = (),
    field_of_view_mm: float = _FIELD_OF_VIEW_MM,
) -> Path:
    """Write MONOCHROME2 stored values as a single-frame CR DICOM.

    Parameters
    ----------
    path : str or Path
        Output file.
    stored : numpy.ndarray of uint16, shape (rows, columns)
        MONOCHROME2 values (higher = brighter) of ``bits`` bits.
    photometric : {'MONOCHROME2', 'MONOCHROME1'}
        For MONOCHROME1 the values are written inverted (``2**bits - 1 - stored``) with the
        window mirrored, so both files display identically.
    bits : int
        ``BitsStored``.
    window : (center, width), optional
        Window for MONOCHROME2 values; default :func:`stimuli.phantoms.phantom_window`.
    uid_seed : str
        Makes the UIDs deterministic.
    findings : tuple of str
        Recorded in ``ImageComments``.
    field_of_view_mm : float
        Width of the image in mm (sets ``PixelSpacing``/``ImagerPixelSpacing``).

    Returns
    -------
    Path
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(f"photometric {photometric!r} must be MONOCHROME1 or MONOCHROME2")
    arr = np.asarray(stored)
    if arr.ndim != 2:
        raise ValueError(f"stored values must be 2-D, got shape {arr.shape}")
    top = 2**bits - 1
    c, w = window if window is not None else phantom_window(bits)
    if photometric == "MONOCHROME1":
        arr = top - arr.astype(np.int64)
        c = top - c + 1  # LINEAR window of x maps like the inverted window of top - x
    arr = np.clip(arr, 0, top).astype("<u2")
    rows, cols = arr.shape
    spacing = round(field_of_view_mm / cols, 4)

    sop_class = UID("1.2.840.10008.5.1.4.1.1.1")  # Computed Radiography Image Storage
    sop_uid = generate_uid(entropy_srcs=["gazeread-phantom", uid_seed, photometric, "sop"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["gazeread-phantom", uid_seed, "study"])
    ds.SeriesInstanceUID = generate_uid(
        entropy_srcs=["gazeread-phantom", uid_seed, photometric, "series"]
    )
    ds.Modality = "CR"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PatientName = ""  # a phantom: no patient (and nothing for the identity check to find)
    ds.PatientID = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "procedural phantom written by gazeread: no patient"
    ds.StudyDescription = "gazeread demo phantom (not a real patient)"
    ds.ImageComments = "procedural phantom, not a real radiograph; findings: " + (
        ", ".join(findings) or "none"
    )
    ds.Manufacturer = "gazeread"
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [spacing, spacing]
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.WindowCenter = float(c)
    ds.WindowWidth = float(w)
    ds.WindowCenterWidthExplanation = "PHANTOM"
    ds.PixelData = arr.tobytes()
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out
