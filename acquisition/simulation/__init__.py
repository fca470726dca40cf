"""The synthetic eye: realistic gaze with its ground truth, for the simulated tracker and tests.

:mod:`~acquisition.simulation.generator` plans fixations, saccades, blinks and dropouts and
renders them sample by sample (:class:`GazeGenerator`, :func:`simulate_recording`);
:mod:`~acquisition.simulation.types` holds its parameters and ground-truth events;
:mod:`~acquisition.simulation.noise` its chunking-independent random streams. The simulated
tracker backend (:mod:`acquisition.trackers.simulated`) streams it in real time.
"""

from acquisition.simulation.generator import GazeGenerator, simulate_recording
from acquisition.simulation.types import (
    KIND_BLINK,
    KIND_CODES,
    KIND_FIXATION,
    KIND_NONE,
    KIND_SACCADE,
    TRACKER_PROFILES,
    Attention,
    CalibrationError,
    GazeParams,
    GroundTruthEvent,
    label_samples,
    main_sequence_duration_s,
    min_jerk_position,
)

__all__ = [
    "KIND_BLINK",
    "KIND_CODES",
    "KIND_FIXATION",
    "KIND_NONE",
    "KIND_SACCADE",
    "TRACKER_PROFILES",
    "Attention",
    "CalibrationError",
    "GazeGenerator",
    "GazeParams",
    "GroundTruthEvent",
    "label_samples",
    "main_sequence_duration_s",
    "min_jerk_position",
    "simulate_recording",
]
