"""The Tobii gaze callback's staging ring and the batch conversion to sample rows.

Pure Python/numpy, no SDK: :class:`GazeStage` is what the SDK's delivery thread touches
(one reference store and one counter increment per sample); :func:`gaze_dicts_to_samples` is
what the converter thread runs on each batch. See :mod:`acquisition.trackers.tobii`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from acquisition.samples import SAMPLE_DTYPE

__all__ = ["GAZE_KEYS", "GazeStage", "gaze_dicts_to_samples"]

#: The keys of one gaze dict delivered by ``EYETRACKER_GAZE_DATA`` with ``as_dictionary=True``
#: (tobii_research 1.x-2.x; checked against the real module by the tests).
GAZE_KEYS: tuple[str, ...] = (
    "device_time_stamp",
    "system_time_stamp",
    "left_gaze_point_on_display_area",
    "left_gaze_point_in_user_coordinate_system",
    "left_gaze_point_validity",
    "left_pupil_diameter",
    "left_pupil_validity",
    "left_gaze_origin_in_user_coordinate_system",
    "left_gaze_origin_validity",
    "right_gaze_point_on_display_area",
    "right_gaze_point_in_user_coordinate_system",
    "right_gaze_point_validity",
    "right_pupil_diameter",
    "right_pupil_validity",
    "right_gaze_origin_in_user_coordinate_system",
    "right_gaze_origin_validity",
)

_NAN = math.nan
_NAN2 = (_NAN, _NAN)
_NAN3 = (_NAN, _NAN, _NAN)


def _row(d: Mapping[str, Any], offset_s: float, flags: int) -> tuple[Any, ...]:
    """One gaze dict as a SAMPLE_DTYPE tuple (invalid values -> NaN)."""
    lv = d["left_gaze_point_validity"]
    rv = d["right_gaze_point_validity"]
    lx, ly = d["left_gaze_point_on_display_area"] if lv else _NAN2
    rx, ry = d["right_gaze_point_on_display_area"] if rv else _NAN2
    s = d["system_time_stamp"]
    return (
        s * 1e-6 + offset_s,
        d["device_time_stamp"],
        s,
        lx,
        ly,
        rx,
        ry,
        1 if lv else 0,
        1 if rv else 0,
        d["left_pupil_diameter"] if d["left_pupil_validity"] else _NAN,
        d["right_pupil_diameter"] if d["right_pupil_validity"] else _NAN,
        d["left_gaze_origin_in_user_coordinate_system"]
        if d["left_gaze_origin_validity"]
        else _NAN3,
        d["right_gaze_origin_in_user_coordinate_system"]
        if d["right_gaze_origin_validity"]
        else _NAN3,
        flags,
    )


def gaze_dicts_to_samples(
    dicts: Sequence[Mapping[str, Any]], offset_s: float, flags: int = 0
) -> np.ndarray:
    """Convert SDK gaze dicts to sample rows.

    One tuple per dict, then a single ``numpy.array(..., dtype=SAMPLE_DTYPE)``: about 1.5-2.5 us
    per sample at every batch size, where a column-wise numpy conversion costs 20 us per
    sample for batches of one (``benchmarks/tobii_callback.py``).

    Parameters
    ----------
    dicts : sequence of mapping
        Gaze dicts as delivered by ``EYETRACKER_GAZE_DATA`` with ``as_dictionary=True``
        (keys :data:`GAZE_KEYS`; gaze points normalised on the display area, origin top-left,
        y down; pupils in mm; gaze origins in mm in the user coordinate system; timestamps us).
    offset_s : float
        Session time = ``system_time_stamp * 1e-6 + offset_s``.
    flags : int
        :class:`~acquisition.samples.SampleFlag` bits set on every row.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(dicts),)``, dtype :data:`SAMPLE_DTYPE`. An eye whose gaze point is invalid
        has NaN x/y and ``valid == 0``; an invalid pupil or gaze origin is NaN.
    """
    return np.array([_row(d, offset_s, flags) for d in dicts], dtype=SAMPLE_DTYPE)


class GazeStage:
    """Preallocated ring of references to the SDK's gaze dicts (one writer: the SDK thread)."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0 or capacity & (capacity - 1):
            raise ValueError(f"stage_capacity must be a power of two > 0, got {capacity!r}")
        self.capacity = capacity
        self.slots: list[Any] = [None] * capacity
        self.count = [0]  # total dicts ever staged; a list cell so the callback closure is cheap
        #: Consumed slots are released this many samples behind the writer.
        self.clear_lag = min(2048, capacity // 4)
        self.cleared = 0  # running index below which every slot was released

    def make_callback(self) -> Callable[[Any], None]:
        """The gaze callback: store the reference, advance the counter. Nothing else."""
        slots = self.slots
        count = self.count
        mask = self.capacity - 1

        def on_gaze(data: Any) -> None:
            i = count[0]
            slots[i & mask] = data
            count[0] = i + 1

        return on_gaze

    def take(self, start: int) -> tuple[list[Any], int, int]:
        """Staged dicts from running index ``start``: ``(dicts, next_start, lost)``."""
        stop = self.count[0]
        cap = self.capacity
        lost = 0
        if stop - start > cap:
            lost = stop - start - cap
            start = stop - cap
        if stop == start:
            return [], start, lost
        a, b = start & (cap - 1), stop & (cap - 1)
        items = self.slots[a:b] if a < b else self.slots[a:] + self.slots[:b]
        # Seqlock check: slots the SDK thread overwrote while we sliced are not ours.
        overrun = self.count[0] - cap - start
        if overrun > 0:
            items = items[overrun:]
            lost += overrun
        if None in items:  # only after an overrun: slots we cleared under the writer's feet
            kept = [d for d in items if d is not None]
            lost += len(items) - len(kept)
            items = kept
        # Release the references of consumed dicts, but only well behind the writer: clearing
        # the slots next to where the SDK thread writes would pull their cache lines to this
        # core and make the callback wait for them.
        hi = stop - self.clear_lag
        if hi > self.cleared:
            self._clear(max(self.cleared, stop - cap), hi)
            self.cleared = hi
        return items, stop, lost

    def _clear(self, lo: int, hi: int) -> None:
        cap = self.capacity
        a, b = lo & (cap - 1), hi & (cap - 1)
        if hi - lo >= cap:
            self.slots[:] = [None] * cap
        elif a < b:
            self.slots[a:b] = [None] * (b - a)
        else:
            self.slots[a:] = [None] * (cap - a)
            self.slots[:b] = [None] * b
