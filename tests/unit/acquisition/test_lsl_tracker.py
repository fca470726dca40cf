"""LslTracker: channel mapping (pure) and real pylsl outlets on loopback."""

from __future__ import annotations

import time

import numpy as np
import pylsl
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers import TrackerError, create_tracker, tracker_class
from acquisition.trackers.lsl_tracker import LslTracker, map_channels
from tests.support.lsl_outlets import (
    XDF_CHANNELS,
    PacedPusher,
    make_outlet,
    sample_values,
    unique_id,
)


def chans(spec: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    return [dict(zip(("label", "eye", "type", "unit"), c, strict=True)) for c in spec]


def wait_for(pred, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False


# ----------------------------------------------------------------------------- mapping (pure)
def test_metadata_mapping_binocular() -> None:
    m = map_channels("s", chans(XDF_CHANNELS))
    assert m.source == "metadata"
    assert {k: i for k, i, _, _ in m.targets} == {
        "left_x": 0, "left_y": 1, "right_x": 2, "right_y": 3, "left_pupil": 4, "right_pupil": 5,
    }  # fmt: skip


def test_metadata_types_and_eyes_case_insensitive_and_both_eyes() -> None:
    m = map_channels("s", chans([("gx", "Both", "screenX", ""), ("gy", "", "SCREENY", "")]))
    got = {k: i for k, i, _, _ in m.targets}
    assert got == {"left_x": 0, "left_y": 1, "right_x": 0, "right_y": 1}
    assert any("no unit" in n for n in m.notes)


def test_eye_specific_channel_beats_binocular() -> None:
    spec = [
        ("bx", "both", "ScreenX", ""),
        ("by", "both", "ScreenY", ""),
        ("lx", "left", "ScreenX", ""),
    ]
    got = {k: i for k, i, _, _ in map_channels("s", chans(spec)).targets}
    assert got["left_x"] == 2 and got["right_x"] == 0


def test_pixels_are_normalised_with_screen_size() -> None:
    spec = [("x", "left", "ScreenX", "pixels"), ("y", "left", "ScreenY", "px")]
    m = map_channels("s", chans(spec), screen_size_px=(1920, 1080))
    scales = {k: s for k, _, s, _ in m.targets}
    assert scales == {"left_x": pytest.approx(1 / 1920), "left_y": pytest.approx(1 / 1080)}


def test_pixels_without_screen_size_say_what_to_pass() -> None:
    spec = [("x", "left", "ScreenX", "pixels"), ("y", "left", "ScreenY", "pixels")]
    with pytest.raises(TrackerError, match=r"pixels.*screen_size_px"):
        map_channels("'eyes'", chans(spec))


def test_unknown_gaze_unit_is_refused() -> None:
    spec = [("x", "left", "ScreenX", "degrees"), ("y", "left", "ScreenY", "degrees")]
    with pytest.raises(TrackerError, match="unit 'degrees'"):
        map_channels("s", chans(spec))


def test_bottom_origin_flips_y() -> None:
    spec = [("x", "left", "ScreenX", "normalized"), ("y", "left", "ScreenY", "normalized")]
    m = map_channels("s", chans(spec), y_origin="bottom")
    assert [(k, s, o) for k, _, s, o in m.targets] == [("left_x", 1.0, 0.0), ("left_y", -1.0, 1.0)]


def test_unmappable_channels_name_stream_labels_and_fix() -> None:
    spec = [("EEG1", "", "EEG", "uV"), ("EEG2", "", "EEG", "uV")]
    with pytest.raises(TrackerError) as ei:
        map_channels("'brainamp'", chans(spec))
    msg = str(ei.value)
    assert "'brainamp'" in msg and "EEG1" in msg and "EEG2" in msg
    assert "mapping=" in msg and "ScreenX" in msg


def test_x_without_y_is_unmappable() -> None:
    with pytest.raises(TrackerError, match="x and a y"):
        map_channels("s", chans([("x", "left", "ScreenX", "")]))


def test_explicit_mapping_by_label_and_index() -> None:
    spec = [("a", "", "", ""), ("b", "", "", ""), ("c", "", "", "")]
    m = map_channels("s", chans(spec), mapping={"left_x": "a", "left_y": 1, "left_pupil": "c"})
    assert m.source == "explicit"
    assert {k: i for k, i, _, _ in m.targets} == {"left_x": 0, "left_y": 1, "left_pupil": 2}


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"left_x": "a", "lefty": "b"}, "unknown mapping key 'lefty'.*valid keys"),
        ({"left_x": "a", "left_y": "zz"}, r"no such channel.*\['a', 'b'\]"),
        ({"left_x": "a", "left_y": 7}, "index 7 is out of range"),
    ],
    ids=["bad-key", "bad-label", "bad-index"],
)
def test_explicit_mapping_errors(mapping: dict, match: str) -> None:
    with pytest.raises(TrackerError, match=match):
        map_channels("s", chans([("a", "", "", ""), ("b", "", "", "")]), mapping=mapping)


