"""Data-quality figures of a recorded session (pure functions on arrays and plain dicts).

``gazeread check`` gathers the arrays from the store and prints what these return. The
thresholds follow the field: EyeLink grades a validation GOOD below 1.0 deg average accuracy;
REFLACX warns at >= 15 % missing data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from acquisition.samples import estimate_rate_hz, missing_in_gaps
from acquisition.samples import gaps as gaps_of

__all__ = [
    "QualityThresholds",
    "SampleStats",
    "device_drops_from_events",
    "estimate_rate",
    "pauses_from_events",
    "sample_stats",
    "session_verdict",
]


@dataclasses.dataclass(frozen=True)
class QualityThresholds:
    """Limits beyond which a session is reported as not usable.

    Attributes
    ----------
    max_missing_percent : float
        Largest share of samples with neither eye valid (REFLACX warns at 15 %).
    max_dropped_percent : float
        Largest share of samples the tracker never delivered.
    min_rate_fraction : float
        Effective rate must be at least this fraction of the nominal rate.
    max_validation_deg : float
        Largest acceptable average validation accuracy (EyeLink GOOD: < 1.0 deg).
    max_frame_drop_percent : float
        Share of display frames dropped while images were shown above which ``check`` warns
        what that means for onset timing (1 %: a drop now and then is normal on a busy
        computer; more means the display did not keep up).
    """

    max_missing_percent: float = 15.0
    max_dropped_percent: float = 1.0
    min_rate_fraction: float = 0.95
    max_validation_deg: float = 1.0
    max_frame_drop_percent: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"QualityThresholds.{f.name} must be a number >= 0, got {v!r}")


@dataclasses.dataclass
class SampleStats:
    """Counts and rates over a stretch of samples.

    ``duration_s`` and ``effective_rate_hz`` leave out the ``interruptions`` (sample
    intervals across a kill/stop and resume, ``paused_s`` seconds in all); those intervals are
    neither gaps nor dropped samples. ``device_dropped_samples`` is what the tracker itself
    reported (``samples_dropped`` events from device time stamps), None when it reported
    nothing; ``drop_mismatches`` counts the gaps that only one of the two sources shows.
    """

    samples: int
    duration_s: float
    nominal_rate_hz: float
    effective_rate_hz: float
    gaps: int
    dropped_samples: int
    longest_gap_s: float
    validity_left_percent: float
    validity_right_percent: float
    validity_any_percent: float
    interruptions: int = 0
    paused_s: float = 0.0
    device_dropped_samples: int | None = None
    drop_mismatches: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, NaN -> None (for JSON)."""
        return {k: _clean(v) for k, v in dataclasses.asdict(self).items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def estimate_rate(t: ArrayLike) -> float:
    """Sampling rate (Hz) from the median interval of time stamps ``t`` (s); NaN if < 2.

    Kept for its callers: it is :func:`acquisition.samples.estimate_rate_hz`.
    """
    return estimate_rate_hz(t)


def pauses_from_events(events: Sequence[dict[str, Any]]) -> list[tuple[float, float]]:
    """``(last_t, t_resume)`` of each ``interrupted`` event (see ``SessionStore.mark_interrupted``).

    ``events`` are store event rows (``kind`` and decoded ``data``). An event without a
    ``last_t`` (nothing was recorded before the interruption) pauses nothing and is left out.
    """
    out: list[tuple[float, float]] = []
    for ev in events:
        if ev.get("kind") != "interrupted":
            continue
        d = ev.get("data") or {}
        last_t, t_resume = d.get("last_t"), d.get("t_resume")
        if last_t is None or t_resume is None:
            continue
        a, b = float(last_t), float(t_resume)
        out.append((min(a, b), max(a, b)))
    return sorted(out)


def device_drops_from_events(events: Sequence[dict[str, Any]]) -> list[tuple[float, int]]:
    """``(t, count)`` of each ``samples_dropped`` event the tracker posted.

    ``t`` is the session time of the first sample after the device-timestamp gap.
    """
    out: list[tuple[float, int]] = []
    for ev in events:
        if ev.get("kind") != "samples_dropped":
            continue
        count = (ev.get("data") or {}).get("count")
        if count is None or ev.get("t") is None:
            continue
        out.append((float(ev["t"]), int(count)))
    return sorted(out)


def sample_stats(
    t: ArrayLike,
    left_valid: ArrayLike,
    right_valid: ArrayLike,
    nominal_rate_hz: float | None = None,
    *,
    pauses: Sequence[tuple[float, float]] = (),
    device_drops: Sequence[tuple[float, int]] | None = None,
) -> SampleStats:
    """Counts, rates, gaps and validity of a stretch of samples.

    Parameters
    ----------
    t : array_like, shape (n,), s
        Sample times, non-decreasing.
    left_valid, right_valid : array_like, shape (n,)
        1 where that eye is valid.
    nominal_rate_hz : float, optional
        The tracker's rate; estimated from the median interval when None or <= 0.
    pauses : sequence of (float, float), s
        ``(last_t, t_resume)`` of each interruption (:func:`pauses_from_events`). A sample
        interval longer than 1.5 periods that overlaps one is a pause, not a gap: it counts
        in ``interruptions``/``paused_s`` and is left out of the duration, the effective rate,
        the dropped samples and the longest gap.
    device_drops : sequence of (float, int), optional
        ``(t, count)`` of the tracker's ``samples_dropped`` events
        (:func:`device_drops_from_events`); None when the tracker posts none. A gap whose
        later sample is at ``t`` (within half a period) takes the device's count; a device
        drop without such a gap still counts; a gap the device did not report counts from
        the interval. The last two are ``drop_mismatches``.

    Returns
    -------
    SampleStats
        A gap is an interval longer than 1.5 nominal periods; it drops
        ``round(interval * rate) - 1`` samples. Effective rate is
        ``(n - 1 - interruptions) / (t_last - t_first - paused_s)``.
    """
    ta = np.asarray(t, dtype=np.float64)
    lv = np.asarray(left_valid).astype(bool)
    rv = np.asarray(right_valid).astype(bool)
    if not (ta.shape == lv.shape == rv.shape):
        raise ValueError(
            f"t, left_valid and right_valid must have one shape, got {ta.shape}, {lv.shape}, {rv.shape}"
        )
    n = int(ta.size)
    rate = float(nominal_rate_hz) if nominal_rate_hz and nominal_rate_hz > 0 else estimate_rate(ta)
    if n == 0:
        return SampleStats(0, 0.0, rate, math.nan, 0, 0, 0.0, math.nan, math.nan, math.nan)
    span = float(ta[-1] - ta[0])
    gaps = dropped = n_paused = mismatches = 0
    paused = 0.0
    longest = 0.0
    dev_total: int | None = None
    if n > 1 and math.isfinite(rate):
        d = np.diff(ta)
        big = gaps_of(d, 1.0 / rate)
        in_pause = np.zeros(d.shape, dtype=bool)
        for last_t, t_resume in pauses:
            in_pause |= big & (ta[:-1] <= t_resume) & (ta[1:] >= last_t)
        n_paused = int(in_pause.sum())
        paused = float(d[in_pause].sum())
        gap = big & ~in_pause
        gaps = int(gap.sum())
        per_gap = np.where(gap, missing_in_gaps(d, 1.0 / rate), 0.0)
        if device_drops is not None:
            dev = [(tt, c) for tt, c in device_drops if ta[0] < tt <= ta[-1] + 0.5 / rate]
            dev_total = int(sum(c for _, c in dev))
            reported = np.zeros(d.shape, dtype=bool)
            for tt, c in dev:
                j = int(np.searchsorted(ta, tt - 0.5 / rate, side="left"))
                if 1 <= j < n and abs(ta[j] - tt) <= 0.5 / rate and gap[j - 1]:
                    per_gap[j - 1] = c if not reported[j - 1] else per_gap[j - 1] + c
                    reported[j - 1] = True
                elif not (1 <= j < n and in_pause[j - 1]):
                    dropped += c  # the device says so though the session times show no gap
                    mismatches += 1
            mismatches += int((gap & ~reported).sum())
        dropped += int(per_gap.sum())
        kept = d[~in_pause]
        longest = float(kept.max()) if kept.size else 0.0
    dur = span - paused
    eff = (n - 1 - n_paused) / dur if dur > 0 else math.nan
    return SampleStats(
        samples=n,
        duration_s=dur,
        nominal_rate_hz=rate,
        effective_rate_hz=eff,
        gaps=gaps,
        dropped_samples=dropped,
        longest_gap_s=longest,
        validity_left_percent=100.0 * float(lv.mean()),
        validity_right_percent=100.0 * float(rv.mean()),
        validity_any_percent=100.0 * float((lv | rv).mean()),
        interruptions=n_paused,
        paused_s=paused,
        device_dropped_samples=dev_total,
        drop_mismatches=mismatches,
    )


def session_verdict(
    overall: SampleStats,
    trials: Sequence[dict[str, Any]],
    *,
    responses: int,
    validation_accuracy_deg: float | None,
    events: Sequence[dict[str, Any]] = (),
    frame_drops: int = 0,
    thresholds: QualityThresholds | None = None,
    frames: int = 0,
    longest_frame_s: float | None = None,
) -> tuple[bool, list[str], list[str]]:
    """Decide whether a session is usable.

    Parameters
    ----------
    overall : SampleStats
        Over the whole recording.
    trials : sequence of dict
        Each with ``id``, ``status`` and optionally ``stats`` (a :class:`SampleStats` dict).
    responses : int
        Number of stored responses.
    validation_accuracy_deg : float or None
        Average accuracy of the last validation, None when none was recorded.
    events : sequence of dict
        Event rows (``kind``, ``message``, ``data``): ``recording_error``, ``samples_lost``
        and ``interrupted`` are reported. An interruption is a warning, never a problem by
        itself: its pause is not counted as dropped samples (pass the pauses to
        :func:`sample_stats`).
    frame_drops : int
        Dropped display frames over all trials.

    Returns
    -------
    (usable, problems, warnings)
        ``usable`` is False when any problem was found; warnings do not make it unusable.
    """
    th = thresholds or QualityThresholds()
    problems: list[str] = [] if overall.samples else ["no gaze samples were recorded"]
    warnings: list[str] = []
    for check in (
        _check_trials(trials, responses),
        _check_samples(overall, th),
        _check_trial_samples(trials, th),
        _check_validation(validation_accuracy_deg, th),
        _check_events(events),
        _check_frames(frame_drops, frames, longest_frame_s, th),
    ):
        problems += check[0]
        warnings += check[1]
    return (not problems, problems, warnings)


_Findings = tuple[list[str], list[str]]  # (problems, warnings) of one check


def _check_trials(trials: Sequence[dict[str, Any]], responses: int) -> _Findings:
    problems: list[str] = []
    total = len(trials)
    done = sum(1 for tr in trials if tr.get("status") in ("complete", "skipped"))
    if total == 0:
        problems.append("the session has no trials")
    elif done < total:
        missing = [tr["id"] for tr in trials if tr.get("status") not in ("complete", "skipped")]
        problems.append(
            f"{total - done} of {total} trials are not complete (trial ids {_ids(missing)}); "
            "continue the session with --resume"
        )
    if responses < sum(1 for tr in trials if tr.get("status") == "complete"):
        problems.append(f"only {responses} responses for {done} completed trials")
    return problems, []


def _check_samples(overall: SampleStats, th: QualityThresholds) -> _Findings:
    if overall.samples == 0:
        return [], []  # said first, by session_verdict
    problems: list[str] = []
    warnings: list[str] = []
    missing_pct = 100.0 - overall.validity_any_percent
    if missing_pct >= th.max_missing_percent:
        problems.append(
            f"{missing_pct:.1f} % of samples have no valid eye (limit {th.max_missing_percent:g} %)"
        )
    expected = overall.samples + overall.dropped_samples
    drop_pct = 100.0 * overall.dropped_samples / expected if expected else 0.0
    if drop_pct > th.max_dropped_percent:
        problems.append(
            f"{overall.dropped_samples} samples dropped ({drop_pct:.2f} %, limit "
            f"{th.max_dropped_percent:g} %) in {overall.gaps} gaps"
        )
    elif overall.dropped_samples:
        warnings.append(f"{overall.dropped_samples} samples dropped in {overall.gaps} gaps")
    if overall.drop_mismatches:
        warnings.append(
            f"{overall.drop_mismatches} gap(s) disagree between the tracker's own drop "
            "reports (device time stamps) and the session times; both were counted"
        )
    if (
        math.isfinite(overall.effective_rate_hz)
        and math.isfinite(overall.nominal_rate_hz)
        and overall.effective_rate_hz < th.min_rate_fraction * overall.nominal_rate_hz
    ):
        warnings.append(
            f"effective rate {overall.effective_rate_hz:.1f} Hz is below the nominal "
            f"{overall.nominal_rate_hz:g} Hz (pauses between trials count against it)"
        )
    return problems, warnings


def _check_trial_samples(trials: Sequence[dict[str, Any]], th: QualityThresholds) -> _Findings:
    problems: list[str] = []
    warnings: list[str] = []
    for tr in trials:
        st = tr.get("stats")
        if not st or not st.get("samples"):
            if tr.get("status") == "complete":
                problems.append(f"trial {tr['id']} is complete but has no gaze samples")
            continue
        miss = 100.0 - (st.get("validity_any_percent") or 0.0)
        if miss >= th.max_missing_percent:
            warnings.append(f"trial {tr['id']}: {miss:.1f} % of samples have no valid eye")
    return problems, warnings


def _check_validation(accuracy_deg: float | None, th: QualityThresholds) -> _Findings:
    if accuracy_deg is None:
        return [], ["no validation was recorded"]
    if accuracy_deg >= th.max_validation_deg:
        return [
            f"last validation accuracy {accuracy_deg:.2f} deg is not below "
            f"{th.max_validation_deg:g} deg"
        ], []
    return [], []


def _check_events(events: Sequence[dict[str, Any]]) -> _Findings:
    problems: list[str] = []
    warnings: list[str] = []
    for ev in events:
        kind = ev.get("kind")
        if kind == "recording_error":
            problems.append(f"recording error: {ev.get('message', '')}")
        elif kind == "samples_lost":
            problems.append(f"recorder lost samples: {ev.get('message', '')}")
        elif kind == "interrupted":
            # the pause itself is reported once, from the samples (check's "paused ... s")
            warnings.append(f"session was interrupted and resumed: {ev.get('message', '')}")
    return problems, warnings


def _check_frames(
    frame_drops: int, frames: int, longest_frame_s: float | None, th: QualityThresholds
) -> _Findings:
    if not frame_drops:
        return [], []
    share = 100.0 * frame_drops / frames if frames else None
    if share is not None and share > th.max_frame_drop_percent:
        longest = f"{longest_frame_s * 1000:.0f} ms" if longest_frame_s else "a frame or more"
        return [], [
            f"{frame_drops} of {frames} image frames ({share:.1f} %, above "
            f"{th.max_frame_drop_percent:g} %) were dropped: the display did not keep up. Image "
            "onsets are still the flip times that showed the images, but a change on screen "
            f"could come up to {longest} late (the longest frame interval), which matters for "
            "gaze-contingent timing and response times under ~100 ms; run on a quieter "
            "computer (no other programs, vsync on)"
        ]
    within = f" ({share:.1f} % of {frames}: within the normal range)" if share is not None else ""
    return [], [f"{frame_drops} display frames dropped while images were shown{within}"]


def _ids(ids: Sequence[int], limit: int = 10) -> str:
    s = ", ".join(str(i) for i in ids[:limit])
    return s + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")
