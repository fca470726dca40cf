"""Drift check: a central target; passes when gaze stays within a radius for a dwell time.

The logic is pure (:class:`DriftChecker` fed with sample blocks) and works with every backend
(it uses the mean of the valid eyes). :func:`drift_loop` runs it against a ring-buffer reader
with any frame callback; ``calibration.drift_screen.run_drift_check`` draws it in PsychoPy.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from acquisition.geometry import ScreenGeometry, angular_distance_deg, norm_to_px, px_to_deg
from acquisition.ring_buffer import Reader
from calibration.metrics import data_loss_pct, mean_gaze

__all__ = ["DriftChecker", "DriftResult", "DriftSettings", "drift_loop"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DriftSettings:
    """Drift check parameters.

    Parameters
    ----------
    radius_deg : float
        Gaze must stay within this angle of the target (default 1.5 deg).
    dwell_s : float
        ... for this long without leaving or losing the eye (default 0.5 s).
    timeout_s : float
        Give up (fail) after this long without such a dwell.
    target : (x, y)
        Normalised target position (default the centre).
    settle_s : float
        Samples of the first interval after the target appears are ignored.
    """

    radius_deg: float = 1.5
    dwell_s: float = 0.5
    timeout_s: float = 5.0
    target: tuple[float, float] = (0.5, 0.5)
    settle_s: float = 0.15

    def __post_init__(self) -> None:
        for name in ("radius_deg", "dwell_s", "timeout_s"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"DriftSettings.{name} must be a positive number, got {v!r}")
        if not all(0 <= c <= 1 for c in self.target):
            raise ValueError(f"DriftSettings.target must be normalised (0..1), got {self.target!r}")


@dataclasses.dataclass
class DriftResult:
    """Outcome of one drift check.

    ``offset_*``: mean gaze minus target over the passing dwell (or, on failure, over the
    valid samples of the last ``dwell_s``); NaN when no valid sample arrived. ``action``
    is what the operator chose after it: ``continue``, ``recalibrate``, ``retry`` or
    ``abort`` (``continue`` after a pass).
    """

    passed: bool
    offset_deg: float
    offset_x_deg: float
    offset_y_deg: float
    offset_x_px: float
    offset_y_px: float
    target: tuple[float, float]
    duration_s: float
    n_samples: int
    data_loss_pct: float
    message: str
    t: float = math.nan
    action: str = "continue"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes None)."""
        d = dataclasses.asdict(self)
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()
        }

    def to_store_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``SessionStore.add_calibration`` (kind ``drift_check``)."""
        return {
            "t": float(self.t),
            "kind": "drift_check",
            "method": "fixation-target",
            "accuracy_deg": None if not math.isfinite(self.offset_deg) else self.offset_deg,
            "worst_deg": None,
            "passed": int(self.passed),
            "result_json": self.to_dict(),
        }


class DriftChecker:
    """Feed samples as they arrive; :attr:`done` when passed or timed out.

    Parameters
    ----------
    geometry : ScreenGeometry
    settings : DriftSettings
    t_start : float
        Session time the target appeared (samples before ``t_start + settle_s`` are ignored).
    """

    def __init__(self, geometry: ScreenGeometry, settings: DriftSettings, t_start: float) -> None:
        self.geometry = geometry
        self.settings = settings
        self.t_start = float(t_start)
        self._tx, self._ty = (float(v) for v in norm_to_px(geometry, *settings.target))
        self._t: list[np.ndarray] = []
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._valid: list[np.ndarray] = []
        self._run_start: float | None = None
        self._run_first: int = 0  # index (into the concatenation) of the run's first sample
        self._n = 0
        self.passed = False
        self.timed_out = False
        self.t_end = math.nan
        self._last_t = math.nan

    @property
    def done(self) -> bool:
        """True once passed or timed out."""
        return self.passed or self.timed_out

    def feed(self, samples: np.ndarray, now: float | None = None) -> bool:
        """Add a block of samples (``SAMPLE_DTYPE`` rows); return :attr:`done`.

        ``now`` (session time) lets the check time out even when no sample arrives.
        """
        if self.done:
            return True
        s = samples[samples["t"] >= self.t_start + self.settings.settle_s]
        if len(s):
            x, y, valid = mean_gaze(s)
            xp, yp = norm_to_px(self.geometry, x, y)
            d = angular_distance_deg(self.geometry, xp, yp, self._tx, self._ty)
            inside = valid & (d <= self.settings.radius_deg)
            t = np.asarray(s["t"], dtype=float)
            for k in range(len(s)):
                tk = float(t[k])
                if inside[k]:
                    if self._run_start is None:
                        self._run_start = tk
                        self._run_first = self._n + k
                    elif tk - self._run_start >= self.settings.dwell_s:
                        self.passed = True
                        self.t_end = tk
                        self._append(t[: k + 1], xp[: k + 1], yp[: k + 1], valid[: k + 1])
                        return True
                else:
                    self._run_start = None
                if tk - self.t_start >= self.settings.timeout_s:
                    self.timed_out = True
                    self.t_end = tk
                    self._append(t[: k + 1], xp[: k + 1], yp[: k + 1], valid[: k + 1])
                    return True
            self._append(t, xp, yp, valid)
        if now is not None and now - self.t_start >= self.settings.timeout_s + 0.5:
            self.timed_out = True  # nothing (or too little) arrived at all
            self.t_end = float(now)
        return self.done

    def _append(self, t: np.ndarray, x: np.ndarray, y: np.ndarray, v: np.ndarray) -> None:
        self._t.append(t)
        self._x.append(x)
        self._y.append(y)
        self._valid.append(v)
        self._n += len(t)
        if len(t):
            self._last_t = float(t[-1])

    def result(self, now: float | None = None) -> DriftResult:
        """The result so far (call when :attr:`done`)."""
        st = self.settings
        t = np.concatenate(self._t) if self._t else np.zeros(0)
        x = np.concatenate(self._x) if self._x else np.zeros(0)
        y = np.concatenate(self._y) if self._y else np.zeros(0)
        v = np.concatenate(self._valid) if self._valid else np.zeros(0, dtype=bool)
        if self.passed:
            sel = np.arange(self._run_first, len(t))
        else:
            sel = np.nonzero(t >= (t[-1] if len(t) else 0.0) - st.dwell_s)[0]
        sel = sel[v[sel]] if len(sel) else sel
        if len(sel):
            mx, my = float(np.mean(x[sel])), float(np.mean(y[sel]))
            off = float(angular_distance_deg(self.geometry, mx, my, self._tx, self._ty))
            gx, gy = px_to_deg(self.geometry, [mx, self._tx], [my, self._ty])
            ox, oy = float(gx[0] - gx[1]), float(gy[0] - gy[1])
            opx, opy = mx - self._tx, my - self._ty
        else:
            off = ox = oy = opx = opy = math.nan
        end = (
            self.t_end if math.isfinite(self.t_end) else (now if now is not None else self._last_t)
        )
        dur = float(end - self.t_start) if end is not None and math.isfinite(end) else math.nan
        if self.passed:
            msg = f"drift check passed: gaze {off:.2f} deg from the target"
        elif len(t) == 0:
            msg = "drift check failed: no samples arrived from the tracker"
        elif not v.any():
            msg = "drift check failed: no valid gaze (eyes not found by the tracker)"
        elif math.isfinite(off):
            msg = (
                f"drift check failed: gaze did not stay within {st.radius_deg:g} deg of the "
                f"target for {st.dwell_s:g} s (last offset {off:.2f} deg)"
            )
        else:
            msg = f"drift check failed: no stable gaze within {st.radius_deg:g} deg of the target"
        return DriftResult(
            passed=self.passed,
            offset_deg=off,
            offset_x_deg=ox,
            offset_y_deg=oy,
            offset_x_px=opx,
            offset_y_px=opy,
            target=(float(st.target[0]), float(st.target[1])),
            duration_s=dur,
            n_samples=len(t),
            data_loss_pct=data_loss_pct(v),
            message=msg,
            t=float(end) if end is not None and math.isfinite(end) else self.t_start,
            action="continue" if self.passed else "recalibrate",
        )


def drift_loop(
    frame: Callable[[], bool],
    reader: Reader,
    geometry: ScreenGeometry,
    settings: DriftSettings = DriftSettings(),
    *,
    clock: Callable[[], float],
    on_target: Callable[[float, float], None] | None = None,
) -> DriftResult:
    """Run a drift check: call ``frame()`` (draw and flip; False = aborted) until done.

    Never raises for missing data; the result's message says what happened (also logged).
    """
    reader.skip_to_latest()
    t0 = clock()
    if on_target is not None:
        on_target(*settings.target)
    checker = DriftChecker(geometry, settings, t0)
    aborted = False
    while not checker.done:
        if not frame():
            aborted = True
            break
        checker.feed(reader.consume().samples, now=clock())
    res = checker.result(now=clock())
    if aborted:
        res.passed = False
        res.message = "drift check aborted by the operator"
        res.action = "abort"
    (log.info if res.passed else log.warning)(
        "drift check: %s (offset x %.2f, y %.2f deg)",
        res.message,
        res.offset_x_deg,
        res.offset_y_deg,
    )
    return res
