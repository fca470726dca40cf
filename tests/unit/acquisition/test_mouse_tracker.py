"""The mouse tracker: an injected pointer source, availability messages, the X11 default."""

from __future__ import annotations

import importlib.util
import threading
import time

import numpy as np
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.trackers import TrackerError, tracker_class
from acquisition.trackers.mouse import MouseTracker, X11PointerSource

WAIT_S = 20.0


class FakePointer:
    """A pointer moving right by 0.001 per read; None (off-screen) on every 10th read."""

    def __init__(self) -> None:
        self.reads = 0
        self.closed = False

    def __call__(self) -> tuple[float, float] | None:
        self.reads += 1
        if self.reads % 10 == 0:
            return None
        return (0.001 * self.reads, 0.25)

    def close(self) -> None:
        self.closed = True


def _collect(reader, n: int) -> np.ndarray:
    parts, got = [], 0
    deadline = time.monotonic() + WAIT_S
    while got < n:
        if time.monotonic() > deadline:
            pytest.fail(f"only {got} of {n} samples arrived within {WAIT_S} s")
        reader.wait(0.1)
        s = reader.consume().samples
        parts.append(s)
        got += len(s)
    return np.concatenate(parts)


def test_injected_source_gives_both_eyes_at_the_pointer():
    buf = RingBuffer(4096)
    reader = buf.reader("test")
    src = FakePointer()
    tr = MouseTracker(buf, rate_hz=250, position_source=src)
    assert tracker_class("mouse") is MouseTracker
    assert tr.info.model == "gazeread mouse" and tr.info.address == "injected source"
    tr.start()
    assert [t.name for t in threading.enumerate() if t.name == "gazeread-mouse"]
    s = _collect(reader, 30)
    tr.stop()
    assert src.closed and not [t for t in threading.enumerate() if t.name == "gazeread-mouse"]
    assert np.all(np.diff(s["t"]) > 0) and np.all(np.diff(s["device_ts"]) > 0)
    valid = s["left_valid"] == 1
    assert valid.sum() >= 20 and (~valid).sum() >= 2
    np.testing.assert_array_equal(s["left_x"][valid], s["right_x"][valid])
    np.testing.assert_allclose(s["left_y"][valid], 0.25)
    assert np.all(np.diff(s["left_x"][valid]) > 0)  # the pointer moved right
    np.testing.assert_allclose(s["right_pupil"][valid], 3.5)
    assert np.isnan(s["left_x"][~valid]).all() and not s["right_valid"][~valid].any()
    assert not [e for e in tr.drain_events() if e.kind == "error"]


def test_source_failure_is_posted_and_raised_by_stop():
    def broken() -> tuple[float, float]:
        raise OSError("pointer gone")

    tr = MouseTracker(RingBuffer(64), rate_hz=60, position_source=broken)
    tr.start()
    deadline = time.monotonic() + WAIT_S
    while tr.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e for e in tr.drain_events() if e.kind == "error" and "pointer gone" in e.message]
    with pytest.raises(TrackerError, match="pointer gone"):
        tr.stop()


def test_bad_rate_and_pupil_are_refused():
    with pytest.raises(TrackerError, match=r"1000.*supported rates: 30, 60, 120"):
        MouseTracker(RingBuffer(64), rate_hz=1000, position_source=FakePointer())
    with pytest.raises(TrackerError, match="pupil_mm"):
        MouseTracker(RingBuffer(64), pupil_mm=0, position_source=FakePointer())


def test_availability_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "Xlib" else real(name, *a)
    )
    avail = MouseTracker.is_available()
    assert not avail.ok
    assert "DISPLAY is not set" in avail.reason and "python-xlib is not installed" in avail.reason


def test_availability_reports_an_unreachable_display(monkeypatch):
    if importlib.util.find_spec("Xlib") is None:
        pytest.skip("python-xlib is not installed")
    monkeypatch.setenv("DISPLAY", ":987")
    avail = MouseTracker.is_available()
    assert not avail.ok and "':987'" in avail.reason


def test_x11_pointer_source_reads_the_real_pointer():
    avail = MouseTracker.is_available()
    if not avail.ok:
        pytest.skip(f"no X display here: {avail.reason}")
    src = X11PointerSource()
    pos = src()
    src.close()
    assert pos is not None
    assert -0.01 <= pos[0] <= 1.01 and -0.01 <= pos[1] <= 1.01
    with pytest.raises(ValueError, match="rect_px"):
        X11PointerSource(rect_px=(0, 0, 0, 10))
