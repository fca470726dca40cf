"""Data-quality metrics of a validation, as the field measures them, and the pass/fail gate.

Pure numpy functions on gaze arrays; angles are exact (``angular_distance_deg`` on the
screen geometry, no small-angle constant).

- accuracy: mean angular offset of the valid samples from the target (deg);
- precision RMS-S2S: root mean square of the angles between consecutive valid samples (deg);
- precision SD: root mean square angle of the valid samples from their centroid (deg);
- data loss: percentage of samples in the window without valid gaze for that eye.

The gate follows EyeLink: GOOD when the average accuracy < 1.0 deg and the worst point
< 1.5 deg, FAIR when < 1.5 and < 2.0, else POOR; 0.5 deg is reported as the recommended level.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from acquisition.geometry import ScreenGeometry, angular_distance_deg, norm_to_px, px_to_deg

__all__ = [
    "EYES",
    "EyePointQuality",
    "PointValidation",
    "QualityGate",
    "ValidationSummary",
    "accuracy_deg",
    "data_loss_pct",
    "eye_gaze",
    "grade",
    "mean_gaze",
    "median_gaze",
    "point_quality",
    "rms_s2s_deg",
    "sd_deg",
    "summarise",
    "verdict_label",
]

EYES = ("left", "right")

#: Most gaze samples per eye and point kept in a result for drawing and storage.
MAX_KEPT_SAMPLES = 120


def _finite(x: NDArray, y: NDArray) -> NDArray[np.bool_]:
    return np.isfinite(x) & np.isfinite(y)


def accuracy_deg(
    geom: ScreenGeometry, x: ArrayLike, y: ArrayLike, target_x: float, target_y: float
) -> float:
    """Mean angular offset (deg) of gaze samples from a target; NaN without a finite sample.

    Parameters
    ----------
    geom : ScreenGeometry
    x, y : array_like of shape (n,), px
        Gaze on the screen; NaN samples are ignored.
    target_x, target_y : float, px
        Target position.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = _finite(xa, ya)
    if not ok.any():
        return math.nan
    d = angular_distance_deg(geom, xa[ok], ya[ok], target_x, target_y)
    return float(np.mean(d))


