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
    "analyze",
    "simulate-study",
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


def test_trackers_layouts_lists_the_vendor_apps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trackers", "--layouts"]) == 0
    out = capsys.readouterr().out
    assert "app-tobiipro" in out and "app-eyelink" in out and "pupil-companion" in out
    assert main(["trackers", "--layouts", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["layout"] for r in rows} >= {"app-tobiipro", "app-eyelink", "xdf"}


def test_tables_are_plain_text_off_a_terminal() -> None:
    import io

    from sessions.commands.tables import render_table

    text = render_table([("trial", "right"), ("status", "left")], [(1, "complete"), (12, "")],
                        file=io.StringIO())  # fmt: skip
    lines = text.splitlines()
    assert lines[0].split() == ["trial", "status"]
    assert lines[1].split() == ["1", "complete"] and lines[2].split() == ["12"]
    assert "\x1b[" not in text and "─" not in text
    # right-justified numbers end in the same column
    assert lines[1].index("1") + 1 == lines[2].index("12") + 2
