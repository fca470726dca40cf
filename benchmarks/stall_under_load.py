"""False stops under a busy CPU: real sessions beside a CPU hog.

    python benchmarks/stall_under_load.py [--runs 20] [--hogs 4] [--json]

Each run is a real ``gazeread run`` (simulated tracker at 300 Hz, simulated reader, the short
test protocol: 3 images x 2 conditions, windowed on the display or on a virtual one) while
``--hogs`` processes spin on the CPU for the whole run (default: twice the cores). A run that
ends on "no gaze samples" or any other tracker outage is a false stop: the simulated tracker
never goes away. Prints a row per run (exit code, status, longest gap between stored samples)
and the totals; ``--json`` prints the totals as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.session_files import (  # noqa: E402
    run_command,
    write_small_protocol,
    write_small_stimuli,
)


def _spin(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def one_run(work: Path, protocol: Path, manifest: Path, env: dict[str, str]) -> dict[str, Any]:
    out = work / "out"
    t0 = time.monotonic()
    r = subprocess.run(run_command(protocol, manifest, out, "P01"), env=env, capture_output=True,
                       text=True, timeout=600)  # fmt: skip
    wall = time.monotonic() - t0
    db = out / "t-study" / "sub-P01" / "ses-1" / "session.sqlite"
    status, gap_ms = None, None
    if db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            status = con.execute("SELECT status FROM session").fetchone()[0]
            t = np.array([v for (v,) in con.execute("SELECT t FROM samples ORDER BY t")])
            gap_ms = float(np.diff(t).max() * 1000) if t.size > 1 else None
        finally:
            con.close()
    outage = "no gaze samples" in r.stderr or "connection lost" in r.stderr
    return {
        "rc": r.returncode,
        "status": status,
        "false_stop": r.returncode != 0 or status != "completed",
        "outage_message": outage,
        "longest_gap_ms": gap_ms,
        "wall_s": round(wall, 1),
        "tail": "" if r.returncode == 0 else r.stderr[-400:],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--hogs", type=int, default=2 * (os.cpu_count() or 2))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    disp = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        disp = Display(visible=False, size=(1024, 640), color_depth=24)
        disp.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stop = mp.Event()
    hogs = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.hogs)]
    for h in hogs:
        h.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="gazeread-stall-") as tmp:
            base = Path(tmp)
            protocol = write_small_protocol(base / "protocol")
            manifest = write_small_stimuli(base / "stimuli", n=3)
            for i in range(args.runs):
                row = one_run(base / f"run{i}", protocol, manifest, env)
                rows.append(row)
                if not args.json:
                    print(f"run {i}: rc {row['rc']} status {row['status']} false stop "
                          f"{row['false_stop']} longest gap {row['longest_gap_ms']} ms "
                          f"({row['wall_s']} s) {row['tail']}", flush=True)  # fmt: skip
    finally:
        stop.set()
        for h in hogs:
            h.join(5)
        if disp is not None:
            disp.stop()
    gaps = [r["longest_gap_ms"] for r in rows if r["longest_gap_ms"] is not None]
    totals = {
        "runs": len(rows),
        "hogs": args.hogs,
        "false_stops": sum(r["false_stop"] for r in rows),
        "outage_messages": sum(r["outage_message"] for r in rows),
        "longest_gap_ms_max": max(gaps) if gaps else None,
        "longest_gap_ms_p50": float(np.percentile(gaps, 50)) if gaps else None,
        "wall_s_mean": float(np.mean([r["wall_s"] for r in rows])) if rows else None,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(totals))
    else:
        for k, v in totals.items():
            if k != "rows":
                print(f"{k:22} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
