"""Parameter validation, event rows for the session store, and the I-DT variant."""

from __future__ import annotations

import pytest

from acquisition.fixations import (
    IDTParams,
    IVTParams,
    OnlineIDTDetector,
    detect_fixations,
)
from tests.support.fixation_tracks import SCREEN, to_samples, track


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("window_ms", 0.0, "window_ms"),
        ("threshold_deg_s", -1.0, "threshold_deg_s"),
        ("onset_threshold_deg_s", 50.0, "must not exceed threshold"),
        ("merge_deg", float("nan"), "merge_deg"),
        ("provisional_ms", 100.0, "must not exceed min_duration_ms"),
        ("gap_fill_ms", "75", "gap_fill_ms"),
        ("centre_window", 1, "centre_window"),
    ],
    ids=lambda v: str(v),
)
def test_ivt_params_refuse_bad_values_naming_them(field, value, match):
    with pytest.raises(ValueError, match=match):
        IVTParams(**{field: value})


def test_params_round_trip_and_unknown_keys():
    p = IVTParams(window_ms=12.0)
    assert IVTParams.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError, match="unknown IVTParams field"):
        IVTParams.from_dict({"window": 3})
    assert IDTParams.from_dict(IDTParams().to_dict()) == IDTParams()
    with pytest.raises(ValueError, match="dispersion_deg"):
        IDTParams(dispersion_deg=0.0)


def test_rows_go_into_a_real_session_store(tmp_path):
    from sessions.run.fixation_trials import fixation_to_row
    from sessions.store import SessionStore

    t, x, y, _ = track([("fix", 0.3, 0, 0), ("sac", 0.03, 5, 0), ("fix", 0.3, 5, 0)])
    ev = [e for e in detect_fixations(to_samples(t, x, y), SCREEN) if e.kind == "end"]
    store = SessionStore.create(tmp_path, "study", "p01", 1)
    try:
        store.add_fixations([fixation_to_row(e, None, None) for e in ev])
        rows = store.fixations()
    finally:
        store.close()
    assert len(rows) == 2
    assert rows[1]["x_deg"] == pytest.approx(5.0, abs=0.05)
    assert rows[0]["t_emitted_end"] >= rows[0]["t_end"]


def test_idt_finds_fixations_and_is_causal():
    t, x, y, truth = track(
        [
            ("fix", 0.3, 0, 0),
            ("sac", 0.03, 6, 2),
            ("fix", 0.3, 6, 2),
            ("sac", 0.03, 0, 0),
            ("fix", 0.2, 0, 0),
        ],
        noise_deg=0.03,
    )
    det = OnlineIDTDetector(SCREEN)
    ev = det.feed(to_samples(t, x, y)) + det.flush()
    ends = [e for e in ev if e.kind == "end"]
    assert len(ends) == 3
    for e, (t0, t1, cx, _cy) in zip(ends, truth, strict=False):
        assert abs(e.x_deg - cx) < 0.1 and abs(e.t_start - t0) < 0.02 and abs(e.t_end - t1) < 0.02
        assert e.dispersion_deg <= IDTParams().dispersion_deg
        assert e.t_confirmed - e.t_start == pytest.approx(0.1, abs=0.002)
        assert e.t_emitted >= e.t_end
