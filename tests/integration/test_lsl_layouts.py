"""The vendors' LSL apps, as labs run them: found with no option, mapped right, or explained.

The outlets run in another process, built from each app's published source
(tests/support/vendor_outlets.py names the files).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers import TrackerError, create_tracker
from sessions.run.pipeline import Pipeline
from sessions.store import SessionStore
from tests.support import SUPPORT

pytestmark = [pytest.mark.slow]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GEOM = ScreenGeometry(1024, 640, 300.0, 188.0, 600.0)


@pytest.fixture(scope="module")
def vendors() -> Iterator[str]:
    prefix = f"lay{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT / "vendor_outlets.py"), prefix, "--seconds", "120"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield prefix
    proc.kill()
    proc.wait(10)
    proc.stdout.close()


def test_gazeread_trackers_lists_every_layout_with_no_option(vendors: str) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "sessions", "trackers", "--lsl-timeout", "2"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = {sid: [ln for ln in res.stdout.splitlines() if sid in ln] for sid in (
        f"Tobiiat_{vendors}", f"eyelink-{vendors}", f"{vendors}-pupil-capture",
        f"{vendors}-neon_Gaze")}  # fmt: skip
    assert all(len(v) == 1 for v in lines.values()), res.stdout
    tobii = lines[f"Tobiiat_{vendors}"][0]
    assert "type Eyetracker" in tobii and "App-TobiiPro" in tobii and "left_x <- left_x" in tobii
    assert (
        "App-EyeLink" in lines[f"eyelink-{vendors}"][0]
        and "(pixels)" in lines[f"eyelink-{vendors}"][0]
    )
    for sid in (f"{vendors}-pupil-capture", f"{vendors}-neon_Gaze"):
        assert "head-mounted" in lines[sid][0] and "surface" in lines[sid][0]


def _record(source_id: str, seconds: float, tmp_path: Path) -> SessionStore:
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline("lsl", store, GEOM, source_id="t-layout", lsl=False,
                    tracker_options={"source_id": source_id, "screen": GEOM})  # fmt: skip
    store.update_session(tracker_json=pipe.tracker.info.to_dict())
    pipe.start()
    time.sleep(seconds)
    assert pipe.health() is None
    problems = pipe.stop()
    assert problems == []
    return store


@pytest.mark.parametrize(
    ("layout", "pupils"),
    [("tobii", (3.5, 3.6)), ("eyelink", None), ("xdf", (3.5, 3.6)), ("gazeread", (3.5, 3.6))],
)
def test_a_short_session_on_each_screen_based_layout(
    vendors: str, tmp_path: Path, layout: str, pupils: tuple[float, float] | None
) -> None:
    sid = {
        "tobii": f"Tobiiat_{vendors}",
        "eyelink": f"eyelink-{vendors}-",
        "xdf": f"{vendors}-xdf",
        "gazeread": f"gazeread-{vendors}-gaze",
    }[layout]
    if layout == "eyelink":
        import socket

        sid += socket.gethostname()
    store = _record(sid, 1.0, tmp_path)
    s = store.samples_between(-math.inf, math.inf)
    assert len(s) > 100
    np.testing.assert_allclose(s["left_x"], 0.25, atol=1e-4)  # the display's normalised frame
    np.testing.assert_allclose(s["left_y"], 0.40, atol=1e-4)
    np.testing.assert_allclose(s["right_x"], 0.27, atol=1e-4)
    np.testing.assert_allclose(s["right_y"], 0.42, atol=1e-4)
    assert s["left_valid"].all() and s["right_valid"].all()
    if pupils is None:  # EyeLink sends a pupil AREA in arbitrary units: never stored as mm
        assert np.isnan(s["left_pupil"]).all()
    else:
        np.testing.assert_allclose(s["left_pupil"], pupils[0], atol=1e-4)
        np.testing.assert_allclose(s["right_pupil"], pupils[1], atol=1e-4)
    extra = store.session_info()["tracker_json"]["extra"]
    assert extra["layout"] == {
        "tobii": "app-tobiipro", "eyelink": "app-eyelink", "xdf": "xdf", "gazeread": "gazeread"
    }[layout]  # fmt: skip
    store.close()


@pytest.mark.parametrize("which", ["pupil-capture", "neon_Gaze"])
def test_head_mounted_layouts_are_explained(vendors: str, which: str) -> None:
    with pytest.raises(TrackerError, match="scene camera") as info:
        create_tracker("lsl", RingBuffer(1 << 10), source_id=f"{vendors}-{which}")
    msg = str(info.value)
    assert "AprilTag" in msg and "surface" in msg and "ScreenX/ScreenY" in msg


@pytest.mark.gui
def test_gazeread_run_records_app_tobiipro_and_refuses_a_head_mounted_stream(
    vendors: str, tmp_path: Path
) -> None:
    import os

    from tests.support.session_files import (
        run_command,
        write_small_protocol,
        write_small_stimuli,
    )

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    protocol = write_small_protocol(tmp_path / "p")
    manifest = write_small_stimuli(tmp_path / "stim", n=3)
    out = tmp_path / "out"

    def cmd(participant: str, sid: str) -> list[str]:
        base = run_command(protocol, manifest, out, participant)
        i = base.index("--tracker")
        base[i + 1] = "lsl"
        j = base.index("--rate")
        del base[j : j + 2]  # an LSL stream has its own rate
        return [*base, "--tracker-option", f"source_id={sid}"]

    res = subprocess.run(cmd("P2", f"{vendors}-pupil-capture"), capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 2 and "scene camera" in res.stderr and "Traceback" not in res.stderr
    assert not (out / "t-study" / "sub-P2").exists()
    res = subprocess.run(cmd("P1", f"Tobiiat_{vendors}"), capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    with SessionStore.open(out / "t-study" / "sub-P1" / "ses-1") as r:
        assert r.session_info()["status"] == "completed"
        assert r.session_info()["tracker_json"]["extra"]["layout"] == "app-tobiipro"
        s = r.samples_between(-math.inf, math.inf)
        assert len(s) > 1000
        valid = s["left_valid"].astype(bool)
        assert valid.mean() > 0.99
        np.testing.assert_allclose(s["left_pupil"][valid], 3.5, atol=1e-4)
