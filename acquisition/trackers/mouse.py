"""The mouse tracker: gaze from the pointer, for trying gazeread by hand.

No GUI toolkit is imported here. The pointer position comes from an injected
``position_source() -> (x, y) | None`` in normalised display coordinates (origin top-left,
y down), or by default from the X11 pointer through python-xlib (imported lazily), normalised by
the screen (or by a given rectangle of it). Both eyes are the pointer, valid; the pupil is
constant. ``None`` from the source (pointer elsewhere) gives an invalid sample.

A named daemon thread polls the source at the rate, sleeping between polls; each sample is
stamped with the session-clock time at which the pointer was read.
"""

from __future__ import annotations

import gc
import importlib.util
import math
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from acquisition.clock import ClockOffset, session_clock
from acquisition.geometry import ScreenGeometry
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import empty_samples
from acquisition.trackers.base import Availability, Tracker, TrackerError

__all__ = ["MouseTracker", "PositionSource", "X11PointerSource"]

#: Returns the pointer in normalised display coordinates, or None when it is not available.
PositionSource = Callable[[], "tuple[float, float] | None"]


class X11PointerSource:
    """Reads the X11 pointer with python-xlib, normalised by the screen or by ``rect_px``.

    Parameters
    ----------
    display : str, optional
        X display name (default ``$DISPLAY``).
    rect_px : (x, y, width, height), optional
        Area of the root window that maps to 0..1 (default the whole screen).

    The connection is opened on the first call (from the tracker thread) and closed by
    :meth:`close`.
    """

    def __init__(
        self,
        display: str | None = None,
        rect_px: tuple[float, float, float, float] | None = None,
    ) -> None:
        if rect_px is not None and (len(rect_px) != 4 or rect_px[2] <= 0 or rect_px[3] <= 0):
            raise ValueError(
                f"rect_px must be (x, y, width, height) with positive size, got {rect_px!r}"
            )
        self.display_name = display
        self.rect_px = rect_px
        self._display: Any = None
        self._root: Any = None

    def _open(self) -> None:
        from Xlib import display as xdisplay

        self._display = xdisplay.Display(self.display_name)
        screen = self._display.screen()
        self._root = screen.root
        if self.rect_px is None:
            self.rect_px = (0.0, 0.0, float(screen.width_in_pixels), float(screen.height_in_pixels))

    def __call__(self) -> tuple[float, float] | None:
        """Pointer position, normalised; None when the pointer is on another screen."""
        if self._display is None:
            self._open()
        reply = self._root.query_pointer()
        if not reply.same_screen:
            return None
        x0, y0, w, h = self.rect_px or (0.0, 0.0, 1.0, 1.0)
        return ((reply.root_x - x0) / w, (reply.root_y - y0) / h)

    def close(self) -> None:
        """Close the X connection (reopened on the next call)."""
        if self._display is not None:
            self._display.close()
            self._display = None
            self._root = None


def _x11_connect_problem() -> str:
    """Try the X display once; '' when it answers, else the error text.

    python-xlib leaves its sockets unclosed when a connection fails; they are collected here,
    with their ResourceWarning silenced, so the check has no side effect.
    """

    def attempt() -> str:
        try:
            from Xlib import display as xdisplay

            d = xdisplay.Display()
            d.close()
        except Exception as exc:  # any Xlib connection error: report it as text
            return str(exc) or type(exc).__name__
        return ""

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        problem = attempt()
        gc.collect()
    return problem


