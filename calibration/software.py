"""Software calibration for trackers that do not calibrate themselves (LSL, simulated, mouse).

A mapping from raw gaze to target position is fitted per eye by least squares on the
per-point median gaze: affine (``x' = a0 + a1 u + a2 v``, with ``u = x - 0.5``,
``v = y - 0.5``) or second order polynomial (adds ``u v``, ``u**2``, ``v**2``; needs at
least 9 points). The result is a :data:`~acquisition.trackers.base.GazeCorrection`
(vectorised, NaN-preserving) that the tracker applies to every sample in the acquisition
path (``tracker.set_correction(...)``), removable with ``set_correction(None)``, and
serialisable (coefficients in a plain dict).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MIN_POINTS",
    "MODELS",
    "BinocularCorrection",
    "CalibrationFitError",
    "SoftwareCalibration",
    "design_matrix",
    "fit_binocular",
    "fit_calibration",
    "resolve_model",
]

MODELS = ("affine", "poly2")
#: Minimum number of points with data each model needs.
MIN_POINTS = {"affine": 3, "poly2": 9}


class CalibrationFitError(ValueError):
    """The calibration could not be fitted; the message says why and what to do."""


def design_matrix(x: ArrayLike, y: ArrayLike, model: str) -> NDArray[np.float64]:
    """Regressors of ``model`` for normalised gaze ``x, y`` (shape (n, 3) or (n, 6))."""
    u = np.asarray(x, dtype=float) - 0.5
    v = np.asarray(y, dtype=float) - 0.5
    one = np.ones_like(u)
    if model == "affine":
        return np.stack([one, u, v], axis=-1)
    if model == "poly2":
        return np.stack([one, u, v, u * v, u * u, v * v], axis=-1)
    raise ValueError(f"calibration model must be one of {MODELS}, got {model!r}")


def resolve_model(model: str, n_points: int) -> str:
    """``'auto'`` -> ``'poly2'`` with >= 9 points, else ``'affine'``; others are checked."""
    if model == "auto":
        return "poly2" if n_points >= MIN_POINTS["poly2"] else "affine"
    if model not in MODELS:
        raise ValueError(f"calibration model must be 'auto' or one of {MODELS}, got {model!r}")
    return model


@dataclasses.dataclass(frozen=True)
class SoftwareCalibration:
    """A fitted mapping raw gaze -> corrected gaze (normalised coordinates).

    Attributes
    ----------
    model : str
        ``'affine'`` or ``'poly2'``.
    coef_x, coef_y : tuple of float
        Coefficients on :func:`design_matrix` regressors.
    n_points : int
        Points the fit used.
    rms_residual : float
        Root mean square distance (normalised units) between corrected gaze and the targets.
    """

    model: str
    coef_x: tuple[float, ...]
    coef_y: tuple[float, ...]
    n_points: int = 0
    rms_residual: float = math.nan

    def __post_init__(self) -> None:
        k = design_matrix([0.5], [0.5], self.model).shape[1]
        if len(self.coef_x) != k or len(self.coef_y) != k:
            raise ValueError(
                f"a {self.model} calibration needs {k} coefficients per axis, got "
                f"{len(self.coef_x)} and {len(self.coef_y)}"
            )

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correct arrays of normalised gaze; NaN stays NaN."""
        a = design_matrix(x, y, self.model)
        return a @ np.asarray(self.coef_x), a @ np.asarray(self.coef_y)

    @classmethod
    def identity(cls, model: str = "affine") -> SoftwareCalibration:
        """The mapping that changes nothing."""
        k = design_matrix([0.5], [0.5], model).shape[1]
        cx = [0.5, 1.0, 0.0] + [0.0] * (k - 3)
        cy = [0.5, 0.0, 1.0] + [0.0] * (k - 3)
        return cls(model, tuple(cx), tuple(cy), 0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return {
            "model": self.model,
            "coef_x": list(self.coef_x),
            "coef_y": list(self.coef_y),
            "n_points": self.n_points,
            "rms_residual": None if not math.isfinite(self.rms_residual) else self.rms_residual,
            "regressors": "u=x-0.5, v=y-0.5: "
            + ("[1, u, v]" if self.model == "affine" else "[1, u, v, u*v, u^2, v^2]"),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SoftwareCalibration:
        """Inverse of :meth:`to_dict`."""
        try:
            rr = d.get("rms_residual")
            return cls(
                model=str(d["model"]),
                coef_x=tuple(float(v) for v in d["coef_x"]),
                coef_y=tuple(float(v) for v in d["coef_y"]),
                n_points=int(d.get("n_points", 0)),
                rms_residual=math.nan if rr is None else float(rr),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a software calibration: {d!r} ({exc})") from exc


def fit_calibration(
    gaze: ArrayLike, targets: ArrayLike, model: str = "auto"
) -> SoftwareCalibration:
    """Least-squares fit of the mapping gaze -> target.

    Parameters
    ----------
    gaze : array_like of shape (n, 2)
        Raw (uncorrected) gaze per point, normalised; rows with NaN are left out.
    targets : array_like of shape (n, 2)
        Target positions, normalised.
    model : str
        ``'auto'``, ``'affine'`` or ``'poly2'``.

    Raises
    ------
    CalibrationFitError
        Too few points with data, or points that do not span the screen (collinear).
    """
    g = np.asarray(gaze, dtype=float).reshape(-1, 2)
    t = np.asarray(targets, dtype=float).reshape(-1, 2)
    if g.shape != t.shape:
        raise ValueError(f"gaze {g.shape} and targets {t.shape} must have the same shape")
    ok = np.isfinite(g).all(axis=1) & np.isfinite(t).all(axis=1)
    g, t = g[ok], t[ok]
    m = resolve_model(model, len(g))
    if len(g) < MIN_POINTS[m]:
        raise CalibrationFitError(
            f"a {m} calibration needs gaze at >= {MIN_POINTS[m]} points, only {len(g)} had "
            "valid samples; redo the points without data"
        )
    a = design_matrix(g[:, 0], g[:, 1], m)
    if np.linalg.matrix_rank(a, tol=1e-6) < a.shape[1]:
        raise CalibrationFitError(
            f"the gaze at the {len(g)} calibration points does not span the screen (all on "
            "one line or in one place): the eye did not follow the targets; recalibrate"
        )
    cx, *_ = np.linalg.lstsq(a, t[:, 0], rcond=None)
    cy, *_ = np.linalg.lstsq(a, t[:, 1], rcond=None)
    res = np.hypot(a @ cx - t[:, 0], a @ cy - t[:, 1])
    return SoftwareCalibration(
        m,
        tuple(float(v) for v in cx),
        tuple(float(v) for v in cy),
        len(g),
        float(np.sqrt(np.mean(res * res))),
    )


@dataclasses.dataclass(frozen=True)
class BinocularCorrection:
    """Per-eye software calibrations, installed with ``tracker.set_correction(...)``.

    The tracker base class asks :meth:`for_eye` for each eye's function. An eye without its
    own fit uses the other eye's (better than none); called directly, the object applies the
    left eye's (or the right's when the left has none).
    """

    left: SoftwareCalibration | None
    right: SoftwareCalibration | None

    def __post_init__(self) -> None:
        if self.left is None and self.right is None:
            raise ValueError("a binocular correction needs a fit for at least one eye")

    def for_eye(self, eye: str) -> SoftwareCalibration:
        """The function for ``'left'`` or ``'right'``."""
        own = self.left if eye == "left" else self.right
        other = self.right if eye == "left" else self.left
        fn = own if own is not None else other
        if fn is None:  # impossible after __post_init__; keeps the type narrow
            raise ValueError("a binocular correction needs a fit for at least one eye")
        return fn

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the left eye's mapping (the right eye's when the left has none)."""
        return self.for_eye("left")(x, y)

    @property
    def model(self) -> str:
        """``software-affine`` or ``software-poly2`` (the method name stored)."""
        return "software-" + self.for_eye("left").model

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return {
            "left": None if self.left is None else self.left.to_dict(),
            "right": None if self.right is None else self.right.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BinocularCorrection:
        """Inverse of :meth:`to_dict`."""
        return cls(
            left=None if d.get("left") is None else SoftwareCalibration.from_dict(d["left"]),
            right=None if d.get("right") is None else SoftwareCalibration.from_dict(d["right"]),
        )


def fit_binocular(
    targets: ArrayLike, gaze_by_eye: Mapping[str, ArrayLike], model: str = "auto"
) -> tuple[BinocularCorrection, list[str]]:
    """Fit each eye that has enough data; return the correction and notes about skipped eyes.

    Raises
    ------
    CalibrationFitError
        When no eye can be fitted (the message gives each eye's reason).
    """
    fits: dict[str, SoftwareCalibration | None] = {"left": None, "right": None}
    notes: list[str] = []
    for eye in ("left", "right"):
        if eye not in gaze_by_eye:
            continue
        try:
            fits[eye] = fit_calibration(gaze_by_eye[eye], targets, model)
        except CalibrationFitError as exc:
            notes.append(f"{eye} eye: {exc}")
    if fits["left"] is None and fits["right"] is None:
        raise CalibrationFitError("; ".join(notes) or "no gaze data to fit")
    return BinocularCorrection(fits["left"], fits["right"]), notes
