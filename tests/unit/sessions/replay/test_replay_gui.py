"""The replay painter and window under Xvfb: overlays land on the pixels the recording says."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sessions.replay.data import TrialData, load_trial
from sessions.store import SessionStore
from tests.support.replay_sessions import (
    RATE_HZ,
    colour_centroid,
    expected_view_point,
    make_session,
)

pytestmark = pytest.mark.gui

FRAME = (960, 640)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_session(tmp_path_factory.mktemp("replay-gui"), n_trials=2)


@pytest.fixture(scope="module")
def data(session: Path) -> TrialData:
    with SessionStore.open(session) as store:
        return load_trial(store, 1)


def _render(qapp: Any, data: TrialData, t: float, view: Any = None, **opts: Any) -> np.ndarray:
    from sessions.replay.canvas_widget import qimage_to_array, render_frame
    from sessions.replay.scene import ReplayOptions

    img = render_frame(data, t, FRAME, ReplayOptions(**opts), view)
    return qimage_to_array(img)


def _sample_screen_point(data: TrialData, t: float) -> tuple[float, float]:
    """The left-eye sample shown at ``t``, in screen px, via image px and the stored layout."""
    lay = data.layout
    i = data.sample_index(t)
    xn, yn = data.left[i, 0] / lay.screen_width, data.left[i, 1] / lay.screen_height
    sx, sy = lay.image_to_screen(*lay.normalised_to_image(xn, yn))
    return float(sx), float(sy)


@pytest.mark.parametrize("zoom", [1.0, 3.0], ids=["fit", "zoom3x-panned"])
def test_gaze_marker_is_on_the_recorded_sample(qapp: Any, data: TrialData, zoom: float) -> None:
    from sessions.replay.canvas_widget import COLOURS
    from sessions.replay.scene import ViewTransform

    t = data.t_onset + 1.23
    sx, sy = _sample_screen_point(data, t)
    view = ViewTransform(*data.screen_size, *FRAME)
    centre = None
    if zoom != 1.0:
        view.zoom_at(zoom, *expected_view_point(sx, sy, data.screen_size, FRAME))
        view.pan_by(-40.0, 25.0)
        centre = (view.cx, view.cy)
    rgb = _render(
        qapp, data, t, view, trail_s=0.0, show_right=False, show_fixations=False, show_hud=False
    )
    ex, ey = expected_view_point(sx, sy, data.screen_size, FRAME, zoom, centre)
    cx, cy, n = colour_centroid(rgb, COLOURS["left"], (ex, ey), 12)
    assert n > 40, "the left-eye marker is missing"
    assert abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0, (cx, cy, ex, ey)


def test_fixation_circle_is_centred_on_the_stored_fixation(qapp: Any, data: TrialData) -> None:
    from sessions.replay.canvas_widget import COLOURS
    from sessions.replay.scene import fixation_radius

    f = data.fixations[0]
    t = float(f["t_end"]) + 0.25 / RATE_HZ  # fixation 1 is complete, fixation 2 not begun
    rgb = _render(
        qapp, data, t, show_left=False, show_right=False, show_hud=False, show_scanpath=False
    )
    ex, ey = expected_view_point(float(f["x"]), float(f["y"]), data.screen_size, FRAME)
    scale = 0.98 * min(FRAME[0] / data.screen_size[0], FRAME[1] / data.screen_size[1])
    r = float(fixation_radius(f["duration_ms"])) * scale
    cx, cy, n = colour_centroid(rgb, COLOURS["fixation"], (ex, ey), r + 4, tol=60)
    assert n > 2 * math.pi * r * 0.8, "the fixation ring is missing or broken"
    assert abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0, (cx, cy, ex, ey)


def test_heatmap_toggle_changes_the_picture(qapp: Any, data: TrialData) -> None:
    t = data.t_offset
    a = _render(qapp, data, t, show_heatmap=False)
    b = _render(qapp, data, t, show_heatmap=True)
    assert np.abs(a.astype(int) - b.astype(int)).sum() > 1000


def test_replay_window_shows_trial_and_scrubs(
    qtbot: Any, session: Path, tmp_path: Path, artifacts: Path
) -> None:
    from sessions.replay.canvas_widget import COLOURS, qimage_to_array
    from sessions.replay.replay_window import ReplayWindow

    win = ReplayWindow(session, first_trial=1)
    qtbot.addWidget(win)
    win.resize(1400, 850)
    win.show()
    with qtbot.waitSignal(win.trialShown, timeout=10000) as blocker:
        pass
    assert blocker.args == [1]
    assert win.table.rowCount() == 2

    def cell(r: int, c: int) -> str:
        item = win.table.item(r, c)
        return "" if item is None else item.text()

    assert cell(1, 5) != ""  # the answer
    qtbot.waitUntil(lambda: cell(1, 8) != "...", timeout=10000)
    assert "valid" in cell(1, 8)

    data = win.data
    assert data is not None and win.playhead is not None
    opts = win.canvas.opts
    opts.trail_s, opts.show_right, opts.show_fixations, opts.show_hud = 0.0, False, False, False
    t = data.t_onset + 0.9
    win.seek(t)
    win.step(1)
    assert win.playhead.t == pytest.approx(t + 1 / RATE_HZ)
    qtbot.wait(50)
    shot = win.canvas.grab()
    shot.save(str(tmp_path / "window-canvas.png"))
    shot.save(str(artifacts / "replay-canvas.png"))
    win.grab().save(str(artifacts / "replay-window.png"))
    rgb = qimage_to_array(shot.toImage())
    size = (win.canvas.width(), win.canvas.height())
    if shot.devicePixelRatio() != 1.0:
        pytest.skip("HiDPI screen: screenshot pixels are not widget pixels")
    ex, ey = expected_view_point(
        *_sample_screen_point(data, win.playhead.t), data.screen_size, size
    )
    cx, cy, n = colour_centroid(rgb, COLOURS["left"], (ex, ey), 12)
    assert n > 40
    assert abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0

    # timeline scrubbing: a click at 50 % goes to the middle of the trial
    from PyQt6.QtCore import QPoint, Qt

    tw = win.timeline
    x = round(12 + 0.5 * (tw.width() - 24))
    qtbot.mouseClick(tw, Qt.MouseButton.LeftButton, pos=QPoint(x, 20))
    assert win.playhead.t == pytest.approx(
        data.t0 + 0.5 * data.duration, abs=data.duration / tw.width() + 1e-6
    )

    onset = next(e for e in data.events if e.category == "onset")
    assert tw.event_at(tw._x(onset.t) + 2).startswith("image onset")
    assert tw.event_at(-100.0) == ""

    # play at 8x for a moment: time moves forward
    win.speed.setCurrentIndex(win.speed.count() - 1)
    before = win.playhead.t
    win.toggle_play()
    qtbot.waitUntil(lambda: win.playhead.t > before + 0.2, timeout=5000)
    win.toggle_play()
    assert not win.playhead.playing

    # zoom with the wheel changes the view, not the data
    before_left = data.left.copy()
    view = win.canvas.view
    assert view is not None
    view.zoom_at(2.0, 100, 100)
    win.canvas.reset_view()
    assert view.zoom == 1.0
    np.testing.assert_array_equal(data.left, before_left)

    # choosing another trial in the list loads it (in the worker thread)
    with qtbot.waitSignal(win.trialShown, timeout=10000) as blocker:
        win.select_trial(0)
    assert blocker.args == [0]
    assert win.data is not None and win.data.trial_id == 0
    win.close()
