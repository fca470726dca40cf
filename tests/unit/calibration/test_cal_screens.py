"""The PsychoPy screens for real under Xvfb, with the simulated tracker; screenshots asserted.

Windows are 720x405 so they fit pytest-xvfb's default 800x600 screen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gui

SIZE = (720, 405)
FAST_KW = {"move_s": 0.15, "settle_s": 0.15, "collect_s": 0.3, "sample_timeout_s": 0.5}
ERROR = {"offset": (0.05, -0.04), "gain": (1.06, 0.94), "rotation_deg": 2.0}


@pytest.fixture(scope="module")
def geom() -> Any:
    from acquisition.geometry import ScreenGeometry

    return ScreenGeometry(SIZE[0], SIZE[1], SIZE[0] * 531.0 / 1920, SIZE[1] * 299.0 / 1080, 650.0)


@pytest.fixture(scope="module")
def win(geom: Any) -> Any:
    from calibration.calibration_screen import open_window

    w = open_window(geom, size=SIZE, decorated=False)
    yield w
    w.close()


@pytest.fixture
def sim(geom: Any) -> Any:
    from acquisition.ring_buffer import RingBuffer
    from acquisition.trackers.simulated import SimulatedTracker

    buf = RingBuffer(1 << 16)
    tr = SimulatedTracker(
        buf,
        rate_hz=300.0,
        seed=4,
        screen=geom,
        calibration_error=ERROR,
        blink_rate_hz=0.0,
        dropout_prob=0.0,
    )
    tr.start()
    yield tr, buf
    tr.stop()


def _arr(img: Any) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=int)


def test_monitor_round_trip(geom: Any) -> None:
    from calibration.calibration_screen import geometry_from_monitor, monitor_from_geometry

    mon = monitor_from_geometry(geom)
    assert mon.getWidth() == pytest.approx(geom.width_mm / 10)
    assert mon.getDistance() == pytest.approx(65.0)
    assert list(mon.getSizePix()) == [720, 405]
    back = geometry_from_monitor(mon)
    assert (back.width_px, back.height_px) == (720, 405)
    assert back.width_mm == pytest.approx(geom.width_mm)
    # PsychoPy assumes square pixels; this panel's pitch differs by 0.1 % between axes
    assert back.height_mm == pytest.approx(geom.height_mm, rel=2e-3)
    assert back.distance_mm == pytest.approx(650.0)
    from psychopy import monitors

    with pytest.raises(ValueError, match="lacks its"):
        geometry_from_monitor(monitors.Monitor("empty-gazeread-test", autoLog=False))


def test_calibration_in_a_window_with_screenshots(
    win: Any, geom: Any, sim: Any, tmp_path: Path
) -> None:
    from calibration.calibration_screen import PsychoPyDisplay, run_calibration
    from calibration.procedure import CalibrationSettings
    from calibration.targets import TargetTiming

    tracker, buf = sim
    settings = CalibrationSettings(
        n_points=5, seed=5, timing=TargetTiming(**FAST_KW), auto_results_s=0.3
    )
    disp = PsychoPyDisplay(win, geom, auto_results_s=0.3, capture={"target", "results"})
    out = run_calibration(win, tracker, buf, geom, settings, auto=True, display=disp)
    for name, img in disp.screenshots.items():
        img.save(tmp_path / f"{name}.png")
    assert out.accepted and out.passed, out.message
    assert tracker.correction is not None

    # --- the target: a dark disc with a light cross at a calibration point, grey around
    t = _arr(disp.screenshots["target"])
    assert t.shape[:2] == (SIZE[1], SIZE[0])
    bg = t[5, 5]
    assert abs(int(bg[0]) - 108) < 12 and bg[0] == bg[1] == bg[2]
    dark = np.argwhere(t.sum(axis=2) < 3 * 45)
    assert len(dark) > 20
    cy, cx = dark.mean(axis=0)
    from calibration.targets import calibration_points

    pts = calibration_points(5) * [SIZE[0], SIZE[1]]
    d = np.hypot(pts[:, 0] - cx, pts[:, 1] - cy)
    assert d.min() < 4.0, (cx, cy)
    # the cross: light pixels inside the disc's bounding box
    y0, x0 = dark.min(axis=0)
    y1, x1 = dark.max(axis=0)
    box = t[y0 : y1 + 1, x0 : x1 + 1]
    assert (box.sum(axis=2) > 3 * 200).sum() > 4
    # its size is the shrunk size (0.5 deg) within a few pixels
    from acquisition.geometry import px_per_degree

    assert (x1 - x0 + 1) == pytest.approx(0.5 * px_per_degree(geom)[0], abs=3)

    # --- the results: green PASS verdict, gaze marks in each eye's colour near each point
    r = _arr(disp.screenshots["results"])
    green = (r[..., 1] > 150) & (r[..., 0] < 160) & (r[..., 2] < 140)
    assert green[int(SIZE[1] * 0.6) :, SIZE[0] // 2 :].sum() > 100  # the verdict, lower right
    red = (r[..., 0] > 200) & (r[..., 1] < 110)
    assert red[int(SIZE[1] * 0.6) :, SIZE[0] // 2 :].sum() < 10
    orange = (r[..., 0] > 220) & (r[..., 1] > 140) & (r[..., 1] < 215) & (r[..., 2] < 130)
    assert (
        orange[int(SIZE[1] * 0.06) : int(SIZE[1] * 0.65)].sum() > 5
    )  # inside the map, not the legend


def test_failed_results_screen_and_keys(win: Any, geom: Any, tmp_path: Path) -> None:
    from calibration.headless import HeadlessDisplay
    from calibration.procedure import CalibrationProcedure, CalibrationSettings
    from calibration.targets import TargetTiming
    from calibration.validation_screen import ResultsScreen
    from tests.support.calibration_fakes import Rig

    rig = Rig(error={"offset": (0.1, 0.06)}, noise=0.008, right_extra_offset=(0.0, 0.04))
    proc = CalibrationProcedure(
        rig.tracker,
        rig.reader,
        geom,
        CalibrationSettings(seed=1, timing=TargetTiming(**FAST_KW)),
        on_target=rig.tracker.set_target,
    )
    proc._calibration = proc.history.add("calibration", "none", 0.0, {})
    rec = proc.validate(HeadlessDisplay(on_frame=rig.frame))
    assert rec is not None and not rec.passed
    screen = ResultsScreen(win, geom, proc.results_view())
    screen.toggle("val", 1)
    screen.handle_key("3", {"shift": True})
    screen.draw()
    win.getMovieFrame(buffer="back")
    img = win.movieFrames.pop()
    win.flip()
    img.save(tmp_path / "results_fail.png")
    r = _arr(img)
    red = (r[..., 0] > 200) & (r[..., 1] < 120) & (r[..., 2] < 120)
    assert red[int(SIZE[1] * 0.6) :, SIZE[0] // 2 :].sum() > 100  # FAIL (POOR) verdict
    yellow = (
        (r[..., 0] > 120)
        & (r[..., 1] > 120)
        & (r[..., 0] - r[..., 2] > 50)
        & (abs(r[..., 0] - r[..., 1]) < 20)
    )
    assert yellow.sum() > 30  # the selection rings
    blue = (r[..., 2] > 180) & (r[..., 0] < 120)
    assert blue[int(SIZE[1] * 0.06) : int(SIZE[1] * 0.65)].sum() > 20  # left-eye samples in the map
    act = screen.handle_key("r")
    assert act is not None and act.kind == "redo"
    assert act.validation_points == (1,) and act.calibration_points == (2,)
    assert screen.handle_key("c").kind == "recalibrate"  # type: ignore[union-attr]
    assert screen.handle_key("return").kind == "accept"  # type: ignore[union-attr]
    assert screen.handle_key("escape").kind == "abort"  # type: ignore[union-attr]
    # a click on validation point 1 toggles it
    x, y = screen.map_pos(*proc.val_targets[0])
    screen.handle_click((x + 3, y - 2))
    assert 0 in screen.sel_val


def test_drift_check_screen(win: Any, geom: Any, sim: Any) -> None:
    from calibration.drift import DriftSettings
    from calibration.drift_screen import run_drift_check
    from calibration.software import BinocularCorrection

    tracker, buf = sim
    settings = DriftSettings(radius_deg=0.5, dwell_s=0.3, timeout_s=2.0)
    # uncorrected, the injected error puts gaze several degrees off: fail -> recalibrate
    res = run_drift_check(
        win,
        buf.reader("drift"),
        geom,
        settings,
        clock=tracker.clock,
        on_target=tracker.set_target,
        auto=True,
    )
    assert not res.passed and res.action == "recalibrate" and res.offset_deg > settings.radius_deg
    # an offset-correcting calibration makes it pass
    from calibration.software import SoftwareCalibration

    dx, dy = ERROR["offset"]
    ident = SoftwareCalibration.identity()
    fix = SoftwareCalibration("affine", (0.5 - dx, 1.0, 0.0), (0.5 - dy, 0.0, 1.0))
    assert ident.model == "affine"
    tracker.set_correction(BinocularCorrection(fix, fix))
    res = run_drift_check(
        win,
        buf.reader("drift2"),
        geom,
        settings,
        clock=tracker.clock,
        on_target=tracker.set_target,
        auto=True,
    )
    assert res.passed and res.action == "continue" and math.isfinite(res.offset_deg)


def test_operator_redoes_single_points_with_the_keyboard(win: Any, geom: Any, sim: Any) -> None:
    """Not auto: key presses on the results screen redo a validation point, then a
    calibration point (Shift+number), then accept."""
    from psychopy import event

    from calibration.calibration_screen import PsychoPyDisplay, run_calibration
    from calibration.procedure import CalibrationSettings
    from calibration.targets import TargetTiming

    script = [[("2", 0), ("r", 0)], [("1", 1), ("r", 0)], [("return", 0)]]
    shown: list[Any] = []

    class Scripted(PsychoPyDisplay):
        def results(self, view: Any, auto: bool) -> Any:
            shown.append(view)
            return super().results(view, auto)

        def snap(self, name: str) -> None:  # called on the results screen's first frame
            if name == "results":
                for key, mods in script.pop(0):
                    event._onPygletKey(key, mods, emulated=True)

    tracker, buf = sim
    settings = CalibrationSettings(n_points=5, seed=5, timing=TargetTiming(**FAST_KW))
    disp = Scripted(win, geom)
    out = run_calibration(
        win, tracker, buf, geom, settings, auto=False, on_target=tracker.set_target, display=disp
    )
    assert not script and len(shown) == 3
    kinds = [(r.id, r.kind) for r in out.history]
    # cal 1, val 2, val 3 (point 2 redone), cal 4 (point A redone, refit), val 5
    assert kinds == [
        (1, "calibration"),
        (2, "validation"),
        (3, "validation"),
        (4, "calibration"),
        (5, "validation"),
    ]
    assert out.accepted and out.calibration is not None and out.calibration.id == 4
    assert len(out.history.get(3).result["points"]) == 4  # the other points kept


def test_a_point_that_lost_half_its_gaze_fails_in_red(
    win: Any, geom: Any, tmp_path: Path, artifacts: Path
) -> None:
    from calibration.headless import HeadlessDisplay
    from calibration.procedure import CalibrationProcedure, CalibrationSettings
    from calibration.targets import TargetTiming
    from calibration.validation_screen import ResultsScreen
    from tests.support.calibration_fakes import Rig

    # accurate everywhere, but half the samples lost at the targets on the right third
    rig = Rig(noise=0.001, lose=lambda target: 0.5 if target[0] > 0.7 else 0.0)
    proc = CalibrationProcedure(
        rig.tracker, rig.reader, geom,
        CalibrationSettings(seed=1, timing=TargetTiming(**FAST_KW)),
        on_target=rig.tracker.set_target,
    )  # fmt: skip
    proc._calibration = proc.history.add("calibration", "none", 0.0, {})
    rec = proc.validate(HeadlessDisplay(on_frame=rig.frame))
    assert rec is not None and not rec.passed
    view = proc.results_view()
    assert any("data loss above 40 % at a point" in m for m in view.messages)
    assert view.verdict == "FAIL (GOOD accuracy, data lost)"
    # one numbering: the screen's title and the CLI table name the same records
    assert view.validation_id == rec.id and view.calibration_id == rec.parent
    from calibration.report import format_validation_table

    table = format_validation_table(rec)  # the CLI table marks the lossy points
    assert "44%!" in table and "! data loss above the 40 % per-point limit" in table
    assert f"validation #{rec.id} of calibration #{rec.parent}" in table
    assert "\x1b[31m" in format_validation_table(rec, colour=True)
    screen = ResultsScreen(win, geom, view)
    screen.draw()
    win.getMovieFrame(buffer="back")
    img = win.movieFrames.pop()
    win.flip()
    img.save(tmp_path / "results_loss.png")
    img.save(artifacts / "validation-results-loss.png")
    r = _arr(img)
    red = (r[..., 0] > 200) & (r[..., 1] < 120) & (r[..., 2] < 120)
    assert (
        red[int(SIZE[1] * 0.06) : int(SIZE[1] * 0.6), int(SIZE[0] * 0.6) :].sum() > 30
    )  # "loss 50 %"
    assert red[int(SIZE[1] * 0.6) :, SIZE[0] // 2 :].sum() > 100  # the FAIL verdict


def test_the_target_is_visible_on_a_black_reading_room_background(
    win: Any, geom: Any, tmp_path: Path
) -> None:
    """The dark disc has a light rim: on black it used to be grey 19 on 0 (invisible)."""
    from calibration.calibration_screen import draw_abc_target

    before = win.color
    win.color = (-1.0, -1.0, -1.0)  # the gazeval protocol's black
    win.flip()
    draw_abc_target(win, geom, 0.5, 0.5, diameter_deg=1.5)
    win.getMovieFrame(buffer="back")
    img = win.movieFrames.pop()
    win.flip()
    win.color = before
    img.save(tmp_path / "target_on_black.png")
    r = _arr(img)[..., :3].astype(int).sum(axis=2)
    cy, cx = SIZE[1] // 2, SIZE[0] // 2
    ring = r[cy - 40 : cy + 40, cx - 40 : cx + 40]
    assert (ring > 500).sum() > 80  # the cross and the rim: light on black
    row = r[cy + 3, cx - 40 : cx + 40]  # a line through the disc, off the cross bar
    light = np.nonzero(row > 500)[0]
    assert light.size >= 2 and light[-1] - light[0] > 10  # a rim on both sides of the disc