def rms_s2s_deg(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> float:
    """Root mean square of the angles (deg) between consecutive samples.

    Only pairs of adjacent samples that are both finite count; NaN when there is none.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) < 2:
        return math.nan
    ok = _finite(xa, ya)
    pair = ok[1:] & ok[:-1]
    if not pair.any():
        return math.nan
    d = angular_distance_deg(geom, xa[:-1][pair], ya[:-1][pair], xa[1:][pair], ya[1:][pair])
    return float(np.sqrt(np.mean(d * d)))


def sd_deg(geom: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> float:
    """Spread (deg): root mean square angle of the finite samples from their centroid.

    Equals ``sqrt(var_x + var_y)`` (population variances) for small, flat dispersions;
    NaN without a finite sample.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = _finite(xa, ya)
    if not ok.any():
        return math.nan
    cx, cy = float(np.mean(xa[ok])), float(np.mean(ya[ok]))
    d = angular_distance_deg(geom, xa[ok], ya[ok], cx, cy)
    return float(np.sqrt(np.mean(d * d)))


def data_loss_pct(valid: ArrayLike) -> float:
    """Percentage of samples that are not valid; 100 for an empty window (nothing arrived)."""
    v = np.asarray(valid, dtype=bool)
    if v.size == 0:
        return 100.0
    return float(100.0 * (v.size - np.count_nonzero(v)) / v.size)


def eye_gaze(samples: np.ndarray, eye: str) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    """Normalised gaze of one eye with NaN where invalid, and the validity mask.

    ``eye`` is ``'left'``, ``'right'`` or ``'mean'`` (average of the valid eyes per sample).
    """
    if eye == "mean":
        return mean_gaze(samples)
    if eye not in EYES:
        raise ValueError(f"eye must be 'left', 'right' or 'mean', got {eye!r}")
    x = np.asarray(samples[f"{eye}_x"], dtype=float)
    y = np.asarray(samples[f"{eye}_y"], dtype=float)
    valid = (np.asarray(samples[f"{eye}_valid"]) != 0) & _finite(x, y)
    return np.where(valid, x, np.nan), np.where(valid, y, np.nan), valid


def mean_gaze(samples: np.ndarray) -> tuple[NDArray, NDArray, NDArray[np.bool_]]:
    """Per-sample mean of the valid eyes (normalised), NaN where neither eye is valid."""
    lx, ly, lv = eye_gaze(samples, "left")
    rx, ry, rv = eye_gaze(samples, "right")
    n = lv.astype(float) + rv.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (np.where(lv, lx, 0.0) + np.where(rv, rx, 0.0)) / n
        y = (np.where(lv, ly, 0.0) + np.where(rv, ry, 0.0)) / n
    valid = n > 0
    return np.where(valid, x, np.nan), np.where(valid, y, np.nan), valid


def median_gaze(samples: np.ndarray, eye: str) -> tuple[float, float]:
    """Median normalised gaze (x, y) of one eye's valid samples; (NaN, NaN) when none are.

    ``eye`` as in :func:`eye_gaze`.
    """
    x, y, valid = eye_gaze(samples, eye)
    if not valid.any():
        return math.nan, math.nan
    return float(np.median(x[valid])), float(np.median(y[valid]))


@dataclasses.dataclass
class EyePointQuality:
    """Quality of one eye at one validation point. Angles in degrees, NaN when no data.

    ``offset_x_deg``/``offset_y_deg`` are the per-axis angles of the mean gaze minus the
    target's (positive right/down); ``mean_x``/``mean_y`` the normalised mean gaze.
    ``gaze`` keeps up to :data:`MAX_KEPT_SAMPLES` valid samples (normalised) for display.
    """

    eye: str
    n_samples: int
    n_valid: int
    data_loss_pct: float
    accuracy_deg: float
    offset_x_deg: float
    offset_y_deg: float
    rms_s2s_deg: float
    sd_deg: float
    mean_x: float
    mean_y: float
    gaze: list[tuple[float, float]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes None)."""
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        d["gaze"] = [[round(a, 5), round(b, 5)] for a, b in self.gaze]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EyePointQuality:
        """Inverse of :meth:`to_dict`."""
        kw = dict(d)
        for f in dataclasses.fields(cls):
            if f.type == "float" and kw.get(f.name) is None:
                kw[f.name] = math.nan
        kw["gaze"] = [(float(a), float(b)) for a, b in kw.get("gaze", [])]
        return cls(**kw)


def point_quality(
    geom: ScreenGeometry, samples: np.ndarray, target: Sequence[float], eye: str
) -> EyePointQuality:
    """All metrics of one eye for the samples collected at one target.

    Parameters
    ----------
    geom : ScreenGeometry
    samples : numpy.ndarray
        Rows of ``SAMPLE_DTYPE`` from the dwell window (may be empty).
    target : (x, y)
        Normalised target position.
    eye : str
        ``'left'``, ``'right'`` or ``'mean'``.
    """
    xn, yn, valid = eye_gaze(samples, eye)
    xp, yp = norm_to_px(geom, xn, yn)
    txp, typ = (float(v) for v in norm_to_px(geom, target[0], target[1]))
    n_valid = int(np.count_nonzero(valid))
    if n_valid:
        mx, my = float(np.nanmean(xp)), float(np.nanmean(yp))
        gx, gy = px_to_deg(geom, [mx, txp], [my, typ])
        off_x, off_y = float(gx[0] - gx[1]), float(gy[0] - gy[1])
        mean_x, mean_y = mx / geom.width_px, my / geom.height_px
        keep = np.nonzero(valid)[0]
        if len(keep) > MAX_KEPT_SAMPLES:
            keep = keep[np.linspace(0, len(keep) - 1, MAX_KEPT_SAMPLES).astype(int)]
        gaze = [(float(xn[i]), float(yn[i])) for i in keep]
    else:
        off_x = off_y = mean_x = mean_y = math.nan
        gaze = []
    return EyePointQuality(
        eye=eye,
        n_samples=len(samples),
        n_valid=n_valid,
        data_loss_pct=data_loss_pct(valid),
        accuracy_deg=accuracy_deg(geom, xp, yp, txp, typ),
        offset_x_deg=off_x,
        offset_y_deg=off_y,
        rms_s2s_deg=rms_s2s_deg(geom, xp, yp),
        sd_deg=sd_deg(geom, xp, yp),
        mean_x=mean_x,
        mean_y=mean_y,
        gaze=gaze,
    )


@dataclasses.dataclass
class PointValidation:
    """One validation point: its index, target and per-eye quality.

    ``distance_mm`` is the eye-screen distance the angles used (the tracker's eye position
    when it reports one, else the geometry's).
    """

    index: int
    target: tuple[float, float]
    eyes: dict[str, EyePointQuality]
    message: str = ""
    distance_mm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "index": self.index,
            "target": list(self.target),
            "eyes": {k: v.to_dict() for k, v in self.eyes.items()},
            "message": self.message,
            "distance_mm": self.distance_mm,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PointValidation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            index=int(d["index"]),
            target=(float(d["target"][0]), float(d["target"][1])),
            eyes={k: EyePointQuality.from_dict(v) for k, v in d["eyes"].items()},
            message=str(d.get("message", "")),
            distance_mm=None if d.get("distance_mm") is None else float(d["distance_mm"]),
        )


@dataclasses.dataclass(frozen=True)
class QualityGate:
    """Pass/fail thresholds of a validation (degrees, and percent for data loss).

    Defaults are EyeLink's GOOD (average < 1.0, worst < 1.5) and FAIR (< 1.5, < 2.0);
    ``recommended_deg`` (0.5) is reported, not enforced. ``max_data_loss_pct`` fails a
    validation whose average data loss exceeds it, ``max_point_data_loss_pct`` one where any
    single point lost more than that share of its samples (for an eye in use): a point whose
    gaze was half lost did not measure what it claims (None: not gated). 40 % tolerates one
    ordinary blink (0.1-0.3 s) in the default 0.8 s collection window (up to 37.5 %).
    """

    max_average_deg: float = 1.0
    max_worst_deg: float = 1.5
    fair_average_deg: float = 1.5
    fair_worst_deg: float = 2.0
    recommended_deg: float = 0.5
    max_data_loss_pct: float | None = 50.0
    max_point_data_loss_pct: float | None = 40.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None and f.name in ("max_data_loss_pct", "max_point_data_loss_pct"):
                continue
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"QualityGate.{f.name} must be a positive number, got {v!r}")


def verdict_label(passed: bool, grade: str) -> str:
    """``PASS (GOOD)``, ``FAIL (FAIR)``...; accurate but failed says why: data was lost.

    (A point without any data makes the grade POOR, so GOOD with a failure means the data-loss
    gate failed.)
    """
    if grade == "GOOD" and not passed:
        return "FAIL (GOOD accuracy, data lost)"
    return f"{'PASS' if passed else 'FAIL'} ({grade})"


def grade(average_deg: float, worst_deg: float, gate: QualityGate = QualityGate()) -> str:
    """EyeLink-style grade: ``'GOOD'``, ``'FAIR'`` or ``'POOR'`` (NaN is POOR)."""
    if not (math.isfinite(average_deg) and math.isfinite(worst_deg)):
        return "POOR"
    if average_deg < gate.max_average_deg and worst_deg < gate.max_worst_deg:
        return "GOOD"
    if average_deg < gate.fair_average_deg and worst_deg < gate.fair_worst_deg:
        return "FAIR"
    return "POOR"


@dataclasses.dataclass
class ValidationSummary:
    """Averages over the points per eye, the overall figures, the grade and the verdict.

    ``accuracy_deg``/``worst_deg`` are those of the worse eye (both must pass);
    ``per_eye[eye]`` holds ``accuracy_deg``, ``worst_deg``, ``worst_point``, ``rms_s2s_deg``,
    ``sd_deg`` and ``data_loss_pct``. ``messages`` explain a failure in plain words.
    """

    accuracy_deg: float
    worst_deg: float
    worst_point: int | None
    rms_s2s_deg: float
    sd_deg: float
    data_loss_pct: float
    grade: str
    passed: bool
    recommended: bool
    eyes_used: list[str]
    per_eye: dict[str, dict[str, Any]]
    messages: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes None)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return {k: clean(v) for k, v in dataclasses.asdict(self).items()}

    @property
    def verdict(self) -> str:
        """One line: PASS/FAIL, grade and figures."""
        return (
            f"{verdict_label(self.passed, self.grade)}: average {_fmt(self.accuracy_deg)} deg, "
            f"worst {_fmt(self.worst_deg)} deg"
        )


def _fmt(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.2f}"


def _nanmean(values: list[float]) -> float:
    arr = np.array(values, dtype=float)
    if not np.isfinite(arr).any():
        return math.nan
    return float(np.nanmean(arr))


def _nanmax(values: list[float]) -> float:
    arr = np.array(values, dtype=float)
    if not np.isfinite(arr).any():
        return math.nan
    return float(np.nanmax(arr))


def summarise(
    points: Sequence[PointValidation], gate: QualityGate = QualityGate()
) -> ValidationSummary:
    """Average the points per eye, find the worst point, grade and gate.

    An eye without a single valid sample at any point is left out (a monocular recording)
    and said so; with no valid sample at all the validation fails with that message. A point
    without valid samples for an eye that has data elsewhere fails the validation, naming the
    point, so it can be redone.
    """
    messages: list[str] = []
    eyes_present = sorted({e for p in points for e in p.eyes}, key=lambda e: (e not in EYES, e))
    eyes_used = [
        e for e in eyes_present if any(p.eyes[e].n_valid > 0 for p in points if e in p.eyes)
    ]
    per_eye: dict[str, dict[str, Any]] = {}
    for e in eyes_present:
        if e in eyes_used:
            per_eye[e] = _eye_summary(points, e, messages)
        elif e in EYES:
            messages.append(f"{e} eye: no valid samples at any point (not tracked)")
    if not points:
        messages.append("no validation points were measured")
    if not eyes_used:
        if points:
            messages.append(
                "no valid gaze samples at any validation point: check that the tracker sees "
                "the eyes and that samples arrive"
            )
        return ValidationSummary(
            math.nan, math.nan, None, math.nan, math.nan, 100.0, "POOR", False, False,
            [], per_eye, messages,
        )  # fmt: skip
    worse = max(eyes_used, key=lambda e: (per_eye[e]["worst_deg"], per_eye[e]["accuracy_deg"]))
    avg = max(per_eye[e]["accuracy_deg"] for e in eyes_used)
    worst = float(per_eye[worse]["worst_deg"])
    g = grade(avg, worst, gate)
    loss = max(per_eye[e]["data_loss_pct"] for e in eyes_used)
    passed = g == "GOOD"
    if not passed and math.isfinite(worst):
        messages.append(
            f"accuracy {avg:.2f} deg average, {worst:.2f} deg worst (point "
            f"{per_eye[worse]['worst_point'] + 1}); needs < {gate.max_average_deg:g} and "
            f"< {gate.max_worst_deg:g}"
        )
    gate_messages = _data_loss_failures(points, eyes_used, loss, gate)
    passed = passed and not gate_messages
    messages += gate_messages
    return ValidationSummary(
        accuracy_deg=float(avg),
        worst_deg=worst,
        worst_point=per_eye[worse]["worst_point"],
        rms_s2s_deg=_nanmax([per_eye[e]["rms_s2s_deg"] for e in eyes_used]),
        sd_deg=_nanmax([per_eye[e]["sd_deg"] for e in eyes_used]),
        data_loss_pct=float(loss),
        grade=g,
        passed=passed,
        recommended=bool(passed and avg < gate.recommended_deg),
        eyes_used=eyes_used,
        per_eye=per_eye,
        messages=messages,
    )


def _eye_summary(points: Sequence[PointValidation], e: str, messages: list[str]) -> dict[str, Any]:
    """One eye's averages over the points and its worst point (a point without data is worst)."""
    accs = [p.eyes[e].accuracy_deg for p in points if e in p.eyes]
    missing = [p.index + 1 for p in points if e in p.eyes and p.eyes[e].n_valid == 0]
    for k in missing:
        messages.append(f"point {k}: no valid {e}-eye samples; redo it")
    if missing:
        worst, worst_point = math.inf, missing[0] - 1
    else:
        j = int(np.argmax(np.array(accs, dtype=float)))
        worst, worst_point = float(accs[j]), points[j].index
    return {
        "accuracy_deg": _nanmean(accs),
        "worst_deg": worst,
        "worst_point": worst_point,
        "rms_s2s_deg": _nanmean([p.eyes[e].rms_s2s_deg for p in points if e in p.eyes]),
        "sd_deg": _nanmean([p.eyes[e].sd_deg for p in points if e in p.eyes]),
        "data_loss_pct": _nanmean([p.eyes[e].data_loss_pct for p in points if e in p.eyes]),
    }


def _data_loss_failures(
    points: Sequence[PointValidation], eyes_used: list[str], loss: float, gate: QualityGate
) -> list[str]:
    """The data-loss gates that fail: over the whole validation, and at any one point."""
    out: list[str] = []
    if gate.max_data_loss_pct is not None and loss > gate.max_data_loss_pct:
        out.append(
            f"data loss {loss:.0f} % exceeds {gate.max_data_loss_pct:g} %: check the head "
            "position and lighting"
        )
    if gate.max_point_data_loss_pct is None:
        return out
    lossy = sorted(
        {
            (p.index, e, p.eyes[e].data_loss_pct)
            for p in points
            for e in eyes_used
            if e in p.eyes and p.eyes[e].data_loss_pct > gate.max_point_data_loss_pct
        }
    )
    if lossy:
        said = ", ".join(f"point {k + 1} {e} {pct:.0f} %" for k, e, pct in lossy[:6])
        out.append(
            f"data loss above {gate.max_point_data_loss_pct:g} % at a point ({said}): "
            "redo those points (R) after checking the head position and lighting"
        )
    return out
