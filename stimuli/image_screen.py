"""Draw a stimulus in a PsychoPy window exactly where its :class:`ImageLayout` says.

The only module of :mod:`stimuli` that imports PsychoPy. Geometry comes from
:meth:`stimuli.layout.ImageLayout.centred_rect` (window-centred px, y up: PsychoPy's
``units='pix'``), so the drawn quad covers :attr:`ImageLayout.screen_rect` exactly.
Grey levels reach the framebuffer unchanged (white ``color``, full contrast).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from stimuli.image import LoadedImage
from stimuli.layout import ImageLayout
from stimuli.preload import resample_for_display

__all__ = ["make_image_stim", "texture_from_pixels"]


def texture_from_pixels(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 grey levels (row 0 at the top) -> PsychoPy luminance texture (-1..1, row 0 at the bottom)."""
    arr = np.asarray(pixels, dtype=np.uint8)
    if arr.ndim != 2:
        raise ValueError(f"pixels must be a 2-D grey image, got shape {arr.shape}")
    # the same arithmetic PsychoPy uses for 8-bit images, so v -> v/255 exactly in the shader
    return np.ascontiguousarray(np.flipud(arr), dtype=np.float32) * np.float32(
        2.0 / 255.0
    ) - np.float32(1.0)


def make_image_stim(
    win: Any,
    image: LoadedImage,
    layout: ImageLayout,
    *,
    display: NDArray[np.uint8] | None = None,
    name: str | None = None,
) -> Any:
    """A ``psychopy.visual.ImageStim`` showing ``image`` on ``layout.screen_rect``.

    Parameters
    ----------
    win : psychopy.visual.Window
        Its size must be ``(layout.screen_width, layout.screen_height)``.
    image : LoadedImage
    layout : ImageLayout
        Must describe ``image`` (same original size).
    display : numpy.ndarray of uint8, optional
        Pixels already resampled for this layout (``PreparedImage.display``); default
        ``resample_for_display(image.pixels, layout)``.
    name : str, optional
        Stimulus name (PsychoPy logs); default the image file name.

    Returns
    -------
    psychopy.visual.ImageStim

    Raises
    ------
    ValueError
        Window size or image size does not match the layout.
    """
    from psychopy import visual

    win_size = tuple(int(v) for v in win.size)
    if win_size != (layout.screen_width, layout.screen_height):
        raise ValueError(
            f"window is {win_size[0]}x{win_size[1]} px but the layout was computed for "
            f"{layout.screen_width}x{layout.screen_height}: compute the layout from win.size"
        )
    if tuple(image.original_size) != (layout.image_width, layout.image_height):
        raise ValueError(
            f"{image.source}: image is {image.width}x{image.height} px but the layout is for "
            f"{layout.image_width}x{layout.image_height}"
        )
    pixels = resample_for_display(image.pixels, layout) if display is None else display
    cx, cy, w, h = layout.centred_rect()
    integer_zoom = layout.scale >= 1.0 and float(layout.scale).is_integer()
    return visual.ImageStim(
        win,
        image=texture_from_pixels(pixels),
        units="pix",
        pos=(cx, cy),
        size=(w, h),
        colorSpace="rgb",
        color=(1.0, 1.0, 1.0),
        contrast=1.0,
        interpolate=not integer_zoom,
        name=name or image.source.rsplit("/", 1)[-1],
    )
