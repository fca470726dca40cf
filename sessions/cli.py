"""The ``gazeread`` command line: one sub-command per job, each in ``sessions/commands/``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported only when their command runs, so ``gazeread --help``
stays fast and a missing optional dependency breaks only the command that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "build_parser", "main"]

#: command -> (module, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("sessions.commands.demo", "run a full reading session on built-in images with the simulated tracker and reader"),
    "run": ("sessions.commands.run", "run a reading session with a radiologist (protocol, stimuli, tracker)"),
    "calibrate": ("sessions.commands.calibrate", "calibrate and validate a tracker on its own"),
    "replay": ("sessions.commands.replay", "replay a recorded session in a window, or export frames/videos"),
    "console": ("sessions.commands.console", "operator console: watch a running session's gaze live over LSL"),
    "export": ("sessions.commands.export", "export sessions to BIDS, GazeVaLM-style maps or REFLACX tables"),
    "check": ("sessions.commands.check", "data-quality report of a recorded session"),
    "trackers": ("sessions.commands.trackers", "list the eye trackers usable on this machine, and why others are not"),
    "analyze": ("sessions.commands.analyze", "the study's findings from its sessions: report.html, tables/*.csv, summary.json"),
    "simulate-study": ("sessions.commands.simulate_study", "write a simulated reader study with known effects (for gazeread analyze)"),
    "stimuli": ("sessions.commands.stimuli", "check stimulus manifests and images; write the demo phantoms"),
}  # fmt: skip


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gazeread")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def build_parser(load_commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser. Only the commands in ``load_commands`` get their arguments."""
    parser = argparse.ArgumentParser(
        prog="gazeread",
        description="Eye-tracked reading sessions of real and synthetic chest X-rays.",
    )
    parser.add_argument("--version", action="version", version=f"gazeread {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if load_commands is not None and name in load_commands:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gazeread`` console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    wanted = [a for a in args_list if a in COMMANDS][:1]
    parser = build_parser(wanted)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(COMMANDS[args.command][0])
    # Everything gazeread writes (sessions, exports, calibrations) is readable by its owner
    # only: gaze, answers and pupils are personal data (docs/privacy.md says how to share).
    umask = os.umask(0o077)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("gazeread: interrupted", file=sys.stderr)
        return 130
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