class MouseTracker(Tracker):
    """Gaze from the mouse pointer.

    Parameters
    ----------
    buffer : RingBuffer
    rate_hz : float
        One of :attr:`RATES` (default 120).
    position_source : callable, optional
        ``() -> (x, y) | None`` normalised; default :class:`X11PointerSource` ``()``.
    screen : ScreenGeometry, optional
        Only used for the eye positions (z = its distance).
    pupil_mm : float
        Constant pupil diameter reported for both eyes.
    clock : callable
        Session clock.
    """

    name: ClassVar[str] = "mouse"
    RATES: ClassVar[tuple[float, ...]] = (30.0, 60.0, 120.0, 125.0, 250.0)

    def __init__(
        self,
        buffer: RingBuffer,
        *,
        rate_hz: float = 120.0,
        position_source: PositionSource | None = None,
        screen: ScreenGeometry | None = None,
        pupil_mm: float = 3.5,
        clock: Callable[[], float] = session_clock,
    ) -> None:
        super().__init__(buffer, clock=clock)
        if not (isinstance(pupil_mm, (int, float)) and math.isfinite(pupil_mm) and pupil_mm > 0):
            raise TrackerError(f"mouse: pupil_mm must be a positive number, got {pupil_mm!r}")
        self.source: PositionSource = position_source or X11PointerSource()
        self.screen = screen or ScreenGeometry()
        self.pupil_mm = float(pupil_mm)
        self._stop_evt = threading.Event()
        self._t0 = 0.0
        self.set_rate(rate_hz)
        self.info.model = "gazeread mouse"
        self.info.serial = "MOUSE"
        self.info.address = (
            "x11-pointer" if isinstance(self.source, X11PointerSource) else "injected source"
        )

    @classmethod
    def is_available(cls) -> Availability:
        """Available when an X display and python-xlib are there (for the default source)."""
        missing = []
        if not os.environ.get("DISPLAY"):
            missing.append("no X display (DISPLAY is not set; run under X11 or Xvfb)")
        if importlib.util.find_spec("Xlib") is None:
            missing.append("python-xlib is not installed (pip install python-xlib)")
        if missing:
            return Availability(False, "; ".join(missing))
        problem = _x11_connect_problem()
        if problem:
            return Availability(
                False, f"cannot open X display {os.environ.get('DISPLAY')!r}: {problem}"
            )
        return Availability(True, f"X11 pointer on display {os.environ.get('DISPLAY')}")

    def supported_rates(self) -> list[float]:
        """Polling rates offered (Hz)."""
        return list(self.RATES)

    def _set_rate(self, rate_hz: float) -> None:
        """Takes effect at the next poll (the thread reads the rate every time)."""
        if self._running:
            self.post_event(
                "rate_changed", f"mouse rate {self.rate_hz:g} -> {rate_hz:g} Hz", rate_hz=rate_hz
            )

    # ---------------------------------------------------------------- lifecycle
    def _start(self) -> None:
        self._stop_evt.clear()
        self._t0 = self.clock()
        self._last_device_ts = None
        self.record_offset("mouse_device", ClockOffset(self._t0, self._t0, 0.0))
        self._start_thread(self._run, "gazeread-mouse", what="polling thread")

    def _stop(self) -> None:
        self._stop_evt.set()
        self._join_thread(5.0, cleanup=self._close_source)

    def _close_source(self) -> None:
        close = getattr(self.source, "close", None)
        if callable(close):
            close()

    def _run(self) -> None:
        next_t = self.clock()
        row = empty_samples(1)
        eye_z = self.screen.distance_mm
        while not self._stop_evt.is_set():
            self.beat()
            pos = self.source()
            t = self.clock()
            row[:] = empty_samples(1)
            row["t"] = t
            row["device_ts"] = round((t - self._t0) * 1e6)
            if pos is not None and math.isfinite(pos[0]) and math.isfinite(pos[1]):
                for eye, sign in (("left", -1.0), ("right", 1.0)):
                    row[f"{eye}_x"] = pos[0]
                    row[f"{eye}_y"] = pos[1]
                    row[f"{eye}_valid"] = 1
                    row[f"{eye}_pupil"] = self.pupil_mm
                    row[f"{eye}_eye_pos"] = np.array([sign * 31.5, 0.0, eye_z], np.float32)
            self._emit(row.copy())
            period = 1.0 / self.rate_hz
            next_t += period
            now = self.clock()
            if now - next_t > period:  # fell behind: poll again now, do not burst
                next_t = now
            self._stop_evt.wait(max(0.0, next_t - now))
