"""Quality figures and the usable/not-usable verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sessions.metrics.quality import (
    QualityThresholds,
    device_drops_from_events,
    estimate_rate,
    pauses_from_events,
    sample_stats,
    session_verdict,
)


def _t(n: int, rate: float = 1000.0) -> np.ndarray:
    return np.arange(n) / rate


def test_clean_stream() -> None:
    t = _t(1001)
    st = sample_stats(t, np.ones(1001), np.ones(1001), 1000.0)
    assert st.samples == 1001 and st.gaps == 0 and st.dropped_samples == 0
    assert st.effective_rate_hz == pytest.approx(1000.0)
    assert st.validity_any_percent == 100.0


def test_gaps_and_dropped_samples_are_counted() -> None:
    t = np.delete(_t(1000), [100, 101, 102, 500])  # 3 missing in one gap, 1 in another
    v = np.ones(len(t))
    st = sample_stats(t, v, v, 1000.0)
    assert st.gaps == 2 and st.dropped_samples == 4
    assert st.longest_gap_s == pytest.approx(0.004)


def test_validity_per_eye() -> None:
    n = 100
    left = np.r_[np.ones(75), np.zeros(25)]
    right = np.r_[np.zeros(50), np.ones(50)]
    st = sample_stats(_t(n), left, right, 1000.0)
    assert (st.validity_left_percent, st.validity_right_percent, st.validity_any_percent) == (
        75.0,
        50.0,
        100.0,
    )


def test_rate_is_estimated_when_unknown() -> None:
    assert estimate_rate(_t(50, 250.0)) == pytest.approx(250.0)
    assert sample_stats(_t(50, 250.0), np.ones(50), np.ones(50)).nominal_rate_hz == pytest.approx(
        250.0
    )
    assert np.isnan(estimate_rate([1.0]))


def test_empty_and_mismatched() -> None:
    st = sample_stats([], [], [], 1200.0)
    assert st.samples == 0 and st.to_dict()["effective_rate_hz"] is None
    with pytest.raises(ValueError, match="one shape"):
        sample_stats([0.0, 1.0], [1], [1, 1])


def _trials(statuses: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": i, "status": s, "stats": {"samples": 10, "validity_any_percent": 99.0}}
        for i, s in enumerate(statuses)
    ]


def test_complete_good_session_is_usable() -> None:
    st = sample_stats(_t(1000), np.ones(1000), np.ones(1000), 1000.0)
    ok, problems, warnings = session_verdict(
        st, _trials(["complete", "complete"]), responses=2, validation_accuracy_deg=0.5
    )
    assert ok and problems == [] and warnings == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"statuses": ["complete", "pending"]}, "1 of 2 trials are not complete"),
        ({"validation": 1.4}, "validation accuracy 1.40"),
        ({"invalid": 300}, "have no valid eye"),
        ({"drop": 50}, "samples dropped"),
        ({"events": [{"kind": "recording_error", "message": "disk full"}]}, "disk full"),
        ({"responses": 0}, "only 0 responses"),
    ],
    ids=["unfinished", "bad-validation", "missing-data", "dropped", "write-error", "no-responses"],
)
def test_problems_make_a_session_unusable(kwargs: dict[str, Any], needle: str) -> None:
    n = 1000
    t = _t(n)
    if "drop" in kwargs:
        t = np.delete(t, np.arange(100, 100 + kwargs["drop"]))
    valid = np.ones(len(t))
    valid[: kwargs.get("invalid", 0)] = 0
    st = sample_stats(t, valid, valid, 1000.0)
    statuses = kwargs.get("statuses", ["complete", "complete"])
    ok, problems, _ = session_verdict(
        st,
        _trials(statuses),
        responses=kwargs.get("responses", 2),
        validation_accuracy_deg=kwargs.get("validation", 0.5),
        events=kwargs.get("events", ()),
    )
    assert not ok
    assert any(needle in p for p in problems), problems


def test_warnings_do_not_make_it_unusable() -> None:
    st = sample_stats(_t(1000), np.ones(1000), np.ones(1000), 1000.0)
    ok, _, warnings = session_verdict(
        st,
        _trials(["complete"]),
        responses=1,
        validation_accuracy_deg=None,
        events=[{"kind": "interrupted", "message": "killed"}],
        frame_drops=3,
    )
    assert ok and len(warnings) == 3


def test_thresholds_validate_themselves() -> None:
    with pytest.raises(ValueError, match="max_missing_percent"):
        QualityThresholds(max_missing_percent=-1)


def _resumed(rate: float = 1200.0, before_s: float = 60.0, pause_s: float = 60.0) -> np.ndarray:
    """A stream killed after ``before_s`` and resumed ``pause_s`` later for as long again."""
    a = np.arange(round(before_s * rate)) / rate
    return np.r_[a, a[-1] + pause_s + a]


def test_a_resume_pause_is_not_dropped_samples() -> None:
    t = _resumed()
    v = np.ones(len(t))
    last, resume = float(t[len(t) // 2 - 1]), float(t[len(t) // 2 - 1]) + 59.5
    st = sample_stats(t, v, v, 1200.0, pauses=[(last, resume)])
    assert st.gaps == 0 and st.dropped_samples == 0
    assert st.interruptions == 1 and st.paused_s == pytest.approx(60.0)
    assert st.duration_s == pytest.approx(120.0 - 1 / 1200.0 * 2, abs=1e-6)
    assert st.effective_rate_hz == pytest.approx(1200.0)
    assert st.longest_gap_s == pytest.approx(1 / 1200.0)
    events = [
        {"kind": "interrupted", "t": last, "message": "killed",
         "data": {"last_t": last, "t_resume": resume, "gap_s": resume - last}},
    ]  # fmt: skip
    assert pauses_from_events(events) == [(last, resume)]
    ok, problems, warnings = session_verdict(
        st, _trials(["complete"]), responses=1, validation_accuracy_deg=0.5, events=events
    )
    assert ok, problems
    # one figure for the pause, in the report's "paused ... s" line (from the samples); the
    # warning no longer repeats another one (the event's gap, which disagreed with it)
    assert any(w == "session was interrupted and resumed: killed" for w in warnings)
    assert st.paused_s == pytest.approx(60.0, abs=0.01)  # last sample before to first after
    # without the pause the same stream is judged unusable (72000 samples "dropped")
    bare = sample_stats(t, v, v, 1200.0)
    assert bare.dropped_samples == 71999
    assert not session_verdict(
        bare, _trials(["complete"]), responses=1, validation_accuracy_deg=0.5
    )[0]


def test_a_real_gap_next_to_a_pause_is_still_counted() -> None:
    t = np.delete(_resumed(1000.0, 10.0, 5.0), [2000, 2001])  # 2 lost before the kill
    v = np.ones(len(t))
    st = sample_stats(t, v, v, 1000.0, pauses=[(9.999, 14.999)])
    assert (st.gaps, st.dropped_samples, st.interruptions) == (1, 2, 1)


def test_device_drop_reports_are_cross_checked() -> None:
    t = np.delete(_t(1000), [100, 101, 102, 500])  # gaps ending at t=0.103 and t=0.501
    v = np.ones(len(t))
    # the device agrees on the first gap but reports 4 there; it also reports one that the
    # session times do not show (t=0.8) and not the second
    ev = [
        {"kind": "samples_dropped", "t": 0.103, "data": {"count": 4, "gap_s": 0.005}},
        {"kind": "samples_dropped", "t": 0.800, "data": {"count": 2, "gap_s": 0.003}},
    ]
    drops = device_drops_from_events(ev)
    assert drops == [(0.103, 4), (0.8, 2)]
    st = sample_stats(t, v, v, 1000.0, device_drops=drops)
    assert st.device_dropped_samples == 6
    assert st.dropped_samples == 4 + 2 + 1
    assert st.drop_mismatches == 2
    _, _, warnings = session_verdict(
        st, _trials(["complete"]), responses=1, validation_accuracy_deg=0.5
    )
    assert any("disagree" in w for w in warnings)
    agree = sample_stats(t, v, v, 1000.0, device_drops=[(0.103, 3), (0.501, 1)])
    assert (agree.dropped_samples, agree.drop_mismatches) == (4, 0)
    assert sample_stats(t, v, v, 1000.0).device_dropped_samples is None


def test_frame_drops_above_the_threshold_say_what_they_mean_for_onsets() -> None:
    st = sample_stats(_t(1000), np.ones(1000), np.ones(1000), 1000.0)
    common = {"responses": 2, "validation_accuracy_deg": 0.5}
    _, _, many = session_verdict(st, _trials(["complete"] * 2), frame_drops=355, frames=837,
                                 longest_frame_s=0.05, **common)  # fmt: skip
    assert len(many) == 1 and "355 of 837 image frames (42.4 %" in many[0]
    assert "onsets are still the flip times" in many[0] and "50 ms late" in many[0]
    _, _, few = session_verdict(st, _trials(["complete"] * 2), frame_drops=3, frames=1553,
                                **common)  # fmt: skip
    assert few == [
        "3 display frames dropped while images were shown (0.2 % of 1553: within the normal range)"
    ]


def test_check_lists_calibrations_with_only_the_figures_they_have() -> None:
    from sessions.commands.check import _calibration_line

    cal = {"kind": "calibration", "method": "software-affine", "t": 12.0, "accuracy_deg": None,
           "worst_deg": None, "passed": None}  # fmt: skip
    assert (
        _calibration_line(cal) == "calibration (software-affine) at t=12.00 s: no figures recorded"
    )
    val = {**cal, "kind": "validation", "accuracy_deg": 0.41, "worst_deg": 0.9, "passed": False}
    assert _calibration_line(val).endswith("accuracy 0.41 deg, worst 0.90 deg, FAILED")
