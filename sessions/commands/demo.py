"""`gazeread demo`: the whole thing working, unattended, in under two minutes.

Built-in demo protocol, built-in phantom images (written into the output folder), the simulated
tracker and the simulated reader. Without a display, a virtual one (Xvfb) is started when
installed; otherwise the message says what to install.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sessions.commands.run import add_session_outputs
from sessions.run.display import virtual_display

__all__ = ["HELP", "add_arguments", "run"]

HELP = "run a full reading session on built-in images with the simulated tracker and reader"

_SCREEN = (1280, 800)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread demo``."""
    parser.add_argument(
        "--participant",
        default=None,
        metavar="ID",
        help="participant ID (default: demo01, demo02, ... the next free one)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the phantoms, the simulated tracker and reader (default 0)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=600.0,
        metavar="HZ",
        help="simulated sampling rate (default 600)",
    )
    parser.add_argument(
        "--fullscreen", action="store_true", help="full screen instead of a 1280x800 window"
    )
    add_session_outputs(parser)


def _demo_stimuli(folder: Path, seed: int) -> Path:
    """Write the built-in phantoms (and their manifest) into ``folder``; returns the manifest."""
    from stimuli.demo import write_demo_stimuli

    return Path(write_demo_stimuli(folder, seed=seed, n=4))


def _next_participant(out: Path) -> str:
    base = out / "demo"
    for i in range(1, 10000):
        pid = f"demo{i:02d}"
        if not (base / f"sub-{pid}" / "ses-1" / "session.sqlite").exists():
            return pid
    return "demo9999"


def run(args: argparse.Namespace) -> int:
    """Write the phantoms, preflight, run the session unattended, print what was recorded."""
    from acquisition.geometry import ScreenGeometry
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.commands.run import run_session
    from sessions.run.preflight import PreflightError, preflight

    out = Path(args.out)
    size = _SCREEN
    from acquisition.lsl_config import LslConfigError, configure_liblsl

    try:  # keep liblsl's INFO lines off the demo's terminal
        configure_liblsl(args.lsl_scope or "network", quiet=True)
    except LslConfigError as exc:
        print(f"gazeread demo: {exc}", file=sys.stderr)
        return 2
    try:
        disp, msg = virtual_display(size)
    except RuntimeError as exc:
        print(f"gazeread demo: {exc}", file=sys.stderr)
        return 2
    if msg:
        print(f"gazeread demo: {msg}", file=sys.stderr)
    try:
        stim_dir = out / "demo-stimuli"
        manifest = stim_dir / "manifest.csv"
        if not manifest.exists():
            manifest = _demo_stimuli(stim_dir, args.seed)
        participant = args.participant or _next_participant(out)
        try:
            pre = preflight(
                protocol="demo",
                manifest=manifest,
                tracker="simulated",
                participant=participant,
                session=1,
                out=out,
                resume=False,
                rate_hz=args.rate,
            )
        except PreflightError as exc:
            print(f"gazeread demo: {exc}", file=sys.stderr)
            return 2
        # A 1280x800 window on a 13.3" 16:10 laptop panel (286 x 179 mm) at 55 cm.
        geometry = ScreenGeometry(size[0], size[1], 286.0, 179.0, 550.0)
        print(
            f"gazeread demo: {pre.n_trials} trials ({len(pre.stimuli)} phantoms available), simulated "
            f"tracker at {args.rate:g} Hz, simulated reader; participant {participant}",
            file=sys.stderr,
        )
        ns = argparse.Namespace(
            tracker="simulated", participant=participant, session=1, out=str(out), resume=False,
            auto_respond=True, fullscreen=args.fullscreen, rate=args.rate, seed=args.seed, lsl=args.lsl,
            lsl_scope=args.lsl_scope,
        )  # fmt: skip
        reader = SimulatedReader(
            seed=args.seed, accuracy=0.8, viewing_s=(2.5, 4.0), response_s=(1.0, 2.0)
        )
        tracker_options = {
            "seed": args.seed,
            "calibration_error": {"offset": (0.02, -0.015), "gain": (1.03, 0.97)},
        }
        return run_session(ns, pre, geometry, reader=reader, tracker_options=tracker_options)
    finally:
        if disp is not None:
            disp.stop()
