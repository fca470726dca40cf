"""The PsychoPy stimulus window: text screens, fixation cross, the image trial, frame timing.

This is one of the three modules of the package that draw (with ``forms_screen`` and
``pause_screen``). It decides nothing about the protocol: the runner tells it what to show and
gets back what happened, with every onset as a flip time on the session clock.

Timing
------
``win.flip()`` returns the flip time on PsychoPy's own clock; the offset to the session clock
(LSL ``local_clock``) is measured with paired reads when the window opens and again on request
(:meth:`Presenter.measure_clock_offset`), and every returned time is ``flip + offset``.

Input
-----
Keys and clicks are polled once per frame. :meth:`Presenter.inject` queues synthetic input
(used by the simulated reader and by ``--auto-respond``) that goes through exactly the same
code as real input.

Without vertical sync (a virtual display), ``flip`` returns at once; the presenter then paces
frames itself at the nominal refresh rate so a loop never spins the CPU.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from acquisition.clock import ClockOffset, measure_offset, session_clock
from acquisition.geometry import ScreenGeometry
from stimuli.layout import ImageLayout

__all__ = ["COLOURS", "ImageShown", "InputEvent", "Presenter"]

#: Reading-room palette (RGB 0-255): dark background, soft light text, muted accents.
COLOURS: dict[str, tuple[int, int, int]] = {
    "background": (0, 0, 0),
    "text": (215, 215, 215),
    "dim": (140, 140, 140),
    "accent": (90, 150, 215),
    "accent_text": (255, 255, 255),
    "button": (38, 38, 42),
    "button_line": (110, 110, 118),
    "warning": (225, 170, 60),
    "cross": (200, 200, 200),
}
FONT = "DejaVu Sans"


@dataclasses.dataclass(frozen=True)
class InputEvent:
    """A key press (``key``) or a click (``x``, ``y`` screen px, top-left origin, y down)."""

    kind: str  # 'key' | 'click'
    key: str = ""
    x: float = math.nan
    y: float = math.nan
    t: float = math.nan  # session time it was seen
    synthetic: bool = False


@dataclasses.dataclass
class ImageShown:
    """What happened while an image was up."""

    t_onset: float  # session time of the first flip showing it
    t_offset: float  # session time of the flip that removed it
    end_reason: str  # 'key' | 'click' | 'max_time' | 'paused' | 'stopped'
    frame_intervals: list[float]
    dropped_frames: int
    t_prepare_start: float = math.nan  # session time the runner asked for the image


class Presenter:
    """A full-screen (or windowed) PsychoPy window with the session's geometry.

    Parameters
    ----------
    geometry : ScreenGeometry
        Resolution (window size in px) and physical size (recorded as the monitor's).
    fullscreen : bool
    background : (r, g, b)
        0-255.
    screen : int
        Which physical screen.
    refresh_hz : float
        Nominal refresh rate, used for dropped-frame detection and for pacing without vsync.
    """

    def __init__(
        self,
        geometry: ScreenGeometry,
        *,
        fullscreen: bool = True,
        background: Sequence[int] = COLOURS["background"],
        screen: int = 0,
        refresh_hz: float = 60.0,
    ) -> None:
        from psychopy import event, logging, monitors, visual

        logging.console.setLevel(logging.ERROR)
        self.geometry = geometry
        self.size = (int(geometry.width_px), int(geometry.height_px))
        mon = monitors.Monitor(
            "gazeread",
            width=geometry.width_mm / 10.0,
            distance=geometry.distance_mm / 10.0,
            autoLog=False,
        )
        mon.setSizePix(list(self.size))
        self.background = tuple(int(v) for v in background)
        self.win = visual.Window(
            size=self.size,
            fullscr=fullscreen,
            screen=screen,
            monitor=mon,
            units="pix",
            color=self.background,
            colorSpace="rgb255",
            allowGUI=not fullscreen,
            waitBlanking=True,
            checkTiming=False,
            autoLog=False,
        )
        self.win.mouseVisible = not fullscreen
        real = (int(self.win.size[0]), int(self.win.size[1]))
        if real != self.size:  # full screen on a monitor of another resolution: adopt it
            self.size = real
            self.geometry = dataclasses.replace(geometry, width_px=real[0], height_px=real[1])
        self._visual = visual
        self._event = event
        self._clock = logging.defaultClock
        self.mouse = event.Mouse(win=self.win)
        self._buttons_down = False
        self._injected: collections.deque[InputEvent] = collections.deque()
        self.refresh_hz = float(refresh_hz)
        self.frame_period = 1.0 / self.refresh_hz
        self.win.refreshThreshold = 1.5 * self.frame_period
        self.offset = self.measure_clock_offset()
        self._last_flip_wall = time.perf_counter()
        self._flip_cost = 0.0
        self.paced = self._detect_no_vsync()
        self.on_frame: Callable[[float], None] | None = None
        self.stopped = False

    # ------------------------------------------------------------------ clocks and frames
    def measure_clock_offset(self) -> ClockOffset:
        """Measure (and keep) the PsychoPy-clock to session-clock offset."""
        self.offset = measure_offset(self._clock.getTime, session_clock)
        return self.offset

    def to_session(self, psychopy_t: float) -> float:
        """A PsychoPy flip time as session time."""
        return float(psychopy_t) + self.offset.offset_s

    def _detect_no_vsync(self) -> bool:
        """True when flips do not wait for the display (a virtual display, vsync off).

        With vsync no flip returns much sooner than a refresh period after the previous one;
        without it the shortest of a few flips is far below a period (even on a loaded
        machine, whose slow flips would fool an average).
        """
        shortest = math.inf
        last = time.perf_counter()
        for _ in range(10):
            self.win.flip()
            now = time.perf_counter()
            shortest = min(shortest, now - last)
            last = now
        return shortest < 0.5 * self.frame_period

    def flip(self) -> float:
        """Flip and return the flip time on the session clock (paced without vsync).

        Without vsync the presenter keeps its own 1/refresh grid: it sleeps until the next
        frame is due minus what the flip itself usually takes (software rendering), so frames
        come at the nominal rate instead of as fast as the CPU allows.
        """
        if self.paced:
            wait = self._last_flip_wall + self.frame_period - self._flip_cost - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        before = time.perf_counter()
        t = self.win.flip()
        after = time.perf_counter()
        self._flip_cost = 0.9 * self._flip_cost + 0.1 * min(after - before, self.frame_period)
        self._last_flip_wall = after
        if t is None:  # waitBlanking off
            t = self._clock.getTime()
        ts = self.to_session(t)
        if self.on_frame is not None:
            self.on_frame(ts)
        return ts

    def now(self) -> float:
        """Session time now."""
        return session_clock()

    # ------------------------------------------------------------------ input
    def inject(self, event: InputEvent) -> None:
        """Queue a synthetic key press or click (seen at the next poll)."""
        self._injected.append(dataclasses.replace(event, synthetic=True))

    def poll(self) -> list[InputEvent]:
        """Keys and clicks since the last poll (real ones, then injected ones)."""
        now = session_clock()
        out = [InputEvent("key", key=str(k), t=now) for k in self._event.getKeys()]
        pressed = any(self.mouse.getPressed())
        if pressed and not self._buttons_down:
            mx, my = self.mouse.getPos()
            out.append(
                InputEvent(
                    "click",
                    x=float(mx) + self.size[0] / 2.0,
                    y=self.size[1] / 2.0 - float(my),
                    t=now,
                )
            )
        self._buttons_down = pressed
        while self._injected:
            out.append(dataclasses.replace(self._injected.popleft(), t=now))
        return out

    def clear_input(self) -> None:
        """Forget pending real input (keys pressed before a screen appeared)."""
        self._event.clearEvents()
        self._buttons_down = any(self.mouse.getPressed())

    # ------------------------------------------------------------------ drawing helpers
    def px(self, x: float, y: float) -> tuple[float, float]:
        """Screen px (top-left origin, y down) -> PsychoPy pix (centre origin, y up)."""
        return (x - self.size[0] / 2.0, self.size[1] / 2.0 - y)

    def text(
        self,
        text: str,
        y: float,
        height_pct: float = 2.8,
        colour: str = "text",
        bold: bool = False,
        wrap_pct: float = 80.0,
    ) -> Any:
        """A TextStim centred horizontally at screen-px row ``y``; heights in % of screen height."""
        return self._visual.TextStim(
            self.win,
            text=text,
            pos=self.px(self.size[0] / 2.0, y),
            height=self.size[1] * height_pct / 100.0,
            wrapWidth=self.size[0] * wrap_pct / 100.0,
            color=COLOURS[colour],
            colorSpace="rgb255",
            font=FONT,
            bold=bold,
            anchorVert="center",
            alignText="center",
            autoLog=False,
        )

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: str | None,
        line: str | None,
        width: float = 2.0,
    ) -> Any:
        """A rectangle given in screen px."""
        cx, cy = self.px((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        return self._visual.Rect(
            self.win,
            width=x1 - x0,
            height=y1 - y0,
            pos=(cx, cy),
            fillColor=COLOURS[fill] if fill else None,
            lineColor=COLOURS[line] if line else None,
            colorSpace="rgb255",
            lineWidth=width,
            autoLog=False,
        )

    def fixation_cross(
        self, x: float | None = None, y: float | None = None, size_px: float | None = None
    ) -> Any:
        """A cross at screen px (default the centre)."""
        size = size_px or max(24.0, self.size[1] * 0.028)
        cx = self.size[0] / 2.0 if x is None else x
        cy = self.size[1] / 2.0 if y is None else y
        return self._visual.ShapeStim(
            self.win,
            vertices="cross",
            size=size,
            pos=self.px(cx, cy),
            fillColor=COLOURS["cross"],
            lineColor=COLOURS["cross"],
            colorSpace="rgb255",
            autoLog=False,
        )

    def image_stim(self, image: Any, layout: ImageLayout, display: Any = None) -> Any:
        """An ImageStim for a :class:`stimuli.loading.LoadedImage` placed by ``layout``.

        ``display``: pixels already resampled to the on-screen size (from the preloader).
        """
        from stimuli.image_screen import make_image_stim

        return make_image_stim(self.win, image, layout, display=display)

    # ------------------------------------------------------------------ screens
    def show_text(
        self,
        title: str,
        body: str,
        footer: str = "Press SPACE to continue",
        *,
        keys: Sequence[str] = ("space",),
        min_s: float = 0.3,
        timeout_s: float | None = None,
        allow_click: bool = True,
        extra: Sequence[Any] = (),
    ) -> tuple[str, float]:
        """A titled text screen until a key/click; returns ``(key | 'click' | 'timeout' | 'escape', t)``."""
        stims = [self.text(title, self.size[1] * 0.16, 4.2, "text", bold=True)]
        stims.append(self.text(body, self.size[1] * 0.47, 2.8, "text", wrap_pct=78))
        if footer:
            stims.append(self.text(footer, self.size[1] * 0.88, 2.4, "dim"))
        stims.extend(extra)
        self.clear_input()
        t0 = self.flip_stims(stims)
        while True:
            t = self.flip_stims(stims)
            if timeout_s is not None and t - t0 >= timeout_s:
                return "timeout", t
            for ev in self.poll():
                if ev.kind == "key" and ev.key == "escape":
                    return "escape", t
                if t - t0 < min_s:
                    continue
                if ev.kind == "key" and ev.key in keys:
                    return ev.key, t
                if ev.kind == "click" and allow_click:
                    return "click", t

    def flip_stims(self, stims: Sequence[Any]) -> float:
        """Draw ``stims`` and flip; returns the session flip time."""
        for s in stims:
            s.draw()
        return self.flip()

    def blank(self, duration_s: float, stims: Sequence[Any] = ()) -> tuple[float, bool]:
        """Show ``stims`` (or nothing) for ``duration_s``; returns ``(t_first_flip, escaped)``."""
        t0 = self.flip_stims(stims)
        t = t0
        while t - t0 < duration_s - 0.5 * self.frame_period:
            t = self.flip_stims(stims)
            if any(ev.kind == "key" and ev.key == "escape" for ev in self.poll()):
                return t0, True
        return t0, False

    def show_image(
        self,
        stim: Any,
        *,
        end_keys: Sequence[str],
        end_on_click: bool,
        min_s: float,
        max_s: float | None,
        on_onset: Callable[[float], None] | None = None,
        t_prepare_start: float = math.nan,
        auto_end_s: float | None = None,
    ) -> ImageShown:
        """Show an image until a key/click (after ``min_s``), ``max_s``, or Escape.

        ``on_onset(t)`` is called right after the first flip with its session time (markers).
        Frame intervals are recorded while the image is up. ``auto_end_s`` makes a synthetic
        key press (or click) end the viewing after that long (the simulated reader).
        """
        self.clear_input()
        self.win.frameIntervals = []
        self.win.nDroppedFrames = 0
        self.win.recordFrameIntervals = True
        stim.draw()
        onset = self.flip()
        if on_onset is not None:
            on_onset(onset)
        reason = "stopped"
        t = onset
        try:
            while not self.stopped:
                stim.draw()
                t = self.flip()
                if max_s is not None and t - onset >= max_s - 0.5 * self.frame_period:
                    reason = "max_time"
                    break
                if auto_end_s is not None and t - onset >= max(auto_end_s, min_s):
                    auto_end_s = None
                    if end_keys:
                        self.inject(InputEvent("key", key=end_keys[0]))
                    else:
                        self.inject(InputEvent("click", x=self.size[0] / 2.0, y=self.size[1] / 2.0))
                evs = self.poll()
                if any(ev.kind == "key" and ev.key == "escape" for ev in evs):
                    reason = "paused"
                    break
                if t - onset < min_s:
                    continue
                hit = [
                    ev
                    for ev in evs
                    if (ev.kind == "key" and ev.key in end_keys)
                    or (ev.kind == "click" and end_on_click)
                ]
                if hit:
                    reason = hit[0].kind
                    break
            offset = self.flip()  # the blank frame that removes the image
        finally:
            self.win.recordFrameIntervals = False
        intervals = [float(v) for v in self.win.frameIntervals]
        dropped = sum(1 for v in intervals if v > 1.5 * self.frame_period)
        return ImageShown(onset, offset, reason, intervals, dropped, t_prepare_start)

    def screenshot(self, stims: Sequence[Any]) -> np.ndarray:
        """Draw ``stims`` into the back buffer and return it as an RGB array (for tests/docs)."""
        for s in stims:
            s.draw()
        img = self.win.getMovieFrame(buffer="back")
        self.win.movieFrames = []
        self.win.flip()
        return np.asarray(img)

    def close(self) -> None:
        """Close the window (idempotent)."""
        with contextlib.suppress(Exception):  # a window that is already gone
            self.win.close()
