"""FixationWorker on a real ring buffer, and the Fixations LSL stream read by a real inlet."""

from __future__ import annotations

import queue
import time
import uuid

import numpy as np
import pytest

from acquisition.fixations import (
    FIXATION_CHANNELS,
    FixationEvent,
    FixationOutlet,
    FixationWorker,
    OnlineFixationDetector,
    detect_fixations,
    event_from_sample,
)
from acquisition.ring_buffer import RingBuffer
from tests.support.fixation_tracks import SCREEN, as_tuples, to_samples, track

SEGS = [
    ("fix", 0.25, 0, 0),
    ("sac", 0.03, 6, 2),
    ("fix", 0.25, 6, 2),
    ("sac", 0.03, -4, 1),
    ("fix", 0.3, -4, 1),
]


def _clock() -> float:
    return 1234.5


def test_worker_delivers_the_offline_events_in_order_and_flushes_on_stop():
    t, x, y, _ = track(SEGS, noise_deg=0.02)
    samples = to_samples(t, x, y)
    expected = detect_fixations(samples, SCREEN)
    buf = RingBuffer(4096)
    got: list[FixationEvent] = []
    det = OnlineFixationDetector(SCREEN)
    worker = FixationWorker(buf.reader("fix"), det, [got.append], name="fix-test", clock=_clock)
    worker.start()
    assert worker.is_alive() and worker.name == "fix-test"
    for a in range(0, len(samples), 37):  # a producer pushing irregular blocks
        buf.push_many(samples[a : a + 37])
        time.sleep(0.001)
    worker.stop(timeout=10)
    assert not worker.is_alive()
    assert worker.samples_seen == len(samples) and worker.samples_lost == 0
    assert all(e.t_delivered == 1234.5 for e in got)
    strip = [e.__class__(**{**e.to_dict(), "t_delivered": float("nan")}) for e in got]
    assert as_tuples(strip) == as_tuples(expected)


def test_a_failing_sink_is_counted_and_does_not_stop_the_others():
    t, x, y, _ = track(SEGS)
    buf = RingBuffer(4096)
    good: queue.Queue = queue.Queue()

    def bad(ev: FixationEvent) -> None:
        raise OSError("disk full")

    worker = FixationWorker(buf.reader(), OnlineFixationDetector(SCREEN), [bad, good.put])
    worker.start()
    buf.push_many(to_samples(t, x, y))
    worker.stop(timeout=10)
    assert good.qsize() == worker.events_emitted > 0
    assert worker.sink_errors == worker.events_emitted
    assert isinstance(worker.first_sink_error, OSError)


def test_a_detector_failure_is_surfaced_by_stop():
    class Broken:
        def feed(self, samples):
            raise ZeroDivisionError("boom")

        def flush(self):
            return []

    buf = RingBuffer(64)
    worker = FixationWorker(buf.reader(), Broken(), [], poll_s=0.05).start()
    buf.push_many(to_samples(*track([("fix", 0.01, 0, 0)])[:3]))
    deadline = time.monotonic() + 5
    while worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(RuntimeError, match="boom"):
        worker.stop(timeout=5)
    assert isinstance(worker.error, ZeroDivisionError)


def test_worker_rejects_infinite_waits():
    with pytest.raises(ValueError, match="poll_s"):
        FixationWorker(RingBuffer(8).reader(), OnlineFixationDetector(SCREEN), [], poll_s=0)


def test_lsl_stream_is_read_back_by_a_real_inlet():
    import pylsl

    sid = f"gazeread-test-fix-{uuid.uuid4().hex[:12]}"
    outlet = FixationOutlet(sid, screen=SCREEN.to_dict(), params={"window_ms": 10})
    found = pylsl.resolve_byprop("source_id", sid, 1, 5.0)
    assert found, "Fixations stream not visible on loopback"
    info = found[0]
    assert info.type() == "Fixations" and info.nominal_srate() == pylsl.IRREGULAR_RATE
    assert info.channel_count() == len(FIXATION_CHANNELS)
    inlet = pylsl.StreamInlet(info, max_buflen=10)
    inlet.open_stream(5.0)
    full = inlet.info(5.0)
    ch = full.desc().child("channels").child("channel")
    labels = []
    while not ch.empty():
        labels.append((ch.child_value("label"), ch.child_value("unit")))
        ch = ch.next_sibling()
    assert labels == [(lab, unit) for lab, _, unit in FIXATION_CHANNELS]
    assert full.desc().child("event_kinds").child_value("end") == "3"
    assert outlet.wait_for_consumers(5.0)
    t, x, y, _ = track(SEGS, noise_deg=0.02)
    events = detect_fixations(to_samples(t, x, y), SCREEN)
    for ev in events:
        outlet.push(ev)
    got, stamps = [], []
    deadline = time.monotonic() + 10
    while len(got) < len(events) and time.monotonic() < deadline:
        s, ts = inlet.pull_sample(timeout=0.2)
        if s is not None:
            got.append(event_from_sample(s))
            stamps.append(ts)
    assert len(got) == len(events)
    assert [g.kind for g in got] == [e.kind for e in events]
    for g, e, ts in zip(got, events, stamps, strict=False):
        assert ts == pytest.approx(e.t_emitted, abs=1e-9)
        assert g.fixation_id == e.fixation_id
        for f in ("t_start", "x_px", "y_deg", "duration_ms", "t_end"):
            a, b = getattr(g, f), getattr(e, f)
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b)
    inlet.close_stream()
    outlet.close()


def test_worker_idles_without_spinning_after_the_buffer_closes():
    buf = RingBuffer(64)
    calls = {"n": 0}
    reader = buf.reader()
    real_wait = reader.wait

    def counting_wait(timeout: float) -> bool:
        calls["n"] += 1
        return real_wait(timeout)

    reader.wait = counting_wait  # type: ignore[method-assign]
    worker = FixationWorker(reader, OnlineFixationDetector(SCREEN), [], poll_s=0.05).start()
    buf.close()
    time.sleep(0.5)
    worker.stop(timeout=5)
    assert calls["n"] < 30  # about one wait per poll interval, not thousands


def test_event_without_emission_time_is_stamped_with_its_own_time_not_now(caplog):
    """A NaN ``t_emitted`` was sent as timestamp 0.0, which LSL replaces by "now"."""
    import pylsl

    sid = f"gazeread-test-fixnan-{uuid.uuid4().hex[:12]}"
    outlet = FixationOutlet(sid)
    found = pylsl.resolve_byprop("source_id", sid, 1, 5.0)
    assert found, "Fixations stream not visible on loopback"
    inlet = pylsl.StreamInlet(found[0], max_buflen=10)
    inlet.open_stream(5.0)
    assert outlet.wait_for_consumers(5.0)
    nan = float("nan")
    end = FixationEvent(kind="end", t_emitted=nan, t_start=12.25, t_end=12.5, fixation_id=3)
    start = FixationEvent(kind="start_provisional", t_emitted=nan, t_start=20.125, fixation_id=4)
    timeless = FixationEvent(kind="cancel", t_emitted=nan, t_start=nan, fixation_id=5)
    with caplog.at_level("WARNING", logger="acquisition.fixations.lsl_stream"):
        for ev in (end, timeless, start):
            outlet.push(ev)
    assert outlet.n_skipped == 1
    assert "cancel event 5 has no finite time" in caplog.text
    got: list[tuple[int, float]] = []
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        s, ts = inlet.pull_sample(timeout=0.2)
        if s is not None:
            got.append((event_from_sample(s).fixation_id, ts))
    assert got == [(3, 12.5), (4, 20.125)]
    inlet.close_stream()
    outlet.close()
