"""Causal, streaming, noise-adaptive fixation detector: the default for noisy trackers.

A velocity threshold tuned on a quiet 1000 Hz tracker does not carry over to a screen-based
Tobii: at 300 Hz the sample-to-sample noise of an infant recording (about 0.2 deg, i.e. 70
deg/s as a velocity) is above any saccade threshold. This detector asks a different question
of each sample: does it stay near the fixation it belongs to? A fixation is a stretch of gaze
within a radius of its own running centroid; the radius is a multiple of the live
sample-to-sample noise (clipped to a physical range), so it is as tight as a quiet tracker
allows and as wide as a noisy one needs; it follows both the recording's level (over a
second) and a burst of noise (over ``burst_ms``), so a fixation holds through a head
movement. It is the causal counterpart of what I2MC (Hessels et al. 2017) does offline with
clustering: positions, not velocities, decide.

Per sample (``_adaptive_kernel.run``, compiled): the running noise estimate is updated; in a
fixation, a sample within the radius extends it and moves the centroid (time constant
``centroid_ms``), and ``exit_ms`` of consecutive samples outside end it; outside a fixation,
a candidate grows while samples stay within the radius of its mean and becomes a fixation
(provisional start) after ``onset_ms``. Start and end are moved inwards to the samples near
the centroid (the landing and take-off of the saccades), a fixation that starts again within
``merge_ms`` and ``merge_deg`` continues the previous one, losses up to ``gap_ms`` are
bridged, and fixations shorter than ``min_duration_ms`` are cancelled.

Like the I-VT and I-DT detectors: the events do not depend on chunking, ``t_emitted`` is the
time of the sample that made each one decidable, and the interface is the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from acquisition.fixations import _adaptive_kernel as kernel
from acquisition.fixations._signal import check_time_order
from acquisition.fixations.events import FixationEvent, _new_event
from acquisition.fixations.params import AdaptiveParams
from acquisition.geometry import ScreenGeometry

__all__ = ["OnlineAdaptiveDetector"]

_KINDS = ("start_provisional", "start_confirmed", "end", "cancel")


class OnlineAdaptiveDetector:
    """Streaming noise-adaptive fixation detector (same interface as the I-VT detector).

    Parameters
    ----------
    screen : ScreenGeometry
    params : AdaptiveParams, optional
    """

    def __init__(self, screen: ScreenGeometry, params: AdaptiveParams | None = None) -> None:
        self.screen = screen
        self.params = params if params is not None else AdaptiveParams()
        p = self.params
        self._p = np.array(
            [
                p.radius_noise_factor, p.min_radius_deg, p.max_radius_deg, p.noise_ms / 1e3,
                p.centroid_ms / 1e3, p.onset_ms / 1e3, p.exit_ms / 1e3, p.edge_noise_factor,
                p.min_edge_deg, p.edge_ms / 1e3, p.gap_ms / 1e3, p.merge_ms / 1e3, p.merge_deg,
                p.min_duration_ms / 1e3, p.edge_step_factor, p.burst_ms / 1e3,
            ]
        )  # fmt: skip
        self.reset()

    def reset(self) -> None:
        """Forget all state."""
        self._hist = np.empty((5, 4096))
        self._h = np.zeros(3, dtype=np.int64)  # first used column, samples kept, base index
        self._f, self._i = kernel.new_state()
        self._out = np.zeros((64, 6), dtype=np.int64)
        self._outf = np.zeros((64, 11))
        self._room = 28
        g = self.screen
        self._s = np.array(
            [g.width_px, g.height_px, g.mm_per_px_x, g.mm_per_px_y, g.distance_mm], dtype=float
        )
        self.n_samples = 0
        self._bind()

    # ------------------------------------------------------------------ public API
    def feed(self, samples: np.ndarray) -> list[FixationEvent]:
        """Process :data:`~acquisition.samples.SAMPLE_DTYPE` rows (oldest first)."""
        m = len(samples)
        if m == 0:
            return []
        if m > self._room:
            self._resize_out(m)
        k = kernel.feed_samples(samples, *self._args)
        if k < 0:
            k = self._retry(k, m, samples["t"], kernel.feed_samples, samples)
        self.n_samples += m
        return self._events(k, summarised=True) if k else []

    def feed_px(self, t: NDArray, x_px: NDArray, y_px: NDArray) -> list[FixationEvent]:
        """Process samples given as session times (s) and screen px (NaN = invalid)."""
        t = np.ascontiguousarray(t, dtype=np.float64)
        m = len(t)
        if m == 0:
            return []
        x = np.ascontiguousarray(x_px, dtype=np.float64)
        y = np.ascontiguousarray(y_px, dtype=np.float64)
        if m > self._room:
            self._resize_out(m)
        k = kernel.feed_px(t, x, y, *self._args)
        if k < 0:
            k = self._retry(k, m, t, kernel.feed_px, t, x, y)
        self.n_samples += m
        return self._events(k, summarised=True) if k else []

    def flush(self) -> list[FixationEvent]:
        """End of stream: the open fixation (and one held for a merge) ends."""
        _lo, n, base = (int(v) for v in self._h)
        if n == 0:
            return []
        return self._events(kernel.finish(self._f, self._i, base + n - 1, self._out))

    # ------------------------------------------------------------------ internals
    def _resize_out(self, m: int) -> None:
        """Room for the events of ``m`` samples: two a sample at most, and the held end."""
        self._out = np.zeros((2 * m + 8, 6), dtype=np.int64)
        self._outf = np.zeros((2 * m + 8, 11))
        self._room = m
        self._bind()

    def _bind(self) -> None:
        self._args = (
            self._hist, self._h, self._s, self._f, self._i, self._p, self._out, self._outf
        )  # fmt: skip

    def _retry(self, k: int, m: int, t: Any, fn: Any, *data: Any) -> int:
        """The slow path: grow the history block (``-1``), or refuse times out of order."""
        while k == -1:
            self._grow(m)
            k = fn(*data, *self._args)
        if k < -1:  # not finite or going back: the same message as the other detectors
            check_time_order(np.asarray(t, dtype=np.float64), float(self._f[15]))
            raise ValueError(f"sample {-2 - k} of the chunk has a time out of order")
        return int(k)

    def _grow(self, m: int) -> None:
        lo, n, _ = (int(v) for v in self._h)
        cap = self._hist.shape[1]
        while cap < 2 * (n + m):
            cap *= 2
        new = np.empty((5, cap))
        new[:, :n] = self._hist[:, lo : lo + n]
        self._hist = new
        self._h[0] = 0
        self._bind()

    def _events(self, k: int, summarised: bool = False) -> list[FixationEvent]:
        """Events of the ``k`` rows written (``summarised``: their summaries are written too)."""
        if k == 0:
            return []
        if not summarised:
            kernel.summarise(self._hist, self._h, self._s, self._out, k, self._outf)
        return [
            _new_event(
                kind=_KINDS[row[0]],
                t_emitted=f[0],
                t_start=f[1],
                t_end=f[2],
                x_px=f[3],
                y_px=f[4],
                x_deg=f[5],
                y_deg=f[6],
                duration_ms=f[7],
                dispersion_deg=f[8],
                fixation_id=row[4],
                t_confirmed=f[9],
                n_samples=int(f[10]),
            )
            for row, f in zip(self._out[:k].tolist(), self._outf[:k].tolist(), strict=True)
        ]
