"""The console window fed by real LSL outlets on loopback (Xvfb)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.replay_sessions import colour_centroid, write_image

pytestmark = pytest.mark.gui

pylsl = pytest.importorskip("pylsl")


class FakeSession:
    """A running session's outlets (the real Gaze/Markers/Fixations outlet classes) at 500 Hz."""

    RATE = 500.0

    def __init__(self, source_id: str, gaze: tuple[float, float]) -> None:
        from acquisition.fixations.lsl_stream import FixationOutlet
        from acquisition.lsl_outlets import GazeOutlet, MarkerOutlet
        from acquisition.ring_buffer import RingBuffer

        self.gaze = gaze
        self.buffer = RingBuffer(1 << 15)
        self.gaze_outlet = GazeOutlet(
            self.buffer.reader("lsl"), self.RATE, f"{source_id}-gaze"
        ).start()
        self.markers = MarkerOutlet(f"{source_id}-markers")
        self.fixations = FixationOutlet(f"{source_id}-fixations")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="test-feed", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        from acquisition.samples import empty_samples

        t0 = pylsl.local_clock()
        k = 0
        while not self._stop.is_set():
            due = int((pylsl.local_clock() - t0) * self.RATE)
            if due > k:
                s = empty_samples(due - k)
                s["t"] = t0 + np.arange(k, due) / self.RATE
                s["left_x"], s["left_y"] = self.gaze
                s["right_x"], s["right_y"] = self.gaze[0] + 0.1, self.gaze[1]  # apart
                s["left_valid"] = s["right_valid"] = 1
                self.buffer.push_many(s)
                k = due
            self._stop.wait(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.buffer.close()
        self.gaze_outlet.stop()
        self.markers.close()
        self.fixations.close()


@pytest.fixture
def token() -> str:
    return f"gazeread-consoletest-{uuid.uuid4().hex[:10]}"


def _wait_gaze(qtbot: Any, win: Any, xy: tuple[float, float], timeout: int = 20000) -> None:
    def near() -> bool:
        g = win.canvas.snap.gaze_left if win.canvas.snap else None
        return g is not None and abs(g[0] - xy[0]) < 1e-9 and abs(g[1] - xy[1]) < 1e-9

    qtbot.waitUntil(near, timeout=timeout)


def test_console_shows_live_gaze_where_it_was_sent_and_follows_a_restart(
    qtbot: Any, token: str, tmp_path: Path, artifacts: Path
) -> None:
    from sessions.console.console_window import ConsoleWindow
    from sessions.replay.canvas_widget import COLOURS, qimage_to_array
    from stimuli.layout import fit_image

    win = ConsoleWindow(token)  # started before the session
    qtbot.addWidget(win)
    win.resize(1300, 800)
    win.show()
    sess = FakeSession(f"{token}-a", (0.3, 0.6))
    try:
        _wait_gaze(qtbot, win, (0.3, 0.6))
        # markers sent before the console's Markers inlet is open are not received (LSL sends
        # new samples only): wait until all three streams are followed
        qtbot.waitUntil(
            lambda: all(win.client.connected[k] for k in ("Gaze", "Markers", "Fixations")),
            timeout=15000,
        )
        img = write_image(tmp_path / "x.png")
        layout = fit_image((512, 512), (1280, 800)).to_dict()
        t = pylsl.local_clock()
        sess.markers.push(json.dumps({"event": "session_start", "n_trials": 4}), t)
        sess.markers.push(
            json.dumps({"event": "calibration", "accuracy_deg": 0.38, "passed": True}), t
        )
        sess.markers.push(
            json.dumps(
                {
                    "event": "image_onset",
                    "trial": 1,
                    "image_id": "x",
                    "condition": "authenticity",
                    "image_path": str(img),
                    "layout": layout,
                }
            ),
            t,
        )
        qtbot.waitUntil(
            lambda: (
                win.canvas.image is not None
                and bool(win.canvas.snap and win.canvas.snap.image_visible)
            ),
            timeout=15000,
        )
        snap = win.canvas.snap
        assert snap is not None and snap.screen_size == (1280, 800)
        assert "Trial 2 of 4" in win.trial_label.text()
        assert "0.38" in win.calib_label.text()
        assert "Hz" in win.rate.text()
        ex, ey = win.canvas.gaze_to_widget(0.3, 0.6)
        # independently: the 1280x800 screen fitted at 98 % into the canvas
        s = 0.98 * min(win.canvas.width() / 1280, win.canvas.height() / 800)
        assert ex == pytest.approx((0.3 * 1280 - 640) * s + win.canvas.width() / 2)
        assert ey == pytest.approx((0.6 * 800 - 400) * s + win.canvas.height() / 2)
        found = (float("nan"), float("nan"), 0)
        for _ in range(20):  # a loaded machine may deliver a chunk late: the dot hides when stale
            win.refresh()
            win.canvas.repaint()
            shot = win.canvas.grab()
            if shot.devicePixelRatio() != 1.0:
                pytest.skip("HiDPI screen: screenshot pixels are not widget pixels")
            found = colour_centroid(qimage_to_array(shot.toImage()), COLOURS["left"], (ex, ey), 16)
            if found[2] > 60:
                break
            qtbot.wait(50)
        shot.save(str(tmp_path / "console.png"))
        shot.save(str(artifacts / "console-canvas.png"))
        win.grab().save(str(artifacts / "console-window.png"))
        cx, cy, n = found
        assert n > 60, "the live gaze marker is missing"
        assert abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0, (cx, cy, ex, ey)
    finally:
        sess.close()
    # the session restarts (new outlets): the console finds it again by itself
    time.sleep(0.2)
    sess = FakeSession(f"{token}-b", (0.7, 0.25))
    try:
        _wait_gaze(qtbot, win, (0.7, 0.25), timeout=30000)
        snap = win.canvas.snap
        assert snap is not None and snap.connected["Gaze"] is not None
    finally:
        sess.close()
        win.close()
    assert win.client.error is None
