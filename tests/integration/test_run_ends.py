"""Every end of a real `gazeread run` leaves a true status (issue: sessions nothing can corrupt).

A second start and a `--resume` of a live session are refused at once naming the recording
process; SIGTERM and SIGINT stop cleanly (message, `session_end`, status `interrupted`, exit
143 / 130) and `--resume` completes the session; a session killed after its last answer is
closed by `--resume` without re-running anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.store import SessionReader, SessionStore
from tests.support.session_files import (
    count_live,
    run_command,
    write_small_protocol,
    write_small_stimuli,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _cmd(protocol: Path, manifest: Path, out: Path, *extra: str) -> list[str]:
    return run_command(protocol, manifest, out, "P07", *extra)


def _answers(db: Path) -> int:
    return count_live(db, "SELECT COUNT(*) FROM responses")


def _refused_live(cmd: list[str], pid: int) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert f"being recorded by pid {pid}" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_ends_cleanly_and_resume_completes(
    tmp_path: Path, sig: int, code: int
) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    protocol = write_small_protocol(tmp_path / "p")
    manifest = write_small_stimuli(tmp_path / "stim", n=3)
    out = tmp_path / "out"
    folder = out / "t-study" / "sub-P07" / "ses-1"
    db = folder / "session.sqlite"
    proc = subprocess.Popen(
        _cmd(protocol, manifest, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 150
        while _answers(db) < 1:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no answer recorded in time"
            time.sleep(0.1)
        if sig == signal.SIGTERM:  # a second start and a resume while it records: refused
            _refused_live(_cmd(protocol, manifest, out), proc.pid)
            _refused_live(_cmd(protocol, manifest, out, "--resume"), proc.pid)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == code, err[-3000:]
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    with SessionReader.open(folder) as r:
        assert r.session_info()["status"] == "interrupted"
        assert r.recording_state() == "interrupted"
        ends = r.events("session_end")
        assert ends and ends[-1]["data"]["status"] == "interrupted"
        assert signal.Signals(sig).name in ends[-1]["message"]
        assert r.integrity_check() == "ok"
        answered = len(r.responses())
    res = subprocess.run(
        _cmd(protocol, manifest, out, "--resume"), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    with SessionReader.open(folder) as r:
        assert r.session_info()["status"] == "completed"
        total, complete = r.trial_progress()
        assert total == complete and len(r.responses()) >= answered
        onsets = len(r.events("image_onset"))
    if sig != signal.SIGTERM:
        return
    # Killed after its last answer: the status still says running. --resume closes it.
    with SessionStore.open_for_writing(folder) as st:
        st.update_session(status="running")
    chk = subprocess.run(
        [sys.executable, "-m", "sessions", "check", str(folder)], capture_output=True, text=True
    )
    assert "killed" in chk.stdout
    res = subprocess.run(
        _cmd(protocol, manifest, out, "--resume"), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "closing" in res.stderr and "every trial was answered" in res.stderr
    with SessionReader.open(folder) as r:
        assert r.session_info()["status"] == "completed"
        assert len(r.events("image_onset")) == onsets  # nothing was shown again
        assert r.events("session_end")[-1]["message"].startswith("closed by --resume")
    res = subprocess.run(
        _cmd(protocol, manifest, out, "--resume"), capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 2 and "already completed" in res.stderr
