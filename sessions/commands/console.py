"""`gazeread console`: watch a running session live from a second screen, over LSL.

A separate process: it finds the session's ``Gaze``, ``Fixations`` and ``Markers`` streams,
starts before or after the session, follows it when it restarts, and only ever reads; closing
or crashing it cannot touch the recording. Without ``--source`` it looks for gazeread sessions
on the network first: one is followed, several are listed and the operator picks one (or, with
no one to ask, it refuses and lists them); none: it waits for the first that starts.
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
    parser.add_argument(
        "--list", action="store_true", help="list the gazeread sessions on the network and exit"
    )


def run(args: argparse.Namespace) -> int:
    """Open the console window until it is closed."""
    try:
        import pylsl  # noqa: F401 - fail early with a clear message
    except Exception as exc:  # liblsl missing or broken
        print(f"gazeread console: LSL is not usable here ({exc}); install pylsl", file=sys.stderr)
        return 2
    source = args.source
    if source is None or args.list:
        picked = _pick_session(args.list)
        if isinstance(picked, int):
            return picked
        source = picked
    from PyQt6.QtWidgets import QApplication

    from sessions.console.console_window import ConsoleWindow
    from sessions.replay.theme_widget import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_dark_theme(app)  # type: ignore[arg-type]
    win = ConsoleWindow(source)
    if args.fullscreen:
        win.showFullScreen()
    else:
        win.show()
    return int(app.exec())


def _pick_session(list_only: bool) -> str | int | None:
    """The session to follow (its uid), None to wait for the first, or an exit code."""
    import pylsl

    from sessions.console.lsl_client import find_sessions

    found = find_sessions()
    now = pylsl.local_clock()
    if list_only:
        for s in found:
            print(s.describe(now))
        if not found:
            print("no gazeread session found on the network", file=sys.stderr)
        return 0
    if not found:
        print(
            "gazeread console: no session found yet; waiting for the first to start "
            "(follow a given one with --source UID)",
            file=sys.stderr,
        )
        return None
    if len(found) == 1:
        print(f"gazeread console: following {found[0].describe(now)}", file=sys.stderr)
        return found[0].uid
    lines = [f"  {k}. {s.describe(now)}" for k, s in enumerate(found, start=1)]
    if not sys.stdin.isatty():
        print(
            f"gazeread console: {len(found)} sessions on the network; choose one with "
            "--source UID:\n" + "\n".join(lines),
            file=sys.stderr,
        )
        return 2
    print("Sessions on the network:\n" + "\n".join(lines))
    while True:
        answer = input(f"Follow which (1-{len(found)}, Enter for 1)? ").strip() or "1"
        if answer.isdigit() and 1 <= int(answer) <= len(found):
            return found[int(answer) - 1].uid
        print(f"  type a number from 1 to {len(found)}")
