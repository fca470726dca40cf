"""The layering of docs/architecture.md, held by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("acquisition", "calibration", "stimuli", "experiment_protocols", "sessions")

pytest.importorskip("importlinter", reason="import-linter is in the test extra")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command(['--no-cache']))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def _copy_tree(dest: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))


def test_the_contracts_hold(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    r = _lint_imports(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("acquisition/_bad.py", "import sessions.store", "acquisition and stimuli import no"),
        ("calibration/_bad.py", "import experiment_protocols.model", "application's layers"),
        ("sessions/store/_bad.py", "import sessions.run.runner", "rooms of sessions"),
        ("sessions/replay/_bad.py", "import sqlite3", "Only the store opens session.sqlite"),
        ("stimuli/_bad.py", "import acquisition.samples", "independent"),
    ],
)
def test_an_arrow_up_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    _copy_tree(tmp_path)
    (tmp_path / module).write_text(f"{line}  # an arrow the architecture forbids\n")
    r = _lint_imports(tmp_path)
    assert r.returncode != 0
    broken = r.stdout[r.stdout.index("Broken contracts") :]
    assert (
        contract in broken and Path(module).with_suffix("").as_posix().replace("/", ".") in broken
    )
