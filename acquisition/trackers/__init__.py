"""Tracker backends, chosen by name through one table.

>>> from acquisition.trackers import create_tracker, tracker_names
>>> tracker_names()
('simulated', 'lsl', 'tobii', 'mouse', 'replay')
"""

from __future__ import annotations

import importlib
from typing import Any

from acquisition.ring_buffer import RingBuffer
from acquisition.trackers.base import (
    Availability,
    Tracker,
    TrackerError,
    TrackerEvent,
    TrackerInfo,
)

__all__ = [
    "Availability",
    "Tracker",
    "TrackerError",
    "TrackerEvent",
    "TrackerInfo",
    "create_tracker",
    "options_with_screen",
    "tracker_class",
    "tracker_names",
]

#: name -> "module:Class". Imported only when asked for, so a missing SDK breaks nothing else.
_BACKENDS: dict[str, str] = {
    "simulated": "acquisition.trackers.simulated:SimulatedTracker",
    "lsl": "acquisition.trackers.lsl_tracker:LslTracker",
    "tobii": "acquisition.trackers.tobii:TobiiTracker",
    "mouse": "acquisition.trackers.mouse:MouseTracker",
    "replay": "acquisition.trackers.replay:ReplayTracker",
}


def tracker_names() -> tuple[str, ...]:
    """Names of every backend gazeread knows."""
    return tuple(_BACKENDS)


def tracker_class(name: str) -> type[Tracker]:
    """The backend class for ``name``; an unknown name raises listing the known ones."""
    try:
        target = _BACKENDS[name]
    except KeyError:
        raise TrackerError(
            f"unknown tracker {name!r}; available backends: {', '.join(_BACKENDS)}"
        ) from None
    module_name, cls_name = target.split(":")
    module = importlib.import_module(module_name)
    cls: type[Tracker] = getattr(module, cls_name)
    return cls


def options_with_screen(name: str, options: dict[str, Any], screen: Any) -> dict[str, Any]:
    """``options`` plus ``screen`` for a backend that takes one (pixel gaze needs the screen).

    A copy; an explicit ``screen`` option is kept. Unknown names raise as :func:`tracker_class`.
    """
    import inspect

    opts = dict(options)
    if screen is not None and "screen" in inspect.signature(tracker_class(name)).parameters:
        opts.setdefault("screen", screen)
    return opts


def create_tracker(name: str, buffer: RingBuffer, /, **options: Any) -> Tracker:
    """Build backend ``name`` writing into ``buffer``.

    Raises :class:`TrackerError` naming the backend and what is missing when it cannot run here.
    """
    cls = tracker_class(name)
    avail = cls.is_available()
    if not avail.ok:
        raise TrackerError(f"tracker {name!r} cannot be used here: {avail.reason}")
    return cls(buffer, **options)
