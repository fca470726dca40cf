"""Where an image goes on the screen, with exact transforms between coordinate spaces.

Spaces (all continuous, origin at the top-left corner, y down):

- image px: pixels of the original image (DICOM columns/rows); pixel ``(i, j)`` covers
  ``[i, i+1) x [j, j+1)``, so the image spans ``[0, width] x [0, height]``.
- screen px: pixels of the stimulus window, same convention.
- normalised: the tracker's display-area coordinates, ``screen / resolution`` (0..1).

An :class:`ImageLayout` is stored with every trial, so any sample maps back to image pixels.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ImageLayout", "fit_image"]


@dataclasses.dataclass(frozen=True)
class ImageLayout:
    """An image of ``image_size`` shown at ``scale`` with its top-left corner at ``offset``.

    Attributes
    ----------
    image_width, image_height : int
        Original image size (px).
    screen_width, screen_height : int
        Stimulus window size (px).
    scale : float
        Screen px per image px (same on both axes: aspect is preserved).
    offset_x, offset_y : float
        Screen position (px) of the image's top-left corner.
    """

    image_width: int
    image_height: int
    screen_width: int
    screen_height: int
    scale: float
    offset_x: float
    offset_y: float

    def __post_init__(self) -> None:
        for name in ("image_width", "image_height", "screen_width", "screen_height"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"ImageLayout.{name} must be a positive int, got {v!r}")
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"ImageLayout.scale must be a positive number, got {self.scale!r}")
        for name in ("offset_x", "offset_y"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"ImageLayout.{name} must be a finite number, got {v!r}")

    # ---------------------------------------------------------------- geometry
    @property
    def shown_width(self) -> float:
        """Width of the image on screen (px)."""
        return self.image_width * self.scale

    @property
    def shown_height(self) -> float:
        """Height of the image on screen (px)."""
        return self.image_height * self.scale

    @property
    def screen_rect(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the image in screen px (REFLACX's columns)."""
        return (
            self.offset_x,
            self.offset_y,
            self.offset_x + self.shown_width,
            self.offset_y + self.shown_height,
        )

    @property
    def image_rect(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the part of the image shown, in image px (all of it)."""
        return (0.0, 0.0, float(self.image_width), float(self.image_height))

    def centred_rect(self) -> tuple[float, float, float, float]:
        """``(cx, cy, width, height)`` of the image in window-centred px with y up.

        This is PsychoPy's ``units='pix'`` convention (origin at the window centre, y
        pointing up), so ``pos=(cx, cy), size=(width, height)`` puts the image exactly on
        :attr:`screen_rect`.
        """
        cx = self.offset_x + self.shown_width / 2.0 - self.screen_width / 2.0
        cy = self.screen_height / 2.0 - (self.offset_y + self.shown_height / 2.0)
        return (cx, cy, self.shown_width, self.shown_height)

    # ---------------------------------------------------------------- transforms
    def image_to_screen(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Image px -> screen px."""
        return (
            np.asarray(x, dtype=float) * self.scale + self.offset_x,
            np.asarray(y, dtype=float) * self.scale + self.offset_y,
        )

    def screen_to_image(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Screen px -> image px (exact inverse of :meth:`image_to_screen`)."""
        return (
            (np.asarray(x, dtype=float) - self.offset_x) / self.scale,
            (np.asarray(y, dtype=float) - self.offset_y) / self.scale,
        )

    def normalised_to_screen(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Tracker-normalised -> screen px."""
        return (
            np.asarray(x, dtype=float) * self.screen_width,
            np.asarray(y, dtype=float) * self.screen_height,
        )

    def screen_to_normalised(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Screen px -> tracker-normalised."""
        return (
            np.asarray(x, dtype=float) / self.screen_width,
            np.asarray(y, dtype=float) / self.screen_height,
        )

    def normalised_to_image(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Tracker-normalised -> image px."""
        return self.screen_to_image(*self.normalised_to_screen(x, y))

    def image_to_normalised(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Image px -> tracker-normalised."""
        return self.screen_to_normalised(*self.image_to_screen(x, y))

    def on_image(self, image_x: ArrayLike, image_y: ArrayLike) -> NDArray:
        """True where image coordinates fall on the image (NaN -> False)."""
        xi = np.asarray(image_x, dtype=float)
        yi = np.asarray(image_y, dtype=float)
        with np.errstate(invalid="ignore"):
            return (xi >= 0) & (xi < self.image_width) & (yi >= 0) & (yi < self.image_height)

    def map_gaze(self, x_norm: ArrayLike, y_norm: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
        """Tracker-normalised gaze -> ``(image_x, image_y, on_image)``.

        Off-image samples keep their (out-of-range) image coordinates; ``on_image`` is False
        for them and for NaN (invalid) samples, as EGD-CXR's -1 marker would be.
        """
        xi, yi = self.normalised_to_image(x_norm, y_norm)
        return xi, yi, self.on_image(xi, yi)

    # ---------------------------------------------------------------- storage
    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (stored with every trial)."""
        return {
            k: (float(v) if isinstance(v, float) else int(v))
            for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageLayout:
        """Inverse of :meth:`to_dict`."""
        return cls(
            image_width=int(data["image_width"]),
            image_height=int(data["image_height"]),
            screen_width=int(data["screen_width"]),
            screen_height=int(data["screen_height"]),
            scale=float(data["scale"]),
            offset_x=float(data["offset_x"]),
            offset_y=float(data["offset_y"]),
        )


def fit_image(
    image_size: tuple[int, int],
    screen_size: tuple[int, int],
    *,
    max_size: tuple[int, int] | None = None,
    integer_scaling: bool = False,
    margin_px: int = 0,
) -> ImageLayout:
    """Fit an image on the screen preserving aspect ratio, centred.

    Parameters
    ----------
    image_size : (width, height)
        Original image size in px.
    screen_size : (width, height)
        Stimulus window size in px.
    max_size : (width, height), optional
        Largest on-screen size allowed (px); default the screen minus margins.
    integer_scaling : bool
        Use an integer magnification (>= 1) or an integer reduction (1/k), so image pixels map
        to whole screen pixels.
    margin_px : int
        Space kept free on every side.

    Returns
    -------
    ImageLayout
    """
    iw, ih = (int(v) for v in image_size)
    sw, sh = (int(v) for v in screen_size)
    if min(iw, ih, sw, sh) <= 0:
        raise ValueError(
            f"image size {image_size!r} and screen size {screen_size!r} must be positive"
        )
    if margin_px < 0 or 2 * margin_px >= min(sw, sh):
        raise ValueError(f"margin_px {margin_px!r} leaves no room on a {sw}x{sh} screen")
    aw, ah = sw - 2 * margin_px, sh - 2 * margin_px
    if max_size is not None:
        aw, ah = min(aw, int(max_size[0])), min(ah, int(max_size[1]))
        if aw <= 0 or ah <= 0:
            raise ValueError(f"max_size {max_size!r} must be positive")
    scale = min(aw / iw, ah / ih)
    if integer_scaling:
        # in integer arithmetic, so exact ratios never depend on float rounding
        magnify = min(aw // iw, ah // ih)
        scale = float(magnify) if magnify >= 1 else 1.0 / max(-(-iw // aw), -(-ih // ah))
    ox = (sw - iw * scale) / 2.0
    oy = (sh - ih * scale) / 2.0
    if integer_scaling:
        ox, oy = float(math.floor(ox)), float(math.floor(oy))
    return ImageLayout(iw, ih, sw, sh, float(scale), float(ox), float(oy))
