"""The command line: help lists every command, --version, and `gazeread trackers`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sessions.cli import COMMANDS, main

EXPECTED = (
    "demo",
    "run",
    "calibrate",
    "replay",
    "console",
    "export",
    "check",
    "trackers",
    "stimuli",
)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    assert set(EXPECTED) == set(COMMANDS)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("gazeread ")


def test_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sessions", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "gazeread" in out.stdout


def test_trackers_reports_each_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trackers", "--json", "--lsl-timeout", "0.5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"simulated", "lsl", "tobii", "mouse"}
    assert report["simulated"]["available"] is True
    tobii = report["tobii"]
    if sys.version_info[:2] != (3, 10):
        assert tobii["available"] is False
        assert "3.10" in tobii["reason"]
    for entry in report.values():
        assert entry["reason"], entry


def test_trackers_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trackers", "--lsl-timeout", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "simulated" in out and "tobii" in out
