"""PsychoPy side of calibration: monitor settings, the animated target, and ``run_calibration``.

This module (with ``validation_screen`` and ``drift_screen``) is where calibration draws; the
logic it drives lives in :mod:`calibration.procedure`.

The target is Thaler et al.'s (2013) "ABC" fixation target: a dark disc crossed by a light
cross with a dark centre dot, the combination that gives the most stable fixation. It glides
between points and shrinks on arrival (sizes in degrees, from the screen geometry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from psychopy import core, event, monitors, visual

from acquisition.geometry import ScreenGeometry, px_per_degree
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers.base import Tracker
from calibration.history import CalibrationHistory
from calibration.procedure import (
    Action,
    CalibrationOutcome,
    CalibrationProcedure,
    CalibrationSettings,
    ResultsView,
    TargetHook,
)
from calibration.targets import TargetState

__all__ = [
    "BACKGROUND",
    "PsychoPyDisplay",
    "draw_abc_target",
    "geometry_from_monitor",
    "monitor_from_geometry",
    "open_window",
    "run_calibration",
]

log = logging.getLogger(__name__)

#: Mid grey background (PsychoPy rgb, -1..1), the luminance the reading screens use.
BACKGROUND = (-0.15, -0.15, -0.15)
_DARK = (-0.85, -0.85, -0.85)
_LIGHT = (0.95, 0.95, 0.95)
FONT = "DejaVu Sans"


def monitor_from_geometry(geom: ScreenGeometry, name: str = "gazeread") -> monitors.Monitor:
    """A PsychoPy ``Monitor`` (not saved to disk) with the geometry's width, distance, pixels.

    PsychoPy keeps width and distance in cm and assumes square pixels, so the height is
    implied by the resolution.
    """
    mon = monitors.Monitor(
        name, width=geom.width_mm / 10.0, distance=geom.distance_mm / 10.0, autoLog=False
    )
    mon.setSizePix([int(geom.width_px), int(geom.height_px)])
    return mon


def geometry_from_monitor(mon: monitors.Monitor) -> ScreenGeometry:
    """The :class:`ScreenGeometry` of a PsychoPy ``Monitor`` (height from square pixels).

    Raises ``ValueError`` naming the monitor and the missing setting.
    """
    size = mon.getSizePix()
    width_cm, dist_cm = mon.getWidth(), mon.getDistance()
    missing = [
        n
        for n, v in (("size in pixels", size), ("width", width_cm), ("distance", dist_cm))
        if not v
    ]
    if missing:
        raise ValueError(
            f"PsychoPy monitor {mon.name!r} lacks its {', '.join(missing)}: set them in "
            "PsychoPy's Monitor Center or pass the screen geometry explicitly"
        )
    w, h = int(size[0]), int(size[1])
    width_mm = float(width_cm) * 10.0
    return ScreenGeometry(w, h, width_mm, width_mm * h / w, float(dist_cm) * 10.0)


def open_window(
    geom: ScreenGeometry,
    *,
    size: tuple[int, int] | None = None,
    fullscreen: bool = False,
    screen: int = 0,
    decorated: bool | None = None,
    background: tuple[int, int, int] | None = None,
) -> visual.Window:
    """Open a PsychoPy window in pixel units with the geometry's monitor settings.

    ``size`` defaults to the geometry's resolution; in full screen the window takes the
    screen's resolution, which should equal the geometry's. ``decorated`` (default: not in
    full screen) gives the window a title bar; without a window manager (Xvfb) an undecorated
    window is the safe choice. ``background`` (RGB 0-255) is the protocol's
    (``[display] background``), so a standalone calibration looks like the session's.
    """
    w, h = size or (geom.width_px, geom.height_px)
    colour = BACKGROUND if background is None else tuple(v / 127.5 - 1.0 for v in background)
    win = visual.Window(
        size=(int(w), int(h)),
        fullscr=fullscreen,
        screen=screen,
        units="pix",
        color=colour,
        colorSpace="rgb",
        monitor=monitor_from_geometry(geom),
        allowGUI=(not fullscreen) if decorated is None else decorated,
        waitBlanking=True,
        checkTiming=False,
        autoLog=False,
    )
    win.mouseVisible = not fullscreen
    return win


def to_pix(win: visual.Window, x: float, y: float) -> tuple[float, float]:
    """Normalised display coordinates (origin top-left, y down) -> PsychoPy pix (centre, y up)."""
    w, h = win.size
    return (float(x) - 0.5) * float(w), (0.5 - float(y)) * float(h)


class _Target:
    """The ABC target's stimuli, reused every frame."""

    def __init__(self, win: visual.Window, px_per_deg: float) -> None:
        self.win = win
        self.ppd = px_per_deg
        # a light rim keeps the dark disc visible on any background (black reading rooms too)
        self.disc = visual.Circle(
            win, radius=10, edges=96, fillColor=_DARK, lineColor=_LIGHT, lineWidth=2.0,
            units="pix",
        )  # fmt: skip
        self.bar_h = visual.Rect(
            win, width=10, height=2, fillColor=_LIGHT, lineColor=None, units="pix"
        )
        self.bar_v = visual.Rect(
            win, width=2, height=10, fillColor=_LIGHT, lineColor=None, units="pix"
        )
        self.dot = visual.Circle(
            win, radius=2, edges=48, fillColor=_DARK, lineColor=None, units="pix"
        )

    def draw(self, x: float, y: float, diameter_deg: float, dot_deg: float) -> None:
        pos = to_pix(self.win, x, y)
        d = max(diameter_deg * self.ppd, 6.0)
        bar = max(d / 6.0, 2.0)
        self.disc.radius = d / 2.0
        self.bar_h.width, self.bar_h.height = d, bar
        self.bar_v.width, self.bar_v.height = bar, d
        self.dot.radius = max(dot_deg * self.ppd / 2.0, 1.5)
        for s in (self.disc, self.bar_h, self.bar_v, self.dot):
            s.pos = pos
            s.draw()


