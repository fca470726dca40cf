"""The ``Fixations`` LSL stream: one numeric sample per fixation event.

Stream type ``Fixations``, irregular rate, float64 channels described in the stream's
``desc/channels/channel`` (``label``, ``type``, ``unit``, as XDF meta-data), plus
``desc/event_kinds`` mapping the ``kind`` codes to names. Each sample is stamped with the
event's ``t_emitted`` (session clock = LSL ``local_clock()``), so an inlet can measure the
detection lag with ``time_correction()``. pylsl is imported when an outlet is created.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from acquisition.fixations.events import EVENT_KINDS, FixationEvent

__all__ = ["FIXATION_CHANNELS", "KIND_CODES", "FixationOutlet", "event_from_sample"]

_log = logging.getLogger(__name__)

#: Code sent in the ``kind`` channel for each event kind.
KIND_CODES: dict[str, int] = {k: i + 1 for i, k in enumerate(EVENT_KINDS)}

#: ``(label, type, unit)`` of each channel, in order.
FIXATION_CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("kind", "EventKind", "code"),
    ("fixation_id", "EventId", "count"),
    ("t_start", "Onset", "s"),
    ("t_end", "Offset", "s"),
    ("x_px", "ScreenX", "pixels"),
    ("y_px", "ScreenY", "pixels"),
    ("x_deg", "AngleX", "degrees"),
    ("y_deg", "AngleY", "degrees"),
    ("duration_ms", "Duration", "ms"),
    ("dispersion_deg", "Dispersion", "degrees"),
    ("t_emitted", "EmissionTime", "s"),
    ("t_confirmed", "ConfirmationTime", "s"),
)


def _values(ev: FixationEvent) -> list[float]:
    return [
        float(KIND_CODES[ev.kind]),
        float(ev.fixation_id),
        ev.t_start,
        ev.t_end,
        ev.x_px,
        ev.y_px,
        ev.x_deg,
        ev.y_deg,
        ev.duration_ms,
        ev.dispersion_deg,
        ev.t_emitted,
        ev.t_confirmed,
    ]


def event_from_sample(values: Any) -> FixationEvent:
    """Rebuild a :class:`FixationEvent` from one stream sample (for consumers and tests)."""
    v = [float(x) for x in np.asarray(values, dtype=float)]
    codes = {c: k for k, c in KIND_CODES.items()}
    code = round(v[0])
    if code not in codes:
        raise ValueError(f"unknown fixation event code {v[0]!r}; known codes {codes}")
    return FixationEvent(
        kind=codes[code],  # type: ignore[arg-type]
        fixation_id=round(v[1]),
        t_start=v[2],
        t_end=v[3],
        x_px=v[4],
        y_px=v[5],
        x_deg=v[6],
        y_deg=v[7],
        duration_ms=v[8],
        dispersion_deg=v[9],
        t_emitted=v[10],
        t_confirmed=v[11],
    )


class FixationOutlet:
    """An LSL outlet of fixation events; use :meth:`push` as a :class:`FixationWorker` sink.

    Parameters
    ----------
    source_id : str
        Stable identifier (e.g. ``"gazeread-<study>-<participant>-<session>-fixations"``) so
        recorders reconnect to the same stream after a restart.
    name : str
        Stream name.
    screen : dict, optional
        Screen geometry (``ScreenGeometry.to_dict()``) stored in the stream description.
    params : dict, optional
        Detector parameters stored in the stream description (provenance).
    """

    def __init__(
        self,
        source_id: str,
        name: str = "gazeread-Fixations",
        *,
        screen: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if not source_id:
            raise ValueError("FixationOutlet needs a non-empty, stable source_id")
        import pylsl

        info = pylsl.StreamInfo(
            name,
            "Fixations",
            len(FIXATION_CHANNELS),
            pylsl.IRREGULAR_RATE,
            pylsl.cf_double64,
            source_id,
        )
        desc = info.desc()
        chans = desc.append_child("channels")
        for label, type_, unit in FIXATION_CHANNELS:
            c = chans.append_child("channel")
            c.append_child_value("label", label)
            c.append_child_value("type", type_)
            c.append_child_value("unit", unit)
        kinds = desc.append_child("event_kinds")
        for kind, code in KIND_CODES.items():
            kinds.append_child_value(kind, str(code))
        desc.append_child_value("eye", "average")
        for node_name, data in (("screen", screen), ("detector", params)):
            if data:
                node = desc.append_child(node_name)
                for k, v in data.items():
                    node.append_child_value(str(k), str(v))
        self.source_id = source_id
        #: Events not sent because they carried no finite time at all (each one is logged).
        self.n_skipped = 0
        self._outlet: Any = pylsl.StreamOutlet(info)

    def push(self, event: FixationEvent) -> None:
        """Send one event, stamped with its ``t_emitted`` (NaN stays NaN in the channels).

        An event without a finite ``t_emitted`` is stamped with its latest own time
        (``t_end``, ``t_confirmed`` or ``t_start``), never 0.0 (which LSL reads as "now").
        One without any finite time is not sent: it is counted in :attr:`n_skipped` and
        logged as a warning.
        """
        ts = event.t_emitted
        if not math.isfinite(ts):
            own = [t for t in (event.t_start, event.t_end, event.t_confirmed) if math.isfinite(t)]
            if not own:
                self.n_skipped += 1
                _log.warning(
                    "Fixations outlet %s: %s event %d has no finite time; not sent (%d skipped)",
                    self.source_id, event.kind, event.fixation_id, self.n_skipped,
                )  # fmt: skip
                return
            ts = max(own)
        self._outlet.push_sample(_values(event), ts)

    __call__ = push

    def have_consumers(self) -> bool:
        """Whether an inlet is connected."""
        return bool(self._outlet.have_consumers())

    def wait_for_consumers(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until an inlet connects."""
        return bool(self._outlet.wait_for_consumers(timeout))

    def close(self) -> None:
        """Destroy the outlet (the stream disappears from the network)."""
        self._outlet = None
