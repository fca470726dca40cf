"""Frame times and writers of the headless replay exports (no Qt: frames arrive as arrays).

The frames themselves are drawn by :func:`sessions.replay.canvas_widget.render_frame`, the same
painter as the window; ``gazeread replay --export-png/--export-video`` ties the two together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["VIDEO_SUFFIXES", "frame_times", "write_png", "write_video"]

#: File endings ``--export-video`` understands.
VIDEO_SUFFIXES = (".mp4", ".gif")


def frame_times(t0: float, t1: float, fps: float, speed: float = 1.0) -> NDArray[np.float64]:
    """Session times of the video frames covering ``[t0, t1]`` at ``fps`` and ``speed`` x real time.

    The last frame is at ``t1`` exactly (so the complete scanpath is the last picture).
    """
    if not (fps > 0 and speed > 0 and math.isfinite(fps) and math.isfinite(speed)):
        raise ValueError(f"fps and speed must be positive, got fps={fps!r}, speed={speed!r}")
    if not t1 > t0:
        raise ValueError(f"the time range must not be empty, got {t0!r}..{t1!r}")
    step = speed / fps
    n = math.floor((t1 - t0) / step + 1e-9) + 1
    times = t0 + step * np.arange(n)
    if times[-1] < t1 - 1e-9:
        times = np.append(times, t1)
    return np.asarray(times, dtype=np.float64)


def write_png(frame: NDArray[np.uint8], path: str | Path) -> Path:
    """Write an ``(h, w, 3)`` uint8 RGB frame as PNG."""
    from PIL import Image

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(frame)).save(p, format="PNG")
    return p


def write_video(frames: Iterable[NDArray[np.uint8]], path: str | Path, fps: float) -> int:
    """Write RGB frames to an MP4 (H.264 through imageio-ffmpeg) or a GIF; returns the count.

    Raises
    ------
    ValueError
        For another file ending (the message lists the ones understood).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(f"{p}: video files must end in {' or '.join(VIDEO_SUFFIXES)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    if suffix == ".gif":
        from PIL import Image

        images = [Image.fromarray(f).quantize(colors=255, dither=Image.Dither.NONE) for f in frames]
        if not images:
            raise ValueError("no frames to write")
        images[0].save(
            p, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
        )
        return len(images)
    import imageio_ffmpeg

    writer = None
    try:
        for f in frames:
            if writer is None:
                h, w = f.shape[:2]
                writer = imageio_ffmpeg.write_frames(
                    str(p),
                    (w, h),
                    fps=fps,
                    codec="libx264",
                    pix_fmt_out="yuv420p",
                    macro_block_size=2,
                    quality=7,
                    ffmpeg_log_level="error",
                )
                writer.send(None)
            writer.send(np.ascontiguousarray(f))
            n += 1
    finally:
        if writer is not None:
            writer.close()
    if n == 0:
        raise ValueError("no frames to write")
    return n
