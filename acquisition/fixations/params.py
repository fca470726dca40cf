"""Parameters of the online fixation detectors, in physical units (ms, degrees).

Every parameter is physical, never a sample count, so one set works at 60, 300, 500, 1000 or
1200 Hz. Defaults start from the Tobii I-VT filter (Olsen 2012) and were tuned on the
hand-labelled recordings in ``shared/testdata/eyemovements`` (see ``docs/fixations.md``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["IDTParams", "IVTParams"]


def _check_range(owner: str, name: str, value: Any, lo: float, hi: float) -> None:
    """Raise ValueError unless ``lo <= value <= hi`` and finite, naming the field."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise ValueError(f"{owner}.{name} must be a number in [{lo}, {hi}], got {value!r}")


@dataclasses.dataclass(frozen=True)
class IVTParams:
    """Settings of the causal velocity-threshold (I-VT) detector.

    Parameters
    ----------
    window_ms : float
        Length of the backward window over which velocity is measured: the velocity at sample
        ``i`` is the angle between the gaze at the first sample no older than ``window_ms``
        and the gaze at ``i``, divided by their time difference (Tobii: 20 ms).
    threshold_deg_s : float
        A sample moves (saccade) when its velocity is at or above this, else it is a
        fixation candidate (Tobii: 30 deg/s).
    onset_threshold_deg_s : float
        A candidate starts (or resumes after an interruption) only at a sample slower than
        this; once started it continues while below ``threshold_deg_s`` (hysteresis, so
        post-saccadic oscillations do not start fixations early). At most
        ``threshold_deg_s``; equal to it disables the hysteresis.
    gap_fill_ms : float
        Data losses whose valid neighbours are at most this far apart are filled by linear
        interpolation; longer losses break the signal (Tobii: 75 ms).
    merge_ms, merge_deg : float
        Two fixation candidates separated by an interruption of at most ``merge_ms`` whose
        positions differ by at most ``merge_deg`` are merged into one (Tobii: 75 ms,
        0.5 deg). The positions compared are the mean gaze over the velocity window of the
        last sample before the interruption and of the first sample after it: a local,
        noise-averaged displacement, so a real small saccade is not merged away and a
        fixation's slow drift does not prevent a merge.
    min_duration_ms : float
        Fixations shorter than this are discarded; a start is *confirmed* once the candidate
        has lasted this long (Tobii: 60 ms).
    provisional_ms : float
        A provisional start is emitted once a candidate has lasted this long (0 = on its first
        below-threshold sample).
    centre_window : bool
        Date a fixation's end at the middle of the velocity window of its last
        below-threshold sample (the window sees a saccade about ``window_ms / 2`` after it
        began), instead of at its newest sample. Starts are dated at the newest sample of
        the first window free of movement. Decisions stay causal: only reported times move.
    """

    window_ms: float = 10.0
    threshold_deg_s: float = 30.0
    onset_threshold_deg_s: float = 20.0
    gap_fill_ms: float = 75.0
    merge_ms: float = 40.0
    merge_deg: float = 0.35
    min_duration_ms: float = 60.0
    provisional_ms: float = 0.0
    centre_window: bool = True

    def __post_init__(self) -> None:
        own = type(self).__name__
        _check_range(own, "window_ms", self.window_ms, 0.5, 500.0)
        _check_range(own, "threshold_deg_s", self.threshold_deg_s, 0.1, 5000.0)
        _check_range(own, "onset_threshold_deg_s", self.onset_threshold_deg_s, 0.1, 5000.0)
        if self.onset_threshold_deg_s > self.threshold_deg_s:
            raise ValueError(
                f"{own}.onset_threshold_deg_s ({self.onset_threshold_deg_s!r}) must not exceed "
                f"threshold_deg_s ({self.threshold_deg_s!r})"
            )
        _check_range(own, "gap_fill_ms", self.gap_fill_ms, 0.0, 5000.0)
        _check_range(own, "merge_ms", self.merge_ms, 0.0, 5000.0)
        _check_range(own, "merge_deg", self.merge_deg, 0.0, 90.0)
        _check_range(own, "min_duration_ms", self.min_duration_ms, 0.0, 10000.0)
        _check_range(own, "provisional_ms", self.provisional_ms, 0.0, 10000.0)
        if self.provisional_ms > self.min_duration_ms:
            raise ValueError(
                f"{own}.provisional_ms ({self.provisional_ms!r}) must not exceed "
                f"min_duration_ms ({self.min_duration_ms!r}): a start is provisional before "
                "it is confirmed"
            )
        if not isinstance(self.centre_window, bool):
            raise ValueError(
                f"{own}.centre_window must be True or False, got {self.centre_window!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the session's provenance)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IVTParams:
        """Build from :meth:`to_dict` output; unknown keys are an error naming them."""
        return _from_dict(cls, data)


@dataclasses.dataclass(frozen=True)
class IDTParams:
    """Settings of the causal dispersion-threshold (I-DT) detector (Salvucci & Goldberg 2000).

    Parameters
    ----------
    dispersion_deg : float
        Largest dispersion ``(max x - min x) + (max y - min y)`` of a fixation, degrees.
    min_duration_ms : float
        A window must span at least this long within the dispersion limit to start a
        fixation; the start is confirmed when it does.
    provisional_ms : float
        A provisional start is emitted once a window of this length is within the limit.
    gap_fill_ms : float
        Data losses shorter than this are bridged (the lost samples are skipped); longer ones
        end the fixation.
    """

    dispersion_deg: float = 1.0
    min_duration_ms: float = 100.0
    provisional_ms: float = 40.0
    gap_fill_ms: float = 75.0

    def __post_init__(self) -> None:
        own = type(self).__name__
        _check_range(own, "dispersion_deg", self.dispersion_deg, 0.01, 90.0)
        _check_range(own, "min_duration_ms", self.min_duration_ms, 1.0, 10000.0)
        _check_range(own, "provisional_ms", self.provisional_ms, 0.0, 10000.0)
        _check_range(own, "gap_fill_ms", self.gap_fill_ms, 0.0, 5000.0)
        if self.provisional_ms > self.min_duration_ms:
            raise ValueError(
                f"{own}.provisional_ms ({self.provisional_ms!r}) must not exceed "
                f"min_duration_ms ({self.min_duration_ms!r})"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the session's provenance)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IDTParams:
        """Build from :meth:`to_dict` output; unknown keys are an error naming them."""
        return _from_dict(cls, data)


def _from_dict(cls: Any, data: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} field(s) {unknown}; valid fields are {sorted(known)}"
        )
    return cls(**data)
