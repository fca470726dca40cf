"""A short run of benchmarks/store_concurrency.py: live readers, a live --resume, kill -9.

The full figures (20+ kills) are in docs/benchmarks.md; this asserts behaviour only: the
store stays intact, readers never fail or change it, a live resume is refused, no committed
answer is lost, every killed session is reported killed and completed by --resume.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_store_stress_short(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "store_concurrency.py"),
         "--live", "1", "--kills", "3", "--max-delay", "20", "--seed", "1", "--json"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    tot = json.loads(res.stdout.strip().splitlines()[-1])
    rows = json.dumps(tot["rows"], indent=1)
    assert tot["runs"] == 4 and tot["integrity_ok"] == 4, rows
    assert tot["reader_errors"] == 0, rows
    assert tot["live_completed"] == 1 and tot["live_resume_refused"] == 1, rows
    assert tot["answers_lost"] == 0, rows
    assert tot["resumed_ok"] == 3, rows
    killed = [r for r in tot["rows"] if r["kind"] == "kill" and not r["ended_before_kill"]]
    assert all(r["check_state"] == "killed" for r in killed), rows
