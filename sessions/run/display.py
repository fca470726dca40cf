"""One way for every command that opens a window to handle a missing display.

Commands that show something to a person (``run``, ``calibrate``, ``replay``) refuse at once
when there is no display, all with the same message and exit code 2. Unattended runs
(``demo``, ``calibrate --auto``) start a virtual display (Xvfb) instead, and say so.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

__all__ = ["display_missing", "no_display_message", "virtual_display"]


def display_missing() -> bool:
    """True on Linux when neither DISPLAY nor WAYLAND_DISPLAY is set."""
    return sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def no_display_message(command: str) -> str:
    """The one message for a command that needs a display and has none."""
    return (
        f"no display: DISPLAY is not set, so `gazeread {command}` cannot open its window. Run "
        "it on the computer's desktop (or over ssh -X); for an unattended test run use a "
        f"virtual display: xvfb-run -a -s '-screen 0 1920x1080x24' gazeread {command} ... "
        "(apt-get install xvfb)"
    )


def virtual_display(size: tuple[int, int]) -> tuple[Any, str]:
    """Start Xvfb when there is no display; returns (handle or None, message).

    Raises ``RuntimeError`` with what to install when Xvfb is missing.
    """
    if not display_missing():
        return None, ""
    if shutil.which("Xvfb") is None:
        raise RuntimeError(
            "no display is available (DISPLAY is not set) and Xvfb is not installed, so no "
            "window can open. Install a virtual display with `sudo apt-get install xvfb` "
            "(Debian/Ubuntu; `dnf install xorg-x11-server-Xvfb` on Fedora), or run from a "
            "desktop session."
        )
    from pyvirtualdisplay import Display

    disp = Display(visible=False, size=(size[0], size[1]), color_depth=24)
    disp.start()
    return (
        disp,
        f"no display found: running on a virtual display (Xvfb {size[0]}x{size[1]}, "
        f"DISPLAY={os.environ.get('DISPLAY')})",
    )
