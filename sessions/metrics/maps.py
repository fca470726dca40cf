"""Fixation maps and saliency density maps (pure numpy), shared by export and the Qt replay.

Conventions: image px, origin top-left, y down; pixel ``(i, j)`` covers ``[i, i+1) x [j, j+1)``;
arrays are ``(height, width)``. The density map is the REFLACX/GazeVaLM one: a Gaussian of
SD 1 degree of visual angle (converted to image px) around each fixation, weighted by its
duration.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "fixation_count_map",
    "fixation_density_map",
    "fixation_points_image",
    "map_to_uint8",
    "sigma_image_px",
]


def _check(
    x: ArrayLike, y: ArrayLike, w: ArrayLike | None, image_size: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int, int]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    wa = np.ones_like(xa) if w is None else np.asarray(w, dtype=np.float64).ravel()
    if wa.shape != xa.shape:
        raise ValueError(f"durations must match x/y in length, got {wa.size} and {xa.size}")
    iw, ih = (int(v) for v in image_size)
    if iw <= 0 or ih <= 0:
        raise ValueError(f"image_size must be positive (width, height), got {image_size!r}")
    keep = np.isfinite(xa) & np.isfinite(ya) & np.isfinite(wa)
    return xa[keep], ya[keep], wa[keep], iw, ih


def fixation_count_map(
    x_img: ArrayLike,
    y_img: ArrayLike,
    image_size: tuple[int, int],
    durations: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """The fixation map: at each fixated pixel, the fixation count (or summed duration).

    Parameters
    ----------
    x_img, y_img : array_like, shape (n,)
        Fixation centres in image px. Off-image and NaN entries are ignored.
    image_size : (width, height)
    durations : array_like, shape (n,), optional
        When given, each fixation adds its duration instead of 1.

    Returns
    -------
    numpy.ndarray, shape (height, width), float64
    """
    xa, ya, wa, iw, ih = _check(x_img, y_img, durations, image_size)
    xi = np.floor(xa).astype(np.int64)
    yi = np.floor(ya).astype(np.int64)
    on = (xi >= 0) & (xi < iw) & (yi >= 0) & (yi < ih)
    out = np.zeros((ih, iw), dtype=np.float64)
    np.add.at(out, (yi[on], xi[on]), wa[on])
    return out


def fixation_density_map(
    x_img: ArrayLike,
    y_img: ArrayLike,
    durations: ArrayLike | None,
    image_size: tuple[int, int],
    sigma_px: float | tuple[float, float],
    *,
    normalise: bool = True,
) -> NDArray[np.float64]:
    """Duration-weighted Gaussian density of fixations over the image.

    Computed separably and exactly at pixel centres (``x + 0.5``): each fixation contributes
    ``d * exp(-((u-x)^2/(2 sx^2) + (v-y)^2/(2 sy^2)))``. Fixations off the image still
    contribute their tails.

    Parameters
    ----------
    x_img, y_img : array_like, shape (n,)
        Fixation centres in image px.
    durations : array_like, shape (n,), or None
        Weights (ms, or any unit); None weights every fixation 1.
    image_size : (width, height)
    sigma_px : float or (sx, sy)
        Gaussian SD in image px (see :func:`sigma_image_px` for 1 degree).
    normalise : bool
        Scale so the map sums to 1 (a probability density over pixels); an empty map stays 0.

    Returns
    -------
    numpy.ndarray, shape (height, width), float64
    """
    xa, ya, wa, iw, ih = _check(x_img, y_img, durations, image_size)
    sx, sy = (sigma_px, sigma_px) if np.isscalar(sigma_px) else sigma_px  # type: ignore[misc]
    sx, sy = float(sx), float(sy)  # type: ignore[arg-type]
    if not (sx > 0 and sy > 0 and np.isfinite(sx) and np.isfinite(sy)):
        raise ValueError(f"sigma_px must be positive and finite, got {sigma_px!r}")
    out = np.zeros((ih, iw), dtype=np.float64)
    if xa.size == 0:
        return out
    u = np.arange(iw, dtype=np.float64) + 0.5
    v = np.arange(ih, dtype=np.float64) + 0.5
    # chunk over fixations to bound memory: (k, h) @ (k, w) products
    step = max(1, int(4_000_000 // max(iw, ih)))
    for i in range(0, xa.size, step):
        gx = np.exp(-0.5 * ((u[None, :] - xa[i : i + step, None]) / sx) ** 2)
        gy = np.exp(-0.5 * ((v[None, :] - ya[i : i + step, None]) / sy) ** 2)
        out += (gy * wa[i : i + step, None]).T @ gx
    if normalise:
        total = out.sum()
        if total > 0:
            out /= total
    return out


def sigma_image_px(
    px_per_degree_screen: tuple[float, float], layout_scale: float, degrees: float = 1.0
) -> tuple[float, float]:
    """``degrees`` of visual angle in image px: screen px/deg divided by the layout's scale.

    Parameters
    ----------
    px_per_degree_screen : (px_x, px_y)
        Screen px per degree (``acquisition.geometry.px_per_degree``).
    layout_scale : float
        Screen px per image px (``ImageLayout.scale``).
    degrees : float
        Default 1 degree (REFLACX, GazeVaLM).
    """
    if layout_scale <= 0:
        raise ValueError(f"layout_scale must be positive, got {layout_scale!r}")
    return (
        degrees * px_per_degree_screen[0] / layout_scale,
        degrees * px_per_degree_screen[1] / layout_scale,
    )


def map_to_uint8(m: ArrayLike) -> NDArray[np.uint8]:
    """Scale a map to 0..255 by its maximum (for PNG); an all-zero map stays 0."""
    a = np.asarray(m, dtype=np.float64)
    peak = float(np.nanmax(a)) if a.size else 0.0
    if not peak > 0:
        return np.zeros(a.shape, dtype=np.uint8)
    return np.clip(np.rint(a / peak * 255.0), 0, 255).astype(np.uint8)


def fixation_points_image(
    count_map: ArrayLike, radius_px: float | None = None
) -> NDArray[np.uint8]:
    """A fixation count map drawn to be seen: each fixated pixel as a white disc (uint8 0/255).

    ``radius_px`` defaults to 0.5 % of the image's larger side, at least 3 px (a one-pixel dot
    per fixation is invisible on a 3000 px radiograph). The count map itself (``.npy``) keeps
    one pixel per fixation; this is only its picture.
    """
    from scipy.ndimage import binary_dilation

    m = np.asarray(count_map) > 0
    r = float(radius_px) if radius_px is not None else max(3.0, 0.005 * max(m.shape))
    k = int(np.ceil(r))
    yy, xx = np.mgrid[-k : k + 1, -k : k + 1]
    disc = xx * xx + yy * yy <= r * r
    return np.where(binary_dilation(m, structure=disc), 255, 0).astype(np.uint8)
