"""Outages of an LSL tracker: shorter than the limit, the session goes on; longer, it stops.

The outlet runs in another process and goes away for 0.5, 1.0, 1.9 or 5 s, then comes back
with the same source_id (as a restarted vendor app does). liblsl needs ~2 s to reconnect after
it is back; that time is not counted against the 2 s limit.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from calibration.geometry import ScreenGeometry
from sessions.pipeline import Pipeline
from sessions.store import SessionStore

pytestmark = [pytest.mark.slow]

HERE = Path(__file__).resolve().parent
GEOM = ScreenGeometry(1024, 640, 300.0, 188.0, 600.0)


def _session(tmp_path: Path, outage: float, after: float) -> tuple[list[str], SessionStore, float]:
    sid = f"gazeread-outage-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_lsl_outage_outlet.py"), sid, "--before", "3",
         "--outage", str(outage), "--after", str(after)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().startswith("up")
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline("lsl", store, GEOM, source_id="t-outage", lsl=False,
                    tracker_options={"source_id": sid}, stall_s=2.0)  # fmt: skip
    problems: list[str] = []
    pipe.start()
    t_down = float("nan")
    try:
        end = time.monotonic() + 3.0 + outage + after - 0.5
        while time.monotonic() < end:
            h = pipe.health()
            if h is not None:
                problems.append(h)
                break
            time.sleep(0.05)
        line = proc.stdout.readline()
        if line.startswith("down"):
            t_down = float(line.split()[1])
    finally:
        pipe.stop()
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    return problems, store, t_down


@pytest.mark.parametrize("outage", [0.5, 1.0, 1.9])
def test_a_short_outage_never_ends_the_session(tmp_path: Path, outage: float) -> None:
    problems, store, _ = _session(tmp_path, outage, after=5.0)
    assert problems == []
    kinds = [e["kind"] for e in store.events()]
    assert "stream_lost" in kinds and "stream_restored" in kinds, kinds
    t = store.sample_arrays(("t",))["t"]
    gap = float((t[1:] - t[:-1]).max())
    assert gap >= outage * 0.9  # the gap is recorded, with the tracker's own timestamps
    assert store.samples_between(t[-1] - 1.0, t[-1] + 1.0).size > 100  # data flows again
    store.close()


def test_a_long_outage_stops_cleanly(tmp_path: Path) -> None:
    problems, store, _ = _session(tmp_path, 5.0, after=1.0)
    assert len(problems) == 1 and "limit 2 s" in problems[0] and "--resume" in problems[0]
    assert [e["kind"] for e in store.events("stream_lost")] == ["stream_lost"]
    store.close()
