"""GazeOutlet and MarkerOutlet, read back with real pylsl inlets on loopback."""

from __future__ import annotations

import json
import time

import numpy as np
import pylsl
import pytest

from acquisition.lsl_outlets import GAZE_CHANNELS, GazeOutlet, MarkerOutlet, gaze_rows_to_matrix
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import empty_samples
from acquisition.trackers.lsl_tracker import LslTracker, read_channel_metadata
from tests.support.lsl_outlets import unique_id


def inlet_for(source_id: str) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("source_id", source_id, 1, 3.0)
    assert found, f"stream {source_id} not found on loopback"
    inlet = pylsl.StreamInlet(found[0], max_buflen=10)
    inlet.open_stream(3.0)
    return inlet


def gaze_rows(n: int, t0: float, rate: float = 500.0) -> np.ndarray:
    rows = empty_samples(n)
    i = np.arange(n)
    rows["t"] = t0 + i / rate
    rows["device_ts"] = i * 2000
    rows["left_x"] = 0.1 + i * 1e-4
    rows["left_y"] = 0.2
    rows["right_x"] = 0.3
    rows["right_y"] = 0.4 + i * 1e-4
    rows["left_valid"] = rows["right_valid"] = 1
    rows["left_pupil"] = 3.25
    rows["left_eye_pos"] = (-31.0, 1.0, 600.0)
    rows["flags"] = 4
    return rows


