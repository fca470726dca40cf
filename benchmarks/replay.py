"""Replay benchmark: opening a long session, and redrawing while scrubbing a long trial.

    python benchmarks/replay.py [--minutes 30] [--rate 1200] [--trial-s 60] [--frames 200]
                                [--cache DIR] [--json]

1. A ``--minutes`` session at ``--rate`` Hz with ``--trial-s`` s trials is synthesised with the
   store API (cached in ``--cache`` and reused: writing 2 M samples takes a while).
2. Open: the replay window is created on it and the time until its first trial is painted
   (the trial list read, the trial's samples/fixations/image loaded in the worker thread, the
   first frame drawn) is measured, with the parts (list, load) timed alone.
3. Scrub: the window's canvas is moved to ``--frames`` random times of one trial and repainted
   synchronously (``repaint()``), with and without the heatmap; the same with the offscreen
   ``render_frame`` used by the exports. Frames per second = frames / elapsed.

Targets (issue 9): first trial <= 1 s; scrubbing >= 30 frames per second.
Not a test: figures depend on the machine and its load. Needs a display or
``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_session(cache: Path, minutes: float, rate: float, trial_s: float) -> Path:
    """The long session (reused when ``cache`` already holds one with these settings)."""
    from PIL import Image

    from stimuli.phantoms import make_phantom
    from tests.support.synthetic_session import write_synthetic_session

    tag = f"m{minutes:g}-r{rate:g}-t{trial_s:g}"
    root = cache / tag
    folder = root / "bench" / "sub-01" / "ses-1"
    if (folder / "session.sqlite").is_file() and (root / "done").is_file():
        return folder
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    per_trial = trial_s + 2.0  # 0.5 s drift check + viewing + 1.5 s response
    n_trials = max(1, round(minutes * 60 / per_trial))
    t = time.perf_counter()
    folder = write_synthetic_session(
        root, study="bench", n_trials=n_trials, trial_s=trial_s - 0.0, rate_hz=rate, batch_s=5.0
    )
    png = root / "phantom.png"
    Image.fromarray(
        (np.clip(make_phantom((1024, 1024), seed=1), 0, 1) * 255).astype(np.uint8)
    ).save(png)
    conn = sqlite3.connect(folder / "session.sqlite")
    conn.execute("UPDATE trials SET image_path = ?", (str(png),))
    conn.commit()
    conn.close()
    (root / "done").write_text(f"built in {time.perf_counter() - t:.1f} s\n")
    return folder


def bench(folder: Path, frames: int, seed: int = 0) -> dict[str, Any]:
    """Run the measurements; returns the figures."""
    from PyQt6.QtWidgets import QApplication

    from sessions.replay.canvas_widget import render_frame
    from sessions.replay.data import load_trial, trial_summaries
    from sessions.replay.replay_window import ReplayWindow
    from sessions.replay.scene import ReplayOptions
    from sessions.store import SessionStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out: dict[str, Any] = {}
    with SessionStore.open(folder) as store:
        out["samples"] = store.sample_count()
        rng = store.sample_time_range()
        out["session_minutes"] = (rng[1] - rng[0]) / 60 if rng else 0.0
        t = time.perf_counter()
        summaries = trial_summaries(store)
        out["list_s"] = time.perf_counter() - t
        out["trials"] = len(summaries)
        t = time.perf_counter()
        data = load_trial(store, 0)
        out["load_trial_s"] = time.perf_counter() - t
        out["trial_samples"] = int(data.t.size)
        out["trial_s"] = data.duration

    # open: window created -> first trial painted
    painted: list[float] = []
    t0 = time.perf_counter()
    win = ReplayWindow(folder)
    win.resize(1700, 950)
    win.show()
    orig = win.canvas.paintEvent

    def paint(ev: Any) -> None:
        orig(ev)
        if win.canvas.data is not None and not painted:
            painted.append(time.perf_counter() - t0)

    win.canvas.paintEvent = paint  # type: ignore[method-assign,assignment]
    deadline = time.perf_counter() + 30
    while not painted and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    out["open_to_first_trial_s"] = painted[0] if painted else float("nan")

    d = win.data
    assert d is not None
    r = np.random.default_rng(seed)
    times = d.t0 + r.random(frames) * d.duration
    out["canvas_size"] = f"{win.canvas.width()}x{win.canvas.height()}"
    for label, heat in (("scrub_fps", False), ("scrub_heatmap_fps", True)):
        win.canvas.opts.show_heatmap = heat
        t = time.perf_counter()
        for x in times:
            win.seek(float(x))
            win.canvas.repaint()
        out[label] = frames / (time.perf_counter() - t)
    win.close()
    opts = ReplayOptions(show_heatmap=True)
    t = time.perf_counter()
    for x in times:
        render_frame(d, float(x), (1280, 800), opts)
    out["export_render_fps"] = frames / (time.perf_counter() - t)
    return out


def probe_first_paint(folder: Path) -> None:
    """Child process: open the window, print the wall-clock time its first trial is painted."""
    from PyQt6.QtWidgets import QApplication

    from sessions.replay.replay_window import ReplayWindow
    from sessions.replay.theme_widget import apply_dark_theme

    app = QApplication(sys.argv[:1])
    apply_dark_theme(app)
    win = ReplayWindow(folder)
    win.resize(1700, 950)
    orig = win.canvas.paintEvent

    def paint(ev: Any) -> None:
        orig(ev)
        if win.canvas.data is not None:
            print(f"painted {time.time():.6f}", flush=True)
            app.exit(0)

    win.canvas.paintEvent = paint  # type: ignore[method-assign,assignment]
    win.show()
    app.exec()
    win.close()


def cold_open(folder: Path, repeats: int = 3) -> float:
    """Median wall time from launching a new Python process to the first trial painted."""
    import subprocess

    times = []
    for _ in range(repeats):
        t0 = time.time()
        r = subprocess.run(
            [sys.executable, __file__, "--probe", str(folder)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        line = next(x for x in r.stdout.splitlines() if x.startswith("painted "))
        times.append(float(line.split()[1]) - t0)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=1200.0)
    ap.add_argument(
        "--trial-s", type=float, default=60.0, help="seconds of image viewing per trial"
    )
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "gazeread-bench-replay",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.probe:
        probe_first_paint(args.probe)
        return 0
    t = time.perf_counter()
    folder = build_session(args.cache, args.minutes, args.rate, args.trial_s)
    build_s = time.perf_counter() - t
    res = bench(folder, args.frames)
    res["build_or_reuse_s"] = build_s
    res["cold_open_s"] = cold_open(folder)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    rows = [
        (
            "session",
            f"{res['session_minutes']:.1f} min, {res['samples']:,} samples, {res['trials']} trials",
        ),
        ("trial 0", f"{res['trial_s']:.1f} s, {res['trial_samples']:,} samples"),
        ("trial list (SQL)", f"{res['list_s'] * 1000:.0f} ms"),
        ("load trial 0 (samples, fixations, image)", f"{res['load_trial_s'] * 1000:.0f} ms"),
        (
            "window opened -> first trial painted",
            f"{res['open_to_first_trial_s'] * 1000:.0f} ms  (target <= 1000)",
        ),
        (
            "new process (Python + Qt start) -> first trial painted",
            f"{res['cold_open_s'] * 1000:.0f} ms (median of 3)",
        ),
        (f"scrub, canvas {res['canvas_size']}", f"{res['scrub_fps']:.0f} fps  (target >= 30)"),
        ("scrub with heatmap", f"{res['scrub_heatmap_fps']:.0f} fps"),
        ("export render 1280x800 + heatmap", f"{res['export_render_fps']:.0f} fps"),
    ]
    w = max(len(a) for a, _ in rows)
    print(f"| {'measure':<{w}} | result |\n|{'-' * (w + 2)}|--------|")
    for a, b in rows:
        print(f"| {a:<{w}} | {b} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
