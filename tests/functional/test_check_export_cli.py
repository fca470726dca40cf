"""`gazeread check` and `gazeread export` as a user runs them (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.synthetic_session import write_synthetic_session

REQUIRED = {"trials_total", "trials_complete", "samples", "dropped_samples", "effective_rate_hz",
            "validity_percent", "responses"}  # fmt: skip


def _gazeread(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessions", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    return {
        "good": write_synthetic_session(
            root, n_trials=4, trial_s=1.0, rate_hz=300.0, drop_every=400
        ),
        "killed": write_synthetic_session(
            root, session=2, n_trials=4, trial_s=1.0, rate_hz=300.0, complete=False
        ),
    }


def test_check_usable_session(sessions: Any) -> None:
    res = _gazeread("check", str(sessions["good"]))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "verdict: usable"
    assert "trials complete 4/4" in res.stdout and "validation" in res.stdout


def test_check_json_has_the_promised_fields(sessions: Any) -> None:
    res = _gazeread("check", "--json", str(sessions["good"]))
    rep = json.loads(res.stdout)
    assert set(rep) >= REQUIRED
    assert rep["trials_total"] == rep["trials_complete"] == rep["responses"] == 4
    assert rep["dropped_samples"] > 0 and rep["usable"] is True
    assert set(rep["validity_percent"]) == {"left", "right", "any"}
    assert len(rep["trials"]) == 4 and rep["trials"][0]["stats"]["samples"] > 0


def test_check_unfinished_session_is_not_usable(sessions: Any) -> None:
    res = _gazeread("check", str(sessions["killed"]))
    assert res.returncode == 1
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: NOT usable") and "--resume" in last


def test_check_not_a_session(tmp_path: Path) -> None:
    res = _gazeread("check", str(tmp_path))
    assert res.returncode == 2 and "no gazeread session" in res.stderr


@pytest.mark.parametrize("fmt", ["bids", "gazevalm", "reflacx"])
def test_export_cli(sessions: Any, tmp_path: Path, fmt: str) -> None:
    res = _gazeread(
        "export",
        str(sessions["good"]),
        str(sessions["killed"]),
        "--format",
        fmt,
        "--out",
        str(tmp_path),
    )
    assert res.returncode == 0, res.stderr
    assert f"wrote {fmt} for 2 session(s)" in res.stdout
    assert any(tmp_path.iterdir())


def test_export_unreadable_session(tmp_path: Path) -> None:
    res = _gazeread(
        "export", str(tmp_path / "nope"), "--format", "bids", "--out", str(tmp_path / "o")
    )
    assert res.returncode == 2 and "no gazeread session" in res.stderr


def test_a_session_reads_without_gazeread(sessions: Any) -> None:
    """The queries of docs/session_store.md, with sqlite3 and pandas only."""
    import json
    import sqlite3

    import pandas as pd

    con = sqlite3.connect(sessions["good"] / "session.sqlite")
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            "1",
        )
        ident = con.execute(
            "SELECT study, participant, session_number, status, json_extract(tracker_json, '$.rate_hz') FROM session"
        ).fetchone()
        assert ident == ("demo", "01", 1, "completed", 300.0)
        answers = con.execute(
            "SELECT t.id, t.condition, t.image_id, t.authenticity AS truth, r.authenticity AS answer, "
            "r.confidence, r.rt_s FROM trials t LEFT JOIN responses r ON r.trial_id = t.id ORDER BY t.id"
        ).fetchall()
        assert len(answers) == 4 and all(a[6] is not None for a in answers)
        per_trial = con.execute(
            "SELECT t.id, COUNT(s.t), AVG(s.left_valid) * 100 FROM trials t JOIN samples s "
            "ON s.t >= t.t_onset AND s.t < t.t_offset GROUP BY t.id"
        ).fetchall()
        assert len(per_trial) == 4 and all(n > 250 for _, n, _ in per_trial)
        screen = json.loads(con.execute("SELECT screen_json FROM session").fetchone()[0])
        trial = pd.read_sql("SELECT * FROM trials WHERE id = 3", con).iloc[0]
        s = pd.read_sql(
            "SELECT * FROM samples WHERE t >= ? AND t < ? ORDER BY t",
            con,
            params=(trial.t_onset, trial.t_offset),
        )
        layout = json.loads(trial.layout_json)
        x_image = ((s.left_x + s.right_x) / 2 * screen["width_px"] - layout["offset_x"]) / layout[
            "scale"
        ]
        assert x_image.notna().mean() > 0.8
        assert x_image.dropna().between(-400, 1425).all()  # the screen's width in image px
        fix = pd.read_sql("SELECT * FROM fixations WHERE trial_id = 3 ORDER BY t_start", con)
        assert len(fix) > 0 and fix["image_x"].notna().any()
    finally:
        con.close()
