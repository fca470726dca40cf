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
    from sessions.commands.tables import render_table

    rows: list[tuple[str, str]] = [
        ("trials", f"{s['trials_complete']} of {s['trials_total']} complete"),
        ("samples", f"{s['samples']:,} ({s['recorded_s']:.1f} s of gaze)"),
        (
            "fixations",
            f"{s['fixations_in_trials']} on images (mean {s['mean_fixation_ms']:.0f} ms), "
            f"{s['fixations']} in all",
        ),
    ]
    for cond, a in s["answers"].items():
        extra = ""
        if a["correct_authenticity"] is not None:
            extra = f", {a['correct_authenticity']} of {a['n']} judged correctly"
        rows.append(
            (
                "answers",
                f"{cond}: {a['n']}{extra}, mean confidence {a['mean_confidence'] or 0:.1f}, "
                f"mean time from onset to answer {a['mean_rt_s'] or 0:.1f} s",
            )
        )
    for kind, c in s["calibrations"].items():
        acc = c["mean_accuracy_deg"]
        rows.append((kind, f"{c['n']}" + (f" (mean {acc:.2f} deg)" if acc is not None else "")))
    rows.append(("frames", f"{s['frames']} image frames, {s['dropped_frames']} dropped"))
    print("\nRecorded:")
    print(render_table([("", "left"), ("", "left")], rows, header=False))
    print("\nReplay it:")
    print(f"  gazeread replay {s['folder']}")
    print(f"  gazeread check {s['folder']}")
