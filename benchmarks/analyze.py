"""Time and peak memory of ``gazeread analyze`` on a GazeVaLM-sized simulated study.

Usage::

    python benchmarks/analyze.py [--readers 16] [--images 60] [--rate 600] [--out DIR] [--json]

Simulates ``readers`` sessions of ``2 x images`` trials (the diagnostic and Turing-test
conditions: 16 x 120 by default) at ``rate`` Hz with ``gazeread simulate-study``, then runs
``gazeread analyze`` on it in a child process and reports wall time, CPU time and the child's
peak resident memory (``ru_maxrss``), and the study's size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> tuple[float, float, float]:
    """Wall s, CPU s and peak RSS (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "sessions", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        raise SystemExit(f"gazeread {args[0]} failed:\n{r.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readers", type=int, default=16)
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--rate", type=float, default=600.0)
    ap.add_argument(
        "--out", type=Path, default=None, help="study folder (default: a temporary one)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gazeread-analyze-bench-") as tmp:
        study = args.out or Path(tmp) / "study"
        sim = _run(["simulate-study", "--readers", str(args.readers), "--images", str(args.images),
                    "--rate", str(args.rate), "--out", str(study)])  # fmt: skip
        size = sum(p.stat().st_size for p in study.rglob("*") if p.is_file()) / 2**20
        ana = _run(["analyze", str(study), "--models", str(study / "models.csv"),
                    "--out", str(study / "analysis")])  # fmt: skip
        summary = json.loads((study / "analysis" / "summary.json").read_text())
    res = {
        "readers": args.readers, "trials": summary["trials"], "rate_hz": args.rate,
        "cores": os.cpu_count(), "study_mib": size,
        "simulate_wall_s": sim[0], "analyze_wall_s": ana[0], "analyze_cpu_s": ana[1],
        "analyze_peak_rss_mib": ana[2],
    }  # fmt: skip
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(
        "| readers | trials | rate Hz | cores | study MiB | simulate s | analyze wall s | analyze CPU s | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {res['readers']} | {res['trials']} | {args.rate:g} | {res['cores']} | {size:.0f} | "
          f"{sim[0]:.1f} | {ana[0]:.1f} | {ana[1]:.1f} | {ana[2]:.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
