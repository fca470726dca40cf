"""The LSL streams of a real session name no participant: read from another process."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sessions.store import SessionReader
from tests.support.session_files import (
    count_live,
    run_command,
    write_small_protocol,
    write_small_stimuli,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LABEL = "JaneDoe77"


@pytest.mark.parametrize("scope", ["network", "local"])
def test_streams_carry_the_session_uid_never_the_participant(tmp_path: Path, scope: str) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    pylsl = pytest.importorskip("pylsl")
    protocol = write_small_protocol(tmp_path / "p")
    manifest = write_small_stimuli(tmp_path / "stim", n=3)
    out = tmp_path / "out"
    cmd = [c for c in run_command(protocol, manifest, out, LABEL) if c != "--no-lsl"]
    env = {k: v for k, v in os.environ.items() if k != "LSLAPICFG"}
    proc = subprocess.Popen(
        [*cmd, "--lsl-scope", scope], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    folder = out / "t-study" / f"sub-{LABEL}" / "ses-1"
    try:
        deadline = time.monotonic() + 120
        while count_live(folder / "session.sqlite", "SELECT COUNT(*) FROM samples") < 10:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        with SessionReader.open(folder) as r:
            uid = r.session_uid()
        assert uid
        found = []
        for _ in range(10):
            found = [s for s in pylsl.resolve_streams(wait_time=1.0) if uid in s.source_id()]
            if len(found) >= 3:
                break
        assert {s.type() for s in found} >= {"Gaze", "Markers", "Fixations"}, found
        full = {}
        for s in found:
            assert s.source_id().startswith(f"gazeread-{uid}-")
            inlet = pylsl.StreamInlet(s)
            full[s.type()] = inlet.info(timeout=5.0)  # with its description
            del inlet
            for text in (s.name(), s.source_id(), full[s.type()].as_xml()):
                assert LABEL not in text and LABEL.lower() not in text.lower()
        # what a third-party recorder needs: the device, its rate, the screen, the detector
        gaze = full["Gaze"].desc()
        assert gaze.child_value("manufacturer") == "simulated"
        assert gaze.child_value("model") and gaze.child("acquisition").child_value("model")
        assert float(gaze.child("acquisition").child_value("sampling_rate")) == 300.0
        assert gaze.child("setup").child("screen").child_value("width_px") == "1024"
        fix = full["Fixations"].desc()
        assert fix.child("screen").child_value("distance_mm")
        # the session's table chose the detector (a 300 Hz simulated tracker: adaptive)
        assert fix.child("detector").child_value("method") in ("adaptive", "ivt", "idt")
        assert fix.child("detector").child_value("reason").startswith("auto: ")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert f"gazeread console --source {uid}" in err and f"scope {scope}" in err
