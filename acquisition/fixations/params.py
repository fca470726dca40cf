"""Parameters of the online fixation detectors, in physical units (ms, degrees).

Every parameter is physical, never a sample count, so one set works at 60, 300, 500, 1000 or
1200 Hz. Defaults start from the Tobii I-VT filter (Olsen 2012) and were tuned on the
hand-labelled recordings in ``shared/testdata/eyemovements`` (see ``docs/fixations.md``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["AdaptiveParams", "IDTParams", "IVTParams"]


def _check_range(owner: str, name: str, value: Any, lo: float, hi: float) -> None:
    """Raise ValueError unless ``lo <= value <= hi`` and finite, naming the field."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise ValueError(f"{owner}.{name} must be a number in [{lo}, {hi}], got {value!r}")


class _Settings:
    """``to_dict``/``from_dict`` shared by the detectors' settings (dataclasses)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the session's provenance)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Build from :meth:`to_dict` output; unknown keys are an error naming them."""
        return _from_dict(cls, data)


@dataclasses.dataclass(frozen=True)
class IVTParams(_Settings):
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


@dataclasses.dataclass(frozen=True)
class IDTParams(_Settings):
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


@dataclasses.dataclass(frozen=True)
class AdaptiveParams(_Settings):
    """Settings of the noise-adaptive centroid detector (for noisy screen-based trackers).

    A fixation is a stretch of gaze that stays within a radius of its own running centroid;
    the radius follows the live sample-to-sample noise, so one set of settings holds on a
    quiet EyeLink and on a noisy Tobii recording of an infant. Every setting is a time or an
    angle (never a sample count), so it holds from 60 to 2000 Hz.

    Parameters
    ----------
    radius_noise_factor : float
        The radius is this many times the running sample-to-sample distance (the noise: the
        larger of its ``noise_ms`` and ``burst_ms`` estimates), ...
    min_radius_deg, max_radius_deg : float
        ... clipped to this range (degrees). The lower bound is the size of the smallest
        saccade a coder marks on a quiet tracker; the upper bound keeps a very noisy stretch
        from swallowing real saccades.
    noise_ms : float
        Time constant of the running noise estimate (steps over 3 times the estimate count
        as 3 times, so saccades do not inflate it).
    burst_ms : float
        Time constant of a second, faster noise estimate (same clipping); the radius follows
        whichever is larger, so a fixation holds through a burst of noise (a head movement,
        tracking that degrades for a moment) that the slow estimate has not seen yet. 0 turns
        it off.
    centroid_ms : float
        Time constant of the running centroid that new samples are compared with (it follows
        a fixation's slow drift).
    onset_ms : float
        A candidate becomes a fixation (provisional start) once its samples have stayed
        within the radius of their mean this long.
    exit_ms : float
        A fixation ends when this long of consecutive samples (at least two) lie outside the
        radius; a single stray sample does not end it.
    edge_noise_factor, min_edge_deg, edge_ms, edge_step_factor : float
        The start and end are moved to the first and last samples within
        ``max(min_edge_deg, edge_noise_factor * noise)`` of the centroid whose step to the
        next (start) or from the previous sample (end) is at most ``edge_step_factor`` times
        the noise, at most ``edge_ms`` inwards: the landing of a saccade, its post-saccadic
        oscillation and the take-off of the next are not fixation.
    gap_ms : float
        A data loss up to this long keeps the fixation if the gaze comes back within the
        radius; a longer one ends it at its last sample.
    merge_ms, merge_deg : float
        A fixation that starts within ``merge_ms`` of the previous one's end, within
        ``merge_deg`` of its centroid, continues it (the end is decided when that window
        has passed: it costs ``merge_ms + onset_ms`` of end latency).
    min_duration_ms : float
        Shorter fixations are cancelled; the start is confirmed when a fixation has lasted
        this long.
    """

    radius_noise_factor: float = 2.2
    min_radius_deg: float = 0.5
    max_radius_deg: float = 3.0
    noise_ms: float = 1000.0
    burst_ms: float = 300.0
    centroid_ms: float = 50.0
    onset_ms: float = 15.0
    exit_ms: float = 12.0
    edge_noise_factor: float = 2.5
    min_edge_deg: float = 0.2
    edge_ms: float = 40.0
    edge_step_factor: float = 1.0
    gap_ms: float = 100.0
    merge_ms: float = 40.0
    merge_deg: float = 0.5
    min_duration_ms: float = 60.0

    def __post_init__(self) -> None:
        own = type(self).__name__
        for name, lo, hi in (
            ("radius_noise_factor", 0.1, 100.0), ("min_radius_deg", 0.01, 90.0),
            ("max_radius_deg", 0.01, 90.0), ("noise_ms", 1.0, 60000.0),
            ("centroid_ms", 1.0, 60000.0), ("onset_ms", 0.0, 1000.0), ("exit_ms", 0.0, 1000.0),
            ("edge_noise_factor", 0.0, 100.0), ("min_edge_deg", 0.0, 90.0),
            ("edge_ms", 0.0, 1000.0), ("edge_step_factor", 0.0, 1000.0), ("gap_ms", 0.0, 5000.0), ("merge_ms", 0.0, 5000.0),
            ("merge_deg", 0.0, 90.0), ("min_duration_ms", 1.0, 10000.0),
            ("burst_ms", 0.0, 60000.0),
        ):  # fmt: skip
            _check_range(own, name, getattr(self, name), lo, hi)
        if self.min_radius_deg > self.max_radius_deg:
            raise ValueError(
                f"{own}.min_radius_deg ({self.min_radius_deg!r}) must not exceed "
                f"max_radius_deg ({self.max_radius_deg!r})"
            )


def _from_dict(cls: Any, data: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} field(s) {unknown}; valid fields are {sorted(known)}"
        )
    return cls(**data)
