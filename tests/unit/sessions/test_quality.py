"""Quality figures and the usable/not-usable verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sessions.quality import QualityThresholds, estimate_rate, sample_stats, session_verdict


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
