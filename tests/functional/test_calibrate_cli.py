"""`gazeread calibrate --tracker simulated --auto` end to end on the virtual display."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "sessions", "calibrate", "--tracker", "simulated", "--auto",
        "--screen", "720x405", "--out", str(tmp_path), "--fast", "--seed", "3", *extra,
    ]  # fmt: skip
    return subprocess.run(
        cmd, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=240
    )


def test_auto_calibration_end_to_end(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--points", "5", "--validate-points", "4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "verdict: PASS (GOOD)" in out
    assert "acc L" in out and "RMS L" in out and "loss R" in out
    files = list((tmp_path / "calibrations").glob("*_simulated.json"))
    assert len(files) == 1 and str(files[0]) in out
    data = json.loads(files[0].read_text())
    assert data["accepted"] and data["passed"] and data["tracker"] == "simulated"
    recs = data["records"]
    cal = next(r for r in recs if r["kind"] == "calibration" and r["selected"])
    val = next(r for r in recs if r["kind"] == "validation" and r["selected"])
    assert cal["method"] == "software-affine" and val["parent"] == cal["id"]
    assert cal["result"]["raw_accuracy_deg"] > 1.0  # the injected error
    assert val["accuracy_deg"] < 0.3  # down to the simulator's noise
    assert len(val["result"]["points"]) == 4


def test_unknown_tracker_is_a_clear_error(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "sessions",
        "calibrate",
        "--tracker",
        "nosuch",
        "--auto",
        "--out",
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown tracker 'nosuch'" in proc.stderr
