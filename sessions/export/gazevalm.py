"""GazeVaLM-style export: one folder per reading (image x reader x condition) and one table.

``<out>/<study>/sub-<p>_ses-<n>/<trial-NNN_image_condition>/``:

- ``samples.csv``: every sample of the reading (image onset to offset): session time, time
  from onset, per-eye and average gaze in screen px and image px, validity, pupil (mm);
- ``fixations.csv``: fixations in image px (and screen px) with durations (ms);
- ``scanpath.csv`` / ``scanpath.npy`` (n x 3: x_image, y_image, duration_ms, in order) and
  ``scanpath.png`` (drawn over the image as shown, with the trial's display window, when it
  can be read; else over grey, with an :class:`~sessions.export.common.ExportWarning`);
- ``fixation_map.npy`` (uint16 fixation count per image pixel) and ``.png`` (each fixated
  pixel drawn as a white disc of 0.5 % of the image's larger side, at least 3 px, to be seen);
- ``saliency_map.npy`` (float32, sums to 1: Gaussian SD 1 deg of visual angle in image px,
  duration-weighted) and ``.png``.

``<out>/readings.csv``: one row per reading with the answers, confidence, response time,
authenticity ground truth and findings (``gazeread export`` appends every session).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acquisition.geometry import px_per_degree
from sessions.export.common import (
    ExportWarning,
    Progress,
    Reading,
    average_gaze,
    display_window,
    export_readings,
)
from sessions.metrics.maps import (
    fixation_count_map,
    fixation_density_map,
    fixation_points_image,
    map_to_uint8,
    sigma_image_px,
)
from sessions.store import SessionReader

__all__ = ["READINGS_COLUMNS", "export_gazevalm", "reading_row"]

READINGS_COLUMNS = [
    "study", "participant", "session", "trial", "image_id", "image_path", "condition",
    "authenticity_truth", "findings_truth", "answer_authenticity", "answer_findings",
    "confidence", "response_time_s", "authenticity_correct", "n_fixations", "dwell_on_image_ms",
    "viewing_s", "valid_percent", "status", "attempt", "folder",
]  # fmt: skip


def _background(reading: Reading, size: tuple[int, int]) -> Any:
    """The trial's image as shown (with its display window), else grey with an ExportWarning."""
    from PIL import Image

    from stimuli import loading
    from stimuli.image import ImageLoadError

    path = reading.trial.get("image_path") or ""
    center, width = display_window(reading.trial)
    window = None if center is None or width is None else (center, width)
    where = f"{reading.session.label} trial {reading.trial.get('id')}"
    img = None
    why = ""
    if not path:
        why = "the trial has no image_path"
    else:
        try:
            loaded = loading.load_image(path, window, warn=False)
            img = Image.fromarray(np.asarray(loaded.pixels, dtype=np.uint8))
        except (ImageLoadError, OSError) as exc:
            why = f"the image cannot be loaded: {exc}"
    if img is not None and img.size != size:
        why = f"the image {path} is {img.size[0]}x{img.size[1]} px, the layout says {size}"
        img = None
    if img is None:
        warnings.warn(
            ExportWarning(f"{where}: scanpath.png is drawn over grey because {why}"),
            stacklevel=2,
        )
        img = Image.new("L", size, 96)
    return img.convert("RGB")


def _scanpath_png(reading: Reading, fx: pd.DataFrame, size: tuple[int, int], path: Path) -> None:
    from PIL import ImageDraw

    img = _background(reading, size)
    draw = ImageDraw.Draw(img)
    pts = [(float(x), float(y)) for x, y in zip(fx["x_image"], fx["y_image"], strict=True)]
    pts = [p for p in pts if math.isfinite(p[0]) and math.isfinite(p[1])]
    lw = max(1, round(min(size) / 400))
    if len(pts) > 1:
        draw.line(pts, fill=(255, 200, 0), width=lw)
    for (x, y), d in zip(pts, fx["duration_ms"], strict=False):
        r = max(3.0, min(size) / 60 * math.sqrt(max(float(d), 1.0) / 250.0))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 60, 60), width=lw)
    img.save(path)


def _samples_table(r: Reading) -> pd.DataFrame:
    s = r.samples
    w, h = r.session.screen.width_px, r.session.screen.height_px
    ax, ay = average_gaze(s)
    out: dict[str, Any] = {"t": s["t"], "t_from_onset": s["t"] - r.t_onset}
    for eye, (nx, ny) in (
        ("left", (s["left_x"], s["left_y"])),
        ("right", (s["right_x"], s["right_y"])),
        ("avg", (ax, ay)),
    ):
        out[f"{eye}_x_screen"] = nx * w
        out[f"{eye}_y_screen"] = ny * h
        if r.layout is not None:
            ix, iy = r.layout.normalised_to_image(nx, ny)
        else:
            ix = iy = np.full(len(s), np.nan)
        out[f"{eye}_x_image"] = ix
        out[f"{eye}_y_image"] = iy
    out["left_valid"] = s["left_valid"]
    out["right_valid"] = s["right_valid"]
    out["left_pupil_mm"] = s["left_pupil"]
    out["right_pupil_mm"] = s["right_pupil"]
    out["flags"] = s["flags"]
    return pd.DataFrame(out)