def test_gazeread_labels_map_without_types() -> None:
    spec = [("left_x", "", "", ""), ("left_y", "", "", "")]
    assert map_channels("s", chans(spec)).keys() == {"left_x", "left_y"}


# ----------------------------------------------------------------------------- registry
def test_registered_and_available() -> None:
    assert tracker_class("lsl") is LslTracker
    avail = LslTracker.is_available()
    assert avail.ok and "pylsl" in avail.reason and "liblsl" in avail.reason


# ----------------------------------------------------------------------------- loopback
def test_stream_not_found_names_the_query() -> None:
    sid = unique_id("absent")
    with pytest.raises(
        TrackerError, match=rf"no stream matching .*source_id='{sid}'.*within 0.2 s"
    ):
        LslTracker(RingBuffer(16), source_id=sid, resolve_timeout=0.2)


def test_no_query_looks_for_either_gaze_type_and_bad_timeout_refused() -> None:
    # App-TobiiPro's older builds publish type Eyetracker: both are gaze streams
    with pytest.raises(TrackerError, match=r"type='Gaze' or type='Eyetracker'"):
        LslTracker(RingBuffer(16), resolve_timeout=0.2)
    with pytest.raises(TrackerError, match="resolve_timeout"):
        LslTracker(RingBuffer(16), source_id="x", resolve_timeout=float("inf"))


def test_unmappable_stream_raises_with_its_labels() -> None:
    sid = unique_id("eeg")
    _outlet = make_outlet(
        sid, channels=[("Fz", "", "EEG", "uV"), ("Cz", "", "EEG", "uV")], type_="EEG"
    )
    with pytest.raises(TrackerError) as ei:
        create_tracker("lsl", RingBuffer(16), source_id=sid, type=None, resolve_timeout=2.0)
    msg = str(ei.value)
    assert sid in msg and "Fz" in msg and "Cz" in msg and "mapping=" in msg


