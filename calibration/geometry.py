"""Screen geometry for calibration: re-exported from :mod:`acquisition.geometry`.

The px <-> degree maths lives in ``acquisition`` because the fixation detector and the
simulated tracker need it there, and ``acquisition`` imports nothing above it.
"""

from acquisition.geometry import (
    PLAUSIBLE_DISTANCE_MM,
    ScreenGeometry,
    angular_distance_deg,
    deg_to_px_offset,
    eye_distance_mm,
    norm_to_px,
    px_per_degree,
    px_to_deg,
    px_to_norm,
    with_eye_distance,
)

__all__ = [
    "PLAUSIBLE_DISTANCE_MM",
    "ScreenGeometry",
    "angular_distance_deg",
    "deg_to_px_offset",
    "eye_distance_mm",
    "norm_to_px",
    "px_per_degree",
    "px_to_deg",
    "px_to_norm",
    "with_eye_distance",
]
