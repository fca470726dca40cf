"""The console finds the sessions on the network: one is followed, several listed, none awaited."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pylsl
import pytest

from acquisition.geometry import ScreenGeometry
from acquisition.lsl_outlets import _gaze_info
from sessions.console.live import LiveState
from sessions.console.lsl_client import _describe, find_sessions

pytestmark = pytest.mark.slow


def _session_outlet(uid: str) -> pylsl.StreamOutlet:
    screen = ScreenGeometry(1280, 800, 300.0, 190.0, 600.0).to_dict()
    return pylsl.StreamOutlet(
        _gaze_info("gazeread-Gaze", f"gazeread-{uid}-gaze", 300.0, None, screen=screen)
    )


def test_sessions_are_found_listed_and_chosen_by_uid() -> None:
    a, b = f"t{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    outlets = [_session_outlet(a), _session_outlet(b)]  # noqa: F841 - kept open
    other = pylsl.StreamOutlet(pylsl.StreamInfo("Tobii", "Gaze", 6, 300.0, pylsl.cf_float32, "x1"))  # noqa: F841
    found = {s.uid for s in find_sessions(3.0)}
    assert {a, b} <= found and "x1" not in found
    r = subprocess.run(
        [sys.executable, "-m", "sessions", "console", "--list"], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert r.returncode == 0 and a in r.stdout and b in r.stdout and "300 Hz" in r.stdout
    # nobody to ask (no terminal): refuse, listing them, and say how to choose
    r = subprocess.run(
        [sys.executable, "-m", "sessions", "console"], capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert "choose one with --source UID" in r.stderr and a in r.stderr and b in r.stderr


def test_a_console_that_joins_late_knows_the_screen_from_the_gaze_stream() -> None:
    uid = f"t{uuid.uuid4().hex[:10]}"
    outlet = _session_outlet(uid)  # noqa: F841
    info = next(i for i in pylsl.resolve_byprop("source_id", f"gazeread-{uid}-gaze", 1, 5.0))
    inlet = pylsl.StreamInlet(info)
    desc = _describe(inlet.info(5.0))
    assert desc["screen"] == (1280, 800)
    state = LiveState()
    state.set_connected("Gaze", "gazeread-Gaze", screen=desc["screen"], labels=desc["labels"])
    assert state.snapshot(pylsl.local_clock()).screen_size == (1280, 800)  # before any onset
