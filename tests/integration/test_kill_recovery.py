"""Real recording processes killed with SIGKILL, and a recording that hits a file-size limit.

The child (``python -m tests.support.record_child``) records the simulated tracker at 1200 Hz
through the real Recorder and runs fake trials; it reports on a side file what it produced
and which responses were committed. After each kill the store must open, miss at most 100 ms
of samples, keep every committed response, and resume to completion.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.commands.check import check_session
from sessions.store import SessionStore, session_dir
from tests.support import SUPPORT
from tests.support.record_child import kill_cycle, read_side

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL and RLIMIT_FSIZE are POSIX"
)

_RNG = random.Random(20261122)
KILL_TIMES = [round(_RNG.uniform(0.05, 1.5), 3) for _ in range(3)]


@pytest.mark.parametrize("kill_after_s", KILL_TIMES, ids=[f"kill-after-{t}s" for t in KILL_TIMES])
def test_sigkill_loses_at_most_100ms_and_resumes(tmp_path: Path, kill_after_s: float) -> None:
    r = kill_cycle(tmp_path, 1, kill_after_s, trials=8, trial_s=0.2, rate=1200.0)
    assert r.opened and r.integrity_ok
    assert r.produced_t is not None, "the child reported no samples before it was killed"
    assert r.samples_stored > 0 or kill_after_s < 0.1
    assert r.missing_s <= 0.100, f"{r.missing_s * 1000:.1f} ms of samples missing after the kill"
    assert r.internal_gaps == 0  # every committed batch is whole
    assert r.responses_missing == [], "a committed response was lost"
    assert r.trials_complete_before_resume >= r.responses_reported
    assert r.resumed_ok, r.resume_message
    assert r.trials_total == 8 and r.interrupted_events == 1
    # the pause between the kill and the resume is an interruption, not dropped samples
    rep = check_session(session_dir(tmp_path, "kill", "01", 1))
    assert rep["interruptions"]["count"] == 1
    if r.samples_stored:  # a kill before the first batch leaves nothing to pause after
        assert rep["interruptions"]["sample_pauses"] == 1
        assert rep["interruptions"]["paused_s"] > 0
    assert rep["dropped_samples"] <= 2, rep["problems"]
    assert not [p for p in rep["problems"] if "dropped" in p], rep["problems"]
    assert rep["effective_rate_hz"] == pytest.approx(1200.0, rel=0.02)


def test_file_size_limit_stops_recording_cleanly(tmp_path: Path) -> None:
    side = tmp_path / "side.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run(
        [sys.executable, str(SUPPORT / "record_child.py"), str(tmp_path), "--side", str(side),
         "--trials", "40", "--trial-s", "0.1", "--fsize-limit-extra", "150000"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 3, res.stderr
    assert "recording stopped" in res.stderr and "session.sqlite" in res.stderr
    assert "--resume" in res.stderr
    _, responses, other = read_side(side)
    assert any(line.startswith("error ") for line in other)
    folder = session_dir(tmp_path, "kill", "01", 1)
    with SessionStore.open(folder) as st:  # intact and readable, without the limit
        assert st.sample_count() > 0
        have = {r["trial_id"] for r in st.responses()}
        assert set(responses) <= have
        t = st.sample_arrays(("t",))["t"]
        assert (t[1:] > t[:-1]).all()
        assert st.query("PRAGMA integrity_check")[0][0] == "ok"
    # and the session can be continued once space is back
    res2 = subprocess.run(
        [sys.executable, str(SUPPORT / "record_child.py"), str(tmp_path), "--side", str(side),
         "--trials", "40", "--trial-s", "0.01", "--resume"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res2.returncode == 0, res2.stderr
