"""`gazeread export SESSION... --format bids|gazevalm|reflacx --out DIR`, with a progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sessions.store import SessionReader, StoreError, trial_window

HELP = "export sessions to BIDS, GazeVaLM-style maps or REFLACX tables"
FORMATS = ("bids", "gazevalm", "reflacx")

__all__ = ["FORMATS", "add_arguments", "export_sessions", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gazeread export``."""
    parser.add_argument("session", nargs="+", help="session folder(s) (or session.sqlite)")
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--pseudonymise",
        action="store_true",
        help="participants become sub-01, sub-02, ...; the key goes to a separate file (--key)",
    )
    parser.add_argument(
        "--key",
        type=Path,
        default=None,
        metavar="FILE",
        help="pseudonym key CSV, never inside --out (default: <out>-pseudonym-key.csv beside "
        "it; an existing key is reused and extended)",
    )


def _units(store: SessionReader, fmt: str) -> int:
    if fmt == "bids":
        return 2
    return sum(1 for tr in store.trials() if trial_window(tr)[0] is not None)


def export_sessions(
    sessions: Sequence[str | Path],
    fmt: str,
    out: str | Path,
    *,
    show_progress: bool = False,
    pseudonym_key: Path | None = None,
) -> list[Any]:
    """Export ``sessions`` to ``out`` in format ``fmt``; returns what each exporter returned.

    With ``pseudonym_key`` (a file outside ``out``) participants are exported as ``sub-01``,
    ``sub-02``, ... and the key is written (or extended) there.

    Raises :class:`~sessions.store.StoreError` for an unreadable session,
    :class:`~sessions.export.common.ExportError` for one that cannot be exported and
    :class:`ValueError` for an unknown format. Every opened session is closed either way.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stores: list[SessionReader] = []
    results: list[Any] = []
    try:
        for p in sessions:  # inside the try: the ones already open are closed if one fails
            stores.append(SessionReader.open(p))
        if pseudonym_key is not None:
            from sessions.export.pseudonyms import load_key, pseudonym_map, write_key

            labels = [str(st.session_info()["participant"]) for st in stores]
            mapping = pseudonym_map(labels, load_key(pseudonym_key))
            write_key(pseudonym_key, mapping, out)
            for st, label in zip(stores, labels, strict=True):
                st.show_as(mapping[label])
        total = sum(_units(s, fmt) for s in stores)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not show_progress,
        ) as bar:
            task = bar.add_task(f"export {fmt}", total=total)

            def step(_what: str) -> None:
                bar.advance(task)

            if fmt == "bids":
                from sessions.export.bids import export_bids, write_dataset_files
                from sessions.export.common import load_session

                for st in stores:
                    bar.update(task, description=f"bids {st.folder.name}")
                    results.append(export_bids(st, out, step))
                write_dataset_files(out, [load_session(st) for st in stores])
            elif fmt == "gazevalm":
                from sessions.export.gazevalm import export_gazevalm, write_readings_table

                rows: list[dict[str, Any]] = []
                for st in stores:
                    bar.update(task, description=f"gazevalm {st.folder.name}")
                    rows += export_gazevalm(st, out, step)
                write_readings_table(out, rows)
                results.append(rows)
            else:
                from sessions.export.reflacx import export_reflacx

                for st in stores:
                    bar.update(task, description=f"reflacx {st.folder.name}")
                    results.append(export_reflacx(st, out, step))
    finally:
        for st in stores:
            st.close()
    return results


def run(args: argparse.Namespace) -> int:
    """Export; exit 0 on success, 2 when a session cannot be read or written."""
    from sessions.export.common import ExportError

    key = None
    if args.pseudonymise:
        from sessions.export.pseudonyms import default_key_path

        key = args.key or default_key_path(args.out)
    elif args.key is not None:
        print("gazeread export: --key goes with --pseudonymise", file=sys.stderr)
        return 2
    try:
        export_sessions(
            args.session,
            args.format,
            args.out,
            show_progress=not args.no_progress,
            pseudonym_key=key,
        )
    except (ExportError, StoreError, ValueError, OSError) as exc:
        print(f"gazeread export: {exc}", file=sys.stderr)
        print(
            f"gazeread export: nothing more was written; what is in {args.out} may be partial",
            file=sys.stderr,
        )
        return 2
    print(f"gazeread export: wrote {args.format} for {len(args.session)} session(s) to {args.out}")
    if key is not None:
        print(f"gazeread export: pseudonym key (keep it apart, never share it): {key}")
    if args.format == "bids":
        print("check it with: bids-validator-deno " + str(args.out))
    return 0
