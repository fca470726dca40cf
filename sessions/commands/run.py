"""`gazeread run`: a whole reading session (preflight, calibration, trials, clean shutdown)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acquisition.geometry import ScreenGeometry
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.run.preflight import PreflightResult

__all__ = [
    "HELP",
    "add_arguments",
    "add_session_outputs",
    "lsl_scope_for",
    "parse_options",
    "parse_size",
    "run",
]

HELP = "run a reading session with a radiologist (protocol, stimuli, tracker)"


def parse_size(text: str, what: str = "--screen") -> tuple[float, float]:
    """``'1920x1080'`` -> ``(1920.0, 1080.0)``; a bad value raises naming the option."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[xX]\s*(\d+(?:\.\d+)?)\s*", text or "")
    if not m:
        raise argparse.ArgumentTypeError(f"{what} must look like 1920x1080, got {text!r}")
    w, h = float(m.group(1)), float(m.group(2))
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"{what} must be positive, got {text!r}")
    return w, h


def parse_options(items: list[str]) -> dict[str, object]:
    """``["name=X", "rate_hz=300", "recover=false"]`` -> typed dict; a bad item raises naming it."""
    out: dict[str, object] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise argparse.ArgumentTypeError(
                f"--tracker-option must look like KEY=VALUE, got {item!r}"
            )
        value: object = raw
        low = raw.strip().lower()
        if low in ("true", "false"):
            value = low == "true"
        else:
            for conv in (int, float):
                try:
                    value = conv(raw)
                    break
                except ValueError:
                    continue
        out[key.strip()] = value
    return out


def add_session_outputs(parser: argparse.ArgumentParser) -> None:
    """Where a session goes, the same for ``run`` and ``demo``.

    ``--out``, ``--no-lsl`` and ``--lsl-scope`` (who can find the session's LSL streams,
    docs/privacy.md).
    """
    parser.add_argument(
        "--out",
        default="gazeread-sessions",
        metavar="DIR",
        help="sessions root folder (default ./gazeread-sessions)",
    )
    parser.add_argument(
        "--no-lsl",
        dest="lsl",
        action="store_false",
        help="do not open the LSL Gaze/Markers/Fixations outlets",
    )
    parser.add_argument(
        "--lsl-scope",
        choices=("network", "local"),
        default=None,
        help="who finds the LSL streams: network (the lab network, LSL's default) or local "
        "(this computer only); default: the protocol's [privacy] lsl_scope, else network",
    )


