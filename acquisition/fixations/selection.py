"""Which fixation detector a session uses: one table, by tracker, rate and measured noise.

The noise-adaptive detector holds on noisy, low-rate data (screen-based Tobii trackers at
60-600 Hz, infants, poor calibrations); the velocity detector (I-VT) dates fixations more
closely on quiet high-rate trackers (EyeLink, SMI at 500-2000 Hz), where it agrees better with
human coders (docs/benchmarks.md has both on every dataset). :data:`SELECTION` is the table;
the first row that matches the session decides. A protocol may name the detector and its
settings instead (``[fixations] detector = "ivt"``, ``params = {...}``); the choice, with
its reason, is recorded in the session store and in the Fixations stream's meta-data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from acquisition.fixations.adaptive import OnlineAdaptiveDetector
from acquisition.fixations.idt import OnlineIDTDetector
from acquisition.fixations.ivt import OnlineFixationDetector
from acquisition.fixations.params import AdaptiveParams, IDTParams, IVTParams
from acquisition.fixations.worker import Detector
from acquisition.geometry import ScreenGeometry

__all__ = ["DETECTORS", "SELECTION", "DetectorChoice", "SelectionRule", "choose_detector"]

#: method name -> (parameters class, detector class)
DETECTORS: dict[str, tuple[Any, Any]] = {
    "adaptive": (AdaptiveParams, OnlineAdaptiveDetector),
    "ivt": (IVTParams, OnlineFixationDetector),
    "idt": (IDTParams, OnlineIDTDetector),
}

#: Sample-to-sample noise (RMS, degrees) above which a recording counts as noisy. Quiet
#: video trackers measure 0.01-0.04 deg (EyeLink 1000, SMI Hi-Speed); a Tobii TX300 on infants
#: 0.2 deg and more.
NOISY_RMS_S2S_DEG = 0.1
#: Below this rate a tracker is taken as a screen-based remote tracker (Tobii Pro Nano, Fusion,
#: Spectrum, TX300 at 60-300 Hz, EyeLink Portable Duo at 250 Hz remote): adaptive.
HIGH_RATE_HZ = 500.0


@dataclasses.dataclass(frozen=True)
class SelectionRule:
    """One row of :data:`SELECTION`: a condition on the session and the method it picks."""

    name: str
    method: str
    trackers: tuple[str, ...] = ()  # backend names; empty: any
    max_rate_hz: float = math.inf  # rate below this (Hz)
    min_noise_deg: float | None = None  # measured RMS-S2S at or above this

    def matches(self, tracker: str, rate_hz: float, noise_deg: float | None) -> bool:
        """Whether this row applies to a session."""
        if self.trackers and tracker not in self.trackers:
            return False
        if not rate_hz < self.max_rate_hz:
            return False
        return self.min_noise_deg is None or (
            noise_deg is not None and noise_deg >= self.min_noise_deg
        )


#: The table, first match wins.
SELECTION: tuple[SelectionRule, ...] = (
    SelectionRule("measured noise is high", "adaptive", min_noise_deg=NOISY_RMS_S2S_DEG),
    SelectionRule("a Tobii screen-based tracker", "adaptive", trackers=("tobii",)),
    SelectionRule("a remote tracker's rate (below 500 Hz)", "adaptive", max_rate_hz=HIGH_RATE_HZ),
    SelectionRule("a quiet high-rate tracker", "ivt"),
)


@dataclasses.dataclass(frozen=True)
class DetectorChoice:
    """The detector of a session, its settings and why."""

    method: str
    params: Any
    reason: str

    def build(self, screen: ScreenGeometry) -> Detector:
        """A fresh detector with these settings."""
        detector: Detector = DETECTORS[self.method][1](screen, self.params)
        return detector

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``method``, ``params``, ``reason`` (store and stream meta-data)."""
        return {"method": self.method, "params": self.params.to_dict(), "reason": self.reason}


def choose_detector(
    tracker: str,
    rate_hz: float,
    noise_deg: float | None = None,
    *,
    method: str = "auto",
    params: Mapping[str, Any] | None = None,
) -> DetectorChoice:
    """The detector for a session.

    Parameters
    ----------
    tracker : str
        Backend name (``tobii``, ``lsl``, ``simulated``, ...).
    rate_hz : float
        The tracker's nominal rate.
    noise_deg : float, optional
        Measured RMS sample-to-sample noise (degrees), where known (a recorded session, the
        simulated tracker's settings).
    method : {"auto", "adaptive", "ivt", "idt"}
        ``auto`` follows :data:`SELECTION`; another name is the protocol's override.
    params : mapping, optional
        Settings of the chosen method that differ from its defaults.

    Raises
    ------
    ValueError
        An unknown method or setting, naming the valid ones.
    """
    if method == "auto":
        rule = next(r for r in SELECTION if r.matches(tracker, float(rate_hz), noise_deg))
        chosen, reason = rule.method, f"auto: {rule.name}"
    elif method in DETECTORS:
        chosen, reason = method, "set by the protocol ([fixations] detector)"
    else:
        raise ValueError(
            f"unknown fixation detector {method!r}; valid: auto, {', '.join(DETECTORS)}"
        )
    cls = DETECTORS[chosen][0]
    defaults = cls().to_dict()
    return DetectorChoice(chosen, cls.from_dict({**defaults, **dict(params or {})}), reason)
