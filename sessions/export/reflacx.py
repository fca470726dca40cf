"""REFLACX-style export: ``fixations.csv`` and ``gaze.csv`` per reading, REFLACX column names.

``<out>/<study>/sub-<p>_ses-<n>/<trial-NNN_image_condition>/{fixations,gaze}.csv``.

Conventions (as REFLACX): timestamps in seconds from the start of the reading (image onset);
positions in image px of the original image (x right, y down); the display columns give the
shown part of the image (``*_shown_from_image``: the whole image, gazeread does not zoom) and
where it was on screen (``*_in_screen_coordinates``, px). ``angular_resolution_*`` are image px
per degree of visual angle at the gaze position. ``pupil_area_normalized`` is the pupil area
(from the mean diameter of the valid eyes) divided by its median over the reading.
``window_width``/``window_level`` come from the trial's layout record (keys ``window_width`` and
``window_center``, see :func:`~sessions.export.common.display_window`) when the runner stored
them there (DICOM VOI), else they are empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acquisition.geometry import px_to_deg
from sessions.export.common import (
    Progress,
    Reading,
    average_gaze,
    display_window,
    export_readings,
)
from sessions.store import SessionReader

__all__ = ["FIXATION_COLUMNS", "GAZE_COLUMNS", "export_reflacx", "reading_tables"]

DISPLAY_COLUMNS = [
    "angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree",
    "window_width", "window_level",
    "xmin_shown_from_image", "ymin_shown_from_image", "xmax_shown_from_image", "ymax_shown_from_image",
    "xmin_in_screen_coordinates", "ymin_in_screen_coordinates",
    "xmax_in_screen_coordinates", "ymax_in_screen_coordinates",
]  # fmt: skip
FIXATION_COLUMNS = [
    "timestamp_start_fixation", "timestamp_end_fixation", "x_position", "y_position",
    "pupil_area_normalized", *DISPLAY_COLUMNS,
]  # fmt: skip
GAZE_COLUMNS = [
    "timestamp_sample",
    "x_position",
    "y_position",
    "pupil_area_normalized",
    *DISPLAY_COLUMNS,
]


def _pupil_area(samples: np.ndarray) -> np.ndarray:
    d = np.stack([samples["left_pupil"], samples["right_pupil"]]).astype(np.float64)
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning, "Mean of empty slice")
        diam = np.nanmean(d, axis=0)
    area = np.pi * (diam / 2.0) ** 2
    med = np.nanmedian(area) if np.isfinite(area).any() else np.nan
    return area / med if np.isfinite(med) and med > 0 else np.full(len(area), np.nan)


def _display(r: Reading, x_screen: np.ndarray, y_screen: np.ndarray) -> dict[str, Any]:
    lay = r.layout
    n = len(x_screen)
    nan = np.full(n, np.nan)
    if lay is None:
        return {c: nan for c in DISPLAY_COLUMNS}
    screen = r.session.screen
    # local px per degree at each point (vectorised px_per_degree)
    xa, ya = np.asarray(x_screen, dtype=float), np.asarray(y_screen, dtype=float)
    d0x, d0y = px_to_deg(screen, xa - 0.5, ya - 0.5)
    d1x, d1y = px_to_deg(screen, xa + 0.5, ya + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        ppd_x, ppd_y = 1.0 / (d1x - d0x), 1.0 / (d1y - d0y)
    wl, ww = display_window(r.trial)
    x0, y0, x1, y1 = lay.screen_rect
    return {
        "angular_resolution_x_pixels_per_degree": ppd_x / lay.scale,
        "angular_resolution_y_pixels_per_degree": ppd_y / lay.scale,
        "window_width": np.nan if ww is None else float(ww),
        "window_level": np.nan if wl is None else float(wl),
        "xmin_shown_from_image": 0,
        "ymin_shown_from_image": 0,
        "xmax_shown_from_image": lay.image_width,
        "ymax_shown_from_image": lay.image_height,
        "xmin_in_screen_coordinates": x0,
        "ymin_in_screen_coordinates": y0,
        "xmax_in_screen_coordinates": x1,
        "ymax_in_screen_coordinates": y1,
    }


def reading_tables(r: Reading) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(fixations, gaze)`` tables of one reading with REFLACX's columns."""
    s = r.samples
    w, h = r.session.screen.width_px, r.session.screen.height_px
    nx, ny = average_gaze(s)
    xs, ys = nx * w, ny * h
    if r.layout is not None:
        ix, iy = r.layout.screen_to_image(xs, ys)
    else:
        ix = iy = np.full(len(s), np.nan)
    area = _pupil_area(s)
    gaze = pd.DataFrame(
        {
            "timestamp_sample": s["t"] - r.t_onset,
            "x_position": ix,
            "y_position": iy,
            "pupil_area_normalized": area,
            **_display(r, xs, ys),
        },
        columns=GAZE_COLUMNS,
    )
    fx = r.fixations
    fxs = np.array([f["x_px"] if f["x_px"] is not None else np.nan for f in fx], dtype=float)
    fys = np.array([f["y_px"] if f["y_px"] is not None else np.nan for f in fx], dtype=float)
    if r.layout is not None and len(fx):
        fix_x, fix_y = r.layout.screen_to_image(fxs, fys)
    else:
        fix_x = fix_y = np.full(len(fx), np.nan)
    t = s["t"]
    pup = np.full(len(fx), np.nan)
    for i, f in enumerate(fx):
        a, b = np.searchsorted(t, [f["t_start"], f["t_end"]], side="left")
        if b > a and np.isfinite(area[a:b]).any():
            pup[i] = float(np.nanmean(area[a:b]))
    fixations = pd.DataFrame(
        {
            "timestamp_start_fixation": np.array([f["t_start"] for f in fx], dtype=float)
            - r.t_onset,
            "timestamp_end_fixation": np.array([f["t_end"] for f in fx], dtype=float) - r.t_onset,
            "x_position": fix_x,
            "y_position": fix_y,
            "pupil_area_normalized": pup,
            **_display(r, fxs, fys),
        },
        columns=FIXATION_COLUMNS,
    )
    return fixations, gaze


def export_reflacx(
    store: SessionReader, out: str | Path, progress: Progress | None = None
) -> list[Path]:
    """Export every reading of one session; returns the folders written."""

    def write(r: Reading, folder: Path) -> Path:
        fixations, gaze = reading_tables(r)
        fixations.to_csv(folder / "fixations.csv", index=False, na_rep="")
        gaze.to_csv(folder / "gaze.csv", index=False, na_rep="", float_format="%.6g")
        return folder

    return export_readings(store, out, write, progress)
