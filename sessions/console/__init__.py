"""Operator console: the live state of a running session fed from its LSL streams (Qt-free parts).

The window is ``sessions.console.console_window``; import it explicitly.
"""

from sessions.console.live import FixationDot, LiveSnapshot, LiveState, gaze_columns
from sessions.console.lsl_client import STREAM_TYPES, LslClient, choose_stream

__all__ = [
    "STREAM_TYPES",
    "FixationDot",
    "LiveSnapshot",
    "LiveState",
    "LslClient",
    "choose_stream",
    "gaze_columns",
]
