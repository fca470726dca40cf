"""A recording process for the kill/recovery tests and benchmark (``python tests/support/record_child.py``).

It records the simulated tracker (1200 Hz by default) through the real :class:`Recorder` into a
real store and runs fake trials (show, wait, respond). It reports on a side file, flushed as it
goes, what a test needs to compare after a SIGKILL:

- ``ready`` once recording runs;
- ``p <pushed> <t_latest>`` every ~5 ms: samples produced by the tracker so far;
- ``r <trial_id>`` after :meth:`SessionStore.add_response` returned (committed and synced);
- ``error <message>`` when the recorder stopped on a write error;
- ``done`` at the normal end.

With ``--resume`` it reopens the session, records the interruption, recalibrates (a fake
calibration row) and completes the remaining trials. ``--fsize-limit-extra N`` sets
RLIMIT_FSIZE to the current database/WAL size plus N bytes to provoke a write error.
Exit codes: 0 done, 3 recording stopped on a write error, 4 store refused (exists/completed).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from acquisition.ring_buffer import RingBuffer
from sessions.run.recorder import Recorder
from sessions.store import SessionReader, SessionStore, StoreError, session_dir

__all__ = ["KillResult", "kill_cycle", "main", "read_side"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python tests/support/record_child.py")
    p.add_argument("root", type=Path)
    p.add_argument("--study", default="kill")
    p.add_argument("--participant", default="01")
    p.add_argument("--session", type=int, default=1)
    p.add_argument("--side", type=Path, required=True, help="side file for reports")
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--trial-s", type=float, default=0.25)
    p.add_argument("--rate", type=float, default=1200.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-s", type=float, default=0.05)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--fsize-limit-extra", type=int, default=0)
    p.add_argument("--max-s", type=float, default=60.0, help="give up after this long")
    return p


class _Side:
    def __init__(self, path: Path) -> None:
        self._fh: TextIO = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            try:
                self._fh.write(line + "\n")
                self._fh.flush()
            except OSError:  # the file-size limit also hits the side file: nothing to do
                pass


def _reporter(buf: RingBuffer, side: _Side, stop: threading.Event) -> None:
    while not stop.wait(0.005):
        row = buf.latest()
        if row is not None:
            side.write(f"p {buf.total_pushed} {float(row['t']):.6f}")


def main(argv: list[str] | None = None) -> int:
    """Record until the trials are done (or the process is killed)."""
    args = _parser().parse_args(argv)
    from acquisition.clock import session_clock
    from acquisition.trackers.simulated import SimulatedTracker

    side = _Side(args.side)
    buf = RingBuffer(1 << 16)
    tracker = SimulatedTracker(buf, rate_hz=args.rate, seed=args.seed, dropout_prob=0.0)
    try:
        if args.resume:
            store = SessionStore.open_for_resume(
                session_dir(args.root, args.study, args.participant, args.session)
            )
            store.mark_interrupted(session_clock())
        else:
            store = SessionStore.create(
                args.root,
                args.study,
                args.participant,
                args.session,
                tracker_json=tracker.info.to_dict(),
                screen_json={
                    "width_px": 1920,
                    "height_px": 1080,
                    "width_mm": 531.0,
                    "height_mm": 299.0,
                    "distance_mm": 650.0,
                },
            )
            store.add_trials(
                {
                    "id": i,
                    "block": "main",
                    "condition": ("diagnostic", "authenticity")[i % 2],
                    "image_id": f"img{i:03d}",
                    "image_path": f"/stimuli/img{i:03d}.png",
                    "authenticity": ("real", "synthetic")[i % 2],
                }
                for i in range(args.trials)
            )
    except StoreError as exc:
        print(f"record_child: {exc}", file=sys.stderr)
        return 4
    if args.fsize_limit_extra > 0:
        import resource

        size = max(
            (os.path.getsize(p) for p in (store.path, Path(f"{store.path}-wal")) if p.exists()),
            default=0,
        )
        limit = size + args.fsize_limit_extra
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    recorder = Recorder(buf.reader("recorder"), store, tracker, batch_s=args.batch_s)
    stop_rep = threading.Event()
    rep = threading.Thread(
        target=_reporter, args=(buf, side, stop_rep), name="reporter", daemon=True
    )
    tracker.start()
    recorder.start()
    rep.start()
    store.add_calibration(
        session_clock(), "calibration", "simulated", accuracy_deg=0.3, passed=True
    )
    store.add_calibration(session_clock(), "validation", "simulated", accuracy_deg=0.4, worst_deg=0.7, passed=True)  # fmt: skip
    side.write("ready")
    code = 0
    deadline = time.monotonic() + args.max_s
    try:
        while not recorder.failed and time.monotonic() < deadline:
            tr = store.first_unfinished_trial()
            if tr is None:
                break
            t = session_clock()
            store.update_trial(tr["id"], status="shown", t_start=t, t_onset=t + 0.01)
            end = time.monotonic() + args.trial_s
            while time.monotonic() < end and not recorder.failed:
                time.sleep(0.01)
            if recorder.failed:
                break
            t_off = session_clock()
            store.update_trial(tr["id"], t_offset=t_off)
            store.add_response(
                tr["id"], tr["condition"], t_off + 0.05, rt_s=t_off + 0.05 - t, confidence=5
            )
            side.write(f"r {tr['id']}")
    except (StoreError, OSError, Exception) as exc:  # a write error in the main thread
        if recorder.error is None:
            recorder.error = f"recording stopped: {type(exc).__name__}: {exc}"
    finally:
        stop_rep.set()
        try:
            tracker.stop()
        finally:
            recorder.stop()
    if recorder.failed:
        side.write(f"error {recorder.error}")
        print(recorder.error, file=sys.stderr)
        code = 3
    else:
        store.finish("completed")
        side.write("done")
    store.close()
    return code


@dataclasses.dataclass
class KillResult:
    """What one kill-and-recover cycle measured."""

    kill_after_s: float
    opened: bool
    integrity_ok: bool  # PRAGMA integrity_check after the kill
    produced_t: float | None  # latest sample time the child reported as produced
    stored_t: float | None  # latest sample time in the store after the kill
    missing_s: float  # produced_t - stored_t (>= 0)
    samples_stored: int
    internal_gaps: int  # gaps inside the stored samples (should be 0)
    responses_reported: int
    responses_missing: list[int]
    trials_complete_before_resume: int
    resumed_ok: bool
    resume_message: str
    trials_total: int
    interrupted_events: int


def read_side(path: Path) -> tuple[float | None, list[int], list[str]]:
    """``(latest produced t, trial ids with a committed response, other lines)``."""
    produced: float | None = None
    responses: list[int] = []
    other: list[str] = []
    if not path.exists():
        return None, [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 2)
        if parts[0] == "p" and len(parts) == 3:
            try:
                produced = float(parts[2])
            except ValueError:  # a line cut by the kill
                continue
        elif parts[0] == "r" and len(parts) == 2 and parts[1].isdigit():
            responses.append(int(parts[1]))
        elif line:
            other.append(line)
    return produced, responses, other


def _child(args: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def kill_cycle(
    root: Path,
    session: int,
    kill_after_s: float,
    *,
    trials: int = 12,
    trial_s: float = 0.25,
    rate: float = 1200.0,
    timeout_s: float = 60.0,
) -> KillResult:
    """Record in a child, SIGKILL it, check the store, resume it; return the measurements.

    The child is killed ``kill_after_s`` seconds after it reports ``ready``.
    """
    import signal
    import subprocess

    side = root / f"side-{session}.txt"
    common = [str(root), "--session", str(session), "--trials", str(trials),
              "--trial-s", str(trial_s), "--rate", str(rate)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(_child([*common, "--side", str(side)]), env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if side.exists() and "ready" in read_side(side)[2]:
                break
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"recording child exited early ({proc.returncode}): {err}")
            time.sleep(0.01)
        else:
            raise RuntimeError("recording child did not get ready in time")
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    produced, responses, _ = read_side(side)
    folder = session_dir(root, "kill", "01", session)
    opened = False
    integrity = False
    stored_t: float | None = None
    n = gaps = 0
    missing_resp: list[int] = []
    complete = 0
    with SessionReader.open(folder) as store:
        opened = True
        integrity = store.integrity_check() == "ok"
        t = store.sample_arrays(("t",))["t"]
        n = len(t)
        if n:
            stored_t = float(t[-1])
            gaps = int((np.diff(t) > 1.5 / rate).sum())
        have = {r["trial_id"] for r in store.responses()}
        missing_resp = sorted(set(responses) - have)
        complete = sum(1 for tr in store.trials() if tr["status"] == "complete")
    missing = 0.0
    if produced is not None:
        missing = max(0.0, produced - (stored_t if stored_t is not None else produced))
    res = subprocess.run(
        _child([*common, "--side", str(side) + ".resume", "--resume"]),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    with SessionReader.open(folder) as store:
        trs = store.trials()
        done = all(tr["status"] == "complete" for tr in trs)
        status = store.session_info()["status"]
        interrupted = len(store.events("interrupted"))
    return KillResult(
        kill_after_s=kill_after_s,
        opened=opened,
        integrity_ok=integrity,
        produced_t=produced,
        stored_t=stored_t,
        missing_s=missing,
        samples_stored=n,
        internal_gaps=gaps,
        responses_reported=len(responses),
        responses_missing=missing_resp,
        trials_complete_before_resume=complete,
        resumed_ok=res.returncode == 0 and done and status == "completed",
        resume_message=(res.stderr or "").strip()[-500:],
        trials_total=len(trs),
        interrupted_events=interrupted,
    )


if __name__ == "__main__":
    sys.exit(main())
