"""TobiiCalibrator against the real tobii_research module and a fake EyeTracker (3.10 lane)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers import TrackerError
from acquisition.trackers.tobii import TobiiTracker
from calibration.native import NATIVE_CALIBRATORS, native_calibrator_for

AVAIL = TobiiTracker.is_available()
pytestmark = [
    pytest.mark.tobii,
    pytest.mark.skipif(not AVAIL.ok, reason=f"tobii_research unavailable: {AVAIL.reason}"),
]

POINTS = [(0.5, 0.5), (0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9)]


@pytest.fixture
def tr():
    import tobii_research

    return tobii_research


@pytest.fixture
def fake(tr):
    from acquisition.trackers._tobii_fake import FakeEyeTracker

    et = FakeEyeTracker()
    yield et
    et.unsubscribe_from(tr.EYETRACKER_GAZE_DATA)
    assert et.error is None


@pytest.fixture
def tracker(fake):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 16), eyetracker=fake)
    yield t
    t.stop()


def test_is_a_native_calibrator(tracker):
    from calibration.native import NativeCalibrator
    from calibration.tobii_calibration import TobiiCalibrator

    cal = native_calibrator_for(tracker)
    assert isinstance(cal, TobiiCalibrator) and isinstance(cal, NativeCalibrator)
    assert TobiiTracker.name in NATIVE_CALIBRATORS


def test_collect_retry_discard_redo_compute(tracker, fake, tr):
    cal = native_calibrator_for(tracker)
    fake.calibration_failures = {(0.9, 0.1): 2, (0.1, 0.9): 3}
    reader = tracker.buffer.reader("test")
    tracker.start()
    assert fake.wait_for_samples(100, timeout=20.0)
    cal.enter()
    assert fake.in_calibration and cal.active
    ok = {p: cal.collect(*p) for p in POINTS}
    # Two failures then success within the default 2 retries; three failures exhaust them.
    assert ok == {
        (0.5, 0.5): True,
        (0.1, 0.1): True,
        (0.9, 0.1): True,
        (0.1, 0.9): False,
        (0.9, 0.9): True,
    }
    assert cal.collected[(0.9, 0.1)] == 3 and cal.attempts[(0.1, 0.9)] == 3
    assert cal.collect(0.1, 0.9)  # the operator retries the failed point: it works now
    # Redo a chosen point: discard then collect again.
    cal.discard(0.9, 0.9)
    assert (0.9, 0.9) not in fake.calibration_points
    assert cal.redo(0.9, 0.9)
    res = cal.compute_and_apply()
    assert res["status"] == "success" and res["sdk_status"] == tr.CALIBRATION_STATUS_SUCCESS
    assert {(p["x"], p["y"]) for p in res["points"]} == set(POINTS)
    for p in res["points"]:
        assert len(p["samples"]) == 8
        s0, last = p["samples"][0], p["samples"][-1]
        assert s0["left"][2] is True and s0["right"][2] is True
        assert math.isclose(s0["left"][0], p["x"], abs_tol=0.01)
        assert (
            last["left"][2] is False and last["left_validity"] == tr.VALIDITY_INVALID_AND_NOT_USED
        )
        assert (
            last["right"][2] is False and last["right_validity"] == tr.VALIDITY_VALID_BUT_NOT_USED
        )
    assert fake.wait_for_samples(fake.next_index + 50, timeout=20.0)
    cal.leave()
    assert not fake.in_calibration and not cal.active
    assert fake.wait_for_samples(fake.next_index + 50, timeout=20.0)
    tracker.stop()
    flags = reader.consume().samples["flags"]
    during = np.nonzero(flags & SampleFlag.DURING_CALIBRATION)[0]
    assert len(during) > 0 and during[0] > 0 and during[-1] < len(flags) - 1
    assert cal.rate_check == {"before_hz": 1200.0, "after_hz": 1200.0, "restored": False}
    from calibration.native import native_point_offsets, native_result_ok

    assert native_result_ok(res)
    offs = native_point_offsets(res)
    assert len(offs) == 5 and offs[0]["left"]["n_valid"] == 7


def test_too_few_points_is_a_failure_not_a_crash(tracker, tr):
    with native_calibrator_for(tracker) as cal:
        assert cal.collect(0.5, 0.5)
        res = cal.compute_and_apply()
    assert res["status"] == "failure" and res["points"] == []
    assert res["sdk_status"] == tr.CALIBRATION_STATUS_FAILURE


def test_rate_changed_by_calibration_is_restored_and_reported(tracker, fake):
    fake.calibration_rate_hz = 600.0
    tracker.start()
    cal = native_calibrator_for(tracker)
    cal.enter()
    assert fake.get_gaze_output_frequency() == 600.0
    for p in POINTS:
        assert cal.collect(*p)
    cal.compute_and_apply()
    cal.leave()
    assert fake.get_gaze_output_frequency() == 1200.0
    assert fake.wait_for_samples(fake.next_index + 100, timeout=20.0)
    tracker.stop()  # every staged sample converted: the rate in force is the restored one
    assert tracker.rate_hz == 1200.0
    assert cal.rate_check["restored"] is True and cal.rate_check["after_hz"] == 600.0
    ev = tracker.drain_events()
    changed = [e for e in ev if e.kind == "rate_changed"]
    assert any(e.data.get("during_calibration") for e in changed)
    assert any("restored to 1200 Hz" in e.message for e in changed)


def test_rate_change_left_alone_when_asked(tracker, fake):
    from calibration.tobii_calibration import TobiiCalibrator

    fake.calibration_rate_hz = 300.0
    cal = TobiiCalibrator(tracker, restore_rate=False)
    cal.enter()
    cal.leave()
    assert tracker.rate_hz == 300.0 and fake.get_gaze_output_frequency() == 300.0
    assert any("left as is" in e.message for e in tracker.drain_events())


def test_disconnect_mid_point_is_a_clear_error(tracker, fake):
    cal = native_calibrator_for(tracker)
    cal.enter()
    assert cal.collect(0.5, 0.5)
    fake.simulate_connection_lost()
    with pytest.raises(
        TrackerError, match=r"could not collect data at \(0\.100, 0\.100\).*FAKE0001"
    ):
        cal.collect(0.1, 0.1)
    cal.leave()  # never raises: the failure is kept and posted
    assert cal.leave_error is not None and not cal.active
    kinds = [e.kind for e in tracker.drain_events()]
    assert "error" in kinds


def test_use_before_enter_and_bad_points_are_refused(tracker):
    cal = native_calibrator_for(tracker)
    with pytest.raises(TrackerError, match="call enter"):
        cal.collect(0.5, 0.5)
    with pytest.raises(TrackerError, match="call enter"):
        cal.compute_and_apply()
    cal.leave()  # harmless when not entered
    cal.enter()
    with pytest.raises(ValueError, match="finite"):
        cal.collect(float("nan"), 0.5)
    with pytest.raises(ValueError, match="retries"):
        type(cal)(tracker, retries=-1)
    cal.leave()
