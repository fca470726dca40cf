"""`gazeread calibrate`: calibrate and validate a tracker on its own.

Opens a PsychoPy window, runs the calibration procedure (targets, validation, results screen
with redo/recalibrate/accept), saves every calibration and validation to
``<out>/calibrations/<timestamp>_<tracker>.json`` and prints the validation table with its
verdict. ``--auto`` runs unattended: the simulated eye follows the targets and the results
accept themselves when the gate passes (for scripts and CI).

Exit status: 0 when a calibration was accepted and its validation passed the gate, 1 when
not, 2 when the tracker or the window could not be used.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import sys
from pathlib import Path
from typing import Any

HELP = "calibrate and validate a tracker on its own"

log = logging.getLogger("gazeread.calibrate")

#: The error injected into the simulated tracker unless --sim-error none: a few degrees.
DEFAULT_SIM_ERROR = {"offset": (0.06, -0.05), "gain": (1.08, 0.92), "rotation_deg": 2.0}
#: Physical pixel pitch assumed when only a resolution is given (a 24" 1920x1080 panel).
DEFAULT_MM_PER_PX = (531.0 / 1920, 299.0 / 1080)


def _pair(text: str, kind: type = int) -> tuple[Any, Any]:
    try:
        a, b = text.lower().split("x")
        return kind(a), kind(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH (e.g. 1280x720), got {text!r}") from None


def _mm_pair(text: str) -> tuple[float, float]:
    return _pair(text, float)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `gazeread calibrate`."""
    parser.add_argument(
        "--tracker", required=True, help="tracker backend (see `gazeread trackers`)"
    )
    parser.add_argument(
        "--points", type=int, choices=(5, 9, 13), default=9, help="calibration points (default 9)"
    )
    parser.add_argument(
        "--validate-points",
        type=int,
        default=4,
        metavar="N",
        help="validation points, not calibration points (default 4)",
    )
    parser.add_argument(
        "--auto",
        action="store_true",
        help="unattended: the simulated eye follows the targets; results accept themselves when the gate passes",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("gazeread-sessions"),
        help="sessions folder; the result goes to OUT/calibrations/ (default ./gazeread-sessions, "
        "as for run and demo)",
    )
    parser.add_argument(
        "--protocol",
        default="gazeval",
        help="protocol whose [display] background the calibration is shown on, as in its "
        "sessions (default: the built-in gazeval)",
    )
    parser.add_argument(
        "--screen",
        type=_pair,
        default=None,
        metavar="WxH",
        help="window size in pixels (default 1920x1080, or the screen in --fullscreen)",
    )
    parser.add_argument(
        "--screen-mm",
        type=_mm_pair,
        default=None,
        metavar="WxH",
        help="physical size of the window's area in mm (default: a 24-inch panel's pixel pitch)",
    )
    parser.add_argument(
        "--distance-mm",
        type=float,
        default=650.0,
        help="eye-screen distance in mm (default 650; a tracker reporting eye positions overrides it)",
    )
    parser.add_argument("--fullscreen", action="store_true", help="full-screen window")
    parser.add_argument(
        "--tracker-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend option, repeatable (e.g. serial=TPSP1-... for tobii, name=MyGaze for lsl)",
    )
    parser.add_argument(
        "--model",
        choices=("auto", "affine", "poly2"),
        default="auto",
        help="software calibration model (default: poly2 with >= 9 points, else affine)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the target order (and of the simulated tracker)",
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="sampling rate in Hz (default: the tracker's)"
    )
    parser.add_argument(
        "--sim-error",
        default="default",
        choices=("default", "none"),
        help="simulated tracker: inject the default calibration error, or none",
    )
    parser.add_argument(
        "--fast", action="store_true", help="shorter target timing (for CI; not for participants)"
    )


def _geometry(args: argparse.Namespace, size: tuple[int, int]) -> Any:
    from acquisition.geometry import ScreenGeometry

    w, h = size
    if args.screen_mm is not None:
        wmm, hmm = args.screen_mm
    else:
        wmm, hmm = w * DEFAULT_MM_PER_PX[0], h * DEFAULT_MM_PER_PX[1]
    return ScreenGeometry(int(w), int(h), float(wmm), float(hmm), float(args.distance_mm))


def run(args: argparse.Namespace) -> int:
    """Run the standalone calibration; see the module docstring for the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from sessions.run.display import display_missing, no_display_message, virtual_display

    disp_handle = None
    if display_missing():
        if not args.auto:  # a person must see the targets
            print(f"gazeread calibrate: {no_display_message('calibrate')}", file=sys.stderr)
            return 2
        try:
            disp_handle, msg = virtual_display(tuple(args.screen) if args.screen else (1920, 1080))
        except RuntimeError as exc:
            print(f"gazeread calibrate: {exc}", file=sys.stderr)
            return 2
        print(f"gazeread calibrate: {msg}", file=sys.stderr)
    try:
        return _run_calibration(args)
    finally:
        if disp_handle is not None:
            disp_handle.stop()


def _background(args: argparse.Namespace) -> tuple[int, int, int] | None:
    """The protocol's background (as in its sessions); None (a mid grey) if it cannot load."""
    from experiment_protocols.loader import ProtocolError, load_protocol

    try:
        return load_protocol(args.protocol).protocol.display.background
    except (ProtocolError, OSError) as exc:
        print(
            f"gazeread calibrate: --protocol: {exc}; using a mid-grey background", file=sys.stderr
        )
        return None


