"""LSL across processes: an outlet in a subprocess that is killed and restarted.

The lsl backend must notice the stream going (``stream_lost``), pick it up again when an outlet
with the same source_id comes back (``stream_restored``), flag the first sample after it and
count the samples missed in the gap (``samples_dropped``). Both ways back are tested: liblsl's
own recovery (``recover=True``) and resolving the stream again (``recover=False``).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from acquisition.lsl_outlets import GazeOutlet
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag
from acquisition.trackers import TrackerEvent, create_tracker

pylsl = pytest.importorskip("pylsl", reason="pylsl is needed for LSL loopback tests")

RATE = 200.0

#: A gaze outlet with XDF meta-data pushing sample i at t0 + i / RATE, t0 shared by all runs.
OUTLET_SCRIPT = """
import sys, time
import numpy as np
import pylsl
sid, rate, t0 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
info = pylsl.StreamInfo("gz-proc", "Gaze", 2, rate, pylsl.cf_double64, sid)
chans = info.desc().append_child("channels")
for label, typ in (("x", "ScreenX"), ("y", "ScreenY")):
    c = chans.append_child("channel")
    c.append_child_value("label", label); c.append_child_value("eye", "both")
    c.append_child_value("type", typ); c.append_child_value("unit", "normalized")
out = pylsl.StreamOutlet(info)
print("ready", flush=True)
end = time.monotonic() + 30
i = max(0, int((pylsl.local_clock() - t0) * rate))
while time.monotonic() < end:
    due = int((pylsl.local_clock() - t0) * rate) + 1
    if due > i:
        k = np.arange(i, due)
        out.push_chunk(np.column_stack((0.5 + 0 * k, k / 1e6)), list(t0 + k / rate))
        i = due
    time.sleep(0.002)
"""


def start_outlet(sid: str, t0: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OUTLET_SCRIPT, sid, str(RATE), repr(t0)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"outlet process did not start: {line!r}"
    return proc


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(5)
        if p.stdout is not None:
            p.stdout.close()


def wait_event(tracker, kind: str, seen: list[TrackerEvent], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        seen.extend(tracker.drain_events())
        if any(e.kind == kind for e in seen):
            return
        time.sleep(0.02)
    raise AssertionError(f"no {kind!r} event within {timeout} s; got {[e.kind for e in seen]}")


@pytest.mark.slow
@pytest.mark.parametrize("recover", [True, False], ids=["liblsl-recovery", "re-resolve"])
def test_outlet_killed_and_restarted(recover: bool, procs: list[subprocess.Popen[str]]) -> None:
    sid = f"gazeread-it-{uuid.uuid4().hex[:10]}"
    t0 = pylsl.local_clock()
    procs.append(start_outlet(sid, t0))
    buf = RingBuffer(1 << 14)
    tracker = create_tracker(
        "lsl", buf, source_id=sid, resolve_timeout=5.0, recover=recover, stall_timeout_s=0.3
    )
    r = buf.reader("it")
    events: list[TrackerEvent] = []
    tracker.start()
    try:
        end = time.monotonic() + 5
        while r.available() < 40 and time.monotonic() < end:
            time.sleep(0.01)
        assert r.available() >= 40
        procs[0].kill()
        procs[0].wait(5)
        wait_event(tracker, "stream_lost", events)
        time.sleep(0.2)
        procs.append(start_outlet(sid, t0))  # same source_id, same clock origin
        wait_event(tracker, "stream_restored", events, timeout=15.0)
        n = r.available()
        end = time.monotonic() + 5
        while r.available() < n + 40 and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        tracker.stop()
    events.extend(tracker.drain_events())
    s = r.consume().samples
    assert r.lost_total == 0
    assert np.all(np.diff(s["t"]) > 0)
    k = np.round(s["left_y"] * 1e6)  # the sample index the outlet sent as y
    np.testing.assert_allclose(
        s["t"] - s["device_ts"] / 1e6, s["t"][0] - s["device_ts"][0] / 1e6, atol=1e-3
    )
    jump = np.nonzero(np.diff(k) > 1)[0]
    assert len(jump) == 1, "exactly one gap: the time the outlet was away"
    after = jump[0] + 1
    assert s["flags"][after] & SampleFlag.AFTER_GAP
    assert s["flags"][after] & SampleFlag.AFTER_RECONNECT
    missing = int(k[after] - k[after - 1] - 1)
    dropped = [e for e in events if e.kind == "samples_dropped"]
    assert sum(e.data["count"] for e in dropped) == missing
    kinds = [e.kind for e in events]
    assert kinds.index("stream_lost") < kinds.index("stream_restored")
    assert "error" not in kinds
    assert tracker.drain_offsets(), "time_correction offsets are stored"


def test_gaze_outlet_read_by_another_process() -> None:
    """gazeread's Gaze outlet, read by a plain pylsl inlet in a child process."""
    sid = f"gazeread-it-{uuid.uuid4().hex[:10]}"
    reader_script = (
        "import sys, pylsl\n"
        "s = pylsl.resolve_byprop('source_id', sys.argv[1], 1, 5.0)\n"
        "inlet = pylsl.StreamInlet(s[0]); inlet.open_stream(5.0)\n"
        "print('open', flush=True)\n"
        "n = 0\n"
        "while n < 100:\n"
        "    x, t = inlet.pull_sample(timeout=5.0)\n"
        "    if x is None: break\n"
        "    n += 1; last = (x[0], t)\n"
        "print(n, repr(last[0]), repr(last[1]), flush=True)\n"
    )
    buf = RingBuffer(1024)
    with GazeOutlet(buf.reader("lsl"), 500.0, sid) as outlet:
        child = subprocess.Popen(
            [sys.executable, "-c", reader_script, sid],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "open"
            time.sleep(0.2)
            from acquisition.samples import empty_samples

            rows = empty_samples(100)
            t0 = pylsl.local_clock()
            rows["t"] = t0 + np.arange(100) / 500.0
            rows["left_x"] = np.linspace(0, 1, 100)
            buf.push_many(rows)
            out, _ = child.communicate(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
    n, x, t = out.split()
    assert int(n) == 100 and float(x) == 1.0
    assert float(t) == pytest.approx(rows["t"][-1], abs=1e-9)
    assert outlet.pushed == 100
