"""Which trial a fixation belongs to: one rule, in one place.

A fixation is cut at image onset and offset; the part while the image was shown is the trial's
(with image coordinates), the rest belongs to no trial. So a fixation that began on the drift
check target and carried on onto the image becomes two rows: the part before onset (no trial)
and the part from onset (the trial's fixation 1, from the onset). The store, replay and every
export read the trial's fixations as the rows with that trial id, so they all show the same
list. The centroid of each part is the whole fixation's (the detector reports one centroid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["TrialWindow", "cut_at_windows"]

#: ``(t_onset, t_offset, trial_id, layout)``; ``t_offset`` is ``math.inf`` while the image shows.
TrialWindow = tuple[float, float, int, Any]


def cut_at_windows(
    t_start: float, t_end: float, windows: Sequence[TrialWindow]
) -> list[tuple[float, float, int | None, Any]]:
    """Cut ``[t_start, t_end]`` at the windows' onsets and offsets.

    Returns ``(t0, t1, trial_id, layout)`` pieces in time order; ``trial_id`` and ``layout`` are
    None for a piece outside every window. Pieces of zero length are dropped. ``windows`` are
    ``(t_onset, t_offset, trial_id, layout)``, in any order, not overlapping.
    """
    if not (math.isfinite(t_start) and math.isfinite(t_end)) or t_end < t_start:
        return [(t_start, t_end, None, None)]
    cuts: list[tuple[float, float, int | None, Any]] = []
    t = t_start
    for on, off, trial_id, layout in sorted(windows, key=lambda w: w[0]):
        if off <= t or on >= t_end:
            continue
        if on > t:
            cuts.append((t, on, None, None))
            t = on
        end = min(off, t_end)
        if end > t:
            cuts.append((t, end, trial_id, layout))
            t = end
    if t < t_end or not cuts:
        cuts.append((t, t_end, None, None))
    return cuts