def draw_abc_target(
    win: visual.Window,
    geom: ScreenGeometry,
    x: float,
    y: float,
    diameter_deg: float = 0.6,
    dot_deg: float = 0.15,
) -> None:
    """Draw one ABC target at normalised (x, y) (no flip); for the drift check and trials.

    Cheap enough to call every frame: the stimuli are made once per window and geometry
    (kept on the window object) and only moved and resized afterwards.
    """
    ppd = px_per_degree(geom)[0]
    cached = getattr(win, "_gazeread_abc_target", None)
    if cached is None or cached.ppd != ppd:
        cached = _Target(win, ppd)
        win._gazeread_abc_target = cached
    cached.draw(x, y, diameter_deg, dot_deg)


class PsychoPyDisplay:
    """The procedure's :class:`~calibration.procedure.Display` in a PsychoPy window.

    Parameters
    ----------
    win : psychopy.visual.Window
        Pixel units (see :func:`open_window`).
    geometry : ScreenGeometry
        Sizes in degrees are converted with it.
    dot_deg : float
        Centre dot diameter of the target.
    auto_results_s : float
        In auto mode, how long the results stay on screen.
    capture : set of str
        Screenshots to take (``'target'``: the first fully shrunk target; ``'results'``: the
        first results frame); they land in :attr:`screenshots` as PIL images.
    on_flip : callable, optional
        Called after every flip (a session checks its tracker's health there; raising
        :class:`~calibration.procedure.StopSession` ends the calibration and the session).
    """

    def __init__(
        self,
        win: visual.Window,
        geometry: ScreenGeometry,
        *,
        dot_deg: float = 0.15,
        auto_results_s: float = 1.5,
        capture: set[str] | None = None,
        on_flip: Callable[[], None] | None = None,
    ) -> None:
        self.win = win
        self.on_flip = on_flip
        self.geometry = geometry
        self.dot_deg = dot_deg
        self.auto_results_s = auto_results_s
        self.capture = set(capture or ())
        self.screenshots: dict[str, Any] = {}
        self._target = _Target(win, px_per_degree(geometry)[0])
        self._text = visual.TextStim(
            win,
            text="",
            height=22,
            color=_LIGHT,
            wrapWidth=win.size[0] * 0.8,
            font=FONT,
            units="pix",
        )
        self._aborted = False
        self._last_inner = 0.0

    def snap(self, name: str) -> None:
        """Keep a screenshot of the back buffer (call after drawing, before the flip)."""
        if name in self.capture and name not in self.screenshots:
            self.win.getMovieFrame(buffer="back")
            self.screenshots[name] = self.win.movieFrames.pop()

    def target_frame(self, state: TargetState) -> None:
        """Draw the target and flip."""
        self._target.draw(state.x, state.y, state.diameter_deg, self.dot_deg)
        if state.phase == "dwelling" and state.diameter_deg == self._last_inner:
            self.snap("target")  # fully shrunk: the size stopped changing
        if state.phase == "dwelling":
            self._last_inner = state.diameter_deg
        else:
            self._last_inner = 0.0
        self._flip()

    def _flip(self) -> None:
        self.win.flip()
        if self.on_flip is not None:
            self.on_flip()

    def message(self, text: str, *, error: bool = False, duration_s: float = 0.0) -> None:
        """Show ``text`` (error: in amber) until ``duration_s`` passes or a key is pressed."""
        self._text.text = text
        self._text.color = (1.0, 0.55, 0.1) if error else _LIGHT
        t_end = time.monotonic() + duration_s
        event.clearEvents(eventType="keyboard")
        while True:
            self._text.draw()
            self._flip()
            keys = event.getKeys()
            if "escape" in keys:
                self._aborted = True
            if keys or time.monotonic() >= t_end:
                break

    def aborted(self) -> bool:
        """True once Escape was pressed."""
        if event.getKeys(keyList=["escape"]):
            self._aborted = True
        return self._aborted

    def results(self, view: ResultsView, auto: bool) -> Action:
        """Show the validation results and return the operator's choice."""
        from calibration.validation_screen import ResultsScreen

        screen = ResultsScreen(self.win, self.geometry, view)
        action = screen.run(
            auto=auto, auto_s=self.auto_results_s, snap=self.snap, on_flip=self.on_flip
        )
        if action.kind == "abort":
            self._aborted = (
                False  # an abort from the results screen is an answer, not Escape mid-point
            )
        return action