def test_samples_mapped_timed_and_offsets_stored() -> None:
    sid = unique_id("gaze")
    outlet = make_outlet(sid, rate=250.0)
    buf = RingBuffer(1 << 12)
    tr = LslTracker(buf, source_id=sid, resolve_timeout=2.0)
    assert tr.rate_hz == 250.0 and tr.supported_rates() == [250.0]
    assert tr.info.extra["mapping"]["left_x"] == "LX"
    r = buf.reader("t")
    with PacedPusher(outlet, 250.0) as pusher:
        tr.start()
        assert wait_for(lambda: r.available() >= 50)
        tr.stop()
    s = r.consume().samples
    assert len(s) >= 50
    # device_ts holds the remote timestamp; t = remote + time_correction
    offsets = tr.drain_offsets()
    assert offsets and offsets[0][0] == f"lsl:{sid}"
    assert 0 <= offsets[0][1].uncertainty_s < 0.01, "liblsl's uncertainty is stored"
    off = offsets[-1][1].offset_s
    np.testing.assert_allclose(s["t"], s["device_ts"] / 1e6 + off, atol=2e-6)
    # the values are the pushed ones: x = 0.1 + i/1e5 with i = (remote ts - t0) * rate
    i = np.round((s["device_ts"] / 1e6 - pusher.t0) * 250.0)
    np.testing.assert_allclose(s["left_x"], 0.1 + i * 1e-5, atol=1e-9)
    np.testing.assert_allclose(s["right_y"], 0.4 + i * 1e-5, atol=1e-9)
    assert np.all(s["left_valid"] == 1) and np.all(s["right_pupil"] == 3.0)
    assert np.all(np.diff(s["t"]) > 0)


def test_pixel_stream_normalised_and_invalid_eye_nan() -> None:
    sid = unique_id("px")
    spec = [
        ("x", "left", "ScreenX", "pixels"),
        ("y", "left", "ScreenY", "pixels"),
        ("v", "left", "Validity", ""),
    ]
    outlet = make_outlet(sid, channels=spec, rate=100.0)

    class Screen:
        width_px, height_px = 1000, 500

    buf = RingBuffer(256)
    tr = LslTracker(buf, source_id=sid, resolve_timeout=2.0, screen=Screen())
    r = buf.reader()
    tr.start()
    try:
        t0 = pylsl.local_clock()
        outlet.push_chunk([[500.0, 250.0, 1.0], [100.0, 50.0, 0.0]], [t0, t0 + 0.01])
        assert wait_for(lambda: r.available() >= 2)
    finally:
        tr.stop()
    s = r.consume().samples
    assert (s["left_x"][0], s["left_y"][0], s["left_valid"][0]) == (0.5, 0.5, 1)
    assert np.isnan(s["left_x"][1]) and s["left_valid"][1] == 0
    assert np.all(s["right_valid"] == 0) and np.all(np.isnan(s["right_x"]))


def test_gap_in_stream_timestamps_is_flagged_and_counted() -> None:
    sid = unique_id("gap")
    outlet = make_outlet(sid, rate=200.0)
    buf = RingBuffer(1 << 12)
    tr = LslTracker(buf, source_id=sid, resolve_timeout=2.0)
    r = buf.reader()
    tr.start()
    try:
        t0 = pylsl.local_clock()
        idx = [k for k in range(40) if k not in (20, 21, 22, 23)]
        outlet.push_chunk(sample_values(np.array(idx)), [t0 + k / 200.0 for k in idx])
        assert wait_for(lambda: r.available() >= len(idx))
    finally:
        tr.stop()
    s = r.consume().samples
    flagged = np.nonzero(s["flags"] & SampleFlag.AFTER_GAP)[0]
    assert flagged.tolist() == [20]
    dropped = [e for e in tr.drain_events() if e.kind == "samples_dropped"]
    assert len(dropped) == 1 and dropped[0].data["count"] == 4


def test_start_stop_idempotent_and_restartable() -> None:
    sid = unique_id("ss")
    outlet = make_outlet(sid, rate=250.0)
    buf = RingBuffer(1 << 12)
    tr = LslTracker(buf, source_id=sid, resolve_timeout=2.0)
    r = buf.reader()
    tr.stop()  # not running: nothing happens
    with PacedPusher(outlet, 250.0):
        tr.start()
        tr.start()
        assert tr.running
        assert wait_for(lambda: r.available() > 0)
        tr.stop()
        tr.stop()
        assert not tr.running
        n = r.available()
        time.sleep(0.1)
        assert r.available() == n, "no samples after stop"
        tr.start()
        assert wait_for(lambda: r.available() > n)
        tr.stop()


