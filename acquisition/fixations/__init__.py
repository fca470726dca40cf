"""Online fixation detection: causal, streamed, at the tracker's native rate.

See ``docs/fixations.md`` for the parameters, the defaults chosen and the benchmark.
"""

from acquisition.fixations.adaptive import OnlineAdaptiveDetector
from acquisition.fixations.events import EVENT_KINDS, FixationEvent
from acquisition.fixations.idt import OnlineIDTDetector
from acquisition.fixations.ivt import OnlineFixationDetector, detect_fixations
from acquisition.fixations.lsl_stream import (
    FIXATION_CHANNELS,
    KIND_CODES,
    FixationOutlet,
    event_from_sample,
)
from acquisition.fixations.params import AdaptiveParams, IDTParams, IVTParams
from acquisition.fixations.selection import DetectorChoice, choose_detector
from acquisition.fixations.worker import Detector, FixationWorker, batch_interval_s

__all__ = [
    "EVENT_KINDS",
    "FIXATION_CHANNELS",
    "KIND_CODES",
    "AdaptiveParams",
    "Detector",
    "DetectorChoice",
    "FixationEvent",
    "FixationOutlet",
    "FixationWorker",
    "IDTParams",
    "IVTParams",
    "OnlineAdaptiveDetector",
    "OnlineFixationDetector",
    "OnlineIDTDetector",
    "batch_interval_s",
    "choose_detector",
    "detect_fixations",
    "event_from_sample",
]
