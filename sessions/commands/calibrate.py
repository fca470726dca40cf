"""`gazeread calibrate`: not built yet (see the open issue that owns it)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments yet."""
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Say plainly that this command does not exist yet."""
    print("gazeread calibrate: not available in this version yet", file=sys.stderr)
    return 2
