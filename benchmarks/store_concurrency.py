"""Store stress: real sessions read live by other processes, a live --resume, and kill -9.

    python benchmarks/store_concurrency.py [--live 2] [--kills 20] [--seed 0] [--json]

Each session is a real ``gazeread run`` (simulated tracker at 300 Hz, simulated reader, a short
protocol: 3 images x 2 conditions, windowed on the display or on a virtual one).

1. Live runs (``--live N``): while the session records, five other processes read its live
   store in a loop for the whole run: the ``sqlite3`` command-line tool on the plain path (as
   the README shows), ``pandas.read_sql`` over a read-only URI, ``gazeread check``, the replay
   loader (trial summaries and every finished trial's data) and ``gazeread export --format
   reflacx``; and a second ``gazeread run --resume`` of the same session is attempted (it
   must be refused at once, naming the recording process). The run must end completed.
2. Kill runs (``--kills N``): the session is SIGKILLed at a random moment while a poller reads
   the committed answers; then the store is checked (``PRAGMA integrity_check``), the gaze
   lost at the kill is measured on the session clock (kill time minus the last stored sample),
   committed answers are compared with what the poller had seen, ``gazeread check`` must call
   the session killed, and ``gazeread run --resume`` must complete it.

Prints one row per run and the totals; ``--json`` prints one JSON object with the totals
(``runs``, ``integrity_ok``, ``reader_errors``, ``live_resume_refused``, ``answers_lost``,
``resumed_ok``, ``gaze_lost_ms_p50``, ``gaze_lost_ms_p95``, ...). Not a test: figures depend on
the machine and its load (tests/integration/test_store_concurrency.py runs a short version).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.session_files import (  # noqa: E402
    count_live,
    run_command,
    write_small_protocol,
    write_small_stimuli,
)

PARTICIPANT = "P01"

# Reader loops run in their own processes until the stop file appears; each writes
# {"loops": n, "errors": k, "last_error": "..."} to its result file.
_READER = textwrap.dedent(
    r"""
    import json, os, subprocess, sys, time, sqlite3
    kind, folder, stop, result, out = sys.argv[1:6]
    db = os.path.join(folder, "session.sqlite")
    loops = errors = 0
    last = ""
    max_answers = 0
    while not os.path.exists(stop):
        try:
            if kind == "sqlite3":
                r = subprocess.run(["sqlite3", db, "select count(*) from samples; select count(*) from responses;"],
                                   capture_output=True, text=True, timeout=60)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr.strip())
                max_answers = max(max_answers, int(r.stdout.split()[1]))
            elif kind == "pandas":
                import pandas as pd
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    df = pd.read_sql("select t, left_x from samples where t > (select max(t) - 2 from samples)", con)
                    n = pd.read_sql("select count(*) as n from responses", con)["n"][0]
                finally:
                    con.close()
                max_answers = max(max_answers, int(n))
            elif kind == "check":
                r = subprocess.run([sys.executable, "-m", "sessions", "check", folder, "--json"],
                                   capture_output=True, text=True, timeout=120)
                if r.returncode == 2 or not r.stdout.strip().startswith("{"):
                    raise RuntimeError(r.stderr.strip()[-300:])
            elif kind == "replay":
                from sessions.replay.data import load_trial, open_for_reading, release, trial_summaries
                st = open_for_reading(folder)
                try:
                    for s in trial_summaries(st):
                        if s.status == "complete":
                            load_trial(st, s.trial_id, with_image=False)
                finally:
                    release(st)
            elif kind == "export":
                r = subprocess.run([sys.executable, "-m", "sessions", "export", folder, "--format", "reflacx",
                                    "--out", out, "--no-progress"], capture_output=True, text=True, timeout=120)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr.strip()[-300:])
        except Exception as exc:
            errors += 1
            last = f"{type(exc).__name__}: {exc}"[:300]
        loops += 1
        time.sleep(0.05)
    with open(result, "w") as fh:
        json.dump({"loops": loops, "errors": errors, "last_error": last, "max_answers": max_answers}, fh)
    """
)
READERS = ("sqlite3", "pandas", "check", "replay", "export")


def _cmd(protocol: Path, manifest: Path, out: Path, *extra: str) -> list[str]:
    return run_command(protocol, manifest, out, PARTICIPANT, *extra)


def _folder(out: Path) -> Path:
    return out / "t-study" / f"sub-{PARTICIPANT}" / "ses-1"


def _ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)


def _answers(db: Path) -> int:
    return count_live(db, "SELECT COUNT(*) FROM responses")


def _wait_for(pred: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def _resume(
    protocol: Path, manifest: Path, out: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cmd(protocol, manifest, out, "--resume"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _after(folder: Path) -> dict[str, Any]:
    """Integrity, status, trials and answers of a session, read-only."""
    con = _ro(folder / "session.sqlite")
    try:
        return {
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
            "status": con.execute("SELECT status FROM session").fetchone()[0],
            "trials": con.execute(
                "SELECT COUNT(*), SUM(status = 'complete') FROM trials"
            ).fetchone(),
            "answers": int(con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]),
            "last_t": con.execute("SELECT MAX(t) FROM samples").fetchone()[0],
        }
    finally:
        con.close()


def live_run(work: Path, protocol: Path, manifest: Path, env: dict[str, str]) -> dict[str, Any]:
    out = work / "out"
    folder = _folder(out)
    stop = work / "stop"
    proc = subprocess.Popen(_cmd(protocol, manifest, out), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    readers: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    refused = None
    try:
        if not _wait_for(lambda: (folder / "session.sqlite").exists(), 120):
            raise RuntimeError(
                "the session did not start: "
                + (proc.stderr.read() if proc.poll() is not None else "")
            )  # type: ignore[union-attr]
        for kind in READERS:
            res = work / f"reader-{kind}.json"
            p = subprocess.Popen([sys.executable, "-c", _READER, kind, str(folder), str(stop), str(res),
                                  str(work / f"export-{kind}")], env=env, cwd=ROOT)  # fmt: skip
            readers.append((kind, p, res))
        _wait_for(lambda: _answers(folder / "session.sqlite") >= 1, 120)
        r = _resume(protocol, manifest, out, env)
        refused = (
            r.returncode == 2
            and "being recorded by pid" in r.stderr
            and "Traceback" not in r.stderr
        )
        rc = proc.wait(300)
        err = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        stop.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for _, p, _ in readers:
            p.wait(120)
    got = {kind: json.loads(res.read_text()) for kind, _, res in readers if res.exists()}
    after = _after(folder)
    return {
        "kind": "live",
        "rc": rc,
        "completed": after["status"] == "completed" and rc == 0,
        "integrity": after["integrity"],
        "reader_errors": sum(v["errors"] for v in got.values()) + (len(READERS) - len(got)),
        "reader_loops": {k: v["loops"] for k, v in got.items()},
        "reader_last_errors": {k: v["last_error"] for k, v in got.items() if v["errors"]},
        "live_resume_refused": bool(refused),
        "answers_lost": max(
            0, max((v["max_answers"] for v in got.values()), default=0) - after["answers"]
        ),
        "stderr_tail": "" if rc == 0 else err[-500:],
    }


def kill_run(
    work: Path, protocol: Path, manifest: Path, env: dict[str, str], delay: float
) -> dict[str, Any]:
    from pylsl import local_clock  # the session clock of the recording process

    out = work / "out"
    folder = _folder(out)
    db = folder / "session.sqlite"
    proc = subprocess.Popen(_cmd(protocol, manifest, out), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    seen = 0
    try:
        if not _wait_for(db.exists, 120):
            raise RuntimeError("the session did not start")
        end = time.monotonic() + delay
        while time.monotonic() < end and proc.poll() is None:
            seen = max(seen, _answers(db))
            time.sleep(0.02)
        seen = max(seen, _answers(db))
        t_kill = local_clock()
        ended_first = proc.poll() is not None
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()  # type: ignore[union-attr]
    after = _after(folder)
    chk = subprocess.run([sys.executable, "-m", "sessions", "check", str(folder), "--json"], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    state = json.loads(chk.stdout).get("state") if chk.stdout.strip().startswith("{") else None
    r = _resume(protocol, manifest, out, env)
    final = _after(folder)
    total, complete = final["trials"]
    return {
        "kind": "kill",
        "delay_s": round(delay, 2),
        "ended_before_kill": ended_first,
        "integrity": after["integrity"],
        "integrity_after_resume": final["integrity"],
        "gaze_lost_ms": None
        if after["last_t"] is None or ended_first
        else (t_kill - after["last_t"]) * 1000.0,
        "answers_seen": seen,
        "answers_lost": max(0, seen - after["answers"]),
        "check_state": state,
        "resumed_ok": r.returncode == 0 and final["status"] == "completed" and total == complete,
        "resume_tail": "" if r.returncode == 0 else r.stderr[-500:],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--live", type=int, default=2, help="runs read live by other processes")
    ap.add_argument("--kills", type=int, default=20, help="runs killed with SIGKILL, then resumed")
    ap.add_argument("--max-delay", type=float, default=25.0, help="latest kill (s after start)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the totals as one JSON object")
    args = ap.parse_args()

    disp = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        disp = Display(visible=False, size=(1024, 640), color_depth=24)
        disp.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(args.seed)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gazeread-store-stress-") as tmp:
            base = Path(tmp)
            protocol = write_small_protocol(base / "protocol")
            manifest = write_small_stimuli(base / "stimuli", n=3)
            for i in range(args.live):
                rows.append(live_run(base / f"live{i}", protocol, manifest, env))
                _say(args, rows[-1], i)
            for i in range(args.kills):
                delay = rng.uniform(1.0, args.max_delay)
                rows.append(kill_run(base / f"kill{i}", protocol, manifest, env, delay))
                _say(args, rows[-1], i)
    finally:
        if disp is not None:
            disp.stop()
    totals = summarise(rows)
    if args.json:
        print(json.dumps(totals))
    else:
        print()
        for k, v in totals.items():
            if k != "rows":
                print(f"{k:24} {v}")
    return 0


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    live = [r for r in rows if r["kind"] == "live"]
    kills = [r for r in rows if r["kind"] == "kill"]
    lost = [r["gaze_lost_ms"] for r in kills if r["gaze_lost_ms"] is not None]
    return {
        "runs": len(rows),
        "live_runs": len(live),
        "kill_runs": len(kills),
        "integrity_ok": sum(
            r["integrity"] == "ok" and r.get("integrity_after_resume", "ok") == "ok" for r in rows
        ),
        "reader_errors": sum(r.get("reader_errors", 0) for r in live),
        "live_completed": sum(r["completed"] for r in live),
        "live_resume_refused": sum(r["live_resume_refused"] for r in live),
        "answers_lost": sum(r["answers_lost"] for r in rows),
        "killed_reported": sum(
            r["check_state"] == "killed" for r in kills if not r["ended_before_kill"]
        ),
        "resumed_ok": sum(r["resumed_ok"] for r in kills),
        "gaze_lost_ms_p50": float(np.percentile(lost, 50)) if lost else None,
        "gaze_lost_ms_p95": float(np.percentile(lost, 95)) if lost else None,
        "gaze_lost_ms_max": float(max(lost)) if lost else None,
        "rows": rows,
    }


def _say(args: argparse.Namespace, r: dict[str, Any], i: int) -> None:
    if args.json:
        return
    if r["kind"] == "live":
        print(
            f"live {i}: rc {r['rc']} completed {r['completed']} integrity {r['integrity']} "
            f"reader errors {r['reader_errors']} loops {r['reader_loops']} live resume refused "
            f"{r['live_resume_refused']} answers lost {r['answers_lost']} {r['reader_last_errors'] or ''}",
            flush=True,
        )
    else:
        g = "-" if r["gaze_lost_ms"] is None else f"{r['gaze_lost_ms']:.0f} ms"
        print(
            f"kill {i}: at {r['delay_s']:5.2f} s integrity {r['integrity']} gaze lost {g} answers "
            f"{r['answers_seen']} seen, {r['answers_lost']} lost; check says {r['check_state']}; "
            f"resumed {r['resumed_ok']}{' (had ended)' if r['ended_before_kill'] else ''} {r['resume_tail']}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
