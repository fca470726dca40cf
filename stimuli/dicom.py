"""DICOM to display grey levels with pydicom 3, the way radiology viewers show a radiograph.

Order of operations (PS3.4 grayscale pipeline):

1. decode the pixel data (compressed transfer syntaxes through the installed pydicom
   plugins: pylibjpeg + pylibjpeg-libjpeg, Pillow, ...);
2. modality LUT (``RescaleSlope``/``RescaleIntercept`` or ``ModalityLUTSequence``) with
   :func:`pydicom.pixels.apply_modality_lut`;
3. VOI: a window override from the manifest, else the file's ``VOILUTSequence`` (with
   :func:`stimuli.display.apply_lut`: pydicom 3.0.2's ``apply_voi`` wraps 8-bit LUTs), else its first ``WindowCenter``/``WindowWidth``
   (with its ``VOILUTFunction``), else the data's own min..max (8-bit unsigned data without
   rescale is shown as stored);
4. scaling to 0..255 and rounding (pydicom keeps the stored range; we do this);
5. ``MONOCHROME1`` inverted (pydicom does not).

Colour files (RGB, YBR, PALETTE COLOR) are converted to grey with a warning; multi-frame,
non-image and undecodable files raise :class:`stimuli.image.ImageLoadError`.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stimuli.display import apply_lut, apply_window, display_values, invert, scale_range, to_uint8
from stimuli.image import ImageLoadError, LoadedImage

__all__ = ["decode_dicom", "pixel_spacing", "read_dataset"]

_COLOUR = (
    "RGB",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_ICT",
    "YBR_RCT",
    "YBR_PARTIAL_420",
    "PALETTE COLOR",
)


def read_dataset(p: Path, data: bytes) -> Any:
    """Parse DICOM bytes (with pixel data) or raise :class:`ImageLoadError` naming ``p``.

    pydicom's warnings are not printed: a file that ends inside its data (pydicom warns "End of
    file reached before ...") or whose header describes an image without its pixel data is
    reported as truncated or corrupt.
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    fix = "check that it is a DICOM image and not truncated; re-export it from the PACS"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                ds = dcmread(io.BytesIO(data))
            except InvalidDicomError:
                # no 128-byte preamble + 'DICM': old ACR-NEMA style files; try without it
                ds = dcmread(io.BytesIO(data), force=True)
                if not any(k in ds for k in ("SOPClassUID", "Modality", "PixelData", "Rows")):
                    raise InvalidDicomError(
                        "no DICOM preamble and no recognisable DICOM elements"
                    ) from None
        except Exception as exc:  # pydicom raises many types for a broken file; all mean the same
            raise ImageLoadError(
                p, f"is not a readable DICOM file ({type(exc).__name__}: {exc})", fix
            ) from exc
    ended = [str(w.message) for w in caught if "end of file" in str(w.message).lower()]
    headless_image = "PixelData" not in ds and "Rows" in ds
    if ended or headless_image:
        why = ended[0] if ended else "its header describes an image but the pixel data is missing"
        raise ImageLoadError(
            p, f"is a truncated or corrupt DICOM file ({len(data):,} bytes; {why})", fix
        )
    return ds


