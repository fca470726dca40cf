"""Load and prepare the next stimulus in a background thread while the current trial runs.

Typical use in a session runner::

    with ImagePreloader(screen_size=(1920, 1080)) as pre:
        pre.request(entries[0].image_id, entries[0].path, entries[0].window)
        for k, entry in enumerate(entries):
            prepared = pre.get(entry.image_id, timeout=30)   # raises the loading error, if any
            if k + 1 < len(entries):
                nxt = entries[k + 1]
                pre.request(nxt.image_id, nxt.path, nxt.window)
            ... show prepared.display at prepared.layout ...

Decoding a large DICOM (tens of ms to a second) then overlaps the reader's response instead
of delaying the next image onset.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stimuli.image import LoadedImage
from stimuli.layout import ImageLayout, fit_image
from stimuli.loading import load_image

__all__ = ["ImagePreloader", "PreparedImage", "resample_for_display"]


@dataclasses.dataclass(frozen=True, eq=False)
class PreparedImage:
    """A loaded image ready to draw.

    Attributes
    ----------
    image : LoadedImage
    layout : ImageLayout or None
        Where it goes (None when the preloader has no screen size).
    display : numpy.ndarray of uint8 or None
        ``image.pixels`` resampled to the on-screen size (see :func:`resample_for_display`).
    """

    image: LoadedImage
    layout: ImageLayout | None
    display: NDArray[np.uint8] | None


def resample_for_display(pixels: NDArray[np.uint8], layout: ImageLayout) -> NDArray[np.uint8]:
    """Resample display pixels to the on-screen size of ``layout``.

    GPUs minify textures with bilinear sampling, which aliases (moire on ribs, sparkling
    noise) when a 3000 px radiograph is shown at 1000 px. This does the reduction on the
    CPU with an antialiasing filter (Lanczos via Pillow). Enlargements and integer
    magnifications are left to the GPU (the array is returned unchanged).

    Parameters
    ----------
    pixels : numpy.ndarray of uint8, shape (height, width)
    layout : ImageLayout

    Returns
    -------
    numpy.ndarray of uint8, shape (round(shown_height), round(shown_width)) when reduced
    """
    if layout.scale >= 1.0:
        return pixels
    from PIL import Image

    w = max(1, round(layout.shown_width))
    h = max(1, round(layout.shown_height))
    if (w, h) == (pixels.shape[1], pixels.shape[0]):
        return pixels
    im = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))
    out = np.asarray(im.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0))
    out = np.ascontiguousarray(out)
    out.setflags(write=False)
    return out


class ImagePreloader:
    """One named worker thread that loads (and prepares) requested images ahead of time.

    Parameters
    ----------
    screen_size : (width, height), optional
        When given, each image also gets a layout (:func:`stimuli.layout.fit_image` with
        ``fit_options``) and a display array resampled to it.
    fit_options : dict, optional
        Keyword arguments of ``fit_image`` (``max_size``, ``integer_scaling``, ``margin_px``).
    loader : callable, optional
        ``loader(path, window) -> LoadedImage``; default :func:`stimuli.loading.load_image`
        (warnings are kept in ``LoadedImage.notes``, not issued from the thread).
    name : str
        Thread name prefix (shows in ``threading.enumerate()`` and crash reports).
    max_cached : int
        Finished or pending requests kept; the oldest are forgotten beyond this.
    """

    def __init__(
        self,
        screen_size: tuple[int, int] | None = None,
        *,
        fit_options: dict[str, Any] | None = None,
        loader: Callable[[Path, tuple[float, float] | None], LoadedImage] | None = None,
        name: str = "image-preloader",
        max_cached: int = 4,
    ) -> None:
        if max_cached < 1:
            raise ValueError(f"max_cached must be >= 1, got {max_cached!r}")
        self.screen_size = screen_size
        self.fit_options = dict(fit_options or {})
        self._loader = loader or (lambda p, w: load_image(p, w, warn=False))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._futures: dict[str, Future[PreparedImage]] = {}
        self._lock = threading.Lock()
        self._max_cached = max_cached
        self._closed = False

    # ------------------------------------------------------------------ API
    def request(
        self, key: str, path: str | Path, window: tuple[float, float] | None = None
    ) -> None:
        """Start loading ``path`` under ``key`` in the background (no-op if already requested)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("ImagePreloader is closed; create a new one")
            if key in self._futures:
                return
            self._futures[key] = self._pool.submit(self._prepare, Path(path), window)
            while len(self._futures) > self._max_cached:
                oldest = next(iter(self._futures))
                self._futures.pop(oldest).cancel()

    def get(
        self,
        key: str,
        path: str | Path | None = None,
        window: tuple[float, float] | None = None,
        *,
        timeout: float = 60.0,
    ) -> PreparedImage:
        """The prepared image for ``key``, waiting at most ``timeout`` s.

        If ``key`` was never requested (or was forgotten) and ``path`` is given, it is
        requested now. The loading error (e.g. :class:`stimuli.image.ImageLoadError`) is
        raised here, in the caller's thread.

        Raises
        ------
        KeyError
            ``key`` unknown and no ``path`` given.
        TimeoutError
            Not ready in time (the request stays pending; call ``get`` again).
        """
        with self._lock:
            fut = self._futures.get(key)
        if fut is None:
            if path is None:
                raise KeyError(
                    f"image {key!r} was not requested; pass its path to get() or call request() first"
                )
            self.request(key, path, window)
            with self._lock:
                fut = self._futures[key]
        try:
            result = fut.result(timeout=timeout)
        except FutureTimeout as exc:
            raise TimeoutError(
                f"image {key!r} was not ready after {timeout} s (still loading)"
            ) from exc
        except BaseException:
            with self._lock:  # a failed load is not cached: a retry loads again
                if self._futures.get(key) is fut:
                    del self._futures[key]
            raise
        return result

    def is_ready(self, key: str) -> bool:
        """True once ``key`` has finished loading (successfully or not)."""
        with self._lock:
            fut = self._futures.get(key)
        return fut is not None and fut.done()

    def discard(self, key: str) -> None:
        """Forget ``key`` (cancels it if it has not started)."""
        with self._lock:
            fut = self._futures.pop(key, None)
        if fut is not None:
            fut.cancel()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel pending requests and stop the thread (waits for a running load)."""
        with self._lock:
            self._closed = True
            futures = list(self._futures.values())
            self._futures.clear()
        for f in futures:
            f.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for t in list(getattr(self._pool, "_threads", ())):
            t.join(timeout)

    def __enter__(self) -> ImagePreloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ worker
    def _prepare(self, path: Path, window: tuple[float, float] | None) -> PreparedImage:
        image = self._loader(path, window)
        if self.screen_size is None:
            return PreparedImage(image, None, None)
        layout = fit_image(image.original_size, self.screen_size, **self.fit_options)
        return PreparedImage(image, layout, resample_for_display(image.pixels, layout))
