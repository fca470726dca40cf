"""Screen geometry and exact conversions between pixels and degrees of visual angle.

The eye sits on the normal through the screen centre at ``distance_mm``. A screen pixel
``(x, y)`` (origin top-left, y down, pixel centres at half-integers is *not* assumed: the
coordinates are continuous) is a point on the screen plane; the angle between two points is the
angle between the two rays from the eye, computed exactly (no small-angle constant).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

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


@dataclasses.dataclass(frozen=True)
class ScreenGeometry:
    """Physical description of the stimulus screen and viewing position.

    Parameters
    ----------
    width_px, height_px : int
        Resolution of the stimulus window in pixels.
    width_mm, height_mm : float
        Physical size of the visible area in millimetres.
    distance_mm : float
        Eye to screen-centre distance in millimetres.
    """

    width_px: int = 1920
    height_px: int = 1080
    width_mm: float = 531.0
    height_mm: float = 299.0
    distance_mm: float = 650.0

    def __post_init__(self) -> None:
        for name in ("width_px", "height_px", "width_mm", "height_mm", "distance_mm"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"ScreenGeometry.{name} must be a positive number, got {value!r}")

    @property
    def mm_per_px_x(self) -> float:
        """Horizontal pixel pitch in mm."""
        return self.width_mm / self.width_px

    @property
    def mm_per_px_y(self) -> float:
        """Vertical pixel pitch in mm."""
        return self.height_mm / self.height_px

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/TOML storage."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreenGeometry:
        """Build from :meth:`to_dict` output; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown screen geometry field(s) {unknown}; valid fields are {sorted(known)}"
            )
        return cls(**data)


def _to_mm(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Screen px (origin top-left) -> mm from screen centre (x right, y down)."""
    xa = (np.asarray(x, dtype=float) - geom.width_px / 2.0) * geom.mm_per_px_x
    ya = (np.asarray(y, dtype=float) - geom.height_px / 2.0) * geom.mm_per_px_y
    return xa, ya


def px_to_deg(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Screen pixels -> per-axis visual angle from the screen centre, in degrees.

    Each axis is ``atan(offset_mm / distance_mm)`` (exact for points on the axes; the
    horizontal and vertical angles of an oblique point are its azimuth and elevation as seen
    along each axis).

    Parameters
    ----------
    geom : ScreenGeometry
    x, y : array_like, px
        Screen coordinates, origin top-left, y down. Any matching shapes.

    Returns
    -------
    (deg_x, deg_y) : tuple of numpy.ndarray
        Degrees, positive right and down.
    """
    xm, ym = _to_mm(geom, x, y)
    return np.degrees(np.arctan2(xm, geom.distance_mm)), np.degrees(
        np.arctan2(ym, geom.distance_mm)
    )


def deg_to_px_offset(
    geom: ScreenGeometry, deg_x: ArrayLike, deg_y: ArrayLike
) -> tuple[NDArray, NDArray]:
    """Inverse of :func:`px_to_deg`: per-axis degrees from centre -> screen pixels."""
    xm = np.tan(np.radians(np.asarray(deg_x, dtype=float))) * geom.distance_mm
    ym = np.tan(np.radians(np.asarray(deg_y, dtype=float))) * geom.distance_mm
    return xm / geom.mm_per_px_x + geom.width_px / 2.0, ym / geom.mm_per_px_y + geom.height_px / 2.0


def angular_distance_deg(
    geom: ScreenGeometry, x1: ArrayLike, y1: ArrayLike, x2: ArrayLike, y2: ArrayLike
) -> NDArray:
    """Exact angle in degrees between the eye's rays to screen points 1 and 2 (px).

    Uses ``atan2(|a x b|, a . b)``, stable for tiny and large angles. NaN propagates.
    """
    ax, ay = _to_mm(geom, x1, y1)
    bx, by = _to_mm(geom, x2, y2)
    d = geom.distance_mm
    dot = ax * bx + ay * by + d * d
    cx = ay * d - d * by
    cy = d * bx - ax * d
    cz = ax * by - ay * bx
    cross = np.sqrt(cx * cx + cy * cy + cz * cz)
    return np.degrees(np.arctan2(cross, dot))


def px_per_degree(
    geom: ScreenGeometry, x: float | None = None, y: float | None = None
) -> tuple[float, float]:
    """Pixels per degree along x and y at a screen point (default: the centre).

    Local derivative of :func:`deg_to_px_offset`; away from the centre a degree spans more
    pixels.
    """
    cx = geom.width_px / 2.0 if x is None else x
    cy = geom.height_px / 2.0 if y is None else y
    dx, dy = px_to_deg(geom, [cx - 0.5, cx + 0.5], [cy - 0.5, cy + 0.5])
    return float(1.0 / (dx[1] - dx[0])), float(1.0 / (dy[1] - dy[0]))


def norm_to_px(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Normalised display coordinates (0..1, origin top-left, y down) -> screen pixels."""
    return (
        np.asarray(x, dtype=float) * geom.width_px,
        np.asarray(y, dtype=float) * geom.height_px,
    )


def px_to_norm(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
    """Screen pixels (origin top-left, y down) -> normalised display coordinates."""
    return (
        np.asarray(x, dtype=float) / geom.width_px,
        np.asarray(y, dtype=float) / geom.height_px,
    )


#: Eye-screen distances (mm) outside this range are treated as tracker noise, not a viewer.
PLAUSIBLE_DISTANCE_MM = (250.0, 1500.0)


def eye_distance_mm(samples: np.ndarray, *, min_samples: int = 10) -> float | None:
    """Eye-screen distance (mm) from the tracker's eye positions, or None when not reported.

    Uses the z coordinate of ``left_eye_pos``/``right_eye_pos`` (the tracker's user coordinate
    system: origin at the tracker's front panel, z towards the viewer, which for a tracker
    mounted at the screen's lower edge is the distance from the screen plane). The median over
    samples of the per-sample mean of the plausible eyes (:data:`PLAUSIBLE_DISTANCE_MM`) is
    returned.

    Parameters
    ----------
    samples : numpy.ndarray
        Rows of :data:`acquisition.samples.SAMPLE_DTYPE`.
    min_samples : int
        Fewer plausible values than this returns None (not enough evidence).
    """
    names = samples.dtype.names or ()
    if not len(samples) or "left_eye_pos" not in names or "right_eye_pos" not in names:
        return None
    lo, hi = PLAUSIBLE_DISTANCE_MM
    z = np.stack(
        [np.asarray(samples[f"{eye}_eye_pos"], dtype=float)[:, 2] for eye in ("left", "right")]
    )
    z[~(np.isfinite(z) & (z >= lo) & (z <= hi))] = np.nan
    ok = np.isfinite(z).any(axis=0)
    if np.count_nonzero(ok) < min_samples:
        return None
    z = np.nanmean(z[:, ok], axis=0)  # the cyclopean eye: mean of the plausible eyes
    return float(np.median(z))


def with_eye_distance(geom: ScreenGeometry, samples: np.ndarray) -> ScreenGeometry:
    """``geom`` with ``distance_mm`` taken from the tracker's eye positions when it reports them.

    Returns ``geom`` unchanged when the samples carry no plausible eye position (see
    :func:`eye_distance_mm`), so the session settings' distance remains the fallback.
    """
    d = eye_distance_mm(samples)
    return geom if d is None else dataclasses.replace(geom, distance_mm=d)
