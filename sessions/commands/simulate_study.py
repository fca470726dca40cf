"""`gazeread simulate-study`: a reader study with known effects, written without a display."""

from __future__ import annotations

import argparse
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "write a simulated reader study with known effects (for gazeread analyze)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread simulate-study``."""
    parser.add_argument("--readers", type=int, default=4, metavar="N")
    parser.add_argument(
        "--images", type=int, default=10, metavar="M", help="half real, half synthetic"
    )
    parser.add_argument(
        "--rate", type=float, default=60.0, metavar="HZ", help="gaze rate (default 60)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")


def run(args: argparse.Namespace) -> int:
    """Write the study; print its folder."""
    from sessions.analysis.simulate import simulate_study
    from sessions.store import StoreError

    try:
        root = simulate_study(args.out, readers=args.readers, images=args.images,
                              rate_hz=args.rate, seed=args.seed, workers=args.workers)  # fmt: skip
    except (ValueError, StoreError) as exc:
        print(f"gazeread simulate-study: {exc}", file=sys.stderr)
        return 2
    print(root)
    print(f"analyse it: gazeread analyze {root} --models {root / 'models.csv'} --out {root / 'analysis'}",
          file=sys.stderr)  # fmt: skip
    return 0
