"""Session store benchmark: insert cost, a 30-minute 1200 Hz session, and SIGKILL recovery.

    python benchmarks/store.py [--minutes 30] [--rate 1200] [--kills 10] [--json]

1. Insert: cost of converting and committing one 50 ms batch (60 samples at 1200 Hz), with the
   old object-array conversion and the current ``tolist``/``zip`` one, as % of real time.
2. Long session: a ``--minutes`` session at ``--rate`` with 30 s trials is synthesised by bulk
   insert; then the time to open it, to load one trial's samples, and to run ``gazeread
   check`` on it, and its size on disk.
3. Kills (``--kills N``): a child process records the simulated tracker at 1200 Hz through the
   real Recorder and is SIGKILLed at a random moment; the store is opened, the samples missing
   before the kill and any lost response are counted, and the session is resumed.

Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acquisition.samples import empty_samples
from sessions.store import SessionStore, samples_to_rows


def old_samples_to_rows(samples: np.ndarray) -> list[tuple[Any, ...]]:
    """The first version (object array, NaN -> None per column), for comparison."""
    n = len(samples)
    cols = [
        samples["t"], samples["device_ts"], samples["system_ts"],
        samples["left_x"], samples["left_y"], samples["right_x"], samples["right_y"],
        samples["left_valid"], samples["right_valid"],
        samples["left_pupil"].astype(float), samples["right_pupil"].astype(float),
        *(samples["left_eye_pos"][:, k].astype(float) for k in range(3)),
        *(samples["right_eye_pos"][:, k].astype(float) for k in range(3)),
        samples["flags"],
    ]  # fmt: skip
    obj = np.empty((n, len(cols)), dtype=object)
    for j, c in enumerate(cols):
        if c.dtype.kind == "f":
            col = c.astype(object)
            col[np.isnan(c)] = None
            obj[:, j] = col
        else:
            obj[:, j] = c.tolist()
    return [tuple(r) for r in obj.tolist()]


def _batch(n: int, rate: float) -> np.ndarray:
    s = empty_samples(n)
    s["t"] = np.arange(n) / rate
    s["device_ts"] = np.arange(n) * int(1e6 / rate)
    for eye in ("left", "right"):
        s[f"{eye}_x"] = 0.5
        s[f"{eye}_y"] = 0.5
        s[f"{eye}_valid"] = 1
        s[f"{eye}_pupil"] = 3.0
    s["left_x"][::7] = np.nan
    return s


def bench_insert(rate: float, seconds: float = 20.0) -> list[dict[str, Any]]:
    n = int(rate * 0.05)
    rows = []
    for span_ms in (50, 1000):
        m = int(rate * span_ms / 1000)
        for label, conv in (
            ("object array (v0)", old_samples_to_rows),
            ("tolist + zip", samples_to_rows),
        ):
            b = _batch(m, rate)
            reps = max(20, 20000 // m)
            t0 = time.perf_counter()
            for _ in range(reps):
                conv(b)
            conv_ms = (time.perf_counter() - t0) / reps * 1000
            rows.append({"what": f"convert {span_ms} ms of samples ({m} rows), {label}", "ms": conv_ms,
                         "pct_realtime": conv_ms / span_ms * 100})  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        st = SessionStore.create(d, "bench", "01", 1)
        k = int(seconds / 0.05)
        base = _batch(n, rate)
        t0 = time.perf_counter()
        for i in range(k):
            b = base.copy()
            b["t"] += i * 0.05
            st.append_samples(b)
        ms = (time.perf_counter() - t0) / k * 1000
        st.close()
    rows.append({"what": f"append_samples: convert + commit one 50 ms batch ({n} rows)", "ms": ms,
                 "pct_realtime": ms / 50.0 * 100})  # fmt: skip
    return rows


def bench_long(minutes: float, rate: float) -> dict[str, Any]:
    from sessions.commands.check import check_session
    from tests.support.synthetic_session import write_synthetic_session

    trial_s = 28.0  # + 0.5 s fixation + 1.5 s response = 30 s per trial
    n_trials = max(1, round(minutes * 60 / 30.0))
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        folder = write_synthetic_session(d, n_trials=n_trials, trial_s=trial_s, rate_hz=rate,
                                         batch_s=10.0)  # fmt: skip
        synth_s = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        t0 = time.perf_counter()
        st = SessionStore.open(folder)
        st.session_info()
        trials = st.trials()
        open_s = time.perf_counter() - t0
        mid = trials[len(trials) // 2]["id"]
        t0 = time.perf_counter()
        s = st.trial_samples(mid)
        trial_s_load = time.perf_counter() - t0
        n_total = st.sample_count()
        st.close()
        t0 = time.perf_counter()
        check_session(folder)
        check_s = time.perf_counter() - t0
        from sessions.commands.export import export_sessions

        t0 = time.perf_counter()
        export_sessions([folder], "bids", Path(d) / "bids")
        bids_s = time.perf_counter() - t0
    return {
        "minutes": minutes, "rate_hz": rate, "trials": n_trials, "samples": n_total,
        "size_mb": size_mb, "synthesise_s": synth_s, "open_s": open_s,
        "trial_samples": len(s), "trial_load_s": trial_s_load, "open_plus_trial_s": open_s + trial_s_load,
        "check_s": check_s, "export_bids_s": bids_s,
    }  # fmt: skip


def bench_kills(n: int, seed: int) -> list[dict[str, Any]]:
    from tests.support.record_child import kill_cycle

    rng = random.Random(seed)
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(n):
            after = round(rng.uniform(0.05, 2.8), 3)
            r = kill_cycle(Path(d), i + 1, after, trials=12, trial_s=0.25, rate=1200.0)
            out.append({
                "run": i + 1, "kill_after_s": after, "opened": r.opened,
                "missing_ms": r.missing_s * 1000, "samples_stored": r.samples_stored,
                "internal_gaps": r.internal_gaps, "responses_committed": r.responses_reported,
                "responses_lost": len(r.responses_missing), "resumed": r.resumed_ok,
            })  # fmt: skip
            print(f"  kill {i + 1}/{n}: {out[-1]}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=1200.0)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res: dict[str, Any] = {"insert": bench_insert(args.rate)}
    res["long"] = bench_long(args.minutes, args.rate)
    res["kills"] = bench_kills(args.kills, args.seed) if args.kills > 0 else []
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print("| insert | ms | % of real time |")
    print("|---|---:|---:|")
    for r in res["insert"]:
        print(f"| {r['what']} | {r['ms']:.3f} | {r['pct_realtime']:.2f} |")
    lg = res["long"]
    print()
    print(f"| {lg['minutes']:g}-min session at {lg['rate_hz']:g} Hz | value |")
    print("|---|---:|")
    for k, label, fmt in (
        ("samples", "samples", "d"), ("trials", "trials", "d"), ("size_mb", "size on disk (MB)", ".1f"),
        ("synthesise_s", "synthesise by bulk insert (s)", ".1f"), ("open_s", "open + metadata + trial list (s)", ".3f"),
        ("trial_samples", "samples in one trial", "d"), ("trial_load_s", "load one trial's samples (s)", ".3f"),
        ("open_plus_trial_s", "open + one trial (s), target <= 1", ".3f"), ("check_s", "gazeread check, whole session (s)", ".2f"),
        ("export_bids_s", "gazeread export --format bids, whole session (s)", ".1f"),
    ):  # fmt: skip
        print(f"| {label} | {format(lg[k], fmt)} |")
    if res["kills"]:
        ks = res["kills"]
        print()
        print(
            "| run | kill after (s) | opened | samples missing (ms) | responses committed | lost | resumed |"
        )
        print("|---:|---:|---|---:|---:|---:|---|")
        for k in ks:
            print(f"| {k['run']} | {k['kill_after_s']:.3f} | {k['opened']} | {k['missing_ms']:.1f} | "
                  f"{k['responses_committed']} | {k['responses_lost']} | {k['resumed']} |")  # fmt: skip
        miss = [k["missing_ms"] for k in ks]
        print(f"\n{len(ks)} kills: opened {sum(k['opened'] for k in ks)}/{len(ks)}, missing samples "
              f"max {max(miss):.1f} ms, median {float(np.median(miss)):.1f} ms, responses lost "
              f"{sum(k['responses_lost'] for k in ks)}, resumed {sum(k['resumed'] for k in ks)}/{len(ks)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
