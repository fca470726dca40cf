"""What a session recorded, as ``gazeread run`` and ``gazeread demo`` print it at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["print_summary", "summarise_session"]


def summarise_session(folder: Path) -> dict[str, Any]:
    """What a session holds: trials (complete), samples, fixations, answers (by condition)."""
    from sessions.store import SessionReader

    with SessionReader.open(folder) as s:
        counts = s.summary_counts()
        status = s.session_info().get("status")
    counts["frames"] = counts.pop("image_frames")
    return {"folder": str(folder), "status": status, **counts}


def print_summary(s: dict[str, Any]) -> None:
    """Print the summary (stdout) and the commands to look at the session."""
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
