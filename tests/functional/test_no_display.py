"""Every command that opens a window handles a missing display the same way (one code path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.synthetic_session import write_synthetic_session

ROOT = Path(__file__).resolve().parents[2]


def _gazeread(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "sessions", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is an X11 matter")
def test_commands_for_a_person_refuse_with_one_message(tmp_path: Path) -> None:
    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=0.5, rate_hz=120.0)
    for args in (["calibrate", "--tracker", "simulated"], ["replay", str(folder)]):
        res = _gazeread(*args, cwd=tmp_path)
        assert res.returncode == 2, (args, res.stderr[-2000:])
        assert f"no display: DISPLAY is not set, so `gazeread {args[0]}` cannot open" in res.stderr
        assert "xvfb-run" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is an X11 matter")
def test_an_unattended_calibration_starts_a_virtual_display(tmp_path: Path) -> None:
    res = _gazeread("calibrate", "--tracker", "simulated", "--auto", "--points", "5", "--fast",
                    "--out", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert res.returncode in (0, 1), res.stderr[-3000:]
    assert "running on a virtual display" in res.stderr
    assert list((tmp_path / "out" / "calibrations").glob("*.json"))


def test_builtin_protocol_names_win_over_a_folder_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiment_protocols.loader import load_protocol

    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()  # what a first `gazeread demo --out .` leaves behind
    (tmp_path / "gazeval").write_text("not a protocol", encoding="utf-8")
    assert load_protocol("demo").source == "builtin protocol 'demo'"
    assert load_protocol("gazeval").source == "builtin protocol 'gazeval'"
    (tmp_path / "mine.toml").write_text("x", encoding="utf-8")
    with pytest.raises(Exception, match=r"mine\.toml"):
        load_protocol("./mine.toml")  # a path is read as a path