def pull_all(
    inlet: pylsl.StreamInlet, n: int, timeout: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    data: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    end = time.monotonic() + timeout
    while sum(len(t) for t in ts) < n and time.monotonic() < end:
        d, t = inlet.pull_chunk(timeout=0.1, max_samples=1024, as_numpy=True)
        if len(t):
            data.append(d)
            ts.append(t)
    return np.concatenate(data) if data else np.empty((0, 16)), np.concatenate(
        ts
    ) if ts else np.empty(0)


def test_matrix_layout_matches_channels() -> None:
    rows = gaze_rows(3, 10.0)
    m = gaze_rows_to_matrix(rows)
    assert m.shape == (3, len(GAZE_CHANNELS))
    labels = [c.label for c in GAZE_CHANNELS]
    np.testing.assert_allclose(m[:, labels.index("left_x")], rows["left_x"])
    np.testing.assert_allclose(m[:, labels.index("left_eye_z")], 600.0)
    assert np.isnan(m[0, labels.index("right_pupil")])
    np.testing.assert_array_equal(m[:, labels.index("flags")], 4)


def test_gaze_outlet_metadata_and_per_sample_timestamps() -> None:
    sid = unique_id("gout")
    buf = RingBuffer(1024)
    outlet = GazeOutlet(
        buf.reader("lsl"), 500.0, sid, name="test-Gaze", extra={"tracker": "simulated"}
    )
    with outlet:
        inlet = inlet_for(sid)
        info = inlet.info(3.0)
        assert (info.type(), info.nominal_srate(), info.source_id()) == ("Gaze", 500.0, sid)
        meta = read_channel_metadata(info)
        assert [m["label"] for m in meta] == [c.label for c in GAZE_CHANNELS]
        assert meta[0] == {
            "label": "left_x",
            "eye": "left",
            "type": "ScreenX",
            "unit": "normalized",
            "coordinate_system": "",
        }
        assert info.desc().child_value("tracker") == "simulated"
        t0 = pylsl.local_clock()
        rows = gaze_rows(300, t0)
        buf.push_many(rows[:100])
        buf.push_many(rows[100:])
        data, ts = pull_all(inlet, 300)
    assert outlet.pushed == 300 and outlet.lost_total == 0
    assert len(ts) == 300
    # each sample carries its own session-clock time (same host: no clock correction needed)
    np.testing.assert_allclose(ts, rows["t"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(data[:, 0], rows["left_x"])
    np.testing.assert_allclose(data[:, 3], rows["right_y"])


def test_gaze_outlet_round_trip_through_lsl_tracker() -> None:
    """gazeread's own Gaze stream is understood by the lsl backend without configuration."""
    sid = unique_id("rt")
    src = RingBuffer(1024)
    dst = RingBuffer(1024)
    with GazeOutlet(src.reader("lsl"), 500.0, sid):
        tr = LslTracker(dst, source_id=sid, resolve_timeout=3.0)
        assert tr.info.extra["mapping_source"] == "metadata"
        r = dst.reader()
        tr.start()
        try:
            rows = gaze_rows(200, pylsl.local_clock())
            time.sleep(0.2)  # let the inlet connect before pushing
            src.push_many(rows)
            end = time.monotonic() + 5
            while r.available() < 200 and time.monotonic() < end:
                time.sleep(0.01)
        finally:
            tr.stop()
    got = r.consume().samples
    assert len(got) == 200
    np.testing.assert_allclose(got["t"], rows["t"], atol=1e-4)
    for f in ("left_x", "left_y", "right_x", "right_y", "left_pupil"):
        np.testing.assert_allclose(got[f], rows[f], err_msg=f)
    np.testing.assert_allclose(got["left_eye_pos"], rows["left_eye_pos"])


def test_gaze_outlet_counts_lost_samples_and_stops() -> None:
    buf = RingBuffer(8)
    reader = buf.reader("lsl")
    outlet = GazeOutlet(reader, 100.0, unique_id("lost"))
    buf.push_many(gaze_rows(20, pylsl.local_clock()))  # 12 lost before the thread runs
    outlet.start()
    end = time.monotonic() + 5
    while outlet.pushed < 8 and time.monotonic() < end:
        time.sleep(0.01)
    outlet.stop()
    assert outlet.pushed == 8 and outlet.lost_total == 12
    outlet.stop()  # idempotent


def test_gaze_outlet_surfaces_thread_errors() -> None:
    buf = RingBuffer(8)

    def boom(_chunk: object) -> None:
        raise ValueError("observer exploded")

    outlet = GazeOutlet(buf.reader(), 100.0, unique_id("err"), observer=boom).start()
    buf.push_many(gaze_rows(2, pylsl.local_clock()))
    time.sleep(0.3)
    with pytest.raises(RuntimeError, match="observer exploded"):
        outlet.stop()


@pytest.mark.parametrize(("args", "match"), [((100.0, ""), "source_id"), ((-1.0, "x"), "rate_hz")])
def test_gaze_outlet_bad_arguments(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GazeOutlet(RingBuffer(4).reader(), *args)


def test_marker_outlet_sends_text_with_given_time() -> None:
    sid = unique_id("mk")
    markers = MarkerOutlet(sid, name="test-Markers")
    inlet = inlet_for(sid)
    info = inlet.info(3.0)
    assert (info.type(), info.channel_format(), info.nominal_srate()) == (
        "Markers",
        pylsl.cf_string,
        0.0,
    )
    t = pylsl.local_clock() - 0.25  # e.g. a flip time in the past
    text = json.dumps({"event": "image_onset", "trial": 3, "image_id": "x"})
    time.sleep(0.1)
    markers.push(text, t)
    sample, ts = inlet.pull_sample(timeout=3.0)
    assert sample == [text]
    assert ts == pytest.approx(t, abs=1e-9)  # the given time, not the time of the call
    markers.close()
    markers.close()
    with pytest.raises(RuntimeError, match="closed"):
        markers.push("late", pylsl.local_clock())


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")], ids=["zero", "negative", "nan"])
def test_marker_time_must_be_a_session_time(t: float) -> None:
    with (
        MarkerOutlet(unique_id("mkt")) as markers,
        pytest.raises(ValueError, match="session-clock time"),
    ):
        markers.push("x", t)


def test_marker_text_must_be_str() -> None:
    with MarkerOutlet(unique_id("mks")) as markers, pytest.raises(TypeError, match="str"):
        markers.push(b"x", 1.0)  # type: ignore[arg-type]
