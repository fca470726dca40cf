"""Sessions for the replay tests: the synthetic store writer plus a real phantom image on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from tests.support.synthetic_session import write_synthetic_session

#: Rate and image size of the test sessions (small, so tests stay fast).
RATE_HZ = 600.0
IMAGE_SIZE = (512, 512)


def write_image(path: Path, size: tuple[int, int] = IMAGE_SIZE) -> Path:
    """A phantom chest X-ray as 8-bit PNG (a gradient when the phantom maker is absent)."""
    from PIL import Image

    try:
        from stimuli.phantoms import make_phantom

        att = make_phantom(size, seed=3)
    except ImportError:  # pragma: no cover - stimuli not built yet
        att = np.add.outer(np.linspace(0, 1, size[1]), np.linspace(0, 1, size[0])) / 2
    Image.fromarray((np.clip(att, 0, 1) * 255).astype(np.uint8)).save(path)
    return path


def make_session(
    root: Path,
    *,
    n_trials: int = 3,
    trial_s: float = 2.0,
    drop_every: int = 0,
    complete: bool = True,
) -> Path:
    """A recorded-looking session whose trials point at a real image; returns its folder."""
    folder = write_synthetic_session(
        root,
        n_trials=n_trials,
        trial_s=trial_s,
        rate_hz=RATE_HZ,
        image_size=IMAGE_SIZE,
        drop_every=drop_every,
        complete=complete,
        batch_s=1.0,
    )
    img = write_image(root / "phantom.png")
    conn = sqlite3.connect(folder / "session.sqlite")
    try:
        conn.execute("UPDATE trials SET image_path = ?", (str(img),))
        conn.commit()
    finally:
        conn.close()
    return folder


def colour_centroid(
    rgb: np.ndarray,
    colour: tuple[int, int, int],
    centre: tuple[float, float],
    radius: float,
    tol: float = 40.0,
) -> tuple[float, float, int]:
    """Centroid (x, y in continuous px, pixel centres at +0.5) of the pixels near ``colour``.

    Only pixels within ``radius`` of ``centre`` count; returns the pixel count too.
    """
    h, w = rgb.shape[:2]
    x0, x1 = max(int(centre[0] - radius), 0), min(int(centre[0] + radius) + 1, w)
    y0, y1 = max(int(centre[1] - radius), 0), min(int(centre[1] + radius) + 1, h)
    patch = rgb[y0:y1, x0:x1].astype(float)
    d = np.sqrt(((patch - np.array(colour, dtype=float)) ** 2).sum(axis=2))
    ys, xs = np.nonzero(d < tol)
    if xs.size == 0:
        return (float("nan"), float("nan"), 0)
    return (float(xs.mean() + x0 + 0.5), float(ys.mean() + y0 + 0.5), int(xs.size))


def expected_view_point(
    x_screen: float,
    y_screen: float,
    screen: tuple[int, int],
    frame: tuple[int, int],
    zoom: float = 1.0,
    centre: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """Where a screen-px point must be drawn in a frame (computed here, independently of the code)."""
    sw, sh = screen
    fw, fh = frame
    s = 0.98 * min(fw / sw, fh / sh) * zoom
    cx, cy = centre if centre is not None else (sw / 2, sh / 2)
    return ((x_screen - cx) * s + fw / 2, (y_screen - cy) * s + fh / 2)
