"""The calibration procedure's state machine, without a display (fake clock and tracker)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry
from calibration.headless import HeadlessDisplay
from calibration.native import NATIVE_CALIBRATORS, NativeCalibrator
from calibration.procedure import Action, CalibrationProcedure, CalibrationSettings
from calibration.targets import TargetTiming
from tests.support.calibration_fakes import Rig

GEOM = ScreenGeometry()
FAST = TargetTiming(move_s=0.1, settle_s=0.15, collect_s=0.3, sample_timeout_s=0.3)
ERROR = {"offset": (0.03, -0.025), "gain": (1.06, 0.94), "rotation_deg": 2.0}


def _run(
    rig: Rig, actions: list[Action] | None = None, auto: bool = True, **settings: Any
) -> tuple[Any, HeadlessDisplay, CalibrationProcedure]:
    kw: dict[str, Any] = {"seed": 7, "timing": FAST}
    kw.update(settings)
    proc = CalibrationProcedure(
        rig.tracker, rig.reader, GEOM, CalibrationSettings(**kw), on_target=rig.tracker.set_target
    )
    disp = HeadlessDisplay(actions, on_frame=rig.frame)
    return proc.run(disp, auto=auto), disp, proc


def _baseline_accuracy(**tracker: Any) -> float:
    """Validation accuracy of an error-free tracker: the noise level."""
    rig = Rig(**tracker)
    proc = CalibrationProcedure(
        rig.tracker,
        rig.reader,
        GEOM,
        CalibrationSettings(seed=7, timing=FAST),
        on_target=rig.tracker.set_target,
    )
    disp = HeadlessDisplay(on_frame=rig.frame)
    proc._calibration = proc.history.add("calibration", "none", 0.0, {})
    rec = proc.validate(disp)
    assert rec is not None and rec.accuracy_deg is not None
    return rec.accuracy_deg


@pytest.mark.parametrize("n_points", [5, 9, 13])
def test_auto_calibration_reduces_the_injected_error_to_the_noise_level(n_points: int) -> None:
    noise = _baseline_accuracy(noise=0.001)
    rig = Rig(error=ERROR, noise=0.001)
    # Without calibration the error is several degrees:
    out, _, _ = _run(rig, n_points=n_points)
    assert out.accepted and out.passed, out.message
    assert out.accuracy_deg is not None and out.accuracy_deg < 1.5 * noise + 0.01
    assert out.calibration is not None
    assert out.calibration.method == ("software-poly2" if n_points >= 9 else "software-affine")
    assert rig.tracker.correction is not None
    assert out.calibration.selected and out.validation is not None and out.validation.selected
    # the simulated eye was sent to every calibration and validation target
    assert len(rig.tracker.targets_seen) == n_points + 4
    json.dumps([kw["result_json"] for kw in out.store_kwargs()], allow_nan=False)


def test_uncalibrated_error_is_large() -> None:
    rig = Rig(error=ERROR)
    proc = CalibrationProcedure(
        rig.tracker,
        rig.reader,
        GEOM,
        CalibrationSettings(seed=1, timing=FAST),
        on_target=rig.tracker.set_target,
    )
    proc._calibration = proc.history.add("calibration", "none", 0.0, {})
    rec = proc.validate(HeadlessDisplay(on_frame=rig.frame))
    assert (
        rec is not None
        and rec.accuracy_deg is not None
        and rec.accuracy_deg > 1.0
        and not rec.passed
    )


def test_redo_selected_calibration_points_refits_and_revalidates() -> None:
    rig = Rig(error=ERROR)
    out, disp, proc = _run(
        rig, [Action("redo", calibration_points=(2, 5)), Action("accept")], auto=False
    )
    assert out.accepted
    cals = out.history.calibrations()
    assert len(cals) == 2 and out.calibration is cals[1]
    assert len(rig.tracker.targets_seen) == 9 + 4 + 2 + 4
    redone = {tuple(p) for p in rig.tracker.targets_seen[13:15]}
    assert redone == {tuple(proc.cal_targets[2]), tuple(proc.cal_targets[5])}
    assert len(disp.views) == 2


def test_redo_selected_validation_points_only_remeasures_them() -> None:
    rig = Rig(error=ERROR)
    out, _, proc = _run(rig, [Action("redo", validation_points=(1,)), Action("accept")], auto=False)
    assert len(out.history.calibrations()) == 1
    assert len(rig.tracker.targets_seen) == 9 + 4 + 1
    assert tuple(rig.tracker.targets_seen[-1]) == tuple(proc.val_targets[1])
    assert out.validation is not None and len(out.validation.result["points"]) == 4


def test_select_a_previous_calibration_puts_it_back_in_force() -> None:
    rig = Rig(error=ERROR)
    out, _, _ = _run(
        rig, [Action("recalibrate"), Action("select", record_id=1), Action("accept")], auto=False
    )
    assert out.calibration is not None and out.calibration.id == 1
    assert [r.selected for r in out.history] == [True, True, False, False]
    corr = rig.tracker.correction
    assert corr is not None and corr.to_dict() == out.calibration.result["correction"]  # type: ignore[attr-defined]


def test_abort_restores_the_previous_correction() -> None:
    rig = Rig(error=ERROR)
    sentinel = lambda x, y: (x, y)  # noqa: E731
    rig.tracker.set_correction(sentinel)
    out, _, _ = _run(rig, [Action("abort")], auto=False)
    assert not out.accepted and rig.tracker.correction is sentinel


def test_operator_escape_mid_calibration_is_not_a_crash() -> None:
    rig = Rig(error=ERROR)
    proc = CalibrationProcedure(
        rig.tracker, rig.reader, GEOM, CalibrationSettings(seed=1, timing=FAST)
    )
    out = proc.run(HeadlessDisplay(on_frame=rig.frame, abort_after_frames=20))
    assert not out.accepted and "aborted" in out.message and rig.tracker.correction is None


def test_no_samples_ends_with_a_message_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig(stop_at=0.0)  # the tracker never produces anything
    with caplog.at_level(logging.WARNING):
        out, disp, _ = _run(rig, max_auto_attempts=1)
    assert not out.accepted and not out.passed
    texts = [m for m, _ in disp.messages]
    assert any("no samples arrived from the tracker" in m for m in texts)
    assert any("calibration failed" in m for m in texts)
    assert "no samples arrived" in caplog.text
    assert disp.views[-1].verdict == "CALIBRATION FAILED"


def test_all_invalid_samples_fail_the_fit_with_a_reason() -> None:
    rig = Rig(all_invalid=True)
    out, disp, _ = _run(rig, max_auto_attempts=1)
    assert not out.accepted
    assert any("only 0 had valid samples" in m for m, _ in disp.messages)


def test_single_eye_calibrates_and_passes() -> None:
    rig = Rig(error=ERROR, eyes=("left",))
    out, _, _ = _run(rig)
    assert out.accepted and out.passed
    assert out.validation is not None
    summary = out.validation.result["summary"]
    assert summary["eyes_used"] == ["left"]
    assert any("right eye" in m for m in summary["messages"])


def test_tracker_disconnecting_mid_calibration_is_reported() -> None:
    rig = Rig(error=ERROR)
    rig.tracker.stop_at = rig.clock() + 2.0  # stops after a few points
    out, disp, _ = _run(rig, max_auto_attempts=1)
    assert not out.accepted
    assert any("no samples arrived" in m for m, _ in disp.messages)


def test_per_eye_errors_are_corrected_per_eye() -> None:
    rig = Rig(error=ERROR, right_extra_offset=(0.02, 0.01))
    out, _, _ = _run(rig)
    assert out.passed
    per_eye = out.validation.result["summary"]["per_eye"]  # type: ignore[union-attr]
    assert per_eye["left"]["accuracy_deg"] < 0.2 and per_eye["right"]["accuracy_deg"] < 0.2


def test_results_view_and_errors_from_the_display_never_crash() -> None:
    class Broken(HeadlessDisplay):
        def results(self, view: Any, auto: bool) -> Action:
            raise RuntimeError("window closed")

    rig = Rig(error=ERROR)
    proc = CalibrationProcedure(
        rig.tracker, rig.reader, GEOM, CalibrationSettings(seed=1, timing=FAST)
    )
    out = proc.run(Broken(on_frame=rig.frame))
    assert not out.accepted and "window closed" in out.message


class FakeNative:
    """Records the calls the procedure makes, like TOBII's calibrator would receive them."""

    def __init__(self, status: str = "success", fail_at: tuple[float, float] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.status = status
        self.fail_at = fail_at

    def enter(self) -> None:
        self.calls.append(("enter",))

    def collect(self, x: float, y: float) -> bool:
        self.calls.append(("collect", x, y))
        return (x, y) != self.fail_at

    def discard(self, x: float, y: float) -> None:
        self.calls.append(("discard", x, y))

    def compute_and_apply(self) -> dict[str, Any]:
        self.calls.append(("compute",))
        pts = [c[1:] for c in self.calls if c[0] == "collect"]
        return {
            "status": self.status,
            "points": [
                {"x": x, "y": y, "samples": [{"left": [x + 0.01, y, 1], "right": [x, y, 0]}]}
                for x, y in pts
            ],
        }

    def leave(self) -> None:
        self.calls.append(("leave",))


@pytest.fixture
def native_rig(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeNative], Rig]:
    """A rig whose tracker calibrates itself through ``cal`` (by the native table)."""

    def make(cal: FakeNative) -> Rig:
        rig = Rig(error=None)
        monkeypatch.setitem(NATIVE_CALIBRATORS, rig.tracker.name, lambda _tracker: cal)
        return rig

    return make