def pixel_spacing(ds: Any) -> tuple[float, float] | None:
    """``PixelSpacing`` (else ``ImagerPixelSpacing``) as ``(row, column)`` mm, or None."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is None:
            continue
        try:
            row, col = (float(v) for v in value)
        except (TypeError, ValueError):
            continue
        if row > 0 and col > 0 and math.isfinite(row) and math.isfinite(col):
            return (row, col)
    return None


def decode_dicom(
    p: Path,
    data: bytes,
    digest: str,
    window: tuple[float, float] | None,
    notes: list[str],
) -> LoadedImage:
    """Decode DICOM bytes to a :class:`LoadedImage` (see the module docstring).

    Parameters
    ----------
    p : Path
        The file (named in every message).
    data : bytes
        Its content.
    digest : str
        SHA-256 of ``data``.
    window : (center, width) or None
        Manifest override, in modality units.
    notes : list of str
        Receives the description of every change made on the way.
    """
    ds = read_dataset(p, data)
    modality = str(ds.get("Modality", "") or "?")
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        sop = ds.get("SOPClassUID")
        what = getattr(sop, "name", None) or str(sop or "unknown SOP class")
        raise ImageLoadError(
            p,
            f"is a DICOM {modality} object without pixel data ({what}), not an image",
            "list only image files in the manifest",
        )
    if "PixelData" not in ds:
        raise ImageLoadError(
            p,
            "has float pixel data, which is not a radiograph",
            "export it as an integer DICOM image",
        )
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageLoadError(
            p,
            f"is a multi-frame DICOM ({frames} frames); a stimulus is one image",
            "export the frame to show as a single-frame DICOM or PNG",
        )
    arr = _decode_pixels(p, ds)
    photometric = (
        str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2").strip().upper()
    )
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8)
    if arr.ndim == 3 or photometric in _COLOUR:
        pixels, display, used = _colour_to_grey(p, ds, arr, photometric, bits, window, notes)
    elif arr.ndim == 2:
        pixels, display, used = _grey_to_display(p, ds, arr, bits, window, notes)
        if photometric == "MONOCHROME1":
            pixels = invert(pixels)
        elif photometric != "MONOCHROME2":
            notes.append(
                f"{p}: unknown PhotometricInterpretation {photometric!r}, shown as MONOCHROME2"
            )
    else:
        raise ImageLoadError(
            p, f"decodes to an array of shape {arr.shape}", "export it as a single 2-D image"
        )
    h, w = pixels.shape
    out = np.ascontiguousarray(pixels, dtype=np.uint8)
    out.setflags(write=False)
    return LoadedImage(
        pixels=out,
        original_size=(int(w), int(h)),
        pixel_spacing_mm=pixel_spacing(ds),
        source=str(p),
        sha256=digest,
        bit_depth=bits,
        kind="dicom",
        photometric=photometric,
        display=display,
        window=used,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------- steps
def _decode_pixels(p: Path, ds: Any) -> NDArray[Any]:
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    try:
        return np.asarray(ds.pixel_array)
    except Exception as exc:  # decoders raise RuntimeError/ValueError/NotImplementedError/...
        ts_text = f"{ts.name} ({ts})" if ts is not None else "unknown transfer syntax"
        fix = "convert it to uncompressed DICOM or PNG"
        try:
            from pydicom.pixels import get_decoder

            missing = list(get_decoder(ts).missing_dependencies) if ts is not None else []
        except Exception:  # no decoder at all for this syntax
            missing = []
        if missing:
            fix = "install one of these pydicom plugins: " + "; ".join(missing) + ", or " + fix
        raise ImageLoadError(p, f"pixel data cannot be decoded ({ts_text}): {exc}", fix) from exc


def _grey_to_display(
    p: Path,
    ds: Any,
    arr: NDArray[Any],
    bits: int,
    window: tuple[float, float] | None,
    notes: list[str],
) -> tuple[NDArray[np.uint8], str, tuple[float, float] | None]:
    from pydicom.pixels import apply_modality_lut

    has_rescale = "ModalityLUTSequence" in ds or (
        float(ds.get("RescaleSlope", 1) or 1) != 1.0
        or float(ds.get("RescaleIntercept", 0) or 0) != 0.0
    )
    values = np.asarray(apply_modality_lut(arr, ds)) if has_rescale else arr
    if window is not None:
        return (
            display_values(values, lambda x: apply_window(x, *window)),
            "window (override)",
            window,
        )
    voi_seq = ds.get("VOILUTSequence")
    if voi_seq:
        item = voi_seq[0]
        desc = [int(d) for d in item.get("LUTDescriptor", [])]
        raw = _lut_table(item, ds)
        if len(desc) != 3 or raw.size == 0:
            raise ImageLoadError(
                p,
                f"has a VOI LUT with LUTDescriptor {desc!r} and {raw.size} entries",
                "give window_center/window_width in the manifest",
            )
        nbits = desc[2]
        top = float(2**nbits - 1)
        if nbits == 16 and raw.size and float(raw.max()) <= 4095:
            top = 4095.0  # the well-known "declared 16 bits, uses 12" mistake
            notes.append(f"{p}: VOI LUT declares 16-bit output but uses 12 bits; scaled as 12-bit")
        if len(voi_seq) > 1:
            notes.append(f"{p}: uses the first of {len(voi_seq)} VOI LUTs")
        first = desc[1]
        return (
            display_values(values, lambda x: scale_range(apply_lut(x, raw, first), 0.0, top)),
            "voi lut",
            None,
        )
    centres, widths = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centres is not None and widths is not None and centres != "" and widths != "":
        c, w = _first(centres), _first(widths)
        if c is not None and w is not None:
            function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
            try:
                apply_window(np.zeros(1), c, w, function)  # validates the parameters
            except ValueError as exc:
                raise ImageLoadError(
                    p,
                    f"has an unusable window: {exc}",
                    "give window_center/window_width in the manifest",
                ) from exc
            n = len(centres) if _is_multi(centres) else 1
            if n > 1:
                explained = ds.get("WindowCenterWidthExplanation")
                label = f" ({_first_text(explained)})" if explained else ""
                notes.append(f"{p}: uses the first of {n} windows{label}")
            return (
                display_values(values, lambda x: apply_window(x, c, w, function)),
                "window",
                (c, w),
            )
    unsigned = int(ds.get("PixelRepresentation", 0) or 0) == 0
    if bits <= 8 and unsigned and not has_rescale:
        return np.asarray(arr, dtype=np.uint8), "as stored", None
    finite = np.asarray(values, dtype=np.float64)
    pad = ds.get("PixelPaddingValue")
    if pad is not None and not has_rescale:
        keep = arr != pad
        finite = finite[keep] if keep.any() else finite
    lo, hi = float(np.min(finite)), float(np.max(finite))
    return (
        display_values(values, lambda x: scale_range(x, lo, hi)),
        "min-max",
        ((lo + hi) / 2.0, hi - lo),
    )


def _colour_to_grey(
    p: Path,
    ds: Any,
    arr: NDArray[Any],
    photometric: str,
    bits: int,
    window: tuple[float, float] | None,
    notes: list[str],
) -> tuple[NDArray[np.uint8], str, tuple[float, float] | None]:
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        rgb = np.asarray(apply_color_lut(arr, ds), dtype=np.float64)
        top = float(rgb.max()) if rgb.size and rgb.max() > 255 else 255.0
        top = 65535.0 if top > 255 else top
    else:
        rgb = np.asarray(arr, dtype=np.float64)
        top = float(2**bits - 1)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ImageLoadError(
            p,
            f"colour pixel data of shape {arr.shape} is not one RGB image",
            "export it as a greyscale image",
        )
    grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    same = bool(np.allclose(rgb[..., 0], rgb[..., 1]) and np.allclose(rgb[..., 1], rgb[..., 2]))
    what = (
        "its channels are identical, so nothing was lost"
        if same
        else "colour information was discarded (ITU-R 601 luma)"
    )
    notes.append(f"{p}: {photometric} DICOM converted to greyscale; {what}")
    if window is not None:
        return to_uint8(apply_window(grey, *window)), "window (override)", window
    return to_uint8(scale_range(grey, 0.0, top)), "as stored", None


def _lut_table(item: Any, ds: Any) -> NDArray[np.float64]:
    """LUTData as numbers whether it was read as US values or OW bytes."""
    value = item.get("LUTData")
    if value is None:
        return np.zeros(0)
    if isinstance(value, (bytes, bytearray)):
        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        big = ts is not None and str(ts) == "1.2.840.10008.1.2.2"  # explicit VR big endian
        return np.frombuffer(bytes(value), dtype=">u2" if big else "<u2").astype(np.float64)
    if isinstance(value, (int, float)):
        return np.asarray([value], dtype=np.float64)
    return np.asarray(list(value), dtype=np.float64)


def _is_multi(value: Any) -> bool:
    return not isinstance(value, (str, bytes, int, float)) and hasattr(value, "__len__")


def _first(value: Any) -> float | None:
    v = value[0] if _is_multi(value) else value
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _first_text(value: Any) -> str:
    return str(value[0] if _is_multi(value) else value)
