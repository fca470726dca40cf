"""Which trial a fixation belongs to, and its row in the store: one rule, in one place.

A fixation is cut at image onset and offset; the part while the image was shown is the trial's
(with image coordinates), the rest belongs to no trial. So a fixation that began on the drift
check target and carried on onto the image becomes two rows: the part before onset (no trial)
and the part from onset (the trial's fixation 1, from the onset). The store, replay and every
export read the trial's fixations as the rows with that trial id, so they all show the same
list. The centroid of each part is the whole fixation's (the detector reports one centroid).

The detector knows screen pixels and degrees only; this module maps its events onto the image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from acquisition.fixations import FixationEvent
from stimuli.layout import ImageLayout

__all__ = ["TrialWindow", "cut_at_windows", "fixation_to_row"]

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


def _opt(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def fixation_to_row(
    event: FixationEvent, layout: ImageLayout | None = None, trial_id: int | None = None
) -> dict[str, Any]:
    """A row for the session store's ``fixations`` table from an ``end`` event.

    Parameters
    ----------
    event : FixationEvent
        Must be of kind ``'end'``.
    layout : ImageLayout, optional
        The trial's image layout; when given and the centroid falls on the image, the row
        gets ``image_x``/``image_y`` in original image pixels (else NULL).
    trial_id : int, optional
        The trial the fixation belongs to (NULL outside trials).

    Returns
    -------
    dict
        Keys ``trial_id, eye, t_start, t_end, duration_ms, x_px, y_px, x_deg, y_deg, image_x,
        image_y, dispersion_deg, t_emitted_start, t_emitted_end``; NaN become None.
    """
    if event.kind != "end":
        raise ValueError(
            f"fixation_to_row needs an 'end' event (it has the final centroid and duration), "
            f"got kind {event.kind!r}"
        )
    image_x: float | None = None
    image_y: float | None = None
    if layout is not None and math.isfinite(event.x_px) and math.isfinite(event.y_px):
        ix, iy = layout.screen_to_image(event.x_px, event.y_px)
        if bool(layout.on_image(ix, iy)):
            image_x, image_y = float(ix), float(iy)
    return {
        "trial_id": None if trial_id is None else int(trial_id),
        "eye": "average",
        "t_start": float(event.t_start),
        "t_end": float(event.t_end),
        "duration_ms": float(event.duration_ms),
        "x_px": _opt(event.x_px),
        "y_px": _opt(event.y_px),
        "x_deg": _opt(event.x_deg),
        "y_deg": _opt(event.y_deg),
        "image_x": image_x,
        "image_y": image_y,
        "dispersion_deg": _opt(event.dispersion_deg),
        "t_emitted_start": _opt(event.t_confirmed),
        "t_emitted_end": _opt(event.t_emitted),
    }
