"""Loading trials for the replay from a session store (no Qt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sessions.replay.data import (
    dropped_spans,
    invalid_spans,
    load_trial,
    trial_quality,
    trial_summaries,
)
from sessions.store import SessionStore, trial_window
from tests.support.replay_sessions import IMAGE_SIZE, RATE_HZ, make_session


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_session(tmp_path_factory.mktemp("replay-data"))


def test_summaries_list_every_trial_with_its_answer(session: Path) -> None:
    with SessionStore.open(session) as store:
        rows = trial_summaries(store)
        responses = {r["trial_id"]: r for r in store.responses()}
    assert [s.trial_id for s in rows] == [0, 1, 2]
    for s in rows:
        r = responses[s.trial_id]
        assert s.answer == (r["authenticity"] or r["findings"]).replace(";", ", ")
        assert s.confidence == r["confidence"]
        assert s.rt_s == pytest.approx(r["rt_s"])
        assert s.reader == "01"
        assert s.quality_text() == "..."


def test_load_trial_maps_samples_to_screen_px_with_the_stored_layout(session: Path) -> None:
    with SessionStore.open(session) as store:
        tr = store.trials()[1]
        data = load_trial(store, 1)
        raw = store.samples_between(data.t0, data.t1 + 1e-9)
    lay = data.layout
    assert (lay.image_width, lay.image_height) == IMAGE_SIZE
    assert (
        data.t0 == tr["t_start"]
        and data.t_onset == tr["t_onset"]
        and data.t_offset == tr["t_offset"]
    )
    assert data.t.size == raw.size
    ok = raw["left_valid"] > 0
    np.testing.assert_allclose(data.left[ok, 0], raw["left_x"][ok] * lay.screen_width)
    np.testing.assert_allclose(data.left[ok, 1], raw["left_y"][ok] * lay.screen_height)
    assert np.isnan(data.left[~ok]).all()
    assert data.rate_hz == RATE_HZ
    assert data.image is not None and data.image.shape == (IMAGE_SIZE[1], IMAGE_SIZE[0])
    assert data.image_error is None


def test_fixations_are_the_trials_own_in_order_and_events_are_marked(session: Path) -> None:
    with SessionStore.open(session) as store:
        data = load_trial(store, 2)
        stored = [f for f in store.fixations() if f["trial_id"] == 2]
    assert data.fixations.size == len(stored) > 0
    assert np.all(np.diff(data.fixations["t_start"]) > 0)
    np.testing.assert_allclose(data.fixations["x"], [f["x_px"] for f in stored])
    cats = [e.category for e in data.events]
    assert "onset" in cats and "offset" in cats and "answer" in cats
    onset = next(e for e in data.events if e.category == "onset")
    assert onset.t == data.t_onset


def test_missing_image_is_reported_not_fatal(tmp_path: Path) -> None:
    folder = make_session(tmp_path, n_trials=1)
    (tmp_path / "phantom.png").unlink()
    with SessionStore.open(folder) as store:
        data = load_trial(store, 0)
    assert data.image is None
    assert "not found" in (data.image_error or "")
    assert data.t.size > 0


def test_quality_counts_validity_and_dropped_samples(tmp_path: Path) -> None:
    folder = make_session(tmp_path, n_trials=1, drop_every=100)
    with SessionStore.open(folder) as store:
        tr = store.trials()[0]
        q = trial_quality(store, tr)
        t0, t1 = trial_window(tr)
        assert t0 is not None and t1 is not None
        raw = store.samples_between(t0, t1)
        data = load_trial(store, 0)
    assert q["samples"] == raw.size
    assert q["valid_percent"] == pytest.approx(
        100.0 * np.mean((raw["left_valid"] > 0) | (raw["right_valid"] > 0))
    )
    gaps = np.diff(raw["t"]) > 1.5 / RATE_HZ
    assert q["dropped"] == int(gaps.sum()) > 0
    assert len(data.dropped) >= q["dropped"]


def test_unknown_trial_is_named(session: Path) -> None:
    # the store's id 9 is the tenth trial as people count (the message counts from 1)
    with (
        SessionStore.open(session) as store,
        pytest.raises(KeyError, match=r"no trial 10 \(trials: 1\.\.3\)"),
    ):
        load_trial(store, 9)


def test_unfinished_trial_replays_to_its_last_sample(tmp_path: Path) -> None:
    folder = make_session(tmp_path, n_trials=2, complete=False)
    with SessionStore.open(folder) as store:
        data = load_trial(store, 1)
        last = store.sample_time_range()
    assert last is not None
    assert math.isnan(data.t_offset)
    assert data.t1 == pytest.approx(last[1])


def test_spans() -> None:
    t = np.array([0.0, 0.01, 0.02, 0.05, 0.06])
    np.testing.assert_allclose(dropped_spans(t, 100.0), [[0.02, 0.05]])
    valid = np.array([True, False, False, True, True])
    np.testing.assert_allclose(invalid_spans(t, valid), [[0.01, 0.05]])
    assert invalid_spans(t, valid, min_s=0.1).shape == (0, 2)
    assert dropped_spans(t, float("nan")).shape == (0, 2)


def test_without_a_stored_start_the_trial_begins_at_its_drift_check(tmp_path: Path) -> None:
    folder = make_session(tmp_path, n_trials=1)
    with SessionStore.open_for_writing(folder) as store:
        tr = store.trials()[0]
        store.update_trial(0, t_start=None)
        store.add_event(tr["t_onset"] - 0.3, "drift_check", "ok", trial_id=0, passed=True)
        store.add_event(tr["t_onset"] - 90.0, "drift_check", "long ago", trial_id=0)
        data = load_trial(store, 0)
    assert data.t0 == pytest.approx(tr["t_onset"] - 0.3)
    assert any(e.category == "drift" and e.t == data.t0 for e in data.events)
