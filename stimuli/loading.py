"""Load a stimulus image (PNG, JPEG, DICOM) into display-ready 8-bit grey levels plus metadata.

``load_image`` is the one entry point: it hashes the file, recognises its format from its
content (the extension only breaks ties), and returns a :class:`LoadedImage` whose
``pixels`` are exactly what the reader must see (DICOM windowing applied, MONOCHROME1
inverted). The geometry (``original_size``) is the file's own pixel grid, the space gaze is
mapped back to.

Display rules
-------------
- 8-bit grey PNG/JPEG: shown as stored.
- 16-bit (or other non-8-bit) grey PNG/TIFF: the image's own min..max stretched to 0..255,
  unless a window is given.
- Colour PNG/JPEG: converted to grey (ITU-R 601 luma) with an :class:`ImageWarning` that
  names the file (radiographs are grey; a colour file is usually an export accident).
- DICOM: see :mod:`stimuli.dicom`.
- A ``window=(center, width)`` override (from the manifest) is applied to the stored values
  with the DICOM LINEAR function, for every format.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stimuli.display import apply_window, display_values, scale_range
from stimuli.image import DICOM_SUFFIXES, ImageLoadError, ImageWarning, LoadedImage

__all__ = ["load_image"]


def load_image(
    path: str | Path,
    window: tuple[float, float] | None = None,
    *,
    warn: bool = True,
) -> LoadedImage:
    """Load an image file into display-ready grey levels.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG (or other Pillow-readable grey image) or single-frame DICOM file.
    window : (center, width), optional
        Window override in stored (DICOM: modality) units; replaces the file's own VOI.
    warn : bool
        Issue :class:`ImageWarning` for changes made on the way (they are also kept in
        ``notes``); ``False`` only records them.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageLoadError
        Missing or unreadable file, unknown format, multi-frame or non-image DICOM,
        undecodable compressed pixel data, bad window. The message names the file.
    """
    p = Path(path).expanduser()
    try:
        p = p.resolve()
    except OSError:  # pragma: no cover - resolve only fails on exotic filesystems
        p = p.absolute()
    if window is not None:
        window = _check_window(p, window)
    if not p.exists():
        raise ImageLoadError(
            p,
            "file not found",
            "check the path (relative paths in a manifest are relative to the manifest's folder)",
        )
    if p.is_dir():
        raise ImageLoadError(p, "is a folder, not an image file", "give the path of one image file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImageLoadError(
            p, f"cannot be read ({exc.strerror or exc})", "check its permissions"
        ) from exc
    if not data:
        raise ImageLoadError(p, "is empty (0 bytes)", "copy the image again")
    digest = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    if _looks_like_dicom(p, data):
        from stimuli.dicom import decode_dicom  # pydicom loads only for DICOM files

        img = decode_dicom(p, data, digest, window, notes)
    else:
        img = _decode_pillow(p, data, digest, window, notes)
    if warn:
        for note in img.notes:
            warnings.warn(ImageWarning(note), stacklevel=2)
    return img


# ---------------------------------------------------------------------------- helpers
def _check_window(p: Path, window: tuple[float, float]) -> tuple[float, float]:
    try:
        c, w = (float(v) for v in window)
    except (TypeError, ValueError) as exc:
        raise ImageLoadError(
            p, f"window {window!r} is not (center, width)", "give two numbers"
        ) from exc
    if not (np.isfinite(c) and np.isfinite(w)) or w < 1:
        raise ImageLoadError(
            p, f"window width {w!r} (centre {c!r}) is not usable", "the width must be a number >= 1"
        )
    return (c, w)


def _looks_like_dicom(p: Path, data: bytes) -> bool:
    if len(data) >= 132 and data[128:132] == b"DICM":
        return True
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff":
        return False
    return p.suffix.lower() in DICOM_SUFFIXES


def _freeze(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    out = np.ascontiguousarray(pixels, dtype=np.uint8)
    out.setflags(write=False)
    return out


def _decode_pillow(
    p: Path, data: bytes, digest: str, window: tuple[float, float] | None, notes: list[str]
) -> LoadedImage:
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
        fmt = (im.format or "unknown").lower()
        im.load()
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            p,
            "is not an image gazeread can read",
            "use PNG, JPEG or DICOM; a DICOM file without the 'DICM' preamble needs a .dcm name",
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(
            p, f"cannot be decoded ({exc})", "the file may be truncated or corrupt; export it again"
        ) from exc
    n_frames = int(getattr(im, "n_frames", 1))
    if n_frames > 1:
        raise ImageLoadError(
            p,
            f"has {n_frames} frames; a stimulus is one image",
            "save the frame to show as its own file",
        )
    orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
    if orientation not in (1, None):
        notes.append(
            f"{p}: EXIF orientation {orientation} is ignored: the image is shown as its pixels "
            "are stored (rotate the file itself if it looks wrong)"
        )
    mode = im.mode
    photometric = "MONOCHROME2"
    if mode in ("RGB", "RGBA", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "LA"):
        photometric = mode
        if mode == "LA":
            arr = np.asarray(im.getchannel("L"))
            notes.append(f"{p}: alpha channel ignored (grey + alpha image)")
        else:
            rgb = np.asarray(im.convert("RGB"))
            same = bool(
                np.array_equal(rgb[..., 0], rgb[..., 1])
                and np.array_equal(rgb[..., 1], rgb[..., 2])
            )
            arr = np.asarray(im.convert("RGB").convert("L"))
            what = (
                "its channels are identical, so nothing was lost"
                if same
                else "colour information was discarded (ITU-R 601 luma)"
            )
            notes.append(f"{p}: {mode} image converted to greyscale; {what}")
    elif mode == "1":
        arr = np.asarray(im.convert("L"))
    elif mode == "L" or mode.startswith("I") or mode == "F":
        arr = np.asarray(im)
    else:  # pragma: no cover - exotic Pillow modes
        raise ImageLoadError(
            p, f"has the unsupported pixel mode {mode!r}", "save it as 8- or 16-bit greyscale PNG"
        )
    if arr.ndim != 2:  # pragma: no cover - guarded by the modes above
        raise ImageLoadError(
            p, f"has pixel array shape {arr.shape}", "save it as a greyscale image"
        )
    bit_depth = 8 if arr.dtype == np.uint8 else _pillow_bit_depth(mode, arr)
    h, w = arr.shape
    if window is not None:
        pixels = display_values(arr, lambda x: apply_window(x, window[0], window[1]))
        display, used = "window (override)", window
    elif arr.dtype == np.uint8:
        pixels, display, used = arr, "as stored", None
    else:
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        pixels = display_values(arr, lambda x: scale_range(x, lo, hi))
        display, used = "min-max", ((lo + hi) / 2.0, hi - lo)
    return LoadedImage(
        pixels=_freeze(pixels),
        original_size=(int(w), int(h)),
        pixel_spacing_mm=None,
        source=str(p),
        sha256=digest,
        bit_depth=bit_depth,
        kind="jpeg" if fmt in ("jpeg", "mpo") else fmt,
        photometric=photometric,
        display=display,
        window=used,
        notes=tuple(notes),
    )


def _pillow_bit_depth(mode: str, arr: NDArray[Any]) -> int:
    if mode == "F":
        return 32
    if mode.startswith("I;16"):
        return 16
    if mode == "I":  # 32-bit int container: report what the values need
        hi = int(np.max(arr)) if arr.size else 0
        return 16 if 255 < hi < 65536 else (8 if hi <= 255 else 32)
    return int(arr.dtype.itemsize * 8)
