"""The recorder thread: batches, tracker events/offsets, fixations, lost samples, write errors."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.clock import ClockOffset
from acquisition.fixations import FixationEvent
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import empty_samples
from sessions.run.fixation_trials import fixation_to_row
from sessions.run.recorder import Recorder
from sessions.store import SessionStore, StoreError
from stimuli.layout import ImageLayout


def _block(n: int, t0: float) -> np.ndarray:
    s = empty_samples(n)
    s["t"] = t0 + np.arange(n) / 1000.0
    s["device_ts"] = np.rint(s["t"] * 1e6).astype(np.int64)
    s["left_x"] = 0.5
    s["left_valid"] = 1
    return s


class _FakeTracker:
    def __init__(self: Any) -> None:
        self.events: list = []
        self.offsets: list = []

    def drain_events(self: Any) -> list:
        out, self.events = self.events, []
        return out

    def drain_offsets(self: Any) -> list:
        out, self.offsets = self.offsets, []
        return out


def _Ev(kind, t_emitted, t_start, t_end, x_px, y_px, duration_ms=float("nan")):
    return FixationEvent(kind, t_emitted, t_start, t_end, x_px, y_px, duration_ms=duration_ms)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    yield st
    st.close()


def test_everything_pushed_is_written_after_stop(store: SessionStore) -> None:
    buf = RingBuffer(1 << 12)
    rec = Recorder(buf.reader("recorder"), store, batch_s=0.01, name="test-recorder").start()
    assert rec.running and rec._thread.name == "test-recorder"
    for k in range(20):
        buf.push_many(_block(50, 1.0 + k * 0.05))
    rec.stop()
    assert not rec.running and rec.error is None
    assert store.sample_count() == 1000 == rec.stats.samples
    t = store.sample_arrays(("t",))["t"]
    assert np.all(np.diff(t) > 0)


def test_tracker_events_offsets_and_fixations_are_stored(store: SessionStore) -> None:
    from acquisition.trackers.base import TrackerEvent

    buf = RingBuffer(1 << 10)
    tr = _FakeTracker()
    tr.events.append(TrackerEvent(5.0, "samples_dropped", "3 missing", {"count": 3, "t": 4.5}))
    tr.offsets.append(("tobii_system", ClockOffset(5.0, 0.25, 1e-5)))
    rec = Recorder(buf.reader("r"), store, tracker=tr, batch_s=0.01)
    layout = ImageLayout(1000, 1000, 1920, 1080, 1.0, 460.0, 40.0)
    rec.set_trial(2, layout)
    rec.add_fixation_event(_Ev("start_provisional", 1.0, 1.0, float("nan"), 960.0, 540.0))
    rec.add_fixation_event(_Ev("end", 1.3, 1.0, 1.25, 960.0, 540.0, duration_ms=250.0))
    rec.add_fixation_event({"trial_id": None, "t_start": 2.0, "t_end": 2.1, "duration_ms": 100.0})
    with rec:
        pass
    ev = store.events("samples_dropped")
    assert len(ev) == 1 and ev[0]["t"] == 4.5 and ev[0]["data"] == {"count": 3}
    assert store.query("SELECT source, offset_s FROM clock_offsets") == [("tobii_system", 0.25)]
    fx = store.fixations()
    assert len(fx) == 2
    assert fx[0]["trial_id"] == 2
    assert fx[0]["image_x"] == pytest.approx(500.0) and fx[0]["image_y"] == pytest.approx(500.0)
    assert fx[0]["duration_ms"] == 250.0


def test_fixation_off_image_has_no_image_coordinates() -> None:
    layout = ImageLayout(100, 100, 1920, 1080, 1.0, 0.0, 0.0)
    row = fixation_to_row(_Ev("end", 1, 0, 1, 500.0, 500.0), layout, 1)  # type: ignore[arg-type]
    assert row["image_x"] is None and row["x_px"] == 500.0


def test_lost_samples_are_recorded_not_silent(store: SessionStore) -> None:
    buf = RingBuffer(64)
    reader = buf.reader("r")
    buf.push_many(_block(200, 1.0))  # the reader falls 136 samples behind
    rec = Recorder(reader, store, batch_s=0.01).start()
    rec.stop()
    ev = store.events("samples_lost")
    assert len(ev) == 1 and ev[0]["data"]["count"] == 136
    assert rec.stats.lost == 136 and store.sample_count() == 64


class _FailingStore(SessionStore):
    fail_after = 3

    def append_samples(self: Any, samples: np.ndarray) -> None:
        if self.fail_after <= 0:
            raise sqlite3.OperationalError("database or disk is full")
        self.fail_after -= 1
        super().append_samples(samples)


def test_write_error_stops_cleanly_with_message_and_data_intact(tmp_path: Path) -> None:
    base = SessionStore.create(tmp_path, "study", "p01", 1)
    store = _FailingStore(base.path, base._conn)
    buf = RingBuffer(1 << 12)
    got: list[str] = []
    done = threading.Event()

    def on_error(msg: str) -> None:
        got.append(msg)
        done.set()

    rec = Recorder(buf.reader("r"), store, batch_s=0.01, on_error=on_error).start()
    for k in range(10):
        buf.push_many(_block(10, 1.0 + k * 0.01))
        if k < 3:
            # give the recorder a batch per block for the first three
            deadline = rec.stats.batches
            for _ in range(200):
                if rec.stats.batches > deadline:
                    break
                threading.Event().wait(0.005)
    assert done.wait(5.0)
    rec.stop()
    assert rec.failed and not rec.running
    assert rec.error is not None
    assert "disk is full" in rec.error and str(store.path) in rec.error and "--resume" in rec.error
    assert got == [rec.error]
    written = rec.stats.samples
    assert written >= 30 and store.sample_count() == written  # what was committed is intact
    ev = store.events("recording_error")
    assert len(ev) == 1 and ev[0]["data"]["samples_written"] == written
    store.close()


def test_batch_period_is_validated(store: SessionStore) -> None:
    buf = RingBuffer(16)
    with pytest.raises(ValueError, match="batch_s"):
        Recorder(buf.reader("r"), store, batch_s=0.5)


def test_a_live_recording_can_be_checked_without_disturbing_it(store: SessionStore) -> None:
    from sessions.commands.check import check_session

    buf = RingBuffer(1 << 14)
    rec = Recorder(buf.reader("r"), store, batch_s=0.01).start()
    buf.push_many(_block(500, 1.0))
    for _ in range(3):
        rep = check_session(store.folder)  # its own connection; closing it must not checkpoint
        assert rep["status"] == "running"
        buf.push_many(_block(10, 2.0 + _ * 0.01))
    rec.stop()
    assert rec.error is None and store.sample_count() == 530


def test_a_malformed_fixation_is_reported_and_recording_goes_on(store: SessionStore) -> None:
    buf = RingBuffer(1 << 10)
    rec = Recorder(buf.reader("r"), store, batch_s=0.01).start()
    rec.add_fixation_event({"trial_id": 1, "t_start": 1.0})  # no t_end: NOT NULL
    rec.add_fixation_event({"nonsense_column": 1})
    rec.add_fixation_event(_Ev("end", 2.2, 2.0, 2.1, 10.0, 10.0, duration_ms=100.0))
    buf.push_many(_block(100, 1.0))
    rec.stop()
    assert rec.error is None and store.sample_count() == 100
    assert rec.stats.fixations == 1 and rec.stats.rejected_fixations == 2
    assert len(store.events("fixation_rejected")) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not bind root")
def test_read_only_folder_is_refused_clearly(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="cannot create the session folder"):
            SessionStore.create(ro, "study", "p01", 1)
    finally:
        ro.chmod(0o755)


def test_fixations_are_cut_at_image_onset_and_offset(store: SessionStore) -> None:
    """The one rule: the part while the image was shown is the trial's, with image px."""
    buf = RingBuffer(1 << 10)
    rec = Recorder(buf.reader("r"), store, batch_s=0.01)
    layout = ImageLayout(1000, 1000, 1920, 1080, 1.0, 460.0, 40.0)
    rec.set_trial(4, layout, t_from=10.0)
    rec.set_trial(None, None, t_from=20.0)
    assert rec.trial_at(9.9) == (None, None) and rec.trial_at(10.0) == (4, layout)
    assert rec.trial_windows() == [(10.0, 20.0, 4, layout)]
    for t0 in (9.0, 9.9, 15.0, 19.9, 25.0):
        rec.add_fixation_event(_Ev("end", t0 + 0.3, t0, t0 + 0.25, 960.0, 540.0, duration_ms=250.0))
    with rec:
        pass
    got = [
        (round(f["t_start"], 3), round(f["t_end"], 3), f["trial_id"], f["image_x"],
         round(f["duration_ms"], 3))
        for f in store.fixations()
    ]  # fmt: skip
    assert got == [
        (9.0, 9.25, None, None, 250.0),
        (9.9, 10.0, None, None, 100.0),  # began on the drift-check target...
        (10.0, 10.15, 4, 500.0, 150.0),  # ...the part on the image is the trial's
        (15.0, 15.25, 4, 500.0, 250.0),
        (19.9, 20.0, 4, 500.0, 100.0),
        (20.0, 20.15, None, None, 150.0),  # after the image went: no trial
        (25.0, 25.25, None, None, 250.0),
    ]
    assert rec.stats.fixations == 7


