"""`gazeread demo`: the whole thing working, unattended, in under two minutes.

Built-in demo protocol, built-in phantom images (written into the output folder), the simulated
tracker and the simulated reader. Without a display, a virtual one (Xvfb) is started when
installed; otherwise the message says what to install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sessions.commands.run import add_lsl_scope

__all__ = ["HELP", "add_arguments", "run", "summarise_session"]

HELP = "run a full reading session on built-in images with the simulated tracker and reader"

_SCREEN = (1280, 800)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread demo``."""
    parser.add_argument(
        "--out",
        default="gazeread-sessions",
        metavar="DIR",
        help="sessions root folder (default ./gazeread-sessions)",
    )
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
    parser.add_argument(
        "--no-lsl", dest="lsl", action="store_false", help="do not open LSL outlets"
    )
    add_lsl_scope(parser)


def _virtual_display(size: tuple[int, int]) -> tuple[Any, str]:
    """Start Xvfb when there is no display; returns (handle or None, message)."""
    if (
        not sys.platform.startswith("linux")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        return None, ""
    if shutil.which("Xvfb") is None:
        raise RuntimeError(
            "no display is available (DISPLAY is not set) and Xvfb is not installed, so the demo "
            "window cannot open. Install a virtual display with `sudo apt-get install xvfb` "
            "(Debian/Ubuntu; `dnf install xorg-x11-server-Xvfb` on Fedora), or run the demo "
            "from a desktop session."
        )
    from pyvirtualdisplay import Display

    disp = Display(visible=False, size=(size[0], size[1]), color_depth=24)
    disp.start()
    return (
        disp,
        f"no display found: running on a virtual display (Xvfb {size[0]}x{size[1]}, DISPLAY={os.environ.get('DISPLAY')})",
    )


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


def summarise_session(folder: Path) -> dict[str, Any]:
    """What a session holds: trials (complete), samples, fixations, answers (by condition)."""
    from sessions.store import SessionReader

    with SessionReader.open(folder) as s:
        counts = s.summary_counts()
        status = s.session_info().get("status")
    counts["frames"] = counts.pop("image_frames")
    return {"folder": str(folder), "status": status, **counts}


def _print_summary(s: dict[str, Any]) -> None:
    print("\nRecorded:")
    print(f"  trials      {s['trials_complete']} of {s['trials_total']} complete")
    print(f"  samples     {s['samples']:,} ({s['recorded_s']:.1f} s of gaze)")
    print(
        f"  fixations   {s['fixations_in_trials']} on images (mean {s['mean_fixation_ms']:.0f} ms), {s['fixations']} in all"
    )
    for cond, a in s["answers"].items():
        extra = ""
        if a["correct_authenticity"] is not None:
            extra = f", {a['correct_authenticity']} of {a['n']} judged correctly"
        print(
            f"  answers     {cond}: {a['n']}{extra}, mean confidence {a['mean_confidence'] or 0:.1f}, mean time from onset to answer {a['mean_rt_s'] or 0:.1f} s"
        )
    for kind, c in s["calibrations"].items():
        acc = c["mean_accuracy_deg"]
        print(f"  {kind:<11} {c['n']}" + (f" (mean {acc:.2f} deg)" if acc is not None else ""))
    print(f"  frames      {s['frames']} image frames, {s['dropped_frames']} dropped")
    print("\nReplay it:")
    print(f"  gazeread replay {s['folder']}")
    print(f"  gazeread check {s['folder']}")


def run(args: argparse.Namespace) -> int:
    """Write the phantoms, preflight, run the session unattended, print what was recorded."""
    from calibration.geometry import ScreenGeometry
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.commands.run import run_session
    from sessions.preflight import PreflightError, preflight

    out = Path(args.out)
    size = _SCREEN
    from acquisition.lsl_config import LslConfigError, configure_liblsl

    try:  # keep liblsl's INFO lines off the demo's terminal
        configure_liblsl(args.lsl_scope or "network", quiet=True)
    except LslConfigError as exc:
        print(f"gazeread demo: {exc}", file=sys.stderr)
        return 2
    try:
        disp, msg = _virtual_display(size)
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
        code = run_session(ns, pre, geometry, reader=reader, tracker_options=tracker_options)
        folder = pre.folder
        if (folder / "session.sqlite").exists():
            _print_summary(summarise_session(folder))
        return code
    finally:
        if disp is not None:
            disp.stop()