def test_unsupported_rate_lists_the_stream_rate() -> None:
    sid = unique_id("rate")
    _outlet = make_outlet(sid, rate=300.0)
    tr = LslTracker(RingBuffer(16), source_id=sid, resolve_timeout=2.0)
    tr.set_rate(300.0)
    with pytest.raises(TrackerError, match=r"120.*not supported; supported rates: 300"):
        tr.set_rate(120.0)


def test_discover_lists_gaze_streams_only() -> None:
    sid = unique_id("disc")
    _gaze = make_outlet(sid, rate=60.0)
    _other = make_outlet(sid + "-eeg", type_="EEG")
    found = LslTracker.discover(1.0)
    assert any(sid in f and "type Gaze" in f for f in found)
    assert not any(f"{sid}-eeg" in f for f in found)


def test_software_correction_applied() -> None:
    sid = unique_id("corr")
    outlet = make_outlet(sid, rate=250.0)
    buf = RingBuffer(1 << 12)
    tr = LslTracker(buf, source_id=sid, resolve_timeout=2.0)
    tr.set_correction(lambda x, y: (x + 0.5, y))
    r = buf.reader()
    with PacedPusher(outlet, 250.0):
        tr.start()
        assert wait_for(lambda: r.available() >= 10)
        tr.stop()
    s = r.consume().samples
    i = np.round((s["device_ts"] / 1e6 - s["device_ts"][0] / 1e6) * 250.0)
    assert np.all(s["flags"] & SampleFlag.SOFTWARE_CALIBRATED)
    np.testing.assert_allclose(np.diff(s["left_x"]), np.diff(0.6 + i * 1e-5), atol=1e-9)
    assert np.all(s["left_x"] > 0.59)


