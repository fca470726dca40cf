"""A realistic synthetic binocular gaze generator (pure numpy), with honest ground truth.

The simulated viewer alternates fixations and saccades, blinks now and then, and is measured
by a simulated tracker that adds noise, loses an eye now and then, and (optionally) carries a
systematic calibration error. It is used live by
:class:`~acquisition.trackers.simulated.SimulatedTracker` and offline by
:func:`simulate_recording`; both run the same :class:`GazeGenerator`.

Model
-----
* Positions are kept in per-axis degrees of visual angle from the screen centre (the
  convention of :func:`acquisition.geometry.px_to_deg`) and converted to normalised display
  coordinates (origin top-left, y down) through the :class:`~acquisition.geometry.ScreenGeometry`.
* Fixation durations: ``fixation_min_s + Gamma(fixation_shape, fixation_scale_s)`` (mean
  0.279 s with the defaults). While a target is set (:meth:`GazeGenerator.set_target`) the
  eye fixates it until told otherwise (or until a blink).
* Saccades follow the main sequence: duration ``(2.2 ms/deg * A + 21 ms)`` (times a small
  random factor), with a minimum-jerk (smooth, bell-shaped) velocity profile whose peak is
  ``1.875 A / D``: about 150 deg/s at 2 deg, 440 at 10 deg, 580 at 20 deg, 690 at 40 deg.
  An optional damped post-saccadic oscillation (``pso_amplitude_deg``) belongs to the fixation.
* The eye drifts slowly around where it landed (an Ornstein-Uhlenbeck process, SD
  ``drift_deg``, time constant ``drift_tau_s``); this is true eye motion, part of the ground
  truth. Measurement noise (``noise_deg``, SD per axis and eye, white) is not.
* Blinks: a Poisson process (``blink_rate_hz``) that starts blinks during fixations only;
  a blink lasts ``blink_duration_s`` (uniform), both eyes invalid, pupil NaN, flag BLINK.
* Dropouts: short episodes (mean ``dropout_mean_s``) where the left, the right or both eyes are
  lost, covering about ``dropout_prob`` of the samples; the eye keeps moving meanwhile.
* Pupils about 3.5 mm with a slow variation; eyes at (+-ipd/2, 0, screen distance) mm with a
  few mm of slow head sway (frame: origin at the screen centre, x right, y up, z towards the
  viewer, so z is the eye-screen distance); a small fixation disparity between the eyes
  (``vergence_deg``, left eye -half, right eye +half horizontally, symmetric about the truth).
* :class:`CalibrationError` is applied to the measured gaze only, never to the ground truth.

Determinism
-----------
Sample ``k`` depends only on the seed, the parameters, the rate and the commands given before
it (targets, attention) with the sample index at which they were given, never on how the
samples are chunked: per-sample noise comes from fixed blocks of 4096 samples seeded by
``(seed, block)``, event planning and dropouts draw from their own streams in event order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from acquisition.geometry import ScreenGeometry, angular_distance_deg, deg_to_px_offset, px_to_deg
from acquisition.samples import SampleFlag, empty_samples
from acquisition.simulation.noise import STREAM_CONST, STREAM_EVENTS, Dropouts, NoiseBlocks, ar1
from acquisition.simulation.types import (
    _FIX_SCALE,
    Attention,
    GazeParams,
    GroundTruthEvent,
    _fixed_sum,
    _Seg,
    main_sequence_duration_s,
)

__all__ = ["GazeGenerator", "simulate_recording"]


# ---------------------------------------------------------------------------- generator
class GazeGenerator:
    """Incremental, chunking-independent generator of binocular gaze samples.

    Parameters
    ----------
    rate_hz : float
        Sampling rate, > 0 (30-2000 Hz is the tested range; it works up to 10 kHz).
    seed : int
        Non-negative seed; the whole output is a function of it.
    screen : ScreenGeometry, optional
        Display geometry (default :class:`ScreenGeometry` ``()``).
    params : GazeParams, optional

    Sample ``k`` is at time ``k / rate_hz`` seconds (``device_ts = round(k * 1e6 / rate_hz)``
    microseconds). :meth:`set_target` and :meth:`set_attention` take effect at the next sample
    generated; :attr:`schedule` records them with that sample index.
    """

    def __init__(
        self,
        rate_hz: float,
        seed: int = 0,
        screen: ScreenGeometry | None = None,
        params: GazeParams | None = None,
    ) -> None:
        if not isinstance(rate_hz, (int, float)) or not math.isfinite(rate_hz) or rate_hz <= 0:
            raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.rate_hz = float(rate_hz)
        self.seed = int(seed)
        self.screen = screen or ScreenGeometry()
        self.params = params or GazeParams()
        p = self.params
        self._k = 0
        self._ev_rng = np.random.default_rng([self.seed, STREAM_EVENTS])
        const = np.random.default_rng([self.seed, STREAM_CONST])
        self._phases = const.uniform(0, 2 * np.pi, size=8)
        self._drift_state = const.standard_normal(2) * p.drift_deg
        self._noise = NoiseBlocks(self.seed)
        a = math.exp(-1.0 / (self.rate_hz * p.drift_tau_s))
        self._drift_a = a
        self._drift_b = p.drift_deg * math.sqrt(max(0.0, 1.0 - a * a))
        self._target: tuple[float, float] | None = None  # deg
        self._attention = Attention()
        self._points: NDArray | None = None  # attention points in deg, (n, 2)
        self._last_point = -1
        self._next_blink = self._draw_blink_interval(0.0)
        self._dropouts = Dropouts(self.seed, p)
        self.events: list[GroundTruthEvent] = []
        self.schedule: list[tuple[int, str, Any]] = []
        x0, y0 = self._norm_to_deg(0.5, 0.5)
        self._seg = self._new_fixation(0.0, x0, y0, "free", first=True)

    # ------------------------------------------------------------ coordinates
    def _norm_to_deg(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = px_to_deg(self.screen, x * self.screen.width_px, y * self.screen.height_px)
        return float(dx), float(dy)

    def deg_to_norm(self, dx: ArrayLike, dy: ArrayLike) -> tuple[NDArray, NDArray]:
        """Per-axis degrees from the screen centre -> normalised display coordinates."""
        px, py = deg_to_px_offset(self.screen, dx, dy)
        return px / self.screen.width_px, py / self.screen.height_px

    def _amplitude(self, x0: float, y0: float, x1: float, y1: float) -> float:
        (ax, bx), (ay, by) = deg_to_px_offset(self.screen, [x0, x1], [y0, y1])
        return float(angular_distance_deg(self.screen, ax, ay, bx, by))

    # ------------------------------------------------------------ commands
    @property
    def n_generated(self) -> int:
        """Index of the next sample to be generated."""
        return self._k

    @property
    def t_next(self) -> float:
        """Time (s) of the next sample to be generated."""
        return self._k / self.rate_hz

    def set_target(self, xy: tuple[float, float] | None) -> None:
        """Look at normalised point ``xy`` from the next sample on (None: free viewing again).

        The current fixation or saccade is cut at the next sample and a saccade to the target
        starts there; during a blink the saccade starts when the blink ends. The eye then
        fixates the target until the next command (blinks interrupt, then it fixates again).
        """
        if xy is not None:
            x, y = float(xy[0]), float(xy[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"target must be finite normalised coordinates, got {xy!r}")
        self.schedule.append((self._k, "target", None if xy is None else (x, y)))
        t = self.t_next
        seg = self._advance(t)
        if xy is None:
            self._target = None
            if seg.kind == "fixation" and seg.cause == "target":
                seg.t1, seg.ends_in_blink = t + self._draw_fixation_duration(), False
                self._apply_blink(seg)
            return
        new = self._norm_to_deg(x, y)
        if self._target is not None and self._amplitude(*self._target, *new) < 0.05:
            return  # the same target again (e.g. every frame): keep going where the eye goes
        self._target = new
        if seg.kind == "blink":
            return
        cx, cy = (float(v[0]) for v in seg.base(np.array([t])))
        if seg.kind == "fixation" and self._amplitude(cx, cy, *self._target) < 0.05:
            seg.x1, seg.y1 = self._target
            seg.t1, seg.ends_in_blink, seg.cause = math.inf, False, "target"
            self._apply_blink(seg)
            return
        self._finish(seg, t, truncated=True)
        self._seg = self._new_saccade(t, cx, cy, *self._target, "target")

    def set_attention(
        self,
        points: ArrayLike | None = None,
        saliency: ArrayLike | None = None,
        rect: Sequence[float] = (0.0, 0.0, 1.0, 1.0),
        weights: ArrayLike | None = None,
    ) -> None:
        """Tell free viewing what to look at (takes effect at the next planned saccade).

        Parameters
        ----------
        points : array_like, shape (n, 2) or (n, 3), optional
            Normalised points to scan; a third column (or ``weights``) weights them.
        saliency : array_like, 2-D, optional
            Non-negative map (rows = y); landing cells are drawn proportionally to it.
        rect : (x0, y0, x1, y1)
            Normalised screen area that ``saliency`` covers.
        weights : array_like, shape (n,), optional

        With neither points nor saliency the viewer scans the screen at random.
        """
        att = Attention.parse(points, saliency, rect, weights)  # validate before changing anything
        self.schedule.append((self._k, "attention", att.as_kwargs()))
        self._attention = att
        self._last_point = -1
        self._points = None
        if att.points is not None:
            dx, dy = px_to_deg(
                self.screen,
                att.points[:, 0] * self.screen.width_px,
                att.points[:, 1] * self.screen.height_px,
            )
            self._points = np.column_stack([dx, dy])

    # ------------------------------------------------------------ planning (event stream)
    def _draw_fixation_duration(self) -> float:
        p = self.params
        return p.fixation_min_s + float(self._ev_rng.gamma(p.fixation_shape, p.fixation_scale_s))

    def _draw_blink_interval(self, t: float) -> float:
        r = self.params.blink_rate_hz
        return math.inf if r <= 0 else t + float(self._ev_rng.exponential(1.0 / r))

    def _apply_blink(self, seg: _Seg) -> None:
        if self._next_blink < seg.t1:
            tb = max(self._next_blink, seg.t0 + self.params.blink_min_fixation_s)
            if tb < seg.t1:
                seg.t1, seg.ends_in_blink = tb, True

    def _new_fixation(
        self,
        t0: float,
        x: float,
        y: float,
        cause: str,
        first: bool = False,
        pso: tuple[float, float] = (0.0, 0.0),
    ) -> _Seg:
        dur = math.inf if self._target is not None else self._draw_fixation_duration()
        if first and dur != math.inf:
            dur *= float(self._ev_rng.uniform())  # the recording starts mid-fixation
        seg = _Seg("fixation", t0, t0 + dur, x, y, x, y, cause, pso_dx=pso[0], pso_dy=pso[1])
        self._apply_blink(seg)
        return seg

    def _new_saccade(
        self, t0: float, x0: float, y0: float, x1: float, y1: float, cause: str
    ) -> _Seg:
        p = self.params
        amp = self._amplitude(x0, y0, x1, y1)
        dur = float(main_sequence_duration_s(amp, p))
        dur *= float(
            np.clip(1.0 + p.saccade_duration_jitter * self._ev_rng.standard_normal(), 0.7, 1.3)
        )
        seg = _Seg(
            "saccade", t0, t0 + dur, x0, y0, x1, y1, cause, amp=amp, peak_v=1.875 * amp / dur
        )
        return seg

    def _next_free_point(self, x0: float, y0: float) -> tuple[float, float, str]:
        p, rng = self.params, self._ev_rng
        att = self._attention
        if self._points is not None and att.point_cdf is not None:
            cdf = att.point_cdf
            for _ in range(8):  # mild inhibition of return
                i = min(int(np.searchsorted(cdf, rng.uniform(), side="right")), len(cdf) - 1)
                if i != self._last_point or len(cdf) == 1:
                    break
            self._last_point = i
            jx, jy = rng.standard_normal(2) * p.attention_scatter_deg
            return (*self._clip_deg(self._points[i, 0] + jx, self._points[i, 1] + jy), "attention")
        if att.saliency is not None and att.saliency_cdf is not None:
            scdf = att.saliency_cdf
            i = min(int(np.searchsorted(scdf, rng.uniform(), side="right")), len(scdf) - 1)
            rows, cols = att.saliency.shape
            r, c = divmod(i, cols)
            u, v = rng.uniform(size=2)
            x0r, y0r, x1r, y1r = att.rect
            nx = x0r + (c + u) / cols * (x1r - x0r)
            ny = y0r + (r + v) / rows * (y1r - y0r)
            return (*self._clip_deg(*self._norm_to_deg(nx, ny)), "attention")
        m = p.margin_norm
        for _ in range(20):
            amp = rng.gamma(
                p.saccade_amplitude_shape, p.saccade_amplitude_mean_deg / p.saccade_amplitude_shape
            )
            ang = rng.uniform(0, 2 * np.pi)
            xe, ye = x0 + amp * math.cos(ang), y0 + amp * math.sin(ang)
            nx, ny = self.deg_to_norm(xe, ye)
            if m <= nx <= 1 - m and m <= ny <= 1 - m:
                return float(xe), float(ye), "free"
        xc, yc = self._norm_to_deg(0.5, 0.5)
        return (x0 + xc) / 2, (y0 + yc) / 2, "free"

    def _clip_deg(self, x: float, y: float) -> tuple[float, float]:
        m = self.params.margin_norm
        nx, ny = self.deg_to_norm(x, y)
        if m <= nx <= 1 - m and m <= ny <= 1 - m:
            return float(x), float(y)
        return self._norm_to_deg(float(np.clip(nx, m, 1 - m)), float(np.clip(ny, m, 1 - m)))

    def _plan_next(self, seg: _Seg) -> _Seg:
        p, t = self.params, seg.t1
        if seg.kind == "fixation" and seg.ends_in_blink:
            lo, hi = p.blink_duration_s
            end = t + float(self._ev_rng.uniform(lo, hi))
            self._next_blink = self._draw_blink_interval(end)
            return _Seg("blink", t, end, seg.x1, seg.y1, seg.x1, seg.y1, "blink")
        if seg.kind == "fixation":
            xe, ye, cause = self._next_free_point(seg.x1, seg.y1)
            return self._new_saccade(t, seg.x1, seg.y1, xe, ye, cause)
        if seg.kind == "saccade":
            pso = (0.0, 0.0)
            if p.pso_amplitude_deg > 0 and seg.amp > 0:
                dx, dy = seg.x1 - seg.x0, seg.y1 - seg.y0
                norm = math.hypot(dx, dy) or 1.0
                pso = (p.pso_amplitude_deg * dx / norm, p.pso_amplitude_deg * dy / norm)
            return self._new_fixation(t, seg.x1, seg.y1, seg.cause, pso=pso)
        # after a blink
        if self._target is not None and self._amplitude(seg.x1, seg.y1, *self._target) >= 0.05:
            return self._new_saccade(t, seg.x1, seg.y1, *self._target, "target")
        return self._new_fixation(t, seg.x1, seg.y1, "target" if self._target else "blink")

    def _advance(self, t: float) -> _Seg:
        """Finish every segment that ended before time ``t``; return the one in progress."""
        while t >= self._seg.t1:
            self._finish(self._seg, self._seg.t1, truncated=False)
            self._seg = self._plan_next(self._seg)
        return self._seg

    def _finish(self, seg: _Seg, t_end: float, truncated: bool) -> None:
        if t_end <= seg.t0:
            return  # zero-length (cut at its very start): not an event
        if seg.kind == "fixation":
            if seg.n:
                cx, cy = seg.sum_x / (seg.n * _FIX_SCALE), seg.sum_y / (seg.n * _FIX_SCALE)
            else:
                cx, cy = seg.x1, seg.y1
            nx, ny = self.deg_to_norm(cx, cy)
            ev = GroundTruthEvent(
                "fixation",
                seg.t0,
                t_end,
                float(nx),
                float(ny),
                cause=seg.cause,
                truncated=truncated,
            )
        elif seg.kind == "saccade":
            xe, ye = (float(v[0]) for v in seg.base(np.array([t_end])))
            nx, ny = self.deg_to_norm(xe, ye)
            sx, sy = self.deg_to_norm(seg.x0, seg.y0)
            amp = seg.amp if not truncated else self._amplitude(seg.x0, seg.y0, xe, ye)
            ev = GroundTruthEvent(
                "saccade",
                seg.t0,
                t_end,
                float(nx),
                float(ny),
                float(sx),
                float(sy),
                amp,
                seg.peak_v,
                seg.cause,
                truncated,
            )
        else:
            ev = GroundTruthEvent(
                "blink", seg.t0, t_end, math.nan, math.nan, cause="blink", truncated=truncated
            )
        self.events.append(ev)

    # ------------------------------------------------------------ generation
    def skip(self, n: int) -> None:
        """Advance ``n`` samples without returning them (content of later samples unchanged)."""
        step = max(1, int(self.rate_hz))
        while n > 0:
            m = min(n, step)
            self.generate(m)
            n -= m

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples (SAMPLE_DTYPE; ``t`` in generator seconds, ``system_ts`` 0)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        p, k0 = self.params, self._k
        out = empty_samples(n)
        if n == 0:
            return out
        idx = np.arange(k0, k0 + n, dtype=np.int64)
        t = idx / self.rate_hz
        noise = self._noise.take(k0, n)
        drift = np.empty((n, 2))
        for c in range(2):
            drift[:, c] = ar1(self._drift_b * noise[:, 4 + c], self._drift_a, self._drift_state[c])
        self._drift_state = drift[-1].copy()
        bx, by = np.empty(n), np.empty(n)
        blink = np.zeros(n, dtype=bool)
        i = 0
        while i < n:
            seg = self._seg
            if t[i] >= seg.t1:
                self._finish(seg, seg.t1, truncated=False)
                self._seg = self._plan_next(seg)
                continue
            j = i + int(np.searchsorted(t[i:], seg.t1, side="left"))
            ts = t[i:j]
            x, y = seg.base(ts)
            if seg.kind == "fixation" and (seg.pso_dx or seg.pso_dy):
                tau = ts - seg.t0
                osc = np.exp(-tau / p.pso_tau_s) * np.sin(2 * np.pi * p.pso_freq_hz * tau)
                x = x + seg.pso_dx * osc
                y = y + seg.pso_dy * osc
            bx[i:j], by[i:j] = x, y
            if seg.kind == "blink":
                blink[i:j] = True
            elif seg.kind == "fixation":
                seg.sum_x += _fixed_sum(x + drift[i:j, 0])
                seg.sum_y += _fixed_sum(y + drift[i:j, 1])
                seg.n += j - i
            i = j
        self._k = k0 + n
        tx, ty = bx + drift[:, 0], by + drift[:, 1]
        lost_l, lost_r = self._dropouts.masks(t)
        out["t"] = t
        out["device_ts"] = np.rint(idx * (1e6 / self.rate_hz)).astype(np.int64)
        out["system_ts"] = 0
        half_v = p.vergence_deg / 2.0
        ph = self._phases
        base_pupil = p.pupil_mm + p.pupil_variation_mm * (
            0.6 * np.sin(2 * np.pi * 0.05 * t + ph[0]) + 0.4 * np.sin(2 * np.pi * 0.17 * t + ph[1])
        )
        sway = np.stack([p.head_sway_mm * np.sin(2 * np.pi * f * t + ph[2 + j]) for j, f in enumerate((0.031, 0.047, 0.023))], axis=1)  # fmt: skip
        for e, (eye, sign, lost) in enumerate((("left", -1.0, lost_l), ("right", 1.0, lost_r))):
            ex = tx + sign * half_v + p.noise_deg * noise[:, 2 * e]
            ey = ty + p.noise_deg * noise[:, 2 * e + 1]
            nx, ny = self.deg_to_norm(ex, ey)
            if p.calibration_error is not None:
                nx, ny = p.calibration_error.apply(self.screen, nx, ny)
            invalid = blink | lost
            nx[invalid] = np.nan
            ny[invalid] = np.nan
            out[f"{eye}_x"], out[f"{eye}_y"] = nx, ny
            out[f"{eye}_valid"] = ~invalid
            pupil = base_pupil + 0.05 * e + p.pupil_noise_mm * noise[:, 6 + e]
            pupil[invalid] = np.nan
            out[f"{eye}_pupil"] = pupil
            pos = sway.copy()
            pos[:, 0] += sign * p.ipd_mm / 2.0
            pos[:, 2] += self.screen.distance_mm
            pos[invalid] = np.nan
            out[f"{eye}_eye_pos"] = pos
        out["flags"][blink] = np.uint32(SampleFlag.BLINK)
        return out

    def current_event(self, t_end: float | None = None) -> GroundTruthEvent | None:
        """The event in progress, closed (``truncated``) at ``t_end`` (default: the next sample).

        Changes no state. An event that already ended (between the last sample and ``t_end``)
        is returned whole, not truncated.
        """
        saved = len(self.events)
        t = self.t_next if t_end is None else t_end
        self._finish(self._seg, min(t, self._seg.t1), truncated=t < self._seg.t1)
        if len(self.events) == saved:
            return None
        return self.events.pop()


def simulate_recording(
    duration_s: float | None = None,
    rate_hz: float = 1000.0,
    seed: int = 0,
    *,
    n_samples: int | None = None,
    screen: ScreenGeometry | None = None,
    params: GazeParams | None = None,
    commands: Iterable[tuple[float, str, Any]] = (),
    t0: float = 0.0,
    include_ongoing: bool = True,
    **overrides: Any,
) -> tuple[np.ndarray, list[GroundTruthEvent]]:
    """Simulate a whole recording offline.

    Parameters
    ----------
    duration_s : float, optional
        Length in seconds (``n_samples = round(duration_s * rate_hz)``); or give ``n_samples``.
    rate_hz : float
        Sampling rate (Hz).
    seed : int
    n_samples : int, optional
    screen : ScreenGeometry, optional
    params : GazeParams, optional
        Settings; keyword ``overrides`` (e.g. ``noise_deg=0.05``, ``blink_rate_hz=0``,
        ``calibration_error={"offset": (0.01, 0)}``) replace individual fields.
    commands : iterable of (t_s, kind, payload)
        ``(t, "target", (x, y) | None)`` or ``(t, "attention", dict of set_attention kwargs)``,
        applied at the first sample at or after ``t`` seconds (generator time, before ``t0``).
        The sample-index schedule of a live tracker can be replayed with ``t = k / rate_hz``.
    t0 : float
        Added to sample and event times (session seconds of sample 0).
    include_ongoing : bool
        Close the event in progress at the end (flagged ``truncated``) and include it.

    Returns
    -------
    samples : numpy.ndarray
        Structured array of SAMPLE_DTYPE, shape ``(n,)``.
    events : list of GroundTruthEvent
        Ground truth on the same time base as ``samples['t']``.
    """
    n_samples = _sample_count(duration_s, rate_hz, n_samples)
    p = params or GazeParams()
    if overrides:
        p = dataclasses.replace(p, **overrides)
    gen = GazeGenerator(rate_hz, seed, screen, p)
    samples = _run_commands(gen, commands, n_samples)
    events = list(gen.events)
    if include_ongoing:
        ev = gen.current_event()
        if ev is not None:
            events.append(ev)
    samples["t"] += t0
    if t0:
        events = [e.shifted(t0) for e in events]
    return samples, events


def _sample_count(duration_s: float | None, rate_hz: float, n_samples: int | None) -> int:
    if n_samples is None:
        if duration_s is None:
            raise ValueError("give duration_s or n_samples")
        if not math.isfinite(duration_s) or duration_s < 0:
            raise ValueError(f"duration_s must be a finite number >= 0, got {duration_s!r}")
        n_samples = round(duration_s * rate_hz)
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples!r}")
    return n_samples


def _run_commands(
    gen: GazeGenerator, commands: Iterable[tuple[float, str, Any]], n_samples: int
) -> np.ndarray:
    """Generate ``n_samples``, applying each command at its first sample at or after its time."""
    cmds = sorted(
        (
            (max(0, math.ceil(round(t * gen.rate_hz, 9))), kind, payload)
            for t, kind, payload in commands
        ),
        key=lambda c: c[0],
    )
    parts = []
    for k, kind, payload in cmds:
        if k > n_samples:
            break
        if k > gen.n_generated:
            parts.append(gen.generate(k - gen.n_generated))
        if kind == "target":
            gen.set_target(payload)
        elif kind == "attention":
            gen.set_attention(**(payload or {}))
        else:
            raise ValueError(f"unknown command kind {kind!r}; valid: 'target', 'attention'")
    parts.append(gen.generate(n_samples - gen.n_generated))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