def test_native_calibration_is_driven_through_the_protocol(native_rig) -> None:
    cal = FakeNative()
    assert isinstance(cal, NativeCalibrator)
    rig = native_rig(cal)
    out, _, proc = _run(
        rig, [Action("redo", calibration_points=(0,)), Action("accept")], auto=False, n_points=5
    )
    kinds = [c[0] for c in cal.calls]
    assert kinds[:1] == ["enter"] and kinds.count("collect") == 6 and kinds.count("leave") == 2
    first_leave = kinds.index("leave")
    assert kinds[first_leave - 1] == "compute"
    x0, y0 = (float(v) for v in proc.cal_targets[0])
    assert ("discard", x0, y0) in cal.calls
    assert out.accepted and out.passed and out.calibration is not None
    assert out.calibration.method == "tobii"
    pts = out.calibration.result["points"]
    assert pts[0]["left_residual_deg"] > 0 and pts[0]["right_residual_deg"] is None
    assert rig.tracker.correction is None  # the device applies its own calibration


def test_native_failure_is_reported_and_left_cleanly(native_rig) -> None:
    cal = FakeNative(status="failure")
    rig = native_rig(cal)
    out, disp, _ = _run(rig, max_auto_attempts=1, n_points=5)
    assert not out.accepted
    assert any("could not compute a calibration" in m for m, _ in disp.messages)
    assert [c[0] for c in cal.calls].count("enter") == [c[0] for c in cal.calls].count("leave")


