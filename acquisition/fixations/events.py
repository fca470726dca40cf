"""Fixation events emitted by the online detectors (in screen and degree coordinates only)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

__all__ = ["EVENT_KINDS", "FixationEvent"]

EventKind = Literal["start_provisional", "start_confirmed", "end", "cancel"]

#: Kinds in the order they can occur for one fixation. ``cancel`` withdraws a provisional
#: start whose candidate ended (or was broken by data loss) before ``min_duration_ms``.
EVENT_KINDS: tuple[str, ...] = ("start_provisional", "start_confirmed", "end", "cancel")

_NAN = math.nan


@dataclasses.dataclass(frozen=True)
class FixationEvent:
    """One event of one fixation.

    Attributes
    ----------
    kind : str
        ``'start_provisional'`` (a candidate became plausible), ``'start_confirmed'`` (it
        passed the minimum duration: it will be reported), ``'end'`` (final values) or
        ``'cancel'`` (a provisional start withdrawn).
    t_emitted : float, s
        Session time at which the detector could emit the event: the time of the newest
        sample it had seen when it decided. ``t_emitted - t_start`` is the detection lag.
        When data arrive in chunks, the event is handed out when its chunk is processed,
        which may be later in wall-clock time; :attr:`t_delivered` records that.
    t_start, t_end : float, s
        Session time of the fixation's first and last sample (``t_end`` NaN until ``end``).
    x_px, y_px : float
        Centroid on the screen (px, origin top-left); for starts, the mean so far.
    x_deg, y_deg : float
        Centroid in degrees from the screen centre (per axis, positive right/down).
    duration_ms : float
        ``t_end - t_start`` for ends; the duration so far for starts.
    dispersion_deg : float
        ``(max x - min x) + (max y - min y)`` of the fixation's samples in degrees (NaN for
        provisional starts, which carry only what is cheap to compute).
    fixation_id : int
        Running number of the candidate within the detector (the same for all events of one
        fixation).
    t_confirmed : float, s
        ``t_emitted`` of the confirmed start (ends carry it, for the store's
        ``t_emitted_start``); NaN before confirmation.
    n_samples : int
        Valid samples averaged into the centroid.
    t_delivered : float, s
        Session-clock time the worker handed the event to its sinks (NaN offline).
    """

    kind: EventKind
    t_emitted: float
    t_start: float
    t_end: float = _NAN
    x_px: float = _NAN
    y_px: float = _NAN
    x_deg: float = _NAN
    y_deg: float = _NAN
    duration_ms: float = _NAN
    dispersion_deg: float = _NAN
    fixation_id: int = -1
    t_confirmed: float = _NAN
    n_samples: int = 0
    t_delivered: float = _NAN

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-friendly)."""
        return dataclasses.asdict(self)


# every field in declaration order, with its default (the required ones get placeholders)
_TEMPLATE: dict[str, Any] = {
    f.name: (None if f.default is dataclasses.MISSING else f.default)
    for f in dataclasses.fields(FixationEvent)
}


def _new_event(**values: Any) -> FixationEvent:
    """``FixationEvent(**values)`` without the frozen-dataclass ``__init__`` (~1.4 us).

    For the detectors' hot loop: the result equals the constructor's (field by field, in the
    same order; the tests check it). ``values`` must give at least ``kind, t_emitted,
    t_start``; nothing is validated.
    """
    ev = object.__new__(FixationEvent)
    d = ev.__dict__
    d.update(_TEMPLATE)
    d.update(values)
    return ev
