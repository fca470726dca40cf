"""Small stimulus sets and protocols for the session tests (fast to write, quick to run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SMALL_PROTOCOL = """
[study]
name = "t-study"
welcome = "test"

[timing]
pre_trial = "fixation_cross"
fixation_s = 0.2
min_viewing_s = 0.2
iti_s = 0.1
max_viewing_s = 3

[calibration]
points = 5
validation_points = 2

[breaks]
between_blocks = false

[conditions.diagnostic]
kind = "diagnostic"
instructions = "DIAGNOSTIC\\n\\nFind."
labels = ["Cardiomegaly", "Nodule/Mass"]
free_text = false

[conditions.authenticity]
kind = "authenticity"
instructions = "REAL OR SYNTHETIC\\n\\nJudge."

[[blocks]]
name = "diagnostic"
conditions = ["diagnostic"]

[[blocks]]
name = "authenticity"
conditions = ["authenticity"]
"""


def write_small_stimuli(folder: Path, n: int = 3) -> Path:
    """``n`` small grey PNGs and their manifest; returns the manifest path."""
    from PIL import Image

    from stimuli.manifest import write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    yy, xx = np.mgrid[0:320, 0:256]
    for i in range(n):
        pix = (
            30 + 150 * np.exp(-(((xx - 128) / (60.0 + 10 * i)) ** 2 + ((yy - 160) / 90.0) ** 2))
        ).astype(np.uint8)
        Image.fromarray(pix).save(folder / f"img{i}.png")
        rows.append(
            {
                "image_id": f"img{i}",
                "path": f"img{i}.png",
                "authenticity": "real" if i % 2 == 0 else "synthetic",
                "generator": "test pattern",
                "findings": ["cardiomegaly"] if i == 0 else [],
            }
        )
    return write_manifest(folder / "manifest.csv", rows)


def write_small_protocol(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "small.toml"
    p.write_text(SMALL_PROTOCOL, encoding="utf-8")
    return p


def run_command(
    protocol: Path, manifest: Path, out: Path, participant: str, *extra: str
) -> list[str]:
    """``gazeread run`` of the small protocol: simulated tracker and reader, small window, no LSL."""
    import sys

    return [
        sys.executable, "-m", "sessions", "run", "--protocol", str(protocol), "--stimuli", str(manifest),
        "--tracker", "simulated", "--participant", participant, "--out", str(out), "--auto-respond",
        "--windowed", "--screen", "1024x640", "--rate", "300", "--no-lsl", *extra,
    ]  # fmt: skip


def count_live(db: Path, sql: str) -> int:
    """One count from a session that may be recording (read-only URI; 0 when not readable yet)."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            return int(con.execute(sql).fetchone()[0] or 0)
        finally:
            con.close()
    except sqlite3.Error:
        return 0
