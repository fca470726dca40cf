"""`gazeread analyze`: the study's findings from its sessions (docs/analysis.md).

Reads every session under the given folders (read-only, one process per core), computes the
decisions, calibration, agreement, gaze and pupil findings, and writes ``report.html``,
``tables/*.csv`` and ``summary.json`` into ``--out``. ``--models FILE`` adds multimodal
models' answers on the same items; ``--models-template`` writes that file to fill in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "add_arguments", "run"]

HELP = "the study's findings from its sessions: report.html, tables/*.csv, summary.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread analyze``."""
    parser.add_argument("study", nargs="+", metavar="STUDY_DIR", help="folders holding sessions")
    parser.add_argument("--out", metavar="DIR", help="where the report, tables and summary go")
    parser.add_argument(
        "--models", action="append", default=[], metavar="FILE",
        help="models' answers (CSV: model, image_id, condition, findings, authenticity, "
        "confidence); repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--models-template", metavar="FILE",
        help="write the models CSV with the study's items to fill in, and exit",
    )  # fmt: skip
    parser.add_argument(
        "--bootstrap", type=int, default=1000, metavar="N",
        help="bootstrap resamples for the 95%% CIs (default 1000)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")


def run(args: argparse.Namespace) -> int:
    """Analyse, or write the models template."""
    from rich.progress import Progress

    from sessions.analysis.findings import analyse
    from sessions.analysis.models import ModelsFileError, read_models, write_items, write_template
    from sessions.analysis.report import write_outputs
    from sessions.analysis.study import find_sessions, load_study
    from sessions.store import StoreError

    if args.out is None and args.models_template is None:
        print("gazeread analyze: give --out DIR (or --models-template FILE)", file=sys.stderr)
        return 2
    if args.bootstrap < 0:
        print(f"gazeread analyze: --bootstrap {args.bootstrap} must be 0 or more", file=sys.stderr)
        return 2
    try:
        folders = find_sessions(args.study)
        with Progress(transient=True) as bar:
            task = bar.add_task("reading sessions", total=len(folders))
            study = load_study(folders, workers=args.workers, progress=lambda _f: bar.advance(task))
        if args.models_template:
            path = write_template(study, args.models_template)
            tpl = Path(args.models_template)
            folder = write_items(study, tpl.with_name(tpl.stem + "-items"))
            print(f"wrote {path}: fill in one row a model and item (see docs/analysis.md)")
            print(f"wrote {folder}: the images, items.csv and prompts.json to give the models")
            return 0
        models = [a for f in args.models for a in read_models(f, study)]
        n_items = len({(t.image_id, t.condition) for t in study.trials})
        with Progress(transient=True) as bar:
            task = bar.add_task("gaze agreement", total=n_items)
            findings = analyse(
                study, models, n_boot=args.bootstrap, progress=lambda _i: bar.advance(task)
            )
        path = write_outputs(findings, args.out)
    except (FileNotFoundError, StoreError, ModelsFileError) as exc:
        print(f"gazeread analyze: {exc}", file=sys.stderr)
        return 2
    s = findings.summary
    a = s["decisions"]["authenticity"]["accuracy"]
    print(f"{s['readers']} readers, {s['trials']} trials: authenticity accuracy {a['value']:.3f} "
          f"[{a['ci'][0]:.3f}, {a['ci'][1]:.3f}]")  # fmt: skip
    print(Path(path))
    return 0