def run_calibration(
    win: visual.Window,
    tracker: Tracker,
    buffer: RingBuffer,
    geometry: ScreenGeometry,
    settings: CalibrationSettings | None = None,
    auto: bool = False,
    *,
    on_target: TargetHook | None = None,
    history: CalibrationHistory | None = None,
    display: PsychoPyDisplay | None = None,
    on_flip: Callable[[], None] | None = None,
) -> CalibrationOutcome:
    """Calibrate and validate ``tracker`` in ``win``; what the session runner calls.

    At session start and for every recalibration: shows the targets, the results screen
    (accept, redo points, recalibrate, previous calibration) and returns the outcome, whose
    ``store_kwargs()`` go into the session store. In ``auto`` mode a tracker with
    ``set_target`` (the simulated one) follows the targets and the results accept themselves
    when the gate passes. Never raises for bad data or a failing tracker.
    """
    if on_target is None and auto and hasattr(tracker, "set_target"):
        set_target = tracker.set_target

        def on_target(x: float, y: float) -> None:
            set_target(x, y)

    settings = settings or CalibrationSettings()
    disp = display or PsychoPyDisplay(
        win, geometry, auto_results_s=settings.auto_results_s, on_flip=on_flip
    )
    reader = buffer.reader("calibration")
    proc = CalibrationProcedure(
        tracker, reader, geometry, settings, on_target=on_target, history=history
    )
    win.mouseVisible = True
    before = win.color
    try:
        return proc.run(disp, auto=auto)
    finally:
        event.clearEvents()
        win.color = before  # the window's own background, not a fixed grey
        core.wait(0.0)
