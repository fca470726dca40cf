"""A display-ready stimulus image and the errors of loading one.

The types that :mod:`stimuli.loading` (PNG, JPEG) and :mod:`stimuli.dicom` both produce, kept
apart so that neither module imports the other at import time.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DICOM_SUFFIXES", "ImageLoadError", "ImageWarning", "LoadedImage"]

#: File name endings treated as DICOM even without the ``DICM`` preamble.
DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")


class ImageLoadError(ValueError):
    """An image file cannot be shown; the message names the file, the reason and the fix."""

    def __init__(self, path: str | Path, reason: str, fix: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.fix = fix
        msg = f"{self.path}: {reason}"
        if fix:
            msg += f" ({fix})"
        super().__init__(msg)


class ImageWarning(UserWarning):
    """An image was loaded but changed on the way (colour dropped, EXIF ignored, ...)."""


@dataclasses.dataclass(frozen=True, eq=False)
class LoadedImage:
    """A display-ready image and where it came from.

    Attributes
    ----------
    pixels : numpy.ndarray of uint8, shape (height, width)
        Grey levels exactly as they must be displayed (read-only array).
    original_size : (width, height)
        Size of the file's pixel grid (image px space of :class:`stimuli.layout.ImageLayout`).
    pixel_spacing_mm : (row, column) or None
        Physical spacing from DICOM ``PixelSpacing`` (else ``ImagerPixelSpacing``).
    source : str
        Absolute path of the file.
    sha256 : str
        Hex digest of the file's bytes (provenance).
    bit_depth : int
        Bits per stored sample (DICOM ``BitsStored``; 8 or 16 for PNG).
    kind : str
        ``'png'``, ``'jpeg'``, ``'dicom'`` or another Pillow format name in lower case.
    photometric : str
        ``MONOCHROME1``/``MONOCHROME2`` (DICOM), or what the file was (``RGB``...).
    display : str
        How stored values became grey levels: ``'as stored'``, ``'min-max'``,
        ``'window'``, ``'window (override)'``, ``'voi lut'``.
    window : (center, width) or None
        The window applied, in stored/modality units (None when none was).
    notes : tuple of str
        Everything changed on the way (the texts of the warnings issued).
    """

    pixels: NDArray[np.uint8]
    original_size: tuple[int, int]
    pixel_spacing_mm: tuple[float, float] | None
    source: str
    sha256: str
    bit_depth: int
    kind: str
    photometric: str = "MONOCHROME2"
    display: str = "as stored"
    window: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """Image width (px)."""
        return int(self.original_size[0])

    @property
    def height(self) -> int:
        """Image height (px)."""
        return int(self.original_size[1])

    def describe(self) -> dict[str, Any]:
        """Metadata as a JSON-ready dict (no pixels), for provenance and reports."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "bit_depth": self.bit_depth,
            "pixel_spacing_mm": list(self.pixel_spacing_mm) if self.pixel_spacing_mm else None,
            "photometric": self.photometric,
            "display": self.display,
            "window": list(self.window) if self.window else None,
            "notes": list(self.notes),
        }
