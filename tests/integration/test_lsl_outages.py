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

from acquisition.geometry import ScreenGeometry
from sessions.run.pipeline import Pipeline
from sessions.store import SessionStore
from tests.support import SUPPORT

pytestmark = [pytest.mark.slow]

HERE = Path(__file__).resolve().parent
GEOM = ScreenGeometry(1024, 640, 300.0, 188.0, 600.0)


def _session(tmp_path: Path, outage: float, after: float) -> tuple[list[str], SessionStore, float]:
    sid = f"gazeread-outage-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT / "lsl_outage_outlet.py"), sid, "--before", "3",
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


@pytest.mark.gui
def test_a_long_outage_stops_gazeread_run_and_resume_completes(tmp_path: Path) -> None:
    import os

    from sessions.store import SessionReader
    from tests.support.session_files import (
        run_command,
        write_small_protocol,
        write_small_stimuli,
    )

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    sid = f"gazeread-outage-{uuid.uuid4().hex[:10]}"
    outlet = subprocess.Popen(
        [sys.executable, str(SUPPORT / "lsl_outage_outlet.py"), sid, "--before", "10",
         "--outage", "5", "--after", "200"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    protocol = write_small_protocol(tmp_path / "p")
    manifest = write_small_stimuli(tmp_path / "stim", n=3)
    out = tmp_path / "out"
    base = run_command(protocol, manifest, out, "P5")
    base[base.index("--tracker") + 1] = "lsl"
    j = base.index("--rate")
    del base[j : j + 2]
    cmd = [*base, "--tracker-option", f"source_id={sid}"]
    try:
        first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert first.returncode == 1, first.stderr[-3000:]
        assert "limit 2 s" in first.stderr and "--resume" in first.stderr
        assert "Traceback" not in first.stderr
        folder = out / "t-study" / "sub-P5" / "ses-1"
        with SessionReader.open(folder) as r:
            assert r.session_info()["status"] == "interrupted"
            assert r.events("stream_lost")
        again = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
        with SessionReader.open(folder) as r:
            assert r.session_info()["status"] == "completed"
            total, complete = r.trial_progress()
            assert total == complete
    finally:
        outlet.kill()
        outlet.wait(10)
        outlet.stdout.close()  # type: ignore[union-attr]