def _fixations_table(r: Reading) -> pd.DataFrame:
    rows = []
    for i, f in enumerate(r.fixations):
        ix, iy = f["image_x"], f["image_y"]
        if (ix is None or iy is None) and r.layout is not None and f["x_px"] is not None:
            ax, ay = r.layout.screen_to_image(f["x_px"], f["y_px"])
            ix, iy = float(ax), float(ay)  # off the image: kept, flagged by on_image
        on = r.layout is not None and ix is not None and bool(r.layout.on_image(ix, iy))
        rows.append(
            {
                "index": i,
                "t_start": f["t_start"],
                "t_end": f["t_end"],
                "start_from_onset_s": f["t_start"] - r.t_onset,
                "duration_ms": f["duration_ms"],
                "x_image": np.nan if ix is None else ix,
                "y_image": np.nan if iy is None else iy,
                "x_screen": f["x_px"],
                "y_screen": f["y_px"],
                "on_image": on,
            }
        )
    cols = [
        "index", "t_start", "t_end", "start_from_onset_s", "duration_ms", "x_image", "y_image",
        "x_screen", "y_screen", "on_image",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def reading_row(r: Reading, folder: str, fx: pd.DataFrame | None = None) -> dict[str, Any]:
    """One row of ``readings.csv``."""
    info = r.session.info
    resp = r.response or {}
    truth = r.trial.get("authenticity")
    ans = resp.get("authenticity")
    fx = _fixations_table(r) if fx is None else fx
    valid = (r.samples["left_valid"] > 0) | (r.samples["right_valid"] > 0)
    return {
        "study": info["study"],
        "participant": info["participant"],
        "session": info["session_number"],
        "trial": int(r.trial["id"]) + 1,  # as people count; the store's ids start at 0
        "image_id": r.trial["image_id"],
        "image_path": r.trial["image_path"],
        "condition": r.trial["condition"],
        "authenticity_truth": truth,
        "findings_truth": r.trial.get("findings"),
        "answer_authenticity": ans,
        "answer_findings": resp.get("findings"),
        "confidence": resp.get("confidence"),
        "response_time_s": resp.get("rt_s"),
        "authenticity_correct": (ans == truth) if (ans and truth) else None,
        "n_fixations": len(fx),
        "dwell_on_image_ms": float(fx.loc[fx["on_image"], "duration_ms"].sum()) if len(fx) else 0.0,
        "viewing_s": r.t_offset - r.t_onset,
        "valid_percent": 100.0 * float(valid.mean()) if len(valid) else None,
        "status": r.trial["status"],
        "attempt": r.trial["attempt"],
        "folder": folder,
    }


def export_reading(r: Reading, folder: Path) -> pd.DataFrame:
    """Write one reading's files into ``folder``; returns its fixations table."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    _samples_table(r).to_csv(folder / "samples.csv", index=False, float_format="%.6g", na_rep="")
    fx = _fixations_table(r)
    fx.to_csv(folder / "fixations.csv", index=False, na_rep="")
    sp = fx.loc[fx["on_image"], ["x_image", "y_image", "duration_ms"]]
    sp.to_csv(folder / "scanpath.csv", index_label="order")
    np.save(folder / "scanpath.npy", sp.to_numpy(dtype=np.float64))
    if r.layout is None:
        return fx
    size = (r.layout.image_width, r.layout.image_height)
    fmap = fixation_count_map(sp["x_image"], sp["y_image"], size)
    np.save(folder / "fixation_map.npy", fmap.astype(np.uint16))
    Image.fromarray(fixation_points_image(fmap)).save(folder / "fixation_map.png")
    screen = r.session.screen
    cx, cy = (
        (r.layout.screen_rect[0] + r.layout.screen_rect[2]) / 2,
        (r.layout.screen_rect[1] + r.layout.screen_rect[3]) / 2,
    )
    sigma = sigma_image_px(px_per_degree(screen, cx, cy), r.layout.scale)
    # all fixations, on the image or near it: their tails fall on the image
    sal = fixation_density_map(fx["x_image"], fx["y_image"], fx["duration_ms"], size, sigma)
    np.save(folder / "saliency_map.npy", sal.astype(np.float32))
    Image.fromarray(map_to_uint8(sal)).save(folder / "saliency_map.png")
    _scanpath_png(r, sp, size, folder / "scanpath.png")
    return fx


def export_gazevalm(
    store: SessionReader, out: str | Path, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Export every reading of one session; returns the ``readings.csv`` rows."""
    root = Path(out)

    def write(r: Reading, folder: Path) -> dict[str, Any]:
        return reading_row(r, str(folder.relative_to(root)), export_reading(r, folder))

    return export_readings(store, root, write, progress)


def write_readings_table(out: str | Path, rows: list[dict[str, Any]]) -> Path:
    """Write (or extend, replacing rows of the same reading) ``<out>/readings.csv``."""
    path = Path(out) / "readings.csv"
    df = pd.DataFrame(rows, columns=READINGS_COLUMNS)
    if path.exists():
        old = pd.read_csv(path)
        df = pd.concat([old[~old["folder"].isin(df["folder"])], df], ignore_index=True)
    df.to_csv(path, index=False)
    return path
