"""`gazeread demo` end to end under Xvfb: every trial complete with samples, fixations, answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _gazeread(
    *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessions", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_demo_records_a_complete_session(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # the demo must find Xvfb and start its own virtual display
    env.pop("WAYLAND_DISPLAY", None)
    out = tmp_path / "sessions"
    r = _gazeread("demo", "--out", str(out), "--no-lsl", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "running on a virtual display" in r.stderr
    folder = Path(r.stdout.strip().splitlines()[0])
    assert folder == out / "demo" / "sub-demo01" / "ses-1"
    assert f"gazeread replay {folder}" in r.stdout
    assert "8 of 8 complete" in r.stdout

    chk = _gazeread("check", str(folder), "--json", timeout=120)
    assert chk.returncode == 0, chk.stderr[-2000:]
    report = json.loads(chk.stdout)
    assert report["trials_total"] == report["trials_complete"] == 8
    assert report["responses"] == 8
    assert report["samples"] > 8 * 600  # > 1 s of 600 Hz gaze per trial
    assert report["dropped_samples"] == 0

    # the study's findings from demo sessions: gazeread analyze reads what gazeread recorded
    ana = _gazeread(
        "analyze", str(out), "--out", str(tmp_path / "analysis"), "--bootstrap", "50", timeout=240
    )
    assert ana.returncode == 0, ana.stderr[-2000:]
    summary = json.loads((tmp_path / "analysis" / "summary.json").read_text())
    assert summary["readers"] == 1 and summary["trials"] == 8
    assert summary["decisions"]["authenticity"]["accuracy"]["value"] is not None
    assert (tmp_path / "analysis" / "report.html").stat().st_size > 20_000

    from sessions.store import SessionStore

    with SessionStore.open(folder) as s:
        trials = s.trials()
        assert all(t["status"] == "complete" and t["t_onset"] is not None for t in trials)
        assert {t["condition"] for t in trials} == {"diagnostic", "authenticity"}
        for t in trials:
            n_fix = s.query("SELECT COUNT(*) FROM fixations WHERE trial_id = ?", (t["id"],))[0][0]
            assert n_fix >= 2, f"trial {t['id']} has {n_fix} fixations"
            late = s.query(
                "SELECT COUNT(*) FROM fixations WHERE trial_id = ? AND t_start >= ?",
                (t["id"], t["t_offset"]),
            )
            assert late[0][0] == 0  # fixations on the response form belong to no image
            n_smp = s.query(
                "SELECT COUNT(*) FROM samples WHERE t >= ? AND t < ?", (t["t_onset"], t["t_offset"])
            )[0][0]
            assert n_smp > 300
            assert json.loads(t["frame_intervals_json"])  # frame intervals recorded per trial
            assert json.loads(t["layout_json"])["screen_width"] == 1280
        resp = s.responses()
        assert len(resp) == 8
        for r_ in resp:
            assert r_["confidence"] is not None
            if r_["condition"] == "authenticity":
                assert r_["authenticity"] in ("real", "synthetic")
            else:
                assert r_["findings"]
        kinds = {e["kind"] for e in s.events()}
        assert {
            "session_start",
            "image_onset",
            "response",
            "calibration",
            "drift_check",
            "session_end",
        } <= kinds
        onsets = s.events("image_onset")
        assert [e["t"] for e in onsets] == [
            t["t_onset"] for t in sorted(trials, key=lambda t: t["t_onset"])
        ]
        _same_fixations_everywhere(s, tmp_path)
        cal = s.query("SELECT kind, passed FROM calibrations WHERE kind = 'validation'")
        assert cal and cal[-1][1] == 1
        assert s.session_info()["status"] == "completed"


def _same_fixations_everywhere(store: Any, tmp_path: Path) -> None:
    """One rule for which trial a fixation belongs to: the store, replay and the exports agree."""
    import pandas as pd

    from sessions.commands.export import export_sessions
    from sessions.export.common import iter_readings
    from sessions.replay.data import load_trial

    out = tmp_path / "gz"
    export_sessions([store.folder], "gazevalm", out)
    csvs = sorted(out.rglob("fixations.csv"))
    by_trial = {r.trial["id"]: [f["t_start"] for f in r.fixations] for r in iter_readings(store)}
    for i, t in enumerate(store.trials()):
        stored = [
            f["t_start"] for f in store.trial_fixations(t["id"], t["t_onset"], t["t_offset"] + 1e-9)
        ]
        assert stored and min(stored) >= t["t_onset"] and max(stored) < t["t_offset"]
        replayed = list(load_trial(store, t["id"], with_image=False).fixations["t_start"])
        assert replayed == stored, f"replay differs on trial {t['id']}"
        assert by_trial[t["id"]] == stored, f"exports differ on trial {t['id']}"
        exported = list(pd.read_csv(csvs[i])["t_start"])
        assert exported == pytest.approx(stored, abs=1e-9), (
            f"gazevalm csv differs on trial {t['id']}"
        )
