"""Session replay: trial data from the store, playback maths and frame scenes (Qt-free parts).

The Qt parts are in ``canvas_widget``, ``timeline_widget``, ``replay_window`` and
``theme_widget``; import them explicitly.
"""

from sessions.replay.data import TrialData, TrialSummary, load_trial, trial_quality, trial_summaries
from sessions.replay.scene import HeatmapCache, ReplayOptions, Scene, ViewTransform, build_scene
from sessions.replay.timeline import SPEEDS, Playhead, format_time

__all__ = [
    "SPEEDS",
    "HeatmapCache",
    "Playhead",
    "ReplayOptions",
    "Scene",
    "TrialData",
    "TrialSummary",
    "ViewTransform",
    "build_scene",
    "format_time",
    "load_trial",
    "trial_quality",
    "trial_summaries",
]
