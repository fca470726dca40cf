"""Calibration, validation and drift checks inside a session, on the session's window.

The procedure itself (targets, collection, fit, validation, gate, history) is
:class:`calibration.procedure.CalibrationProcedure` and :func:`calibration.drift.drift_loop`;
this module only draws them on the runner's :class:`~experiment_protocols.presenter_screen.Presenter`
and records the results in the session store. In unattended runs (``--auto-respond``, demo)
the simulated eye is told where each target is.
"""

from __future__ import annotations

import math
from typing import Any

from acquisition.clock import session_clock
from calibration.calibration_screen import draw_abc_target, run_calibration
from calibration.drift import DriftResult, DriftSettings, drift_loop
from calibration.metrics import QualityGate
from calibration.procedure import CalibrationSettings
from calibration.targets import TargetTiming
from experiment_protocols.presenter_screen import Presenter
from experiment_protocols.schedule import PlannedTrial

__all__ = ["run_drift_check", "run_session_calibration"]


def _on_target(runner: Any) -> Any:
    tracker = runner.pipeline.tracker
    if runner.cfg.reader is not None and hasattr(tracker, "set_target"):
        return lambda x, y: tracker.set_target(float(x), float(y))
    return None


def run_session_calibration(runner: Any, reason: str) -> dict[str, Any]:
    """Calibrate and validate the runner's tracker on its window; store every record.

    Returns a dict with ``accepted``, ``passed``, ``accuracy_deg``, ``message``, ``escaped``.
    """
    p: Presenter = runner.presenter
    rc = runner.protocol.recalibration
    auto = runner.cfg.auto_respond
    timing = (
        TargetTiming(move_s=0.35, settle_s=0.2, collect_s=0.8, shrink_s=0.3)
        if auto
        else TargetTiming()
    )
    settings = CalibrationSettings(
        gate=QualityGate(max_point_data_loss_pct=float(rc.max_point_data_loss_pct)),
        n_points=rc.points,
        n_validation_points=min(rc.validation_points, 8),
        seed=None,
        timing=timing,
        auto_results_s=0.8,
    )
    pipeline = runner.pipeline
    intro = (
        "Please follow the dot with your eyes."
        if reason in ("start", "resume")
        else f"Recalibration ({reason}). Please follow the dot."
    )
    key, _ = p.show_text(
        "Calibration", intro, "Press SPACE to start", timeout_s=0.8 if auto else None
    )
    if key == "escape":
        return {
            "accepted": False,
            "passed": False,
            "accuracy_deg": None,
            "message": "calibration skipped (Escape)",
            "escaped": True,
        }
    was_visible = p.win.mouseVisible
    try:
        outcome = run_calibration(
            p.win, pipeline.tracker, pipeline.buffer, p.geometry, settings, auto,
            on_target=_on_target(runner), history=runner._calibration_history,
            on_flip=runner._check,  # a tracker lost past the limit ends the session here too
        )  # fmt: skip
    finally:
        p.win.color = p.background
        p.win.mouseVisible = was_visible
        p.clear_input()
    runner._calibration_history = outcome.history
    n_stored = getattr(runner, "_cal_stored", 0)
    kwargs = outcome.store_kwargs()
    for kw in kwargs[n_stored:]:
        runner.store_calibration(kw)
    runner._cal_stored = len(kwargs)
    acc = outcome.accuracy_deg
    if runner.cfg.reader is not None and hasattr(pipeline.tracker, "set_target"):
        pipeline.tracker.set_target(None)
    return {
        "accepted": outcome.accepted,
        "passed": outcome.passed,
        "accuracy_deg": None if acc is None or not math.isfinite(acc) else float(acc),
        "message": outcome.message,
        "escaped": outcome.aborted_by_operator,
    }


def run_drift_check(runner: Any, trial: PlannedTrial) -> DriftResult:
    """One drift check at the screen centre before ``trial`` (Escape aborts it)."""
    p: Presenter = runner.presenter
    pipeline = runner.pipeline
    if getattr(runner, "_drift_reader", None) is None:
        runner._drift_reader = pipeline.buffer.reader("drift-check")
    escaped = False

    def frame() -> bool:
        nonlocal escaped
        draw_abc_target(p.win, p.geometry, 0.5, 0.5)
        p.flip()
        escaped = escaped or any(ev.kind == "key" and ev.key == "escape" for ev in p.poll())
        return not escaped

    timeout = 3.0 if runner.cfg.auto_respond else 6.0
    res = drift_loop(
        frame,
        runner._drift_reader,
        p.geometry,
        DriftSettings(dwell_s=0.3, timeout_s=timeout),
        clock=session_clock,
        on_target=_on_target(runner),
    )
    if not math.isfinite(res.t):
        res.t = session_clock()
    return res
