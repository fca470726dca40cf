"""The console's live state: meters, markers and fixations (no Qt, no LSL)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from acquisition.lsl_outlets import GAZE_CHANNELS
from sessions.console.live import LiveState, gaze_columns
from sessions.console.lsl_client import StreamRef, choose_stream

LABELS = [c.label for c in GAZE_CHANNELS]


def _chunk(
    t: np.ndarray, lx: float = 0.3, ly: float = 0.6, right_valid: np.ndarray | None = None
) -> np.ndarray:
    m = np.zeros((t.size, len(LABELS)))
    m[:, 0], m[:, 1], m[:, 2], m[:, 3] = lx, ly, lx + 0.01, ly
    m[:, 6] = 1
    m[:, 7] = 1 if right_valid is None else right_valid
    return m


def _state(rate: float = 500.0) -> LiveState:
    s = LiveState(window_s=1.0)
    s.set_connected("Gaze", "gazeread-Gaze", nominal_rate=rate, labels=LABELS)
    return s


def test_meters_rate_validity_and_time_since_last_sample() -> None:
    s = _state()
    t = 100.0 + np.arange(1000) / 500.0  # 2 s at 500 Hz
    rv = np.ones(1000)
    rv[-100:] = 0  # right eye lost in the last 0.2 s
    s.ingest_gaze(t, _chunk(t, right_valid=rv))
    snap = s.snapshot(now=t[-1] + 0.05)
    assert snap.rate_hz == pytest.approx(475.0, abs=1.0)  # 0.95 s of the 1 s window hold data
    assert snap.valid_left_percent == 100.0
    assert snap.valid_right_percent == pytest.approx(100 * (1 - 100 / 475), abs=0.5)
    assert snap.since_last_sample_s == pytest.approx(0.05)
    assert snap.samples_lost == 0
    assert snap.gaze_left == pytest.approx((0.3, 0.6))
    assert snap.gaze_right is None


def test_samples_lost_across_chunks() -> None:
    s = _state(rate=100.0)
    s.ingest_gaze(np.arange(10) / 100.0, _chunk(np.arange(10) / 100.0))
    t2 = 0.14 + np.arange(5) / 100.0  # 0.09 -> 0.14: 4 samples missing
    s.ingest_gaze(t2, _chunk(t2))
    assert s.snapshot(now=0.2).samples_lost == 4


def test_stale_gaze_is_not_shown_as_current() -> None:
    s = _state()
    t = np.arange(10) / 500.0
    s.ingest_gaze(t, _chunk(t))
    assert s.snapshot(now=5.0).gaze_left is None
    assert s.snapshot(now=5.0).since_last_sample_s == pytest.approx(5.0 - t[-1])


def test_markers_drive_trial_image_and_calibration() -> None:
    s = _state()
    layout = {
        "image_width": 512,
        "image_height": 512,
        "screen_width": 1280,
        "screen_height": 800,
        "scale": 1.5,
        "offset_x": 256.0,
        "offset_y": 16.0,
    }
    s.ingest_marker(1.0, json.dumps({"event": "session_start", "n_trials": 8}))
    s.ingest_marker(2.0, json.dumps({"event": "calibration", "accuracy_deg": 0.4, "passed": True}))
    s.ingest_marker(
        3.0,
        json.dumps(
            {
                "event": "image_onset",
                "trial": 2,
                "image_path": "/x.png",
                "layout": layout,
                "condition": "authenticity",
                "image_id": "x",
            }
        ),
    )
    snap = s.snapshot(now=4.0)
    assert (snap.trial, snap.n_trials, snap.image_path, snap.image_visible) == (
        2,
        8,
        "/x.png",
        True,
    )
    assert snap.screen_size == (1280, 800)
    assert snap.calibration == {"state": "done", "accuracy_deg": 0.4, "passed": True, "t": 2.0}
    s.ingest_marker(5.0, json.dumps({"event": "image_offset", "trial": 2}))
    s.ingest_marker(6.0, json.dumps({"event": "trial_end", "trial": 2}))
    s.ingest_marker(7.0, "plain text marker")
    snap = s.snapshot(now=7.0)
    assert (
        not snap.image_visible and snap.trials_done == 1 and snap.last_marker == "plain text marker"
    )


def test_fixations_are_numbered_and_cancelled_ones_dropped() -> None:
    s = _state()
    s.ingest_fixation("start_confirmed", 7, 100.0, 200.0, 80.0)
    s.ingest_fixation("start_provisional", 8, 300.0, 200.0, math.nan)
    s.ingest_fixation("cancel", 8, math.nan, math.nan, math.nan)
    s.ingest_fixation("end", 7, 101.0, 201.0, 250.0)
    s.ingest_fixation("start_confirmed", 9, 500.0, 400.0, 70.0)
    fx = s.snapshot(now=1.0).fixations
    assert [(f.number, f.ongoing, f.x_px) for f in fx] == [(1, False, 101.0), (3, True, 500.0)]


def test_gaze_columns_from_xdf_metadata_of_other_streams() -> None:
    labels = ["LX", "LY", "RX", "RY", "LP", "RP"]
    types = ["ScreenX", "ScreenY", "ScreenX", "ScreenY", "Diameter", "Diameter"]
    eyes = ["left", "left", "right", "right", "left", "right"]
    assert gaze_columns(labels, types, eyes) == {
        "left_x": 0,
        "left_y": 1,
        "right_x": 2,
        "right_y": 3,
    }
    mono = gaze_columns(["x", "y", "pupil"], ["ScreenX", "ScreenY", "Diameter"], [])
    assert mono == {"left_x": 0, "left_y": 1, "right_x": 0, "right_y": 1}
    s = LiveState(window_s=1.0)
    s.set_connected("Gaze", "other", nominal_rate=100.0, labels=labels, types=types, eyes=eyes)
    t = np.arange(5) / 100.0
    m = np.tile([0.2, 0.4, 0.6, 0.8, 3.0, 3.0], (5, 1))
    m[-1, 2] = np.nan  # right eye lost in the last sample: no validity channel, NaN says so
    s.ingest_gaze(t, m)
    snap = s.snapshot(now=0.05)
    assert snap.gaze_left == pytest.approx((0.2, 0.4)) and snap.gaze_right is None
    assert snap.valid_right_percent == pytest.approx(80.0)


def test_gaze_columns_follow_the_stream_labels() -> None:
    assert gaze_columns(LABELS)["right_valid"] == LABELS.index("right_valid")
    assert gaze_columns(["a", "b"]) == {
        "left_x": 0,
        "left_y": 1,
        "right_x": 2,
        "right_y": 3,
        "left_valid": 6,
        "right_valid": 7,
    }


def test_choose_stream_prefers_the_same_session_then_the_newest() -> None:
    a = StreamRef("Gaze", "g", "gazeread-s1-gaze", "u1", 10.0)
    b = StreamRef("Gaze", "g", "gazeread-s2-gaze", "u2", 20.0)
    assert choose_stream([a, b], None) is b
    assert choose_stream([a, b], "gazeread-s1") is a
    assert choose_stream([], None) is None


def test_rate_of_a_stream_younger_than_the_window() -> None:
    s = _state(rate=500.0)
    t = 50.0 + np.arange(250) / 500.0  # 0.5 s of data, window 1 s
    s.ingest_gaze(t, _chunk(t))
    assert s.snapshot(now=t[-1] + 0.002).rate_hz == pytest.approx(500.0, rel=0.01)
    assert math.isnan(s.snapshot(now=t[0] + 0.1).rate_hz)


def test_each_image_starts_a_clean_overlay_numbered_from_one() -> None:
    s = LiveState()
    s.set_connected("Markers", "gazeread-x-markers")
    s.ingest_marker(1.0, json.dumps({"event": "session_start", "n_trials": 2}))
    s.ingest_fixation("end", 1, 10.0, 10.0, 200.0)  # on the drift-check screen: not drawn
    assert s.snapshot(1.5).fixations == []
    s.ingest_marker(2.0, json.dumps({"event": "image_onset", "trial": 0}))
    for fid in (2, 3, 4):
        s.ingest_fixation("end", fid, 100.0 * fid, 100.0, 250.0)
    assert [f.number for f in s.snapshot(3.0).fixations] == [1, 2, 3]
    s.ingest_marker(4.0, json.dumps({"event": "image_offset", "trial": 0}))
    assert s.snapshot(4.1).fixations == []  # the response screen has no image to draw on
    s.ingest_fixation("end", 5, 50.0, 50.0, 300.0)
    assert s.snapshot(4.2).fixations == []
    s.ingest_marker(5.0, json.dumps({"event": "image_onset", "trial": 1}))
    s.ingest_fixation("start_confirmed", 6, 60.0, 60.0, 80.0)
    assert [f.number for f in s.snapshot(5.5).fixations] == [1]  # per trial, not per session
    s.ingest_marker(6.0, json.dumps({"event": "session_end", "status": "completed"}))
    snap = s.snapshot(6.5)
    assert snap.fixations == [] and snap.trial is None and not snap.image_visible
    assert snap.session_status == "ended (completed)"


def test_without_markers_every_fixation_is_drawn() -> None:
    s = LiveState()
    s.ingest_fixation("end", 1, 10.0, 10.0, 200.0)
    assert len(s.snapshot(1.0).fixations) == 1
