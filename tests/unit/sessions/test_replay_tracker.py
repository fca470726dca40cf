"""The replay tracker streams a recorded session again through the Tracker interface."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers import TrackerError, create_tracker, tracker_class
from acquisition.trackers.replay import ReplayTracker
from sessions.store import (
    RecordedSessionSource,
    SessionStore,
    StoreError,
    recorded_session,
    with_recorded_session,
)
from tests.support.synthetic_session import write_synthetic_session


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    return write_synthetic_session(root, n_trials=2, trial_s=0.6, rate_hz=250.0, drop_every=50)


@pytest.fixture
def session(folder: Path) -> Iterator[RecordedSessionSource]:
    """The recorded session as the sessions layer hands it to the replay tracker."""
    src = recorded_session(folder)
    yield src
    src.close()


def test_replays_one_trial_with_its_timing(session: Any, folder: Path) -> None:
    buf = RingBuffer(1 << 14)
    reader = buf.reader("test")
    tr = create_tracker("replay", buf, session=session, trial=1, speed=3.0, clock=time.monotonic)
    assert isinstance(tr, ReplayTracker)
    assert tr.rate_hz == 250.0 and tr.supported_rates() == [250.0]
    assert tr.info.backend == "replay" and "synthetic" in tr.info.model
    start = time.monotonic()
    tr.start()
    assert tr.wait_finished(10.0)
    tr.stop()
    got = reader.consume().samples
    with SessionStore.open(folder) as st:
        orig = st.trial_samples(1)
    assert len(got) == len(orig) == tr.emitted
    np.testing.assert_array_equal(got["device_ts"], orig["device_ts"])
    np.testing.assert_array_equal(got["left_x"], orig["left_x"])
    assert np.all(got["flags"] & SampleFlag.REPLAYED)
    # re-stamped on the live clock, intervals scaled by 1/speed
    np.testing.assert_allclose(np.diff(got["t"]), np.diff(orig["t"]) / 3.0, atol=1e-9)
    assert got["t"][0] >= start
    # the original gaps are seen again, as a live tracker would report them
    kinds = [e.kind for e in tr.drain_events()]
    assert "samples_dropped" in kinds and kinds[-1] == "replay_finished"


def test_time_range_and_unpaced(session: Any, folder: Path) -> None:
    with SessionStore.open(folder) as st:
        span = st.sample_time_range()
    assert span is not None
    t0 = span[0]
    buf = RingBuffer(1 << 14)
    reader = buf.reader("test")
    assert tracker_class("replay") is ReplayTracker
    tr = ReplayTracker(buf, session=session, t0=t0 + 1.0, t1=t0 + 2.0, speed=math.inf)
    with tr:
        assert tr.wait_finished(10.0)
    got = reader.consume().samples
    assert abs(len(got) - 250) <= 6  # 1 s at 250 Hz minus the dropped samples


@pytest.mark.parametrize(
    ("opts", "needle"),
    [
        ({"speed": 0.0}, "speed"),
        ({"trial": 7}, "no trial 7"),
        ({"trial": 0, "t0": 1.0}, "either trial or t0"),
        ({"t0": 5.0, "t1": 4.0}, "empty range"),
    ],
    ids=["zero-speed", "missing-trial", "trial-and-range", "empty-range"],
)
def test_bad_options_are_explained(session: Any, opts: dict[str, Any], needle: str) -> None:
    with pytest.raises(TrackerError, match=needle):
        create_tracker("replay", RingBuffer(16), session=session, **opts)


def test_missing_session_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no gazeread session"):
        recorded_session(tmp_path)


def test_a_path_is_refused_by_the_acquisition_layer(folder: Path) -> None:
    # the acquisition layer opens no session file itself: the sessions layer hands a source
    with pytest.raises(TrackerError, match="opened by the sessions layer"):
        create_tracker("replay", RingBuffer(16), session=folder)


def test_pipeline_options_open_the_path(folder: Path) -> None:
    opts, src = with_recorded_session("replay", {"session": str(folder), "speed": 2.0})
    assert src is not None and opts["session"] is src and opts["speed"] == 2.0
    src.close()
    assert with_recorded_session("simulated", {"session": "x"}) == ({"session": "x"}, None)


def test_stop_midway_is_clean(session: Any) -> None:
    buf = RingBuffer(1 << 14)
    tr = ReplayTracker(buf, session=session, speed=1.0, clock=time.monotonic)
    tr.start()
    time.sleep(0.05)
    tr.stop()
    assert not tr.finished and not tr.running
