"""The simulated tracker thread: pacing, timestamps, commands, ground truth, trouble, shutdown."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry, angular_distance_deg, norm_to_px
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.simulation import CalibrationError, GazeParams, simulate_recording
from acquisition.trackers import TrackerError, create_tracker, tracker_class
from acquisition.trackers.simulated import SimulatedTracker

SCREEN = ScreenGeometry()
WAIT_S = 20.0  # generous: the machine is shared; tests assert behaviour, never timing


def _collect(reader, n: int, timeout: float = WAIT_S) -> np.ndarray:
    """Consume until at least ``n`` samples were read (or fail after ``timeout`` s)."""
    parts, got = [], 0
    deadline = time.monotonic() + timeout
    while got < n:
        if time.monotonic() > deadline:
            pytest.fail(f"only {got} of {n} samples arrived within {timeout} s")
        reader.wait(0.1)
        chunk = reader.consume()
        assert chunk.lost == 0
        if len(chunk.samples):
            parts.append(chunk.samples)
            got += len(chunk.samples)
    return np.concatenate(parts)


def _wait_for(cond, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def buf():
    return RingBuffer(1 << 16)


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gazeread-simulated")]


def test_table_entry_and_availability(buf):
    assert tracker_class("simulated") is SimulatedTracker
    assert SimulatedTracker.is_available().ok
    tr = create_tracker("simulated", buf, rate_hz=250, seed=42)
    assert tr.info.model == "gazeread simulated" and tr.info.serial == "SIM-00000042"
    assert tr.info.rate_hz == 250 and tr.rate_hz == 250
    assert 30 in tr.supported_rates() and 2000 in tr.supported_rates()
    assert SimulatedTracker.discover()[0].startswith("simulated")


def test_unsupported_rate_names_the_value_and_the_rates(buf):
    with pytest.raises(TrackerError, match=r"77.*supported rates: 30, 60"):
        SimulatedTracker(buf, rate_hz=77)
    with pytest.raises(TrackerError, match="noise_deg"):
        SimulatedTracker(buf, noise_deg=-1)
    with pytest.raises(TrackerError, match="seed"):
        SimulatedTracker(buf, seed=-3)


@pytest.mark.parametrize("rate", [60, 1200, 2000])
def test_thread_delivers_monotonic_gapless_samples_and_stops_cleanly(buf, rate):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=rate, seed=1)
    tr.start()
    assert _threads() == ["gazeread-simulated-1"]
    s = _collect(reader, rate // 4)
    tr.stop()
    tr.stop()  # idempotent
    assert not _threads() and not tr.running
    s = np.concatenate([s, reader.consume().samples])
    assert np.all(np.diff(s["t"]) > 0)
    idx = s["device_ts"] * rate / 1e6
    np.testing.assert_allclose(np.diff(idx), 1.0, atol=0.01)  # every sample, none missing
    assert not np.any(s["flags"] & SampleFlag.AFTER_GAP)
    # session time = clock at start + device time
    offset = s["t"] - s["device_ts"] / 1e6
    assert np.ptp(offset) < 1e-5
    assert not [e for e in tr.drain_events() if e.kind in ("samples_dropped", "error")]
    assert tr.drain_offsets()
    n = buf.total_pushed
    time.sleep(0.05)
    assert buf.total_pushed == n  # nothing after stop


def test_samples_equal_the_offline_generator_with_the_same_schedule(buf):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=500, seed=9, calibration_error={"offset": (0.01, 0.0)})
    tr.start()
    _collect(reader, 50)
    tr.set_target(0.25, 0.75)
    _collect(reader, 100)
    tr.set_attention(points=[[0.6, 0.4]])
    tr.set_target(None)
    _collect(reader, 100)
    tr.stop()
    live = np.concatenate([reader.buffer.copy_range(0, buf.total_pushed)[0]])
    sched = tr.schedule
    assert [kind for _, kind, _ in sched] == ["target", "attention", "target"]
    offline, _ = simulate_recording(
        n_samples=len(live),
        rate_hz=500,
        seed=9,
        commands=tr.offline_commands(),
        params=tr.params,
    )
    for name in ("device_ts", "left_x", "left_y", "right_x", "right_pupil", "left_valid", "flags"):
        np.testing.assert_array_equal(live[name], offline[name], err_msg=name)


def test_set_target_while_running_converges_and_is_in_the_ground_truth(buf):
    err = {"offset": (0.02, -0.01), "gain": (1.0, 1.0), "rotation_deg": 0.0}
    tr = SimulatedTracker(
        buf, rate_hz=1200, seed=5, calibration_error=err, blink_rate_hz=0.0, dropout_prob=0.0
    )
    reader = buf.reader("test")
    tr.start()
    _collect(reader, 100)
    tr.set_target(0.7, 0.3)
    k = tr.schedule[-1][0]
    s = _collect(reader, 600)  # 0.5 s: saccade (< 100 ms) then fixation on the target
    tr.stop()
    after = s[s["device_ts"] >= round((k + 240) * 1e6 / 1200)]
    ce = CalibrationError.from_any(err)
    assert ce is not None
    ex, ey = ce.apply(SCREEN, 0.7, 0.3)
    ax, ay = norm_to_px(SCREEN, after["left_x"], after["left_y"])
    bx, by = norm_to_px(SCREEN, ex, ey)
    assert np.median(angular_distance_deg(SCREEN, ax, ay, bx, by)) < 0.3
    gt = tr.ground_truth(include_ongoing=True)
    sac = [e for e in gt if e.kind == "saccade" and e.cause == "target"]
    assert len(sac) == 1
    t_cmd = s["t"][0] - s["device_ts"][0] / 1e6 + k / 1200
    assert sac[0].t_start == pytest.approx(t_cmd, abs=1e-6)  # session seconds, at sample k
    assert (sac[0].x, sac[0].y) == pytest.approx((0.7, 0.3))
    assert gt[-1].kind == "fixation" and gt[-1].x == pytest.approx(0.7, abs=0.01)


def test_bad_commands_are_refused(buf):
    tr = SimulatedTracker(buf, rate_hz=60)
    with pytest.raises(TrackerError, match="both x and y"):
        tr.set_target(0.5)
    with pytest.raises(TrackerError, match="finite"):
        tr.set_target(float("nan"), 0.5)
    with pytest.raises(TrackerError, match="saliency"):
        tr.set_attention(saliency=np.zeros((2, 2)))


def test_disconnect_posts_events_and_leaves_a_flagged_gap(buf):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=600, seed=2)
    tr.start()
    _collect(reader, 30)
    tr.disconnect()
    assert not tr.connected
    time.sleep(0.1)
    n_before = buf.total_pushed
    time.sleep(0.1)
    assert buf.total_pushed - n_before <= 6  # at most one chunk in flight when disconnecting
    tr.reconnect()
    _collect(reader, 30)
    tr.stop()
    s = buf.copy_range(0, buf.total_pushed)[0]
    kinds = [e.kind for e in tr.drain_events()]
    assert kinds[:2] == ["connection_lost", "connection_restored"] and "samples_dropped" in kinds
    gap = np.nonzero(s["flags"] & SampleFlag.AFTER_GAP)[0]
    assert len(gap) == 1
    assert s["flags"][gap[0]] & SampleFlag.AFTER_RECONNECT
    assert np.diff(s["device_ts"])[gap[0] - 1] > 50_000  # > 50 ms missing
    assert np.all(np.diff(s["t"]) > 0)


def test_thread_failure_is_posted_and_raised_by_stop(buf):
    tr = SimulatedTracker(buf, rate_hz=120)
    tr.start()
    tr.fail("boom")
    _wait_for(lambda: tr.error is not None)
    events = tr.drain_events()
    assert events[-1].kind == "error" and "boom" in events[-1].message
    with pytest.raises(TrackerError, match="boom"):
        tr.stop()
    assert not _threads()


def test_software_correction_is_applied_and_flagged(buf):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=250, seed=3, dropout_prob=0.0, blink_rate_hz=0.0)
    tr.set_correction(lambda x, y: (x + 0.1, y - 0.1))
    tr.start()
    s = _collect(reader, 20)
    tr.stop()
    offline, _ = simulate_recording(n_samples=len(s), rate_hz=250, seed=3, params=tr.params)
    np.testing.assert_allclose(s["left_x"], offline["left_x"][: len(s)] + 0.1)
    assert np.all(s["flags"] & SampleFlag.SOFTWARE_CALIBRATED)


def test_restart_continues_without_a_gap(buf):
    tr = SimulatedTracker(buf, rate_hz=250, seed=4)
    reader = buf.reader("test")
    tr.start()
    _collect(reader, 10)
    tr.stop()
    time.sleep(0.05)
    tr.start()
    _collect(reader, 10)
    tr.stop()
    s = buf.copy_range(0, buf.total_pushed)[0]
    np.testing.assert_array_equal(np.diff(s["device_ts"]), 4000)
    assert np.all(np.diff(s["t"]) > 0)
    assert not [e for e in tr.drain_events() if e.kind == "samples_dropped"]
    offline, _ = simulate_recording(n_samples=len(s), rate_hz=250, seed=4)
    np.testing.assert_array_equal(s["left_x"], offline["left_x"])


def test_rate_change_while_running_restarts_the_simulation_at_the_new_rate(buf):
    tr = SimulatedTracker(buf, rate_hz=250, seed=4)
    reader = buf.reader("test")
    tr.start()
    _collect(reader, 10)
    tr.set_rate(1000)
    assert tr.running and tr.rate_hz == 1000
    _collect(reader, 100)
    tr.stop()
    s = buf.copy_range(0, buf.total_pushed)[0]
    assert np.all(np.diff(s["t"]) > 0)
    d = np.diff(s["device_ts"])
    assert d[-1] == 1000 and (d < 0).sum() == 1  # the new simulation's device clock starts at 0
    assert [e.kind for e in tr.drain_events()] == ["rate_changed"]
    gt = tr.ground_truth()
    assert all(b.t_start >= a.t_start for a, b in itertools.pairwise(gt))
    assert gt[0].t_start <= s["t"][0] and gt[-1].t_end <= s["t"][-1] + 0.01
    tr.set_rate(60)  # while stopped: a fresh simulation at the next start
    assert tr.rate_hz == 60 and tr.generator.n_generated == 0


def test_params_shortcuts_override_params(buf):
    tr = SimulatedTracker(buf, params=GazeParams(noise_deg=0.5), noise_deg=0.01, blink_rate_hz=0)
    assert tr.params.noise_deg == 0.01 and tr.params.blink_rate_hz == 0
    assert tr.info.extra["params"]["noise_deg"] == 0.01


def test_drop_samples_leaves_a_flagged_gap_without_connection_events(buf):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=1000, seed=6)
    tr.start()
    _collect(reader, 20)
    tr.drop_samples(37)
    _collect(reader, 100)
    tr.stop()
    s = buf.copy_range(0, buf.total_pushed)[0]
    events = tr.drain_events()
    assert [e.kind for e in events] == ["samples_dropped"] and events[0].data["count"] == 37
    gap = np.nonzero(s["flags"] & SampleFlag.AFTER_GAP)[0]
    assert len(gap) == 1 and s["device_ts"][gap[0]] - s["device_ts"][gap[0] - 1] == 38_000
    with pytest.raises(TrackerError, match="drop_samples"):
        tr.drop_samples(-1)


def test_stall_delivers_a_late_burst_and_loses_nothing(buf):
    reader = buf.reader("test")
    tr = SimulatedTracker(buf, rate_hz=1000, seed=6)
    tr.start()
    _collect(reader, 10)
    tr.stall(0.15)
    s = _collect(reader, 400)
    tr.stop()
    np.testing.assert_array_equal(np.diff(s["device_ts"]), 1000)
    assert not tr.drain_events()


def test_attention_while_running_is_recorded_and_bad_attention_is_not(buf):
    tr = SimulatedTracker(buf, rate_hz=250, seed=6)
    tr.start()
    tr.set_attention(points=[[0.1, 0.1], [0.9, 0.9]], weights=[1, 2])
    with pytest.raises(TrackerError, match="weights"):
        tr.set_attention(points=[[0.1, 0.1]], weights=[-1])
    tr.stop()
    sched = tr.schedule
    assert len(sched) == 1 and sched[0][1] == "attention"
    np.testing.assert_array_equal(sched[0][2]["weights"], [1, 2])


def test_two_rate_changes_keep_each_ground_truth_event_once(buf):
    tr = SimulatedTracker(buf, rate_hz=250, seed=8)
    reader = buf.reader("test")
    tr.start()
    _collect(reader, 50)
    tr.set_rate(500)
    _collect(reader, 50)
    tr.set_rate(1000)
    _collect(reader, 50)
    tr.stop()
    gt = tr.ground_truth()
    assert len({(e.kind, e.t_start) for e in gt}) == len(gt)
    with pytest.raises(TrackerError, match="calibration_error"):
        SimulatedTracker(buf, calibration_error={"shift": 1})