def test_stream_lost_during_offset_remeasure_is_detected_and_reresolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An outlet that disappears exactly when time_correction() is re-measured.

    liblsl answers that re-measure with ``LostError``: the thread must not die on it, but post
    ``stream_lost`` on the next pull, resolve the stream again and carry on.
    """
    import gc

    from pylsl.util import LostError

    from acquisition.trackers import lsl_tracker

    sid = unique_id("lostoff")
    outlets = [make_outlet(sid, rate=250.0)]
    buf = RingBuffer(1 << 12)
    tr = LslTracker(
        buf, source_id=sid, resolve_timeout=2.0, recover=False, stall_timeout_s=0.3,
        offset_interval_s=0.05,
    )  # fmt: skip
    real = lsl_tracker._time_correction
    armed = {"on": False, "fired": 0}

    def correction(inlet: object, timeout: float) -> tuple[float, float]:
        if armed["on"]:
            armed["on"] = False
            armed["fired"] += 1
            outlets.clear()  # the outlet goes away right now
            gc.collect()
            raise LostError("the stream read by this inlet has been lost")
        return real(inlet, timeout)

    monkeypatch.setattr(lsl_tracker, "_time_correction", correction)
    r = buf.reader()
    events: list = []
    tr.start()
    try:
        with PacedPusher(outlets[0], 250.0) as pusher:
            assert wait_for(lambda: r.available() >= 20)
            armed["on"] = True
            assert wait_for(lambda: armed["fired"] == 1)
            pusher._stop.set()
        assert wait_for(lambda: tr.lost), "no stream_lost"
        assert tr.error is None, f"inlet thread died: {tr.error!r}"
        outlets.append(make_outlet(sid, rate=250.0))  # the same stream comes back
        n = r.available()
        with PacedPusher(outlets[-1], 250.0):
            assert wait_for(lambda: r.available() > n + 10, timeout=10.0)
    finally:
        tr.stop()  # raises TrackerError if the inlet thread failed
    events.extend(tr.drain_events())
    kinds = [e.kind for e in events]
    assert "error" not in kinds
    assert "stream_lost" in kinds and "stream_restored" in kinds
    assert kinds.index("stream_lost") < kinds.index("stream_restored")


def test_model_and_serial_are_read_from_the_xdf_acquisition_node() -> None:
    sid = unique_id("acq")
    info = pylsl.StreamInfo(sid, "Gaze", len(XDF_CHANNELS), 250.0, pylsl.cf_double64, sid)
    node = info.desc().append_child("channels")
    for label, eye, typ, unit in XDF_CHANNELS:
        c = node.append_child("channel")
        for k, v in (("label", label), ("eye", eye), ("type", typ), ("unit", unit)):
            if v:
                c.append_child_value(k, v)
    acq = info.desc().append_child("acquisition")
    acq.append_child_value("manufacturer", "SR Research")
    acq.append_child_value("model", "EyeLink 1000 Plus")
    acq.append_child_value("serial_number", "EL-4242")
    outlet = pylsl.StreamOutlet(info)
    tr = create_tracker("lsl", RingBuffer(1 << 10), source_id=sid, resolve_timeout=5.0)
    assert tr.info.model == "EyeLink 1000 Plus" and tr.info.serial == "EL-4242"
    del outlet


def test_an_unknown_layout_is_told_the_exact_mapping_to_write() -> None:
    sid = unique_id("unknown")
    chans = [(lab, "", "", "") for lab in ("GazeLX", "GazeLY", "GazeRX", "GazeRY")]
    outlet = make_outlet(sid, channels=chans, rate=120.0, type_="Gaze")
    with pytest.raises(TrackerError) as info:
        create_tracker("lsl", RingBuffer(1 << 10), source_id=sid, resolve_timeout=5.0)
    msg = str(info.value)
    want = "--tracker-option mapping=left_x:GazeLX,left_y:GazeLY,right_x:GazeRX,right_y:GazeRY"
    assert want in msg and "['GazeLX', 'GazeLY', 'GazeRX', 'GazeRY']" in msg
    # written as told (the text form of --tracker-option), the stream is used
    tr = create_tracker(
        "lsl", RingBuffer(1 << 10), source_id=sid, resolve_timeout=5.0,
        mapping=want.split("mapping=")[1], units="normalized",
    )  # fmt: skip
    assert tr.info.extra["layout"] == "explicit mapping"
    assert tr.mapping.describe(["GazeLX", "GazeLY", "GazeRX", "GazeRY"])["right_y"] == "GazeRY"
    del outlet


def test_parse_mapping_text() -> None:
    from acquisition.trackers.lsl_layouts import parse_mapping

    assert parse_mapping("left_x:a, left_y=b,right_x:2") == {
        "left_x": "a",
        "left_y": "b",
        "right_x": 2,
    }
    with pytest.raises(ValueError, match="FIELD:CHANNEL"):
        parse_mapping("left_x")


def test_layout_table_recognises_each_app_from_its_description() -> None:
    from acquisition.trackers.lsl_layouts import StreamView, identify_layout

    def view(labels: list[str], **kw: object) -> StreamView:
        chans = tuple({"label": lab, "type": "", "unit": "", "eye": ""} for lab in labels)
        return StreamView(str(kw.get("name", "s")), "Gaze", chans, dict(kw.get("desc", {})))  # type: ignore[arg-type]

    labels_only = view(["left_x", "left_y", "right_x", "right_y"])
    assert identify_layout(labels_only).key == "xdf"  # type: ignore[union-attr]
    eyelink = view(
        ["leftEyeX", "leftEyeY", "rightEyeX", "rightEyeY", "leftPupilArea", "rightPupilArea"]
    )
    assert identify_layout(eyelink).key == "app-eyelink"  # type: ignore[union-attr]
    relay = view(["confidence", "norm_pos_x", "norm_pos_y"], desc={"pupil_lsl_relay_version": "2"})
    assert identify_layout(relay).key == "pupil-capture"  # type: ignore[union-attr]
    assert identify_layout(view(["a", "b"])) is None