def _run_calibration(args: argparse.Namespace) -> int:
    """The calibration itself (a display is there)."""
    from acquisition.geometry import with_eye_distance
    from acquisition.ring_buffer import RingBuffer
    from acquisition.trackers import TrackerError, create_tracker
    from calibration.procedure import CalibrationSettings
    from calibration.report import format_validation_table
    from calibration.targets import TargetTiming

    if not 1 <= args.validate_points <= 10:
        print(
            f"gazeread calibrate: --validate-points must be 1..10, got {args.validate_points}",
            file=sys.stderr,
        )
        return 2
    size = tuple(args.screen) if args.screen else (1920, 1080)
    geom = _geometry(args, size)
    buffer = RingBuffer(1 << 18)
    opts: dict[str, Any] = {}
    if args.tracker == "simulated":
        opts = {
            "screen": geom,
            "calibration_error": None if args.sim_error == "none" else DEFAULT_SIM_ERROR,
        }
        if args.seed is not None:
            opts["seed"] = args.seed
    from acquisition.trackers.options import check_tracker_options
    from sessions.commands.run import parse_options
    from sessions.store import StoreError, with_recorded_session

    try:
        user_opts = parse_options(args.tracker_option)
        bad = check_tracker_options(args.tracker, user_opts)
        if bad:
            raise TrackerError("; ".join(bad))
        opts.update(user_opts)
        opts, _recording = with_recorded_session(args.tracker, opts)
        tracker = create_tracker(args.tracker, buffer, **opts)
        if args.rate is not None:
            tracker.set_rate(args.rate)
        tracker.start()
    except (TrackerError, ValueError, TypeError, StoreError, argparse.ArgumentTypeError) as exc:
        print(f"gazeread calibrate: {exc}", file=sys.stderr)
        return 2
    stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    out_file = args.out / "calibrations" / f"{stamp}_{args.tracker}.json"
    timing = TargetTiming(move_s=0.3, settle_s=0.2, collect_s=0.5) if args.fast else TargetTiming()
    settings = CalibrationSettings(
        n_points=args.points,
        n_validation_points=args.validate_points,
        seed=args.seed,
        timing=timing,
        model=args.model,
        auto_results_s=1.0 if args.fast else 2.0,
    )
    try:
        outcome, geom = _calibrate(args, tracker, buffer, geom, settings, with_eye_distance)
    finally:
        tracker.stop()
    if outcome is None:
        return 2
    info = getattr(tracker, "info", None)
    path = outcome.history.save_json(
        out_file,
        tracker=args.tracker,
        tracker_info=info.to_dict() if info is not None else {},
        geometry=geom.to_dict(),
        accepted=outcome.accepted,
        passed=outcome.passed,
        message=outcome.message,
        selected_calibration=None if outcome.calibration is None else outcome.calibration.id,
    )
    val = outcome.validation
    if val is None:  # not accepted: show the newest validation, if any
        vals = [r for r in outcome.history if r.kind == "validation"]
        val = vals[-1] if vals else None
    if val is not None:
        cal = outcome.history.get(val.parent) if val.parent is not None else None
        print(format_validation_table(val, cal, colour=sys.stdout.isatty()))
    print(outcome.message)
    print(f"saved {path}")
    return 0 if outcome.accepted and outcome.passed else 1


def _calibrate(
    args: argparse.Namespace,
    tracker: Any,
    buffer: Any,
    geom: Any,
    settings: Any,
    with_eye_distance: Any,
) -> tuple[Any, Any]:
    """Open the window, run the procedure, close the window. Returns (outcome | None, geometry)."""
    try:
        from calibration.calibration_screen import open_window, run_calibration
    except Exception as exc:  # no display, broken OpenGL: say so plainly
        print(f"gazeread calibrate: cannot use PsychoPy here: {exc}", file=sys.stderr)
        return None, geom
    try:
        win = open_window(geom, fullscreen=args.fullscreen, background=_background(args))
    except Exception as exc:
        print(
            f"gazeread calibrate: cannot open a window ({exc}); is a display available (DISPLAY, Xvfb)?",
            file=sys.stderr,
        )
        return None, geom
    try:
        w, h = (int(v) for v in win.size)
        if (w, h) != (geom.width_px, geom.height_px):  # full screen took the screen's resolution
            args.screen = (w, h)
            geom = _geometry(args, (w, h))
        geom = with_eye_distance(geom, buffer.time_range(-float("inf"), float("inf"))[-2000:])
        return run_calibration(win, tracker, buffer, geom, settings, auto=args.auto), geom
    finally:
        win.close()
