"""Value types and pure helpers of the gaze model (re-exported by :mod:`acquisition.simulation`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from acquisition.geometry import ScreenGeometry

__all__ = [
    "KIND_BLINK",
    "KIND_CODES",
    "KIND_FIXATION",
    "KIND_NONE",
    "KIND_SACCADE",
    "TRACKER_PROFILES",
    "Attention",
    "CalibrationError",
    "GazeParams",
    "GroundTruthEvent",
    "label_samples",
    "main_sequence_duration_s",
    "min_jerk_position",
]

KIND_NONE, KIND_FIXATION, KIND_SACCADE, KIND_BLINK = 0, 1, 2, 3
#: Integer codes used by :func:`label_samples`.
KIND_CODES = {"fixation": KIND_FIXATION, "saccade": KIND_SACCADE, "blink": KIND_BLINK}


# ---------------------------------------------------------------------------- parameters
@dataclasses.dataclass(frozen=True)
class CalibrationError:
    """A systematic error of the measured gaze (what a calibration has to correct).

    ``measured = centre + R(rotation_deg) @ diag(gain) @ (true - centre) + offset``, with the
    gain and rotation acting about the screen centre in physical units (mm on the screen,
    rotation positive counter-clockwise as the viewer sees it) and ``offset`` in normalised
    display units. It is an affine map of normalised coordinates, so an affine software
    calibration can undo it exactly.
    """

    offset: tuple[float, float] = (0.0, 0.0)
    gain: tuple[float, float] = (1.0, 1.0)
    rotation_deg: float = 0.0

    def __post_init__(self) -> None:
        vals = [*self.offset, *self.gain, self.rotation_deg]
        if len(self.offset) != 2 or len(self.gain) != 2 or not all(math.isfinite(v) for v in vals):
            raise ValueError(
                f"calibration error needs offset=(dx, dy), gain=(gx, gy), rotation_deg finite; "
                f"got offset={self.offset!r}, gain={self.gain!r}, rotation_deg={self.rotation_deg!r}"
            )

    @classmethod
    def from_any(cls, value: CalibrationError | dict[str, Any] | None) -> CalibrationError | None:
        """Accept None, an instance or a dict with keys offset/gain/rotation_deg."""
        if value is None or isinstance(value, CalibrationError):
            return value
        if not isinstance(value, dict):
            raise TypeError(
                f"calibration_error must be None, a dict or CalibrationError, got {value!r}"
            )
        unknown = sorted(set(value) - {"offset", "gain", "rotation_deg"})
        if unknown:
            raise ValueError(
                f"unknown calibration_error key(s) {unknown}; valid: offset, gain, rotation_deg"
            )
        return cls(
            offset=tuple(float(v) for v in value.get("offset", (0.0, 0.0))),  # type: ignore[arg-type]
            gain=tuple(float(v) for v in value.get("gain", (1.0, 1.0))),  # type: ignore[arg-type]
            rotation_deg=float(value.get("rotation_deg", 0.0)),
        )

    def apply(self, screen: ScreenGeometry, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        """Map true normalised gaze ``(x, y)`` to the erroneous measured gaze (vectorised)."""
        xm = (np.asarray(x, dtype=float) - 0.5) * screen.width_mm * self.gain[0]
        ym = (np.asarray(y, dtype=float) - 0.5) * screen.height_mm * self.gain[1]
        c, s = math.cos(math.radians(self.rotation_deg)), math.sin(math.radians(self.rotation_deg))
        xr = c * xm + s * ym  # y is down: counter-clockwise on screen
        yr = -s * xm + c * ym
        return (
            xr / screen.width_mm + 0.5 + self.offset[0],
            yr / screen.height_mm + 0.5 + self.offset[1],
        )


@dataclasses.dataclass(frozen=True)
class GazeParams:
    """Settings of the simulated viewer and tracker (all validated; units in the names)."""

    noise_deg: float = 0.02
    drift_deg: float = 0.05
    drift_tau_s: float = 1.0
    fixation_min_s: float = 0.06
    fixation_shape: float = 3.0
    fixation_scale_s: float = 0.073
    saccade_amplitude_mean_deg: float = 5.0
    saccade_amplitude_shape: float = 2.0
    main_sequence_slope_ms_per_deg: float = 2.2
    main_sequence_intercept_ms: float = 21.0
    saccade_duration_jitter: float = 0.05
    pso_amplitude_deg: float = 0.0
    pso_freq_hz: float = 22.0
    pso_tau_s: float = 0.01
    blink_rate_hz: float = 0.25
    blink_duration_s: tuple[float, float] = (0.1, 0.3)
    blink_min_fixation_s: float = 0.1
    dropout_prob: float = 0.005
    dropout_mean_s: float = 0.03
    pupil_mm: float = 3.5
    pupil_variation_mm: float = 0.3
    pupil_noise_mm: float = 0.01
    ipd_mm: float = 63.0
    head_sway_mm: float = 3.0
    vergence_deg: float = 0.1
    attention_scatter_deg: float = 0.5
    margin_norm: float = 0.02
    calibration_error: CalibrationError | None = None

    def __post_init__(self) -> None:
        nonneg = [
            "noise_deg", "drift_deg", "saccade_duration_jitter", "pso_amplitude_deg",
            "blink_rate_hz", "dropout_prob", "pupil_variation_mm", "pupil_noise_mm",
            "head_sway_mm", "vergence_deg", "attention_scatter_deg", "fixation_min_s",
            "blink_min_fixation_s", "margin_norm", "main_sequence_intercept_ms",
        ]  # fmt: skip
        pos = [
            "drift_tau_s", "fixation_shape", "fixation_scale_s", "saccade_amplitude_mean_deg",
            "saccade_amplitude_shape", "main_sequence_slope_ms_per_deg", "pso_freq_hz",
            "pso_tau_s", "dropout_mean_s", "pupil_mm", "ipd_mm",
        ]  # fmt: skip
        for name in nonneg + pos:
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"GazeParams.{name} must be a finite number >= 0, got {v!r}")
            if name in pos and v == 0:
                raise ValueError(f"GazeParams.{name} must be > 0, got {v!r}")
        lo, hi = self.blink_duration_s
        if not 0 < lo <= hi:
            raise ValueError(
                f"GazeParams.blink_duration_s must be (lo, hi) with 0 < lo <= hi, got {self.blink_duration_s!r}"
            )
        if self.dropout_prob >= 0.5:
            raise ValueError(f"GazeParams.dropout_prob must be < 0.5, got {self.dropout_prob!r}")
        object.__setattr__(
            self, "calibration_error", CalibrationError.from_any(self.calibration_error)
        )

    @property
    def fixation_mean_s(self) -> float:
        """Mean free-viewing fixation duration (s)."""
        return self.fixation_min_s + self.fixation_shape * self.fixation_scale_s


#: Measurement quality of kinds of trackers, as GazeParams fields (``profile=`` of the
#: simulated tracker). ``noise_deg`` is the white noise per axis: the RMS sample-to-sample
#: distance is about twice it. ``quiet``: a tower-mounted video tracker (EyeLink 1000 Plus,
#: RMS-S2S ~0.02-0.04 deg, almost no loss). ``tobii``: a screen-based Tobii in a real lab
#: (TX300, Pro Nano or Fusion at 60-300 Hz: RMS-S2S ~0.25 deg as in Hooge et al. 2018's
#: recordings, about 5 % of samples lost in short episodes, more blinks).
TRACKER_PROFILES: dict[str, dict[str, float]] = {
    "quiet": {"noise_deg": 0.015, "dropout_prob": 0.005, "dropout_mean_s": 0.03},
    "tobii": {
        "noise_deg": 0.12, "dropout_prob": 0.05, "dropout_mean_s": 0.05,
        "blink_rate_hz": 0.4, "drift_deg": 0.1,
    },
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class GroundTruthEvent:
    """One true oculomotor event.

    ``t_start``/``t_end`` are seconds on the generator's time base (session seconds once the
    tracker or :func:`simulate_recording` has shifted them); a sample at time ``t`` belongs to
    the event when ``t_start <= t < t_end``. A fixation starts exactly where the previous
    saccade or blink ended. ``x, y`` (normalised, before any calibration error): for a fixation
    the mean true eye position over its samples (the landing point when it has none), for a
    saccade its end point, NaN for a blink. ``x_start, y_start``, ``amplitude_deg`` and
    ``peak_velocity_deg_s`` describe saccades. ``cause`` is ``free``, ``attention``,
    ``target`` or ``blink``; ``truncated`` marks an event cut short by a command or by the end
    of the recording.
    """

    kind: str
    t_start: float
    t_end: float
    x: float
    y: float
    x_start: float = math.nan
    y_start: float = math.nan
    amplitude_deg: float = math.nan
    peak_velocity_deg_s: float = math.nan
    cause: str = "free"
    truncated: bool = False

    @property
    def duration_s(self) -> float:
        """``t_end - t_start``."""
        return self.t_end - self.t_start

    def shifted(self, dt: float) -> GroundTruthEvent:
        """The same event with both times moved by ``dt`` seconds."""
        return dataclasses.replace(self, t_start=self.t_start + dt, t_end=self.t_end + dt)


# ---------------------------------------------------------------------------- pure helpers
def main_sequence_duration_s(amplitude_deg: ArrayLike, params: GazeParams | None = None) -> NDArray:
    """Saccade duration (s) from amplitude (deg): ``slope * A + intercept`` (2.2 ms/deg, 21 ms)."""
    p = params or GazeParams()
    a = np.asarray(amplitude_deg, dtype=float)
    return (p.main_sequence_slope_ms_per_deg * a + p.main_sequence_intercept_ms) / 1000.0


def min_jerk_position(tau: ArrayLike) -> NDArray:
    """Minimum-jerk displacement fraction at normalised time ``tau`` in [0, 1] (clipped)."""
    s = np.clip(np.asarray(tau, dtype=float), 0.0, 1.0)
    return s * s * s * (10.0 + s * (-15.0 + 6.0 * s))


def label_samples(t: ArrayLike, events: Iterable[GroundTruthEvent]) -> NDArray[np.int8]:
    """Ground-truth class of each sample time: codes of :data:`KIND_CODES`, 0 if none.

    Parameters
    ----------
    t : array_like, shape (n,), s
        Sample times on the same time base as the events.
    events : iterable of GroundTruthEvent
    """
    ta = np.asarray(t, dtype=float)
    out = np.zeros(ta.shape, dtype=np.int8)
    for ev in events:
        lo, hi = np.searchsorted(ta, [ev.t_start, ev.t_end], side="left")
        out[lo:hi] = KIND_CODES[ev.kind]
    return out


@dataclasses.dataclass(frozen=True)
class Attention:
    """What free viewing scans: weighted points, or a saliency map over a screen rectangle.

    Build it with :meth:`parse`, which validates. ``points`` (n, 2) normalised with
    ``point_cdf`` their cumulative weights; ``saliency`` (rows = y) with ``saliency_cdf`` over its
    raveled cells and ``rect = (x0, y0, x1, y1)`` the normalised area it covers. Points win when
    both are given.
    """

    points: NDArray | None = None
    weights: NDArray | None = None
    point_cdf: NDArray | None = None
    saliency: NDArray | None = None
    saliency_cdf: NDArray | None = None
    rect: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    @classmethod
    def parse(
        cls,
        points: ArrayLike | None = None,
        saliency: ArrayLike | None = None,
        rect: Sequence[float] = (0.0, 0.0, 1.0, 1.0),
        weights: ArrayLike | None = None,
    ) -> Attention:
        """Validate the arguments of ``set_attention``; errors name the argument and value."""
        pts = w = cdf = sal = scdf = None
        if points is not None:
            pts = np.array(points, dtype=float)
            if (
                pts.ndim != 2
                or pts.shape[1] not in (2, 3)
                or len(pts) == 0
                or not np.isfinite(pts).all()
            ):
                raise ValueError(
                    f"attention points must be a finite (n, 2) or (n, 3) array, got shape {pts.shape}"
                )
            w = pts[:, 2].copy() if pts.shape[1] == 3 else np.ones(len(pts))
            pts = pts[:, :2].copy()
            if weights is not None:
                w = np.array(weights, dtype=float).reshape(-1)
            if len(w) != len(pts) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise ValueError(
                    f"attention weights must be {len(pts)} non-negative numbers with a positive sum, got {w!r}"
                )
            cdf = np.cumsum(w) / w.sum()
        if len(rect) != 4 or not (rect[2] > rect[0] and rect[3] > rect[1]):
            raise ValueError(
                f"rect must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {rect!r}"
            )
        if saliency is not None:
            sal = np.array(saliency, dtype=float)
            if (
                sal.ndim != 2
                or sal.size == 0
                or not np.isfinite(sal).all()
                or (sal < 0).any()
                or sal.sum() <= 0
            ):
                raise ValueError(
                    f"saliency must be a finite non-negative 2-D array with a positive sum, got shape {sal.shape}"
                )
            scdf = np.cumsum(sal.ravel())
            scdf /= scdf[-1]
        r = (float(rect[0]), float(rect[1]), float(rect[2]), float(rect[3]))
        return cls(pts, w, cdf, sal, scdf, r)

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``set_attention`` that rebuild this (for schedules)."""
        out: dict[str, Any] = {"rect": self.rect}
        if self.points is not None:
            out["points"] = self.points
            out["weights"] = self.weights
        if self.saliency is not None:
            out["saliency"] = self.saliency
        return out