def test_cut_at_windows_pieces() -> None:
    from sessions.run.fixation_trials import cut_at_windows

    w = [(10.0, 20.0, 1, "L1"), (30.0, math.inf, 2, "L2")]
    assert cut_at_windows(12.0, 13.0, w) == [(12.0, 13.0, 1, "L1")]
    assert cut_at_windows(5.0, 6.0, w) == [(5.0, 6.0, None, None)]
    assert cut_at_windows(19.0, 31.0, w) == [
        (19.0, 20.0, 1, "L1"), (20.0, 30.0, None, None), (30.0, 31.0, 2, "L2")
    ]  # fmt: skip
    assert cut_at_windows(10.0, 10.0, w) == [(10.0, 10.0, None, None)]


def test_a_batch_is_one_transaction(store: SessionStore) -> None:
    from acquisition.trackers.base import TrackerEvent

    begins: list[str] = []
    store._conn.set_trace_callback(
        lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None
    )
    buf = RingBuffer(1 << 10)
    tr = _FakeTracker()
    tr.events += [TrackerEvent(1.0, "rate_changed", "a"), TrackerEvent(1.1, "error", "b")]
    tr.offsets.append(("tobii_system", ClockOffset(1.0, 0.25, 1e-5)))
    rec = Recorder(buf.reader("r"), store, tracker=tr, batch_s=0.01)
    buf.push_many(_block(100, 1.0))
    rec.add_fixation_event(_Ev("end", 1.3, 1.0, 1.05, 960.0, 540.0, duration_ms=50.0))
    with rec:  # everything is waiting before the first batch: one batch, one transaction
        pass
    store._conn.set_trace_callback(None)
    assert rec.stats.batches == 1 and rec.stats.events == 2 and rec.stats.fixations == 1
    assert begins == ["BEGIN IMMEDIATE"]
    assert store.sample_count() == 100 and len(store.fixations()) == 1