def test_native_point_that_fails_is_retried_once(native_rig) -> None:
    rig0 = Rig()
    proc0 = CalibrationProcedure(rig0.tracker, rig0.reader, GEOM, CalibrationSettings(n_points=5))
    bad = tuple(float(v) for v in proc0.cal_targets[1])
    cal = FakeNative(fail_at=(bad[0], bad[1]))
    rig = native_rig(cal)
    _, disp, _ = _run(rig, [Action("accept")], auto=False, n_points=5)
    assert sum(1 for c in cal.calls if c[0] == "collect" and c[1:] == bad) == 2
    assert any("calibration point 2" in m for m, _ in disp.messages)


def test_collected_window_skips_the_settle_time() -> None:
    rig = Rig()
    proc = CalibrationProcedure(rig.tracker, rig.reader, GEOM, CalibrationSettings(timing=FAST))
    disp = HeadlessDisplay(on_frame=rig.frame)
    got = proc._present(disp, (0.3, 0.3), native_collect=False)
    t = got.samples["t"]
    assert len(t) > 0 and t.max() - t.min() <= FAST.collect_s
    assert np.all(np.diff(t) > 0) and got.message == ""


def test_validation_uses_the_eye_distance_the_tracker_reports() -> None:
    rig = Rig(error={"offset": (0.02, 0.0)})  # the fake reports eyes 640 mm away
    proc = CalibrationProcedure(
        rig.tracker,
        rig.reader,
        GEOM,
        CalibrationSettings(seed=1, timing=FAST),
        on_target=rig.tracker.set_target,
    )
    proc._calibration = proc.history.add("calibration", "none", 0.0, {})
    rec = proc.validate(HeadlessDisplay(on_frame=rig.frame))
    assert rec is not None
    assert {p["distance_mm"] for p in rec.result["points"]} == {640.0}
    assert GEOM.distance_mm == 650.0
