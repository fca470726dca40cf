"""Drift check logic: pass, fail with the offset, no data, blinks; the loop over a reader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.geometry import ScreenGeometry
from acquisition.samples import empty_samples
from calibration.drift import DriftChecker, DriftSettings, drift_loop
from tests.support.calibration_fakes import Rig

G = ScreenGeometry(
    width_px=1000, height_px=1000, width_mm=1000.0, height_mm=1000.0, distance_mm=1000.0
)


def _block(
    t0: float, n: int, x: float, y: float, rate: float = 100.0, valid: bool = True
) -> np.ndarray:
    s = empty_samples(n)
    s["t"] = t0 + np.arange(n) / rate
    if valid:
        s["left_x"], s["left_y"], s["left_valid"] = x, y, 1
        s["right_x"], s["right_y"], s["right_valid"] = x, y, 1
    return s


def test_passes_after_the_dwell_and_reports_the_offset() -> None:
    st = DriftSettings(radius_deg=1.5, dwell_s=0.5, settle_s=0.0)
    c = DriftChecker(G, st, t_start=0.0)
    # 10 px right of the centre = atan(0.01) deg
    assert not c.feed(_block(0.0, 30, 0.51, 0.5))
    assert c.feed(_block(0.3, 30, 0.51, 0.5))
    r = c.result()
    assert r.passed and r.action == "continue"
    assert r.offset_deg == pytest.approx(math.degrees(math.atan(0.01)), abs=1e-12)
    assert r.offset_x_deg == pytest.approx(math.degrees(math.atan(0.01)), abs=1e-12)
    assert r.offset_y_deg == pytest.approx(0.0, abs=1e-12)
    assert r.offset_x_px == pytest.approx(10.0)
    assert r.duration_s == pytest.approx(0.5)
    kw = r.to_store_kwargs()
    assert kw["kind"] == "drift_check" and kw["passed"] == 1


def test_fails_when_gaze_is_outside_the_radius() -> None:
    st = DriftSettings(radius_deg=1.5, dwell_s=0.5, timeout_s=1.0, settle_s=0.0)
    c = DriftChecker(G, st, t_start=0.0)
    off = 1000 * math.tan(math.radians(2.0))  # 2 deg right
    c.feed(_block(0.0, 120, 0.5 + off / 1000, 0.5))
    assert c.done and not c.passed
    r = c.result()
    assert r.offset_deg == pytest.approx(2.0, abs=1e-9)
    assert "did not stay within 1.5 deg" in r.message and r.action == "recalibrate"


def test_leaving_the_radius_restarts_the_dwell() -> None:
    st = DriftSettings(radius_deg=1.0, dwell_s=0.5, timeout_s=5.0, settle_s=0.0)
    c = DriftChecker(G, st, t_start=0.0)
    c.feed(_block(0.0, 40, 0.5, 0.5))  # 0.39 s inside
    c.feed(_block(0.4, 1, 0.6, 0.5))  # one sample out
    assert not c.done
    c.feed(_block(0.41, 45, 0.5, 0.5))  # 0.44 s inside: not yet
    assert not c.done
    c.feed(_block(0.86, 10, 0.5, 0.5))
    assert c.passed


def test_no_samples_and_invalid_samples_fail_with_messages() -> None:
    st = DriftSettings(timeout_s=1.0, settle_s=0.0)
    c = DriftChecker(G, st, t_start=0.0)
    assert c.feed(empty_samples(0), now=2.0)
    r = c.result(now=2.0)
    assert not r.passed and "no samples arrived" in r.message and math.isnan(r.offset_deg)
    c = DriftChecker(G, st, t_start=0.0)
    c.feed(_block(0.0, 150, 0.5, 0.5, valid=False))
    r = c.result()
    assert not r.passed and "no valid gaze" in r.message and r.data_loss_pct == 100.0


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="radius_deg"):
        DriftSettings(radius_deg=0)
    with pytest.raises(ValueError, match="target"):
        DriftSettings(target=(1.5, 0.5))


def test_loop_with_a_reader_and_the_target_hook() -> None:
    rig = Rig(error={"offset": (0.005, 0.0)})

    def frame() -> bool:
        rig.frame()
        return True

    res = drift_loop(
        frame,
        rig.reader,
        ScreenGeometry(),
        DriftSettings(),
        clock=rig.clock,
        on_target=rig.tracker.set_target,
    )
    assert res.passed and rig.tracker.targets_seen == [(0.5, 0.5)]
    assert res.offset_x_px == pytest.approx(0.005 * 1920, abs=1.0)


def test_loop_fails_with_a_large_error_and_when_aborted() -> None:
    rig = Rig(error={"offset": (0.1, 0.0)})

    def frame() -> bool:
        rig.frame()
        return True

    res = drift_loop(
        frame, rig.reader, ScreenGeometry(), DriftSettings(timeout_s=1.0), clock=rig.clock
    )
    assert not res.passed and res.action == "recalibrate" and res.offset_deg > 4
    res = drift_loop(lambda: False, rig.reader, ScreenGeometry(), DriftSettings(), clock=rig.clock)
    assert res.action == "abort" and not res.passed
