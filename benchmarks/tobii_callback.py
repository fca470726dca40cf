"""What the Tobii gaze callback costs, and what converting in it instead would cost.

Needs the real ``tobii_research`` (CPython 3.10); no hardware: a fake EyeTracker calls the
callback from its own thread at the device rate.

    python benchmarks/tobii_callback.py [--rate 1200] [--seconds 10] [--json]

Part 1 calls three candidate callbacks in a tight loop on prebuilt SDK-shaped dicts:
``stage`` (gazeread's: keep the dict reference in a preallocated ring), ``columns`` (copy the
16 values into preallocated numpy columns) and ``row_push`` (convert to a SAMPLE_DTYPE row in
the callback and push it into the ring buffer). It also times the converter thread's batch
conversion per sample at batch sizes 1, 2 and 12 (1, 2 and 10 ms at 1200 Hz).
Part 2 runs the real TobiiTracker on the fake device and reports the callback's cost as the
calling thread measured it (perf_counter_ns around each call), the delivery and the CPU used by
the converter thread and by the whole process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import psutil

# Run as a script from anywhere: the repository, not benchmarks/ (whose acquisition.py would
# shadow the package), comes first on the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from acquisition.ring_buffer import RingBuffer  # noqa: E402
from acquisition.samples import SAMPLE_DTYPE  # noqa: E402
from acquisition.trackers._tobii_fake import (  # noqa: E402
    FakeEyeTracker,
    expected_gaze,
    make_fake_tracker,
)
from acquisition.trackers._tobii_stage import GAZE_KEYS, GazeStage, gaze_dicts_to_samples  # noqa: E402


def _dicts(n: int) -> list[dict]:
    out = []
    for k in range(n):
        d = expected_gaze(k)
        d["device_time_stamp"] = 1000 + k * 833
        d["system_time_stamp"] = 5_000_000 + k * 833
        out.append(d)
    return out


def _per_call_ns(cb, dicts: list[dict], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for d in dicts:
            cb(d)
        best = min(best, (time.perf_counter_ns() - t0) / len(dicts))
    return best


def isolated(n: int = 20000) -> dict[str, float]:
    dicts = _dicts(n)
    res: dict[str, float] = {}
    stage = GazeStage(1 << 15)
    res["stage_ns"] = _per_call_ns(stage.make_callback(), dicts)

    cols = {k: np.zeros(1 << 15, dtype=object) for k in GAZE_KEYS}
    idx = [0]
    colv = [cols[k] for k in GAZE_KEYS]
    keys = GAZE_KEYS

    def columns(d):
        i = idx[0] & 0x7FFF
        for c, k in zip(colv, keys, strict=True):
            c[i] = d[k]
        idx[0] += 1

    res["columns_ns"] = _per_call_ns(columns, dicts)

    buf = RingBuffer(1 << 15, SAMPLE_DTYPE)
    nan = float("nan")
    nan3 = (nan, nan, nan)

    def row_push(d):
        lv, rv = d["left_gaze_point_validity"], d["right_gaze_point_validity"]
        lx, ly = d["left_gaze_point_on_display_area"] if lv else (nan, nan)
        rx, ry = d["right_gaze_point_on_display_area"] if rv else (nan, nan)
        s = d["system_time_stamp"]
        buf.push(
            (
                s * 1e-6,
                d["device_time_stamp"],
                s,
                lx,
                ly,
                rx,
                ry,
                lv,
                rv,
                d["left_pupil_diameter"] if d["left_pupil_validity"] else nan,
                d["right_pupil_diameter"] if d["right_pupil_validity"] else nan,
                d["left_gaze_origin_in_user_coordinate_system"]
                if d["left_gaze_origin_validity"]
                else nan3,
                d["right_gaze_origin_in_user_coordinate_system"]
                if d["right_gaze_origin_validity"]
                else nan3,
                0,
            )
        )

    res["row_push_ns"] = _per_call_ns(row_push, dicts)
    for b in (1, 2, 12):
        batches = [dicts[i : i + b] for i in range(0, 6000, b)]
        t0 = time.perf_counter_ns()
        for batch in batches:
            buf.push_many(gaze_dicts_to_samples(batch, 0.0))
        res[f"convert_batch{b}_ns_per_sample"] = (time.perf_counter_ns() - t0) / (len(batches) * b)
    return res


def noop_floor(rate: float, seconds: float) -> float:
    """Median cost of an empty callback, measured the same way (the measurement floor)."""
    import tobii_research as tr

    fake = FakeEyeTracker(frequency=rate)

    def noop(d):
        pass

    fake.subscribe_to(tr.EYETRACKER_GAZE_DATA, noop, as_dictionary=True)
    time.sleep(seconds)
    fake.unsubscribe_from(tr.EYETRACKER_GAZE_DATA, noop)
    return float(np.median(fake.callback_ns()))


def live(rate: float, seconds: float, batch_ms: float) -> dict[str, float]:
    fake = FakeEyeTracker(frequencies=(60.0, 120.0, 300.0, 600.0, 1200.0, 2000.0), frequency=rate)
    tracker = make_fake_tracker(
        RingBuffer(1 << 18), eyetracker=fake, rate_hz=rate, batch_interval_s=batch_ms / 1000
    )
    reader = tracker.buffer.reader("bench")
    proc = psutil.Process()
    cpu0 = proc.cpu_times()
    t0 = time.perf_counter()
    tracker.start()
    th = tracker._thread
    time.sleep(seconds)
    conv_cpu = next(
        (t.user_time + t.system_time for t in proc.threads() if th and t.id == th.native_id),
        float("nan"),
    )
    tracker.stop()
    wall = time.perf_counter() - t0
    cpu1 = proc.cpu_times()
    s = reader.consume().samples
    ns = fake.callback_ns()
    d = np.diff(s["device_ts"])
    return {
        "rate_hz": rate,
        "batch_interval_ms": batch_ms,
        "seconds": round(wall, 2),
        "generated": fake.next_index,
        "delivered": len(s),
        "out_of_order_or_gaps": int((d <= 0).sum() + (d > 1.5e6 / rate).sum()),
        "callback_ns_p50": float(np.median(ns)),
        "callback_ns_mean": float(ns.mean()),
        "callback_ns_p99": float(np.percentile(ns, 99)),
        "converter_cpu_percent": 100.0 * conv_cpu / wall,
        "process_cpu_percent": 100.0
        * ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system))
        / wall,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=1200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch-ms", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict[str, dict[str, float]] = {"isolated": isolated()}
    out["isolated"]["empty_callback_live_ns_p50"] = noop_floor(args.rate, min(args.seconds, 3.0))
    for b in args.batch_ms:
        out[f"live batch {b:g} ms"] = live(args.rate, args.seconds, b)
    if args.json:
        print(json.dumps(out))
        return 0
    for part, table in out.items():
        print(f"[{part}]")
        for k, v in table.items():
            print(f"  {k:<34} {v:>12.1f}" if isinstance(v, float) else f"  {k:<34} {v:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
