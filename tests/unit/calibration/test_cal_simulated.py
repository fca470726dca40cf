"""With the real simulated tracker (threaded, real time, headless display): the software
calibration brings validation accuracy down to the simulator's noise level."""

from __future__ import annotations

from typing import Any

import pytest

from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import RingBuffer
from calibration.headless import HeadlessDisplay
from calibration.procedure import CalibrationProcedure, CalibrationSettings
from calibration.targets import TargetTiming

GEOM = ScreenGeometry()
TIMING = TargetTiming(move_s=0.05, settle_s=0.2, collect_s=0.3, sample_timeout_s=0.5)
ERROR = {"offset": (0.05, -0.04), "gain": (1.07, 0.93), "rotation_deg": 2.0}


def _sim(error: dict[str, Any] | None) -> tuple[Any, RingBuffer]:
    sim_mod = pytest.importorskip("acquisition.trackers.simulated")
    buf = RingBuffer(1 << 16)
    tr = sim_mod.SimulatedTracker(
        buf, rate_hz=300.0, seed=3, screen=GEOM, calibration_error=error, blink_rate_hz=0.0
    )
    return tr, buf


def test_calibration_reduces_the_injected_error_to_the_noise_level() -> None:
    settings = CalibrationSettings(n_points=5, seed=2, timing=TIMING)
    # the noise level: the same validation on a simulator without calibration error
    tr, buf = _sim(None)
    with tr:
        proc = CalibrationProcedure(tr, buf.reader("cal"), GEOM, settings, on_target=tr.set_target)
        proc._calibration = proc.history.add("calibration", "none", 0.0, {})
        base = proc.validate(HeadlessDisplay(frame_s=0.01))
    assert base is not None and base.accuracy_deg is not None
    noise_level = base.accuracy_deg

    tr, buf = _sim(ERROR)
    with tr:
        proc = CalibrationProcedure(tr, buf.reader("cal"), GEOM, settings, on_target=tr.set_target)
        out = proc.run(HeadlessDisplay(frame_s=0.01), auto=True)
    assert out.accepted and out.passed, out.message
    assert out.calibration is not None and out.accuracy_deg is not None
    raw = out.calibration.result["raw_accuracy_deg"]
    assert raw > 2.0  # the injected error, in degrees, before calibration
    assert out.accuracy_deg <= 1.5 * noise_level + 0.05, (out.accuracy_deg, noise_level)
