"""A `gazeread run --auto-respond` killed with SIGKILL mid-session is completed by `--resume`."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.session_files import (
    count_live,
    run_command,
    write_small_protocol,
    write_small_stimuli,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _cmd(protocol: Path, manifest: Path, out: Path, *extra: str) -> list[str]:
    return run_command(protocol, manifest, out, "P02", *extra)


def _complete(db: Path) -> int:
    return count_live(db, "SELECT COUNT(*) FROM trials WHERE status = 'complete'")


def test_killed_session_resumes_and_completes(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    protocol = write_small_protocol(tmp_path / "p")
    manifest = write_small_stimuli(tmp_path / "stim", n=3)
    out = tmp_path / "out"
    db = out / "t-study" / "sub-P02" / "ses-1" / "session.sqlite"
    proc = subprocess.Popen(
        _cmd(protocol, manifest, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 150
        while _complete(db) < 2:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the session did not complete 2 trials in time"
            time.sleep(0.2)
        time.sleep(0.7)  # somewhere inside the third trial
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]

    from sessions.store import SessionStore

    with SessionStore.open(db) as s:  # the killed session opens
        before = {r["id"]: r["status"] for r in s.trials()}
        answered_before = {r["trial_id"]: r["id"] for r in s.responses()}
    n_before = sum(v == "complete" for v in before.values())
    assert 2 <= n_before < 6

    r = subprocess.run(
        _cmd(protocol, manifest, out, "--resume"),
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[0] == str(db.parent)
    assert "Recorded:" in r.stdout and "gazeread replay" in r.stdout  # the same summary as demo
    with SessionStore.open(db) as s:
        trials = s.trials()
        assert [t["status"] for t in trials] == ["complete"] * 6
        resp = s.responses()
        assert sorted(x["trial_id"] for x in resp) == list(range(6))  # one answer per trial
        for tid, rid in answered_before.items():  # answers given before the kill are untouched
            assert any(x["id"] == rid and x["trial_id"] == tid for x in resp)
        interrupted = s.events("interrupted")
        assert len(interrupted) == 1 and interrupted[0]["data"]["killed"] is True
        t_resume = interrupted[0]["data"]["t_resume"]
        cal_after = s.query(
            "SELECT COUNT(*) FROM calibrations WHERE kind = 'calibration' AND t > ?", (t_resume,)
        )[0][0]
        first_onset_after = s.query(
            "SELECT MIN(t) FROM events WHERE kind = 'image_onset' AND t > ?", (t_resume,)
        )[0][0]
        first_cal_after = s.query(
            "SELECT MIN(t) FROM calibrations WHERE kind = 'calibration' AND t > ?", (t_resume,)
        )[0][0]
        assert cal_after >= 1 and first_cal_after < first_onset_after  # recalibrated first
        reshown = [t for t in trials if t["attempt"] > 0]
        for t in reshown:
            assert before[t["id"]] != "complete"
        assert s.session_info()["status"] == "completed"
