"""Stimulus onset timing over a demo session.

Per trial: the delay from the end of the previous response (its submit) to the next image's
first flip, split into the protocol's own waits (inter-trial interval, drift check) and the
rest, the time from "show the image" to its flip (preloaded image: texture upload + first
frame), and the frames drawn and dropped while the image was up.

    python benchmarks/onset_timing.py                 # runs `gazeread demo` in a temp folder
    python benchmarks/onset_timing.py --session DIR   # analyses an existing session
    python benchmarks/onset_timing.py --json

Without a display the demo starts its own Xvfb (software OpenGL): frame figures then
describe Xvfb/llvmpipe on this machine, not a GPU with vsync.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# benchmarks/ holds scripts named like the packages (acquisition.py, ...): keep it off the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def analyse(folder: Path) -> dict[str, Any]:
    from sessions.store import SessionStore

    with SessionStore.open(folder) as s:
        ev = s.events()
        trials = {t["id"]: t for t in s.trials()}
        refresh = 60.0
    rows = []
    last_response: float | None = None
    between: list[str] = []
    drift_t: float | None = None
    for e in ev:
        k = e["kind"]
        if k == "response":
            last_response = e["t"]
            between = []
            continue
        if k in ("calibration", "break_start", "instructions", "pause"):
            between.append(k)
        if k == "drift_check":
            drift_t = e["t"]
        if k == "image_onset":
            tid = e["trial_id"]
            tr = trials[tid]
            intervals = json.loads(tr["frame_intervals_json"] or "[]")
            delay = None if last_response is None or between else e["t"] - last_response
            rows.append(
                {
                    "trial": tid,
                    "condition": tr["condition"],
                    "response_to_onset_s": delay,
                    "drift_check_end_to_onset_s": None if drift_t is None else e["t"] - drift_t,
                    "prepare_to_flip_s": e["data"].get("prepare_s"),
                    "frames": len(intervals),
                    "dropped": tr["dropped_frames"],
                    "max_interval_ms": 1000 * max(intervals) if intervals else None,
                    "median_interval_ms": 1000 * statistics.median(intervals)
                    if intervals
                    else None,
                }
            )
            last_response = None
    delays = [r["response_to_onset_s"] for r in rows if r["response_to_onset_s"] is not None]
    prep = [r["prepare_to_flip_s"] for r in rows if r["prepare_to_flip_s"] is not None]
    frames = sum(r["frames"] for r in rows)
    dropped = sum(r["dropped"] or 0 for r in rows)
    return {
        "session": str(folder),
        "trials": rows,
        "summary": {
            "n_trials": len(rows),
            "response_to_onset_median_s": statistics.median(delays) if delays else None,
            "response_to_onset_max_s": max(delays) if delays else None,
            "prepare_to_flip_median_ms": 1000 * statistics.median(prep) if prep else None,
            "prepare_to_flip_max_ms": 1000 * max(prep) if prep else None,
            "frames": frames,
            "dropped": dropped,
            "dropped_percent": 100.0 * dropped / frames if frames else None,
            "nominal_refresh_hz": refresh,
        },
    }


def _fmt(v: Any, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if v is None else f"{v * scale:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--session", type=Path, help="analyse this session folder instead of running the demo"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    folder = args.session
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="gazeread-onset-")
        r = subprocess.run(
            [sys.executable, "-m", "sessions", "demo", "--out", tmp.name, "--no-lsl"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        folder = Path(r.stdout.strip().splitlines()[0])
    res = analyse(folder)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(
            "| trial | condition | response -> flip (s) | drift check end -> flip (ms) | prepare -> flip (ms) | frames | dropped | max interval (ms) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for t in res["trials"]:
            print(
                f"| {t['trial']} | {t['condition']} | {_fmt(t['response_to_onset_s'])} | "
                f"{_fmt(t['drift_check_end_to_onset_s'], 1000, 1)} | {_fmt(t['prepare_to_flip_s'], 1000, 1)} | "
                f"{t['frames']} | {t['dropped']} | {_fmt(t['max_interval_ms'], 1, 1)} |"
            )
        s = res["summary"]
        print()
        print(
            f"response -> flip: median {_fmt(s['response_to_onset_median_s'])} s, max {_fmt(s['response_to_onset_max_s'])} s "
            f"(includes the protocol's ITI and drift check); prepare -> flip: median {_fmt(s['prepare_to_flip_median_ms'], 1, 1)} ms, "
            f"max {_fmt(s['prepare_to_flip_max_ms'], 1, 1)} ms; frames {s['frames']}, dropped {s['dropped']} "
            f"({_fmt(s['dropped_percent'], 1, 1)} %)"
        )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