def lsl_scope_for(args: argparse.Namespace) -> str:
    """The LSL scope in force: ``--lsl-scope``, else the protocol's, else ``network``."""
    if getattr(args, "lsl_scope", None):
        return str(args.lsl_scope)
    from experiment_protocols.loader import ProtocolError, load_protocol

    try:
        return load_protocol(args.protocol).protocol.privacy.lsl_scope
    except (ProtocolError, OSError, ValueError):
        return "network"  # preflight reports the protocol's problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread run``."""
    parser.add_argument(
        "--protocol",
        required=True,
        help="built-in protocol name (gazeval, demo) or a protocol TOML file",
    )
    parser.add_argument(
        "--stimuli", required=True, metavar="MANIFEST", help="stimulus manifest CSV"
    )
    parser.add_argument(
        "--tracker",
        required=True,
        help="tracker backend: simulated, tobii, lsl, mouse, replay (see `gazeread trackers`)",
    )
    parser.add_argument(
        "--participant",
        required=True,
        metavar="ID",
        help="participant ID (letters, digits, '-', '_'); its number sets the condition order",
    )
    parser.add_argument(
        "--session", type=int, default=1, metavar="N", help="session number (default 1)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted session at its first unfinished trial (recalibrates first)",
    )
    parser.add_argument(
        "--auto-respond",
        action="store_true",
        help="unattended: a simulated reader looks and answers (tests, dry runs)",
    )
    parser.add_argument(
        "--screen",
        default="1920x1080",
        metavar="WxH",
        help="stimulus window resolution in px (default 1920x1080)",
    )
    parser.add_argument(
        "--screen-mm",
        default="531x299",
        metavar="WxH",
        help='physical size of the visible screen area in mm (default 531x299, a 24" 16:9 monitor)',
    )
    parser.add_argument(
        "--distance-mm",
        type=float,
        default=650.0,
        help="eye to screen distance in mm (default 650)",
    )
    parser.add_argument(
        "--fullscreen",
        dest="fullscreen",
        action="store_true",
        default=True,
        help="full-screen window (default)",
    )
    parser.add_argument(
        "--windowed", dest="fullscreen", action="store_false", help="a normal window (testing)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="HZ",
        help="tracker sampling rate (default: the tracker's)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="randomisation seed (default: the protocol's, else derived from study, participant, session; always recorded)",
    )
    parser.add_argument(
        "--tracker-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend option, repeatable (e.g. name=MyGaze for lsl, path=SESSION for replay)",
    )
    add_session_outputs(parser)


def run(args: argparse.Namespace) -> int:
    """Preflight, then the session; prints the session folder."""
    from acquisition.geometry import ScreenGeometry
    from acquisition.lsl_config import LslConfigError, configure_liblsl
    from sessions.run.preflight import PreflightError, preflight

    try:
        options = parse_options(args.tracker_option)
        w, h = parse_size(args.screen)
        wmm, hmm = parse_size(args.screen_mm, "--screen-mm")
        geometry = ScreenGeometry(int(w), int(h), wmm, hmm, float(args.distance_mm))
    except (argparse.ArgumentTypeError, ValueError) as exc:
        print(f"gazeread run: {exc}", file=sys.stderr)
        return 2
    args.lsl_scope = lsl_scope_for(args)
    try:  # before anything touches LSL (preflight may resolve an LSL tracker's stream)
        configure_liblsl(args.lsl_scope)
    except LslConfigError as exc:
        print(f"gazeread run: {exc}", file=sys.stderr)
        return 2
    try:
        pre = preflight(
            protocol=args.protocol,
            manifest=args.stimuli,
            tracker=args.tracker,
            participant=args.participant,
            session=args.session,
            out=args.out,
            resume=args.resume,
            rate_hz=args.rate,
            seed=args.seed,
            tracker_options=options,
            geometry=geometry,
        )
    except PreflightError as exc:
        print(f"gazeread run: {exc}", file=sys.stderr)
        return 2
    for note in pre.notes:
        print(f"gazeread run: {note}", file=sys.stderr)
    return run_session(args, pre, geometry, tracker_options=options)


def run_session(
    args: argparse.Namespace,
    pre: PreflightResult,
    geometry: ScreenGeometry,
    reader: SimulatedReader | None = None,
    tracker_options: dict[str, Any] | None = None,
) -> int:
    """Build the runner from a preflight result and run it (shared with ``gazeread demo``)."""
    from experiment_protocols.simulated_reader import SimulatedReader
    from sessions.run.config import RunConfig
    from sessions.run.runner import SessionRunner
    from sessions.run.stop_signals import SessionInterrupted, StopSignals
    from sessions.store import StoreError

    if reader is None and args.auto_respond:
        reader = SimulatedReader(seed=args.seed or 0, viewing_s=(1.0, 2.0), response_s=(0.6, 1.2))
    cfg = RunConfig(
        protocol=pre.protocol,
        stimuli=pre.stimuli,
        manifest_path=pre.manifest_path,
        manifest_text=pre.manifest_text,
        manifest_sha256=pre.manifest_sha256,
        windows=pre.windows,
        tracker=args.tracker,
        participant=args.participant,
        session=args.session,
        out=Path(args.out),
        resume=args.resume,
        auto_respond=args.auto_respond,
        geometry=geometry,
        fullscreen=args.fullscreen,
        rate_hz=args.rate,
        seed=args.seed,
        reader=reader,
        lsl=args.lsl,
        lsl_scope=getattr(args, "lsl_scope", None) or "network",
        tracker_options=dict(tracker_options or {}),
    )
    try:
        with StopSignals():
            result = SessionRunner(cfg).run()
    except SessionInterrupted as exc:  # before the session store was open: nothing recorded
        print(f"gazeread: {exc} before the session started; nothing was recorded", file=sys.stderr)
        return exc.exit_code
    except StoreError as exc:  # refused: exists, being recorded, completed (one line)
        print(f"gazeread: {exc}", file=sys.stderr)
        return 2
    for p in result.problems:
        print(f"gazeread: warning: {p}", file=sys.stderr)
    verdict = {
        "completed": "complete",
        "ended": "ended early from the pause menu; continue it with --resume",
        "aborted": f"stopped: {result.message}; continue it with --resume",
        "interrupted": f"interrupted ({result.message}); saved, continue it with --resume",
    }[result.status]
    print(
        f"gazeread: session {verdict} ({result.trials_complete} of {result.trials_total} trials)",
        file=sys.stderr,
    )
    print(result.folder)  # first line of stdout: the session folder (scripts read it)
    if (result.folder / "session.sqlite").exists():
        from sessions.commands.summary import print_summary, summarise_session

        print_summary(summarise_session(result.folder))
    if result.signal_exit is not None:
        return result.signal_exit
    return 0 if result.status in ("completed", "ended") else 1
