"""Calibration and validation target layouts, their order, and the animated target's motion.

All positions are normalised display coordinates (0..1, origin top-left, y down), the
coordinates the trackers use. The animation is pure maths (:func:`target_state`); the screens
only draw what it returns.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LAYOUT_SIZES",
    "TargetState",
    "TargetTiming",
    "calibration_points",
    "order_points",
    "target_state",
    "validate_points",
    "validation_points",
]

#: Point counts with a built-in layout.
LAYOUT_SIZES = (5, 9, 13)

_EDGE = 0.1  # inset of the outer points from the screen edge (normalised)

#: Candidate validation points, used in this order; none coincides with a calibration point.
_VALIDATION_POOL = (
    (0.25, 0.25),
    (0.75, 0.25),
    (0.75, 0.75),
    (0.25, 0.75),
    (0.5, 0.35),
    (0.5, 0.65),
    (0.35, 0.5),
    (0.65, 0.5),
    (0.4, 0.2),
    (0.6, 0.8),
)


def validate_points(points: ArrayLike, what: str = "points") -> NDArray[np.float64]:
    """Check a list of normalised points and return it as a float array of shape (n, 2).

    Raises
    ------
    ValueError
        Naming ``what`` and the bad value when the shape is wrong, a value is not finite, or a
        point lies outside the screen (0..1).
    """
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0:
        raise ValueError(
            f"{what} must be a non-empty list of (x, y) pairs in normalised screen "
            f"coordinates, got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr).all(axis=1) | (arr < 0).any(axis=1) | (arr > 1).any(axis=1)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise ValueError(
            f"{what}[{i}] = {tuple(arr[i].tolist())} is outside the screen; "
            "each coordinate must be between 0 and 1 (origin top-left)"
        )
    return arr


def calibration_points(n: int = 9, custom: ArrayLike | None = None) -> NDArray[np.float64]:
    """Calibration layout of 5, 9 or 13 points, or a custom list.

    5: centre and four corners; 9: a 3x3 grid; 13: the grid plus four points between its
    inner corners. Outer points are inset 10 % from the edges.

    Parameters
    ----------
    n : int
        5, 9 or 13 (ignored when ``custom`` is given).
    custom : array_like of shape (m, 2), optional
        Explicit normalised points.

    Returns
    -------
    numpy.ndarray of shape (n, 2)
    """
    if custom is not None:
        return validate_points(custom, "custom calibration points")
    lo, hi = _EDGE, 1.0 - _EDGE
    grid = [(x, y) for y in (lo, 0.5, hi) for x in (lo, 0.5, hi)]
    if n == 5:
        pts = [(0.5, 0.5), (lo, lo), (hi, lo), (lo, hi), (hi, hi)]
    elif n == 9:
        pts = grid
    elif n == 13:
        pts = [*grid, (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)]
    else:
        raise ValueError(
            f"number of calibration points must be one of {LAYOUT_SIZES} (or give custom "
            f"points), got {n!r}"
        )
    return np.array(pts, dtype=float)


def validation_points(
    n: int = 4,
    exclude: ArrayLike | None = None,
    custom: ArrayLike | None = None,
    min_separation: float = 0.04,
) -> NDArray[np.float64]:
    """Validation points, distinct from the calibration points.

    Parameters
    ----------
    n : int
        How many (1..10; default 4).
    exclude : array_like of shape (m, 2), optional
        Calibration points; candidates closer than ``min_separation`` to any are skipped.
    custom : array_like, optional
        Explicit validation points (checked, not filtered).
    min_separation : float
        Normalised distance under which a candidate counts as the same point.
    """
    if custom is not None:
        return validate_points(custom, "custom validation points")
    if not 1 <= n <= len(_VALIDATION_POOL):
        raise ValueError(
            f"number of validation points must be between 1 and {len(_VALIDATION_POOL)}, got {n!r}"
        )
    pool = np.array(_VALIDATION_POOL, dtype=float)
    if exclude is not None:
        ex = np.asarray(exclude, dtype=float).reshape(-1, 2)
        if len(ex):
            d = np.hypot(pool[:, None, 0] - ex[None, :, 0], pool[:, None, 1] - ex[None, :, 1])
            pool = pool[d.min(axis=1) >= min_separation]
    if len(pool) < n:
        raise ValueError(
            f"only {len(pool)} validation points are not calibration points; ask for fewer "
            f"than {n} or give custom validation points"
        )
    return pool[:n].copy()


def order_points(n: int, randomise: bool = True, seed: int | None = None) -> list[int]:
    """Presentation order of ``n`` points: shuffled with ``seed`` when ``randomise``.

    The same seed always gives the same order, so a session can be reproduced.
    """
    idx = list(range(n))
    if randomise and n > 1:
        rng = np.random.default_rng(seed)
        idx = [int(i) for i in rng.permutation(n)]
    return idx


@dataclasses.dataclass(frozen=True)
class TargetTiming:
    """Timing and size of the animated target.

    Parameters
    ----------
    move_s : float
        Time to glide from one point to the next (0 jumps).
    settle_s : float
        After the target arrives, samples of this first interval are skipped (the eye is
        still landing).
    collect_s : float
        Dwell window after ``settle_s`` whose samples are kept.
    shrink_s : float
        The target shrinks from its outer to its final size over this time after arrival.
    outer_deg, inner_deg : float
        Diameter of the target's disc when it arrives and after shrinking (deg).
    dot_deg : float
        Diameter of the central dot (deg).
    sample_timeout_s : float
        How long to wait for the tracker's samples to reach the end of the window before the
        point is declared to have no data.
    """

    move_s: float = 0.6
    settle_s: float = 0.25
    collect_s: float = 0.8
    shrink_s: float = 0.4
    outer_deg: float = 1.4
    inner_deg: float = 0.5
    dot_deg: float = 0.15
    sample_timeout_s: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"TargetTiming.{f.name} must be a number >= 0, got {v!r}")
        if self.collect_s <= 0:
            raise ValueError(f"TargetTiming.collect_s must be > 0 s, got {self.collect_s!r}")
        if self.inner_deg > self.outer_deg:
            raise ValueError(
                f"TargetTiming.inner_deg ({self.inner_deg}) must not exceed outer_deg "
                f"({self.outer_deg})"
            )

    @property
    def dwell_s(self) -> float:
        """Time the target stays on a point: settle plus collection window."""
        return self.settle_s + self.collect_s


@dataclasses.dataclass(frozen=True)
class TargetState:
    """Where the target is and how big at one moment.

    ``phase`` is ``'moving'`` or ``'dwelling'``; ``diameter_deg`` the disc diameter.
    """

    x: float
    y: float
    diameter_deg: float
    phase: str


def _ease(u: float) -> float:
    """Smooth start and stop (cosine ease-in-out), u in [0, 1]."""
    return 0.5 - 0.5 * math.cos(math.pi * min(max(u, 0.0), 1.0))


def target_state(
    t: float,
    start: Sequence[float] | None,
    end: Sequence[float],
    timing: TargetTiming,
) -> TargetState:
    """State of the animated target ``t`` seconds after it left ``start`` for ``end``.

    The target glides (eased) for ``timing.move_s`` at its outer size, then shrinks linearly
    to ``inner_deg`` over ``shrink_s`` while dwelling. With ``start`` None it appears at
    ``end`` directly.
    """
    move = timing.move_s if start is not None else 0.0
    if t < move and start is not None:
        u = _ease(t / move)
        x = start[0] + (end[0] - start[0]) * u
        y = start[1] + (end[1] - start[1]) * u
        return TargetState(float(x), float(y), timing.outer_deg, "moving")
    td = t - move
    frac = 1.0 if timing.shrink_s <= 0 else min(max(td / timing.shrink_s, 0.0), 1.0)
    d = timing.outer_deg + (timing.inner_deg - timing.outer_deg) * frac
    return TargetState(float(end[0]), float(end[1]), float(d), "dwelling")
