"""Clean shutdown when the tracker disconnects or the recorder cannot write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from acquisition.geometry import ScreenGeometry
from sessions.run.pipeline import Pipeline
from sessions.store import SessionStore
from tests.support.session_files import write_small_protocol, write_small_stimuli

GEOM = ScreenGeometry(1024, 640, 300.0, 188.0, 600.0)


def _wait(cond, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_pipeline_reports_a_lost_tracker(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline(
        "simulated",
        store,
        GEOM,
        source_id="t-lost",
        lsl=False,
        tracker_options={"rate_hz": 300.0},
        stall_s=1.0,
    )
    pipe.start()
    try:
        assert _wait(lambda: pipe.recorder.stats.samples > 100)
        assert pipe.health() is None
        pipe.tracker.disconnect()  # type: ignore[attr-defined]
        assert _wait(lambda: pipe.health() is not None)
        assert "tracker connection lost" in (pipe.health() or "")
    finally:
        problems = pipe.stop()
    assert problems == []
    assert store.sample_count() > 100
    assert [e["kind"] for e in store.events("connection_lost")] == ["connection_lost"]
    store.close()


def test_pipeline_reports_a_stalled_tracker(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline(
        "simulated",
        store,
        GEOM,
        source_id="t-stall",
        lsl=False,
        tracker_options={"rate_hz": 300.0},
        stall_s=0.5,
    )
    pipe.start()
    try:
        assert _wait(lambda: pipe.recorder.stats.samples > 10)
        pipe.tracker._stop()  # the device goes silent without saying so
        assert _wait(lambda: pipe.health() is not None)
        assert "no gaze samples" in (pipe.health() or "")
    finally:
        pipe.stop()
        store.close()


def test_pipeline_reports_a_recorder_write_error(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline(
        "simulated", store, GEOM, source_id="t-write", lsl=False, tracker_options={"rate_hz": 300.0}
    )
    pipe.start()
    try:
        assert _wait(lambda: pipe.recorder.stats.samples > 10)
        store._conn.execute("PRAGMA query_only = ON")  # every later write fails
        assert _wait(lambda: pipe.health() is not None)
        assert "recording stopped" in (pipe.health() or "")
    finally:
        problems = pipe.stop()
        store._conn.execute("PRAGMA query_only = OFF")
        store.close()
    assert any("recording stopped" in p for p in problems)


@pytest.mark.gui
@pytest.mark.slow
def test_session_stops_cleanly_when_the_tracker_is_lost(tmp_path: Path) -> None:
    import os

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.run.config import RunConfig
    from sessions.run.preflight import preflight
    from sessions.run.runner import SessionRunner

    pre = preflight(
        protocol=str(write_small_protocol(tmp_path / "p")), manifest=write_small_stimuli(tmp_path / "st", 2),
        tracker="simulated", participant="P5", session=1, out=tmp_path / "out", resume=False,
    )  # fmt: skip
    cfg = RunConfig(
        protocol=pre.protocol, stimuli=pre.stimuli, manifest_path=pre.manifest_path, manifest_text=pre.manifest_text,
        manifest_sha256=pre.manifest_sha256, tracker="simulated", participant="P5", out=tmp_path / "out",
        auto_respond=True, geometry=GEOM, fullscreen=False, rate_hz=300.0, lsl=False,
        reader=SimulatedReader(viewing_s=(0.8, 1.0), response_s=(0.4, 0.5)), log=lambda m: None,
    )  # fmt: skip
    runner = SessionRunner(cfg)

    def pull_the_cable() -> None:
        folder = cfg.folder / "session.sqlite"
        _wait(
            lambda: (
                folder.exists() and runner.store is not None and len(runner.store.responses()) >= 1
            ),
            90,
        )
        runner.pipeline.tracker.disconnect()

    th = threading.Thread(target=pull_the_cable, name="cable", daemon=True)
    th.start()
    result = runner.run()
    th.join(5)
    assert result.status == "aborted"
    assert "tracker connection lost" in result.message
    assert 1 <= result.trials_complete < result.trials_total
    assert not any(t.name in ("recorder", "fixations") for t in threading.enumerate())
    with SessionStore.open(result.folder) as s:
        assert s.session_info()["status"] == "interrupted"
        assert s.events("session_end")[0]["data"]["status"] == "aborted"


@pytest.mark.gui
@pytest.mark.slow
def test_escape_then_end_and_save(tmp_path: Path) -> None:
    import os

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb provides one)")
    from experiment_protocols.presenter_screen import InputEvent
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.run.config import RunConfig
    from sessions.run.preflight import preflight
    from sessions.run.runner import SessionRunner

    pre = preflight(
        protocol=str(write_small_protocol(tmp_path / "p")), manifest=write_small_stimuli(tmp_path / "st", 2),
        tracker="simulated", participant="P6", session=1, out=tmp_path / "out", resume=False,
    )  # fmt: skip
    cfg = RunConfig(
        protocol=pre.protocol, stimuli=pre.stimuli, manifest_path=pre.manifest_path, manifest_text=pre.manifest_text,
        manifest_sha256=pre.manifest_sha256, tracker="simulated", participant="P6", out=tmp_path / "out",
        auto_respond=True, geometry=GEOM, fullscreen=False, rate_hz=300.0, lsl=False, auto_pause_choice="end",
        reader=SimulatedReader(viewing_s=(2.0, 2.5), response_s=(0.4, 0.5)), log=lambda m: None,
    )  # fmt: skip
    runner = SessionRunner(cfg)

    def press_escape_during_the_second_image() -> None:
        def second_onset() -> bool:
            st = runner.store
            return st is not None and len(st.events("image_onset")) >= 2

        if _wait(second_onset, 90):
            runner.presenter.inject(InputEvent("key", key="escape"))

    th = threading.Thread(target=press_escape_during_the_second_image, name="operator", daemon=True)
    th.start()
    result = runner.run()
    th.join(5)
    assert result.status == "ended" and result.trials_complete == 1
    with SessionStore.open(result.folder) as s:
        assert s.session_info()["status"] == "aborted"
        pause = s.events("pause")
        assert len(pause) == 1 and "image" in pause[0]["message"]
        assert s.events("pause_end")[0]["data"]["choice"] == "end"
        statuses = [t["status"] for t in s.trials()]
        assert statuses[0] == "complete" and statuses[1] == "shown"
        assert len(s.responses()) == 1


def test_pipeline_rides_out_a_short_disconnect(tmp_path: Path) -> None:
    """A tracker back within stall_s leaves a recorded gap, not a stopped session."""
    store = SessionStore.create(tmp_path, "s", "P1", 1)
    pipe = Pipeline(
        "simulated",
        store,
        GEOM,
        source_id="t-blip",
        lsl=False,
        tracker_options={"rate_hz": 300.0},
        stall_s=2.0,
    )
    pipe.start()
    try:
        assert _wait(lambda: pipe.recorder.stats.samples > 100)
        pipe.tracker.disconnect()  # type: ignore[attr-defined]
        assert _wait(lambda: store.events("connection_lost") != [])
        pipe.tracker.reconnect()  # type: ignore[attr-defined]
        assert _wait(lambda: store.events("connection_restored") != [])
        n = pipe.recorder.stats.samples
        assert _wait(lambda: pipe.recorder.stats.samples > n + 100)
        assert pipe.health() is None
    finally:
        problems = pipe.stop()
    assert problems == []
