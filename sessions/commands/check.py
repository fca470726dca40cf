"""`gazeread check SESSION [--json]`: is this session usable? Per trial and overall.

Exit code 0 when the session is usable, 1 when problems were found, 2 when it cannot be read.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sessions.commands.tables import render_table
from sessions.metrics.quality import (
    QualityThresholds,
    device_drops_from_events,
    pauses_from_events,
    sample_stats,
    session_verdict,
)
from sessions.store import SessionReader, StoreError, trial_window

HELP = "data-quality report of a recorded session"

__all__ = ["add_arguments", "check_session", "format_report", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gazeread check``."""
    parser.add_argument("session", nargs="+", help="session folder(s) (or session.sqlite)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per session")
    parser.add_argument(
        "--max-missing",
        type=float,
        default=QualityThresholds.max_missing_percent,
        metavar="PCT",
        help="largest %% of samples without a valid eye (default %(default)s)",
    )
    parser.add_argument(
        "--max-validation-deg",
        type=float,
        default=QualityThresholds.max_validation_deg,
        metavar="DEG",
        help="largest acceptable average validation accuracy (default %(default)s)",
    )


def _nominal_rate(info: dict[str, Any]) -> float | None:
    tr = info.get("tracker_json") or {}
    rate = tr.get("rate_hz") if isinstance(tr, dict) else None
    return float(rate) if rate else None


def check_session(path: str | Path, thresholds: QualityThresholds | None = None) -> dict[str, Any]:
    """Build the quality report of one session (a JSON-ready dict)."""
    with SessionReader.open(path) as store:
        info = store.session_info()
        state = store.recording_state()
        holder = store.lock_holder()
        detector = store.fixation_detector()
        rate = _nominal_rate(info)
        t_all, left_valid, right_valid = store.sample_validity()
        cols = {"t": t_all, "left_valid": left_valid, "right_valid": right_valid}
        all_events = store.events()
        pauses = pauses_from_events(all_events)
        drops: list[tuple[float, int]] | None = device_drops_from_events(all_events)
        if not drops and not any(e["kind"] == "samples_dropped" for e in all_events):
            drops = None  # the tracker posts no drop reports: nothing to cross-check
        overall = sample_stats(
            cols["t"],
            cols["left_valid"],
            cols["right_valid"],
            rate,
            pauses=pauses,
            device_drops=drops,
        )
        rate = overall.nominal_rate_hz
        trials = store.trials()
        responses = store.responses()
        calibs = store.calibrations()
        events = [
            e for e in all_events if e["kind"] in ("recording_error", "samples_lost", "interrupted")
        ]
    t = cols["t"]
    n_resp: dict[int, int] = {}
    for r in responses:
        n_resp[r["trial_id"]] = n_resp.get(r["trial_id"], 0) + 1
    trial_rows: list[dict[str, Any]] = []
    frame_drops = 0
    frames = 0
    longest_frame = 0.0
    for tr in trials:
        t0, t1 = trial_window(tr)
        row: dict[str, Any] = {
            "id": tr["id"],
            "number": int(tr["id"]) + 1,  # as people count (ids in the store start at 0)
            "condition": tr["condition"],
            "image_id": tr["image_id"],
            "status": tr["status"],
            "attempt": tr["attempt"],
            "responses": n_resp.get(tr["id"], 0),
            "dropped_frames": tr["dropped_frames"],
            "stats": None,
        }
        if tr["dropped_frames"]:
            frame_drops += int(tr["dropped_frames"])
        intervals = json.loads(tr["frame_intervals_json"]) if tr.get("frame_intervals_json") else []
        frames += len(intervals)
        longest_frame = max([longest_frame, *intervals])
        if t0 is not None:
            hi = np.inf if t1 is None else t1
            i0, i1 = np.searchsorted(t, [t0, hi], side="left")
            row["stats"] = sample_stats(
                t[i0:i1],
                cols["left_valid"][i0:i1],
                cols["right_valid"][i0:i1],
                rate,
                pauses=pauses,
                device_drops=drops,
            ).to_dict()
        trial_rows.append(row)
    validations = [c for c in calibs if c["kind"] == "validation"]
    val_acc = validations[-1]["accuracy_deg"] if validations else None
    usable, problems, warnings = session_verdict(
        overall,
        trial_rows,
        responses=len(responses),
        validation_accuracy_deg=val_acc,
        events=events,
        frame_drops=frame_drops,
        thresholds=thresholds,
        frames=frames,
        longest_frame_s=longest_frame or None,
    )
    if state == "recording" and holder is not None:
        warnings.insert(
            0,
            f"being recorded right now by {holder.describe()}: this report covers what was "
            "committed so far",
        )
    elif state == "killed":
        warnings.insert(
            0,
            "killed: the recording process died without closing this session (its status "
            "still says running); `gazeread run ... --resume` continues it, or closes it as "
            "completed when every trial was answered",
        )
    o = overall.to_dict()
    return {
        "session": str(Path(path)),
        "study": info["study"],
        "participant": info["participant"],
        "session_number": info["session_number"],
        "status": info["status"],
        "state": state,
        "usable": usable,
        "verdict": ("usable" if usable else "NOT usable: " + "; ".join(problems))
        + {
            "killed": " (killed, not closed: --resume closes it)",
            "recording": " (so far: still recording)",
        }.get(state, ""),
        "problems": problems,
        "warnings": warnings,
        "trials_total": len(trials),
        "trials_complete": sum(1 for tr in trials if tr["status"] == "complete"),
        "responses": len(responses),
        "samples": o["samples"],
        "duration_s": o["duration_s"],
        "nominal_rate_hz": o["nominal_rate_hz"],
        "effective_rate_hz": o["effective_rate_hz"],
        "gaps": o["gaps"],
        "dropped_samples": o["dropped_samples"],
        "device_dropped_samples": o["device_dropped_samples"],
        "drop_mismatches": o["drop_mismatches"],
        "longest_gap_s": o["longest_gap_s"],
        "interruptions": {
            "count": len([e for e in events if e["kind"] == "interrupted"]),
            "sample_pauses": o["interruptions"],
            "paused_s": o["paused_s"],
        },
        "validity_percent": {
            "left": o["validity_left_percent"],
            "right": o["validity_right_percent"],
            "any": o["validity_any_percent"],
        },
        "frame_drops": frame_drops,
        "frames": frames,
        "fixation_detector": detector,
        "calibrations": [
            {
                "t": c["t"],
                "kind": c["kind"],
                "method": c["method"],
                "accuracy_deg": c["accuracy_deg"],
                "worst_deg": c["worst_deg"],
                "passed": None if c["passed"] is None else bool(c["passed"]),
            }
            for c in calibs
        ],
        "validation_accuracy_deg": val_acc,
        "trials": trial_rows,
    }