class _OffsetFailsStore(SessionStore):
    def add_clock_offset(self: Any, *args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")


def test_a_failed_batch_leaves_nothing_half_written(tmp_path: Path) -> None:
    base = SessionStore.create(tmp_path, "study", "p01", 1)
    store = _OffsetFailsStore(base.path, base._conn)
    tr = _FakeTracker()
    tr.offsets.append(("tobii_system", ClockOffset(1.0, 0.25, 1e-5)))
    buf = RingBuffer(1 << 10)
    rec = Recorder(buf.reader("r"), store, tracker=tr, batch_s=0.01)
    buf.push_many(_block(100, 1.0))
    rec.add_fixation_event(_Ev("end", 1.3, 1.0, 1.05, 960.0, 540.0, duration_ms=50.0))
    with rec:
        pass
    assert rec.failed and "disk is full" in (rec.error or "")
    # the samples and the fixation of the failed batch were rolled back with it
    assert store.sample_count() == 0 == rec.stats.samples and store.fixations() == []
    assert rec.stats.fixations == 0 and rec.stats.lost_fixations == 1
    assert len(store.events("recording_error")) == 1
    store.close()


def test_fixations_after_stop_are_not_lost_silently(store: SessionStore) -> None:
    buf = RingBuffer(1 << 10)
    rec = Recorder(buf.reader("r"), store, batch_s=0.01).start()
    rec.stop()
    rec.add_fixation_event(_Ev("start_confirmed", 1.2, 1.0, 1.1, 5.0, 5.0))  # never stored
    rec.add_fixation_event(_Ev("end", 1.3, 1.0, 1.05, 960.0, 540.0, duration_ms=50.0))
    assert rec.stats.late_fixations == 1 and rec.stats.lost_fixations == 0
    assert len(store.fixations()) == 1  # the store still takes writes: written directly
    store.close()
    with pytest.raises(RuntimeError, match=r"arrived after the recorder .* stopped"):
        rec.add_fixation_event(_Ev("end", 2.3, 2.0, 2.05, 960.0, 540.0, duration_ms=50.0))
    assert rec.stats.late_fixations == 2 and rec.stats.lost_fixations == 1


def test_store_batch_is_atomic_and_reentrant(store: SessionStore) -> None:
    other = sqlite3.connect(store.path)
    try:
        with store.batch():
            store.append_samples(_block(10, 1.0))
            with store.batch():
                store.add_event(1.0, "note")
            with pytest.raises(StoreError):  # a caught inner failure undoes only itself
                store.update_trial(99, status="shown")
            store.sync()  # deferred to the commit
            assert other.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 0
        assert other.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 10
        assert not store._sync_pending
        with pytest.raises(ZeroDivisionError), store.batch():
            store.append_samples(_block(10, 2.0))
            store.add_event(2.0, "note")
            1 / 0  # noqa: B018
        assert store.sample_count() == 10 and len(store.events("note")) == 1
    finally:
        other.close()


def _fixation_end(**kw: Any) -> FixationEvent:
    base: dict[str, Any] = dict(
        kind="end",
        t_emitted=10.4,
        t_start=10.0,
        t_end=10.3,
        x_px=960.0,
        y_px=540.0,
        x_deg=0.0,
        y_deg=0.0,
        duration_ms=300.0,
        dispersion_deg=0.4,
        t_confirmed=10.07,
    )
    base.update(kw)
    return FixationEvent(**base)


def test_row_has_store_columns_and_image_pixels():
    layout = ImageLayout(2000, 2000, 1920, 1080, 0.5, 460.0, 40.0)
    row = fixation_to_row(_fixation_end(), layout, trial_id=3)
    assert row["image_x"] == pytest.approx(1000.0) and row["image_y"] == pytest.approx(1000.0)
    assert row["trial_id"] == 3 and row["eye"] == "average"
    assert row["t_emitted_start"] == 10.07 and row["t_emitted_end"] == 10.4
    off = fixation_to_row(_fixation_end(x_px=100.0), layout, None)
    assert off["image_x"] is None and off["trial_id"] is None
    assert fixation_to_row(_fixation_end(x_px=math.nan), None)["x_px"] is None
    with pytest.raises(ValueError, match="'end' event"):
        fixation_to_row(_fixation_end(kind="start_confirmed"))