@dataclasses.dataclass
class _Seg:
    """A planned segment of the true eye movement (internal to the generator)."""

    kind: str
    t0: float
    t1: float
    x0: float  # base start (deg)
    y0: float
    x1: float  # base end (deg); the landing point for fixations
    y1: float
    cause: str
    ends_in_blink: bool = False
    pso_dx: float = 0.0  # post-saccadic oscillation direction * amplitude (deg)
    pso_dy: float = 0.0
    sum_x: int = 0  # fixed point (_FIX_SCALE units): exact, so independent of chunking
    sum_y: int = 0
    n: int = 0
    amp: float = math.nan
    peak_v: float = math.nan

    def base(self, t: NDArray) -> tuple[NDArray, NDArray]:
        if self.kind == "saccade":
            f = min_jerk_position((t - self.t0) / (self.t1 - self.t0))
            return self.x0 + f * (self.x1 - self.x0), self.y0 + f * (self.y1 - self.y0)
        return np.full(t.shape, self.x1), np.full(t.shape, self.y1)


_FIX_SCALE = 1 << 40  # fixation centres are summed in units of 2**-40 deg


def _fixed_sum(values: NDArray) -> int:
    """Exact sum in fixed point, as a Python int (blocks of 8192 values < 180 deg fit int64)."""
    q = np.rint(values * _FIX_SCALE).astype(np.int64)
    return sum(int(np.sum(q[i : i + 8192])) for i in range(0, len(q), 8192))
