"""Fixtures every test folder shares."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder that outlives the test run, for screenshots a person should look at.

    ``$GAZEREAD_TEST_ARTIFACTS`` or ``test-artifacts/`` at the top of the repository (not
    tracked), one sub-folder a test: the GUI tests keep their screenshots there, passing or
    not, so that a run leaves the console, the validation screen, the replay window and an
    exported frame to look at.
    """
    base = Path(os.environ.get("GAZEREAD_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder = base / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
