"""Pure numpy mapping of stored image values to 8-bit display values.

The functions here implement the presentation steps that pydicom leaves to the caller
(scaling to the display range, MONOCHROME1 inversion) and the DICOM VOI window functions
(PS3.3 C.11.2.1.2) straight to the 0..255 output range, so that no intermediate integer
range loses precision. They are shared by the DICOM and the PNG/JPEG loaders.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "VOI_FUNCTIONS",
    "apply_lut",
    "apply_window",
    "display_values",
    "invert",
    "scale_range",
    "to_uint8",
]

#: VOI LUT functions of DICOM PS3.3 C.11.2.1.3 that :func:`apply_window` implements.
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


def apply_window(
    values: ArrayLike,
    center: float,
    width: float,
    function: str = "LINEAR",
) -> NDArray[np.float64]:
    """Apply a DICOM window (centre/width) and return display values in ``[0, 255]``.

    Parameters
    ----------
    values : array_like
        Modality values (after the modality LUT / rescale), any shape.
    center, width : float
        Window centre and width in the same units as ``values``. ``LINEAR`` needs
        ``width >= 1``; the other functions need ``width > 0``.
    function : {'LINEAR', 'LINEAR_EXACT', 'SIGMOID'}
        The DICOM ``VOILUTFunction`` (default ``LINEAR``).

    Returns
    -------
    numpy.ndarray of float64, same shape
        Display values in ``[0, 255]`` (not rounded).

    Raises
    ------
    ValueError
        For an unknown function or a width out of range.
    """
    x = np.asarray(values, dtype=np.float64)
    c, w = float(center), float(width)
    fn = (function or "LINEAR").strip().upper()
    if not (math.isfinite(c) and math.isfinite(w)):
        raise ValueError(f"window centre {center!r} and width {width!r} must be finite numbers")
    if fn == "LINEAR":
        if w < 1:
            raise ValueError(f"a LINEAR window needs width >= 1, got {width!r}")
        if w == 1:  # a threshold at c - 0.5 (the formula divides by w - 1)
            return np.where(x <= c - 0.5, 0.0, 255.0)
        y = ((x - (c - 0.5)) / (w - 1.0) + 0.5) * 255.0
        y = np.where(x <= c - 0.5 - (w - 1.0) / 2.0, 0.0, y)
        y = np.where(x > c - 0.5 + (w - 1.0) / 2.0, 255.0, y)
        return np.clip(y, 0.0, 255.0)
    if fn == "LINEAR_EXACT":
        if w <= 0:
            raise ValueError(f"a LINEAR_EXACT window needs width > 0, got {width!r}")
        y = ((x - c) / w + 0.5) * 255.0
        return np.clip(y, 0.0, 255.0)
    if fn == "SIGMOID":
        if w <= 0:
            raise ValueError(f"a SIGMOID window needs width > 0, got {width!r}")
        with np.errstate(over="ignore"):
            return 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    raise ValueError(f"VOI LUT function {function!r} is not one of {', '.join(VOI_FUNCTIONS)}")


def apply_lut(values: ArrayLike, table: ArrayLike, first_mapped: int) -> NDArray[np.float64]:
    """Apply a DICOM LUT (PS3.3 C.11.2.1.1): ``table[clip(x - first_mapped, 0, n - 1)]``.

    Values below the first mapped value take the first entry, values past the end the last.
    (pydicom 3.0.2's ``apply_voi`` computes the index in the LUT's own dtype, which wraps
    for 8-bit LUTs, and warns on float input; this does not.)

    Parameters
    ----------
    values : array_like
        Modality values, any shape (rounded to integers).
    table : array_like, shape (n,)
        The LUT entries.
    first_mapped : int
        The input value mapped to ``table[0]`` (second value of ``LUTDescriptor``).

    Returns
    -------
    numpy.ndarray of float64, same shape as ``values``
    """
    lut = np.asarray(table, dtype=np.float64).ravel()
    if lut.size == 0:
        raise ValueError("the LUT has no entries")
    x = np.rint(np.asarray(values, dtype=np.float64))
    idx = np.clip(x - float(first_mapped), 0, lut.size - 1).astype(np.intp)
    return lut[idx]


def scale_range(values: ArrayLike, low: float, high: float) -> NDArray[np.float64]:
    """Map ``[low, high]`` linearly onto ``[0, 255]`` (clipped); a flat range maps to 0.

    Parameters
    ----------
    values : array_like
        Any shape.
    low, high : float
        Input values that become black and white.

    Returns
    -------
    numpy.ndarray of float64
        Display values in ``[0, 255]`` (not rounded).
    """
    x = np.asarray(values, dtype=np.float64)
    lo, hi = float(low), float(high)
    if not hi > lo:
        return np.zeros_like(x)
    return np.clip((x - lo) * (255.0 / (hi - lo)), 0.0, 255.0)


def to_uint8(display: ArrayLike) -> NDArray[np.uint8]:
    """Round display values in ``[0, 255]`` to ``uint8`` (half away from zero; NaN -> 0)."""
    d = np.nan_to_num(np.asarray(display, dtype=np.float64), nan=0.0)
    return np.floor(np.clip(d, 0.0, 255.0) + 0.5).astype(np.uint8)


def display_values(
    values: ArrayLike, transform: Callable[[NDArray[np.float64]], NDArray[np.float64]]
) -> NDArray[np.uint8]:
    """``to_uint8(transform(values))``, through a lookup table for integer images.

    A radiograph has millions of pixels but at most 2**16 distinct stored values, so for
    integer input the transform is evaluated once per value in ``[min, max]`` and indexed:
    the result is identical and about ten times faster.

    Parameters
    ----------
    values : array_like
        Stored or modality values.
    transform : callable
        Float array -> display values in ``[0, 255]`` (e.g. a window).

    Returns
    -------
    numpy.ndarray of uint8, same shape
    """
    v = np.asarray(values)
    if v.dtype.kind in "iub" and v.size > 4096:
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < (1 << 17):
            table = to_uint8(transform(np.arange(lo, hi + 1, dtype=np.float64)))
            return table[v.astype(np.int64) - lo]
    return to_uint8(transform(v.astype(np.float64)))


def invert(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """MONOCHROME1 presentation: ``255 - pixels`` (exact)."""
    return (255 - np.asarray(pixels, dtype=np.uint8)).astype(np.uint8)
