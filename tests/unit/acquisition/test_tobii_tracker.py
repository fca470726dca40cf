"""The Tobii backend against the real ``tobii_research`` module and a fake EyeTracker.

Tests marked ``tobii`` need the real SDK (CPython 3.10 lane:
``python -m pytest -m tobii tests``); elsewhere they skip with the reason
``TobiiTracker.is_available()`` gives. The others (availability message, conversion) run
everywhere; the staging ring has its own file, ``test_tobii_stage.py``.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import time

import numpy as np
import pytest

from acquisition.clock import measure_offset, session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers import TrackerError, create_tracker, tracker_class
from acquisition.trackers._tobii_fake import expected_gaze
from acquisition.trackers.tobii import GAZE_KEYS, TobiiTracker, gaze_dicts_to_samples

AVAIL = TobiiTracker.is_available()
#: Tests that need the real SDK skip visibly, with the reason, where it cannot be imported.
sdk = pytest.mark.skipif(not AVAIL.ok, reason=f"tobii_research unavailable: {AVAIL.reason}")


def _dict(k: int, offset_us: int = 0) -> dict:
    d = expected_gaze(k)
    d["device_time_stamp"] = 1000 + k * 833
    d["system_time_stamp"] = offset_us + 5_000_000 + k * 833
    return d


# ---------------------------------------------------------------- everywhere
def test_availability_names_what_is_missing():
    assert tracker_class("tobii") is TobiiTracker
    try:
        import tobii_research  # noqa: F401
    except ImportError:
        assert not AVAIL.ok
        if sys.version_info[:2] != (3, 10):
            assert "published for CPython 3.10 only" in AVAIL.reason
            assert ".".join(map(str, sys.version_info[:3])) in AVAIL.reason
        assert "pip install 'gazeread[tobii]'" in AVAIL.reason
        with pytest.raises(TrackerError, match="tobii"):
            create_tracker("tobii", RingBuffer(16))
    else:
        assert AVAIL.ok, AVAIL.reason


def test_conversion_maps_validity_pupils_and_eye_positions():
    dicts = [_dict(k) for k in range(300)]
    rows = gaze_dicts_to_samples(dicts, offset_s=-3.0, flags=int(SampleFlag.DURING_CALIBRATION))
    assert len(rows) == 300
    np.testing.assert_array_equal(rows["device_ts"], [d["device_time_stamp"] for d in dicts])
    np.testing.assert_allclose(rows["t"], rows["system_ts"] * 1e-6 - 3.0, rtol=0, atol=1e-9)
    for k, (d, r) in enumerate(zip(dicts, rows, strict=True)):
        for eye in ("left", "right"):
            ok = bool(d[f"{eye}_gaze_point_validity"])
            assert r[f"{eye}_valid"] == ok, k
            x, y = d[f"{eye}_gaze_point_on_display_area"]
            if ok:
                assert (r[f"{eye}_x"], r[f"{eye}_y"]) == (x, y)
                assert r[f"{eye}_pupil"] == np.float32(d[f"{eye}_pupil_diameter"])
                np.testing.assert_array_equal(
                    r[f"{eye}_eye_pos"],
                    np.float32(d[f"{eye}_gaze_origin_in_user_coordinate_system"]),
                )
            else:
                assert math.isnan(r[f"{eye}_x"]) and math.isnan(r[f"{eye}_y"])
                assert math.isnan(r[f"{eye}_pupil"])
                assert np.isnan(r[f"{eye}_eye_pos"]).all()
    assert (rows["flags"] == SampleFlag.DURING_CALIBRATION).all()
    assert (~rows["left_valid"].astype(bool)).sum() == 3  # samples 96, 193, 290
    assert len(gaze_dicts_to_samples([], 0.0)) == 0


def test_invalid_gaze_point_with_numbers_still_becomes_nan():
    d = _dict(0)
    d["left_gaze_point_on_display_area"] = (0.3, 0.4)  # stale numbers with validity 0
    d["left_gaze_point_validity"] = 0
    row = gaze_dicts_to_samples([d], 0.0)[0]
    assert math.isnan(row["left_x"]) and row["left_valid"] == 0


# ---------------------------------------------------------------- real SDK + fake device
@pytest.fixture
def tr():
    pytest.importorskip("tobii_research", reason=AVAIL.reason)
    import tobii_research

    return tobii_research


@pytest.fixture
def fake(tr):
    from acquisition.trackers._tobii_fake import FakeEyeTracker

    et = FakeEyeTracker()
    yield et
    et.unsubscribe_from(tr.EYETRACKER_GAZE_DATA)  # stop its thread whatever the test did
    assert et.error is None


@pytest.fixture
def tracker(fake):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 16), eyetracker=fake)
    yield t
    t.stop()
    assert t.error is None, t.error


def _wait_events(t, kinds, timeout=3.0):
    got: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got += t.drain_events()
        if all(any(e.kind == k for e in got) for k in kinds):
            return got
        time.sleep(0.01)
    raise AssertionError(f"events {kinds} not seen; got {[(e.kind, e.message) for e in got]}")


@pytest.mark.tobii
@sdk
def test_sdk_constants_keys_and_signatures_match_the_real_module(tr, fake):
    # Subscription and notification constants the backend uses.
    assert tr.EYETRACKER_GAZE_DATA == "eyetracker_gaze_data"
    for name in (
        "EYETRACKER_NOTIFICATION_CONNECTION_LOST",
        "EYETRACKER_NOTIFICATION_CONNECTION_RESTORED",
        "EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED",
        "EYETRACKER_NOTIFICATION_STREAM_BUFFER_OVERFLOW",
        "EYETRACKER_STREAM_ERRORS",
    ):
        assert isinstance(getattr(tr, name), str)
    for name in ("SUCCESS", "FAILURE", "SUCCESS_LEFT_EYE", "SUCCESS_RIGHT_EYE"):
        assert isinstance(getattr(tr, f"CALIBRATION_STATUS_{name}"), str)

    # The SDK's own GazeData reads exactly GAZE_KEYS from the dict it is given.
    seen: set[str] = set()

    class Recording(dict):
        def __getitem__(self, key):
            seen.add(key)
            return super().__getitem__(key)

    g = tr.GazeData(Recording(_dict(3)))
    assert seen == set(GAZE_KEYS)
    assert g.left_eye.gaze_point.position_on_display_area == _dict(3)[GAZE_KEYS[2]]

    # The fake's notification dicts are readable by the SDK's notification classes.
    got: list = []
    for const in (
        tr.EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED,
        tr.EYETRACKER_NOTIFICATION_STREAM_BUFFER_OVERFLOW,
        tr.EYETRACKER_NOTIFICATION_CONNECTION_LOST,
    ):
        fake.subscribe_to(const, got.append, as_dictionary=True)
    fake.simulate_frequency_change(600.0)
    fake.simulate_buffer_overflow(0)
    fake.simulate_connection_lost()
    assert tr.GazeOutputFrequencyChangedData(got[0]).gaze_output_frequency == 600.0
    assert tr.StreamBufferOverflowData(got[1]).notification_source_stream == "gaze data"
    assert tr.ConnectionLostData(got[2]).system_time_stamp > 0

    # Methods the backend and the calibrator call have the real signatures.
    def params(fn):
        return [p for p in inspect.signature(fn).parameters if p != "self"]

    for meth in (
        "subscribe_to",
        "unsubscribe_from",
        "get_all_gaze_output_frequencies",
        "get_gaze_output_frequency",
        "set_gaze_output_frequency",
    ):
        assert params(getattr(tr.EyeTracker, meth)) == params(getattr(type(fake), meth)), meth
    for attr in ("address", "model", "serial_number", "firmware_version", "device_name"):
        assert isinstance(getattr(tr.EyeTracker, attr), property) and hasattr(fake, attr)
    from acquisition.trackers._tobii_fake import FakeScreenBasedCalibration

    for meth in (
        "enter_calibration_mode",
        "collect_data",
        "discard_data",
        "compute_and_apply",
        "leave_calibration_mode",
    ):
        real = params(getattr(tr.ScreenBasedCalibration, meth))
        assert real == params(getattr(FakeScreenBasedCalibration, meth)), meth
    assert params(tr.ScreenBasedCalibration.collect_data) == ["x", "y"]
    assert (
        inspect.signature(tr.EyeTracker.subscribe_to).parameters["as_dictionary"].default is False
    )


@pytest.mark.tobii
@sdk
def test_1200hz_stream_delivers_every_sample_in_order_on_the_session_clock(tracker, fake):
    assert tracker.info.rate_hz == 1200.0 and tracker.requested_rate_hz == 1200.0
    reader = tracker.buffer.reader("test")
    tracker.start()
    assert fake.wait_for_samples(3000, timeout=30.0), "the fake device stalled"
    tracker.stop()
    t_end = session_clock()
    s = reader.consume().samples
    n = fake.next_index
    assert fake.undelivered == 0
    assert len(s) == n, f"{n - len(s)} of {n} samples missing"
    d = np.diff(s["device_ts"])
    assert set(np.unique(d)) <= {833, 834}, "out of order or gaps"
    assert not (s["flags"] & SampleFlag.AFTER_GAP).any()
    events = tracker.drain_events()
    assert not [e for e in events if e.kind in ("samples_dropped", "error", "buffer_overflow")]
    # Content: sample k is exactly what the device sent as sample k.
    for k in (0, 1, 96, 100, 1234, n - 1):
        exp = expected_gaze(k)
        got = gaze_dicts_to_samples([{**exp, "device_time_stamp": 0, "system_time_stamp": 0}], 0)
        for f in ("left_x", "left_y", "right_x", "right_pupil", "left_valid"):
            np.testing.assert_array_equal(s[f][k], got[f][0])
    # Clock: t = system_time_stamp + the recorded offset, which agrees with an independent
    # paired read within its uncertainty plus a scheduling allowance.
    offsets = tracker.drain_offsets()
    assert offsets and offsets[0][0] == "tobii_system_time_stamp"
    off = tracker.clock_offset
    assert off is not None
    np.testing.assert_allclose(s["t"], s["system_ts"] * 1e-6 + off.offset_s, rtol=0, atol=1e-9)
    import tobii_research

    check = measure_offset(lambda: tobii_research.get_system_time_stamp() * 1e-6)
    assert abs(check.offset_s - off.offset_s) < 0.002
    assert s["t"][-1] <= t_end
    assert (np.diff(s["t"]) > 0).all()
    ns = fake.callback_ns()
    assert len(ns) == n and (ns > 0).all()


@pytest.mark.tobii
@sdk
def test_notifications_become_events_and_gaps_are_counted(tracker, fake):
    reader = tracker.buffer.reader("test")
    tracker.start()
    assert fake.wait_for_samples(300, timeout=20.0)
    fake.simulate_connection_lost()
    _wait_events(tracker, ["connection_lost"])
    lost_from = fake.next_index
    assert fake.wait_for_samples(lost_from + 120, timeout=20.0)
    fake.simulate_connection_restored()
    ev = _wait_events(tracker, ["connection_restored"])
    assert fake.wait_for_samples(fake.next_index + 200, timeout=20.0)
    fake.simulate_buffer_overflow(5)
    ev += _wait_events(tracker, ["buffer_overflow"])
    assert fake.wait_for_samples(fake.next_index + 100, timeout=20.0)
    fake.simulate_frequency_change(600.0)
    ev += _wait_events(tracker, ["rate_changed"])
    assert fake.wait_for_samples(fake.next_index + 300, timeout=20.0)
    tracker.stop()  # converts what is staged, so the rate in force is the new one
    ev += tracker.drain_events()
    s = reader.consume().samples

    assert len(s) + fake.undelivered == fake.next_index
    rc = [e for e in ev if e.kind == "rate_changed"]
    assert rc[0].data["new_hz"] == 600.0 and rc[0].data["old_hz"] == 1200.0
    assert tracker.rate_hz == 600.0
    assert "600 Hz" in rc[0].message
    ov = [e for e in ev if e.kind == "buffer_overflow"]
    assert ov[0].data["source"] == "gaze data"
    assert ov[0].data["system_time_stamp"] > 0
    dropped = [e for e in ev if e.kind == "samples_dropped"]
    assert sum(e.data["count"] for e in dropped) == fake.undelivered
    assert len(dropped) == 2  # the disconnection and the overflow; not the rate change
    assert np.count_nonzero(s["flags"] & SampleFlag.AFTER_RECONNECT) == 1
    assert np.count_nonzero(s["flags"] & SampleFlag.AFTER_GAP) == 2
    first_after = int(np.nonzero(s["flags"] & SampleFlag.AFTER_RECONNECT)[0][0])
    assert s["flags"][first_after] & SampleFlag.AFTER_GAP
    assert (np.diff(s["t"]) > 0).all()


@pytest.mark.tobii
@sdk
@pytest.mark.parametrize(
    ("start_hz", "new_hz"), [(600.0, 1200.0), (1200.0, 300.0)], ids=["up", "down"]
)
def test_rate_change_mid_stream_is_not_mistaken_for_dropped_samples(fake, start_hz, new_hz):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 16), eyetracker=fake, rate_hz=start_hz)
    reader = t.buffer.reader("test")
    t.start()
    try:
        assert fake.wait_for_samples(200, timeout=20.0)
        fake.simulate_frequency_change(new_hz)
        assert fake.wait_for_samples(fake.next_index + 200, timeout=20.0)
    finally:
        t.stop()
    s = reader.consume().samples
    assert len(s) == fake.next_index
    assert np.count_nonzero(s["flags"] & SampleFlag.AFTER_GAP) == 0
    ev = t.drain_events()
    assert not [e for e in ev if e.kind == "samples_dropped"]
    assert [e.data["new_hz"] for e in ev if e.kind == "rate_changed"] == [new_hz]
    assert t.rate_hz == new_hz
    spacing = set(np.unique(np.diff(s["device_ts"])))
    periods = {int(1e6 / start_hz), int(1e6 / new_hz)}
    assert spacing <= periods | {p + 1 for p in periods}


@pytest.mark.tobii
@sdk
def test_restart_resubscribes_and_keeps_time_increasing(tracker, fake):
    reader = tracker.buffer.reader("test")
    for _ in range(2):
        tracker.start()
        assert fake.wait_for_samples(fake.next_index + 100, timeout=20.0)
        tracker.stop()
        assert not fake.streaming  # unsubscribed from gaze
    s = reader.consume().samples
    assert len(s) == fake.next_index
    assert (np.diff(s["device_ts"]) > 0).all() and (np.diff(s["t"]) > 0).all()
    assert len(tracker.drain_offsets()) >= 2  # measured at each start


@pytest.mark.tobii
@sdk
def test_malformed_sdk_data_is_reported_and_acquisition_goes_on(tracker, fake):
    reader = tracker.buffer.reader("test")
    tracker.start()
    assert fake.wait_for_samples(100, timeout=20.0)
    with fake._lock:  # between two device samples, as if the SDK delivered a broken dict
        tracker._on_gaze({"device_time_stamp": 1})
    assert fake.wait_for_samples(fake.next_index + 100, timeout=20.0)
    tracker.stop()
    s = reader.consume().samples
    assert len(s) == fake.next_index  # every real sample kept
    errors = [e for e in tracker.drain_events() if e.kind == "error"]
    assert len(errors) == 1 and errors[0].data["count"] == 1
    assert "conversion" in errors[0].message and "KeyError" in errors[0].message
    assert isinstance(tracker.error, KeyError)
    tracker.error = None  # seen; the fixture asserts no other error


@pytest.mark.tobii
@sdk
def test_rates_default_to_native_maximum_and_bad_rate_lists_supported(fake):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    buf = RingBuffer(1024)
    with pytest.raises(TrackerError) as err:
        make_fake_tracker(buf, eyetracker=fake, rate_hz=500)
    msg = str(err.value)
    assert "500" in msg and "60, 120, 150, 300, 600, 1200" in msg
    t = make_fake_tracker(buf, eyetracker=fake, rate_hz=300)
    assert t.rate_hz == 300.0 and fake.get_gaze_output_frequency() == 300.0
    t.set_rate(1200)
    assert t.rate_hz == 1200.0 and t.supported_rates() == [60, 120, 150, 300, 600, 1200]
    with pytest.raises(TrackerError, match="supported rates: 60, 120"):
        t.set_rate(250)


@pytest.mark.tobii
@sdk
def test_find_by_serial_model_and_errors(tr, monkeypatch):
    from acquisition.trackers._tobii_fake import FakeEyeTracker

    # The real SDK with nothing attached: a plain "none found".
    with pytest.raises(TrackerError, match=r"no Tobii eye tracker found.*serial 'X1'"):
        TobiiTracker(RingBuffer(16), serial="X1", find_timeout_s=30)
    assert TobiiTracker.discover(timeout=30) == []

    a = FakeEyeTracker(serial_number="TPSP1-A", model="Tobii Pro Spectrum")
    b = FakeEyeTracker(
        serial_number="TPFC2-B", model="Tobii Pro Fusion", frequencies=(60.0, 120.0, 250.0)
    )
    monkeypatch.setattr(tr, "find_all_eyetrackers", lambda: (a, b))
    with pytest.raises(TrackerError) as err:
        TobiiTracker(RingBuffer(16), serial="NOPE")
    assert (
        "'NOPE'" in str(err.value) and "TPSP1-A" in str(err.value) and "TPFC2-B" in str(err.value)
    )
    with pytest.raises(
        TrackerError, match="2 eye trackers match; choose one with --tracker-option serial="
    ):
        TobiiTracker(RingBuffer(16))
    t = TobiiTracker(RingBuffer(16), serial="TPFC2-B")
    assert t.info.serial == "TPFC2-B" and t.rate_hz == 250.0
    assert TobiiTracker(RingBuffer(16), model="spectrum").info.serial == "TPSP1-A"
    found = TobiiTracker.discover(timeout=5)
    assert len(found) == 2 and "Tobii Pro Fusion serial TPFC2-B at tobii-prp://" in found[1]
    t2 = create_tracker("tobii", RingBuffer(16), serial="TPSP1-A")
    assert t2.info.sdk_version == tr.__version__ and t2.info.firmware == "2.6.3-fake"


@pytest.mark.tobii
@sdk
def test_bad_address_says_so(tr, monkeypatch):
    def refuse(address):
        raise tr.EyeTrackerConnectionFailedError("no route")

    monkeypatch.setattr(tr, "EyeTracker", refuse)
    with pytest.raises(
        TrackerError,
        match=re.escape("cannot connect to the eye tracker at address 'tet-tcp://10.0.0.9'"),
    ):
        TobiiTracker(RingBuffer(16), address="tet-tcp://10.0.0.9")


def _stage_dicts(t, ks, period_us, dev0=1000):
    """Stage gaze dicts of samples ``ks`` (consecutive device timestamps ``period_us`` apart)."""
    for k in ks:
        d = expected_gaze(k)
        d["device_time_stamp"] = dev0 + k * period_us
        d["system_time_stamp"] = 5_000_000 + dev0 + k * period_us
        t._on_gaze(d)


@pytest.mark.tobii
@sdk
def test_malformed_dicts_after_a_rate_change_do_not_move_its_boundary(tr, fake):
    """Broken dicts staged after a 300 -> 1200 Hz change: the split stays on the right sample.

    Were it early by the number dropped, samples still 3333 us apart would be judged at
    1200 Hz and reported as dropped samples.
    """
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 10), eyetracker=fake, rate_hz=300)
    reader = t.buffer.reader("test")
    _stage_dicts(t, range(10), 3333)
    t._on_notification(
        {"notification_type": tr.EYETRACKER_NOTIFICATION_GAZE_OUTPUT_FREQUENCY_CHANGED,
         "gaze_output_frequency": 1200.0}
    )  # fmt: skip
    dev_change = 1000 + 10 * 3333
    _stage_dicts(t, range(5), 833, dev0=dev_change)
    t._on_gaze({"device_time_stamp": 1})  # two malformed dicts after the boundary
    t._on_gaze({"device_time_stamp": 2})
    _stage_dicts(t, range(5, 10), 833, dev0=dev_change)
    assert t.drain_stage() == 20
    s = reader.consume().samples
    assert len(s) == 20 and t.rate_hz == 1200.0
    assert np.count_nonzero(s["flags"] & SampleFlag.AFTER_GAP) == 0
    events = t.drain_events()
    assert not [e for e in events if e.kind == "samples_dropped"], events
    errors = [e for e in events if e.kind == "error"]
    assert len(errors) == 1 and errors[0].data["count"] == 2


@pytest.mark.tobii
@sdk
@pytest.mark.parametrize("malformed_at_mark", [False, True], ids=["after-mark", "at-mark"])
def test_malformed_dicts_do_not_move_the_reconnect_flag(tr, fake, malformed_at_mark):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 10), eyetracker=fake)
    reader = t.buffer.reader("test")
    _stage_dicts(t, range(5), 833)
    t._on_notification(
        {"notification_type": tr.EYETRACKER_NOTIFICATION_CONNECTION_LOST}
    )  # the next sample staged is the first one after the reconnection
    if malformed_at_mark:
        t._on_gaze({"device_time_stamp": 1})
    _stage_dicts(t, range(5, 8), 833)
    t._on_gaze({"device_time_stamp": 2})
    t._on_gaze({"device_time_stamp": 3})
    _stage_dicts(t, range(8, 10), 833)
    assert t.drain_stage() == 10
    s = reader.consume().samples
    flagged = np.nonzero(s["flags"] & SampleFlag.AFTER_RECONNECT)[0].tolist()
    assert flagged == [5], "the first good sample after the loss, whatever was dropped"
    assert s["device_ts"][5] == 1000 + 5 * 833


@pytest.mark.tobii
@sdk
def test_reconnect_flag_waits_for_a_good_sample_in_a_later_batch(tr, fake):
    from acquisition.trackers._tobii_fake import make_fake_tracker

    t = make_fake_tracker(RingBuffer(1 << 10), eyetracker=fake)
    reader = t.buffer.reader("test")
    _stage_dicts(t, range(3), 833)
    t._on_notification({"notification_type": tr.EYETRACKER_NOTIFICATION_CONNECTION_LOST})
    t._on_gaze({"device_time_stamp": 1})  # the only sample after the loss is broken
    t.drain_stage()
    _stage_dicts(t, range(3, 6), 833)
    t.drain_stage()
    s = reader.consume().samples
    assert np.nonzero(s["flags"] & SampleFlag.AFTER_RECONNECT)[0].tolist() == [3]


@pytest.mark.tobii
@sdk
def test_find_by_device_name(tr, monkeypatch):
    from acquisition.trackers._tobii_fake import FakeEyeTracker

    a = FakeEyeTracker(serial_number="TPSP1-A", model="Tobii Pro Spectrum", device_name="lab-A")
    b = FakeEyeTracker(serial_number="TPSP1-B", model="Tobii Pro Spectrum", device_name="lab-B")
    monkeypatch.setattr(tr, "find_all_eyetrackers", lambda: (a, b))
    assert TobiiTracker(RingBuffer(16), name="lab-B").info.serial == "TPSP1-B"
    assert TobiiTracker(RingBuffer(16), name="lab-A", model="spectrum").info.serial == "TPSP1-A"
    with pytest.raises(TrackerError) as err:
        TobiiTracker(RingBuffer(16), name="lab-C")
    msg = str(err.value)
    assert "name 'lab-C'" in msg and "name 'lab-A'" in msg and "name 'lab-B'" in msg
    with pytest.raises(TrackerError, match=r"serial 'TPSP1-A', name 'lab-B'; trackers found"):
        TobiiTracker(RingBuffer(16), serial="TPSP1-A", name="lab-B")
    with pytest.raises(TrackerError, match="is named 'lab-A', not 'lab-B'"):
        TobiiTracker(RingBuffer(16), eyetracker=a, name="lab-B")
    monkeypatch.setattr(tr, "find_all_eyetrackers", lambda: ())
    with pytest.raises(TrackerError, match=r"no Tobii eye tracker found.*name 'lab-A'"):
        TobiiTracker(RingBuffer(16), name="lab-A", find_timeout_s=5)


@pytest.mark.tobii
@sdk
def test_bad_acquisition_cpu_setting_fails_start_before_any_subscription(fake, monkeypatch):
    from acquisition.affinity import ENV_VAR
    from acquisition.trackers._tobii_fake import make_fake_tracker

    monkeypatch.setenv(ENV_VAR, "fast")
    t = make_fake_tracker(RingBuffer(1 << 12), eyetracker=fake)
    with pytest.raises(ValueError, match=ENV_VAR):
        t.start()
    assert not fake._gaze_cbs and not any(fake._note_cbs.values())
    assert not fake._other_cbs or not any(fake._other_cbs.values())
