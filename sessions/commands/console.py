"""`gazeread console`: watch a running session live from a second screen, over LSL.

A separate process: it finds the session's ``Gaze``, ``Fixations`` and ``Markers`` streams,
starts before or after the session, follows it when it restarts, and only ever reads; closing
or crashing it cannot touch the recording.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "operator console: watch a running session's gaze live over LSL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread console``."""
    parser.add_argument(
        "--source",
        default=None,
        metavar="TEXT",
        help="follow only streams whose name or source_id contains TEXT (e.g. the study or "
        "participant, when several sessions run on one network); default: the newest session",
    )
    parser.add_argument(
        "--fullscreen", action="store_true", help="open full screen (on the operator's monitor)"
    )


def run(args: argparse.Namespace) -> int:
    """Open the console window until it is closed."""
    try:
        import pylsl  # noqa: F401 - fail early with a clear message
    except Exception as exc:  # liblsl missing or broken
        print(f"gazeread console: LSL is not usable here ({exc}); install pylsl", file=sys.stderr)
        return 2
    from PyQt6.QtWidgets import QApplication

    from sessions.console.console_window import ConsoleWindow
    from sessions.replay.theme_widget import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_dark_theme(app)  # type: ignore[arg-type]
    win = ConsoleWindow(args.source)
    if args.fullscreen:
        win.showFullScreen()
    else:
        win.show()
    return int(app.exec())