def _f(v: Any, fmt: str = ".1f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, fmt)


def _calibration_line(c: dict[str, Any]) -> str:
    """One calibration record in words: only the figures it has."""
    head = f"{c['kind'].replace('_', ' ')} ({c['method']}) at t={_f(c['t'], '.2f')} s"
    parts = []
    if c.get("accuracy_deg") is not None:
        parts.append(f"accuracy {_f(c['accuracy_deg'], '.2f')} deg")
    if c.get("worst_deg") is not None:
        parts.append(f"worst {_f(c['worst_deg'], '.2f')} deg")
    if c.get("passed") is not None:
        parts.append("passed" if c["passed"] else "FAILED")
    return head + (": " + ", ".join(parts) if parts else ": no figures recorded")


def format_report(rep: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    v = rep["validity_percent"]
    lines = [
        f"session {rep['session']}  ({rep['study']} / sub-{rep['participant']} / "
        f"ses-{rep['session_number']}, {rep['state']})",
        f"  trials complete {rep['trials_complete']}/{rep['trials_total']}, "
        f"responses {rep['responses']}",
        f"  samples {rep['samples']} over {_f(rep['duration_s'])} s, nominal "
        f"{_f(rep['nominal_rate_hz'], 'g')} Hz, effective {_f(rep['effective_rate_hz'])} Hz",
        f"  gaps {rep['gaps']}, dropped samples {rep['dropped_samples']}"
        + (
            ""
            if rep["device_dropped_samples"] is None
            else f" (tracker reported {rep['device_dropped_samples']}, "
            f"{rep['drop_mismatches']} gap(s) disagree)"
        )
        + f", longest gap {_f(rep['longest_gap_s'] and rep['longest_gap_s'] * 1000)} ms",
        f"  interruptions {rep['interruptions']['count']}, paused "
        f"{_f(rep['interruptions']['paused_s'])} s (left out of duration, rate and drops)",
        f"  validity left {_f(v['left'])} %, right {_f(v['right'])} %, either {_f(v['any'])} %",
        f"  frame drops {rep['frame_drops']} of {rep['frames']} image frames",
    ]
    det = rep.get("fixation_detector")
    if det:
        lines.append(f"  online fixations: {det['method']} detector ({det['reason']})")
    for c in rep["calibrations"]:
        lines.append(f"  {_calibration_line(c)}")
    lines.append(
        render_table(
            [("trial", "right"), ("condition", "left"), ("status", "left"), ("resp", "right"),
             ("samples", "right"), ("eff.Hz", "right"), ("dropped", "right"),
             ("valid L/R %", "right")],
            (
                (
                    tr["number"], tr["condition"][:12], tr["status"], tr["responses"],
                    (tr["stats"] or {}).get("samples", 0),
                    _f((tr["stats"] or {}).get("effective_rate_hz")),
                    (tr["stats"] or {}).get("dropped_samples", 0),
                    f"{_f((tr['stats'] or {}).get('validity_left_percent'))}/"
                    f"{_f((tr['stats'] or {}).get('validity_right_percent'))}",
                )
                for tr in rep["trials"]
            ),
        )
    )  # fmt: skip
    for w in rep["warnings"]:
        lines.append(f"  warning: {w}")
    for p in rep["problems"]:
        lines.append(f"  problem: {p}")
    lines.append(f"verdict: {rep['verdict']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Check each session; exit 0 if all are usable, 1 if any is not, 2 if one is unreadable."""
    th = QualityThresholds(
        max_missing_percent=args.max_missing, max_validation_deg=args.max_validation_deg
    )
    code = 0
    for path in args.session:
        try:
            rep = check_session(path, th)
        except (StoreError, ValueError) as exc:
            print(f"gazeread check: {exc}", file=sys.stderr)
            code = 2
            continue
        if args.json:
            print(json.dumps(rep, default=str))
        else:
            print(format_report(rep))
        if not rep["usable"]:
            code = max(code, 1)
    return code
