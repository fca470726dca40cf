"""The drift check in a PsychoPy window: ``run_drift_check(win, reader, geometry, ...)``.

Shows the ABC target at the drift target (default the centre) until gaze has stayed within
the radius for the dwell time, or the timeout passes. After a failure it offers: ``C``
recalibrate, ``Space`` retry, ``Enter`` continue anyway (auto mode: recalibrate). The logic
is :mod:`calibration.drift`; this module only draws.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from psychopy import event, visual

from acquisition.clock import session_clock
from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import Reader
from calibration.calibration_screen import FONT, draw_abc_target
from calibration.drift import DriftResult, DriftSettings, drift_loop

__all__ = ["run_drift_check"]


def run_drift_check(
    win: visual.Window,
    reader: Reader,
    geometry: ScreenGeometry,
    settings: DriftSettings | None = None,
    *,
    clock: Callable[[], float] = session_clock,
    on_target: Callable[[float, float], None] | None = None,
    auto: bool = False,
    diameter_deg: float = 0.6,
    max_retries: int = 3,
    choice_timeout_s: float = 600.0,
) -> DriftResult:
    """Run a drift check and return its result; ``result.action`` says what comes next.

    ``action`` is ``continue`` (passed, or the operator chose to go on), ``recalibrate``
    (the runner should call ``run_calibration``) or ``abort`` (Escape). Every attempt's
    offset is in the log; the returned result is the last attempt's.
    """
    settings = settings or DriftSettings()
    tries = 0
    while True:
        tries += 1
        x, y = settings.target

        def frame(x: float = x, y: float = y) -> bool:
            draw_abc_target(win, geometry, x, y, diameter_deg)
            win.flip()
            return not event.getKeys(keyList=["escape"])

        res = drift_loop(frame, reader, geometry, settings, clock=clock, on_target=on_target)
        if res.passed or res.action == "abort":
            return res
        if auto:
            return dataclasses.replace(res, action="recalibrate")
        choice = _offer(win, res, choice_timeout_s)
        if choice == "retry" and tries <= max_retries:
            continue
        return dataclasses.replace(res, action="continue" if choice == "retry" else choice)


def _offer(win: visual.Window, res: DriftResult, timeout_s: float) -> str:
    h = float(win.size[1])
    text = visual.TextStim(
        win,
        text=(
            f"{res.message}\n\nC: recalibrate        Space: try again        Enter: continue anyway"
        ),
        height=0.025 * h,
        color=(1.0, 0.7, 0.2),
        font=FONT,
        wrapWidth=0.8 * float(win.size[0]),
        units="pix",
    )
    event.clearEvents(eventType="keyboard")
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        text.draw()
        win.flip()
        for k in event.getKeys():
            if k == "c":
                return "recalibrate"
            if k == "space":
                return "retry"
            if k in ("return", "num_enter"):
                return "continue"
            if k == "escape":
                return "abort"
    return "recalibrate"
