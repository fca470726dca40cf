"""Acquisition benchmark: tracker -> RingBuffer -> three readers, against a pylsl loopback.

    python benchmarks/acquisition.py --rate 1200 --seconds 60 [--json]

A producer thread paced by sleeping (as a tracker thread is) pushes samples into a RingBuffer
read by three readers at once: a recorder-like reader that writes batches to a file, a
detector-like reader that computes sample velocities, and the LSL Gaze outlet
(:class:`acquisition.lsl_outlets.GazeOutlet`). In the same run the producer pushes the same
samples through a bare pylsl outlet whose inlet, in its own thread, waits with a blocking
``pull_sample`` (then drains with ``pull_chunk(timeout=0.0)``): what a user would otherwise do.
The two pushes take turns going first, since whichever goes second waits for the other.

The tracker thread, the two reader threads and the Gaze outlet's thread are pinned to one CPU
as gazeread pins its acquisition threads (``--no-pin`` leaves them free); the comparison
inlet's thread is not pinned (a user's would not be).

Latency is the time from the push to the reader holding the sample (after its read call
returned), per sample, over all three buffer readers. CPU is per-thread CPU time of the
acquisition path (producer minus its pylsl pushes, and the three readers) in % of one core.

Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acquisition.affinity import ENV_VAR, acquisition_cpu, acquisition_thread
from acquisition.clock import session_clock
from acquisition.lsl_outlets import GazeOutlet, gaze_rows_to_matrix
from acquisition.ring_buffer import Chunk, RingBuffer
from acquisition.samples import empty_samples

_now = time.perf_counter


def thread_cpu_clock() -> Callable[[], float]:
    """CPU seconds of the calling thread (Linux/macOS), as a function."""
    cid = time.pthread_getcpuclockid(threading.get_ident())
    return lambda: time.clock_gettime(cid)


class Stats:
    """Per-sample latencies of one consumer, indexed by the sample's running index."""

    def __init__(self, name: str, total: int) -> None:
        self.name = name
        self.lat = np.full(total, np.nan)
        self.count = 0
        self.out_of_order = 0
        self.next_index = 0
        self.lost = 0
        self.cpu_s = 0.0

    def hold(self, first: int, n: int, push_t: np.ndarray, now: float) -> None:
        if first != self.next_index:
            self.out_of_order += 1
        self.next_index = first + n
        self.lat[first : first + n] = now - push_t[first : first + n]
        self.count += n


class TimedBuffer(RingBuffer):
    """A RingBuffer that notes when each sample was pushed, what the push cost, and forwards the
    same samples to the comparison pylsl outlet (as a user would push to LSL from the tracker)."""

    def __init__(
        self, capacity: int, total: int, lsl_out: object | None, wake: str = "relay"
    ) -> None:
        super().__init__(capacity, wake=wake)
        self.total = total
        self.push_t = np.zeros(total)
        self.lsl_push_t = np.zeros(total)
        self.push_ns = 0
        self.call_ns = np.zeros(total, dtype=np.int64)  # per push call: wall ns and sample count
        self.call_n = np.zeros(total, dtype=np.int64)
        self.wake_ns = 0
        self.wakes = 0
        self.pushes = 0
        self.lsl_push_s = 0.0
        self.lsl_out = lsl_out
        self._cmp = np.empty((1 << 14, 17))
        self.full = threading.Event()

    def push_many(self, rows: np.ndarray) -> None:
        i = self.total_pushed
        n = min(len(rows), self.total - i)
        if n <= 0:
            return
        rows = rows[:n]
        # The two paths take turns going first: whichever goes second waits for the other's
        # push (same thread, GIL), and neither should always bear that.
        lsl_first = self.lsl_out is not None and self.pushes % 2 == 1
        if lsl_first:
            self._push_lsl(rows, i, n)
        self.push_t[i : i + n] = _now()
        a = time.perf_counter_ns()
        RingBuffer.push_many(self, rows)  # not super(): its lookup would be timed too
        b = time.perf_counter_ns()
        self.push_ns += b - a
        if self.pushes < len(self.call_ns):
            self.call_ns[self.pushes] = b - a
            self.call_n[self.pushes] = n
        self.pushes += 1
        if self.lsl_out is not None and not lsl_first:
            self._push_lsl(rows, i, n)
        if i + n >= self.total:
            self.full.set()

    def _push_lsl(self, rows: np.ndarray, i: int, n: int) -> None:
        c_lsl = time.thread_time()  # CPU of this (the producer's) thread on the LSL path
        m = self._cmp[:n]
        gaze_rows_to_matrix(rows, m[:, :16])
        m[:, 16] = np.arange(i, i + n)
        self.lsl_push_t[i : i + n] = _now()
        self.lsl_out.push_chunk(m, rows["t"].tolist())  # type: ignore[union-attr]
        self.lsl_push_s += time.thread_time() - c_lsl


class BreakdownBuffer(TimedBuffer):
    """Also times the wake-up part of each push on its own (``--breakdown``). The two clock
    reads it adds sit inside the timed push, so push_ns_per_sample is measured without it."""

    def _notify(self) -> None:
        a = time.perf_counter_ns()
        super()._notify()
        self.wake_ns += time.perf_counter_ns() - a
        self.wakes += 1


def make_rows(total: int, rate: float, t0: float, seed: int = 0) -> np.ndarray:
    """Rows a tracker would emit: gaze wandering over the screen, both eyes, pupils."""
    rng = np.random.default_rng(seed)
    rows = empty_samples(total)
    idx = np.arange(total)
    rows["t"] = t0 + idx / rate
    rows["device_ts"] = np.round(idx * 1e6 / rate).astype(np.int64)
    x = 0.5 + 0.3 * np.sin(idx / rate) + rng.normal(0, 0.002, total)
    y = 0.5 + 0.3 * np.cos(idx / (1.7 * rate)) + rng.normal(0, 0.002, total)
    rows["left_x"], rows["left_y"] = x, y
    rows["right_x"], rows["right_y"] = x + 0.01, y
    rows["left_valid"] = rows["right_valid"] = 1
    rows["left_pupil"] = rows["right_pupil"] = 3.5
    rows["left_eye_pos"] = (-30.0, 0.0, 600.0)
    rows["right_eye_pos"] = (30.0, 0.0, 600.0)
    return rows


def run(
    rate: float,
    seconds: float,
    capacity: int,
    with_lsl: bool,
    producer_kind: str,
    wake: str = "relay",
    breakdown: bool = False,
) -> dict:
    import pylsl

    total = round(rate * seconds)
    src = f"gazeread-bench-{os.getpid()}"
    n_ch = 16 + 1  # the gaze channels plus the sample index
    lsl_out = None
    if with_lsl:
        info = pylsl.StreamInfo(
            "bench-compare", "Gaze", n_ch, rate, pylsl.cf_double64, src + "-cmp"
        )
        lsl_out = pylsl.StreamOutlet(info)
    buf = (BreakdownBuffer if breakdown else TimedBuffer)(capacity, total, lsl_out, wake)
    push_t, lsl_push_t = buf.push_t, buf.lsl_push_t
    stop = threading.Event()
    errors: list[BaseException] = []
    stats = {k: Stats(k, total) for k in ("recorder", "detector", "lsl_outlet", "lsl_inlet")}

    def guarded(fn: Callable[[], None]) -> Callable[[], None]:
        def wrapper() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        return wrapper

    # ---------------------------------------------------------------- buffer readers
    rec_reader = buf.reader("recorder")
    det_reader = buf.reader("detector")
    out_reader = buf.reader("lsl-gaze")

    def recorder() -> None:
        cpu = thread_cpu_clock()
        st = stats["recorder"]
        pending: list[np.ndarray] = []
        last_flush = _now()
        with tempfile.TemporaryFile() as f:
            while True:
                if rec_reader.wait(0.05):
                    c = rec_reader.consume()
                    st.hold(c.first_index, len(c.samples), push_t, _now())
                    st.lost += c.lost
                    pending.append(c.samples)
                elif buf.closed:
                    break
                if (
                    _now() - last_flush >= 0.05 and pending
                ):  # batches of <= 50 ms, like the recorder
                    f.write(np.concatenate(pending).tobytes())
                    f.flush()
                    pending.clear()
                    last_flush = _now()
            if pending:
                f.write(np.concatenate(pending).tobytes())
        st.cpu_s = cpu()

    def detector() -> None:
        cpu = thread_cpu_clock()
        st = stats["detector"]
        prev = None
        while True:
            if det_reader.wait(0.05):
                c = det_reader.consume()
                st.hold(c.first_index, len(c.samples), push_t, _now())
                st.lost += c.lost
                s = c.samples
                x = s["left_x"] if prev is None else np.concatenate(([prev], s["left_x"]))
                np.abs(np.diff(x))  # a velocity, as an I-VT detector computes
                prev = s["left_x"][-1]
            elif buf.closed:
                break
        st.cpu_s = cpu()

    outlet_cpu: list[Callable[[], float]] = []

    def observe(chunk: Chunk) -> None:
        if not outlet_cpu:
            outlet_cpu.append(thread_cpu_clock())
        st = stats["lsl_outlet"]
        st.hold(chunk.first_index, len(chunk.samples), push_t, _now())
        st.lost += chunk.lost
        st.cpu_s = outlet_cpu[0]()

    gaze_outlet = GazeOutlet(
        out_reader, rate, source_id=src + "-gaze", name="bench-Gaze", observer=observe
    )

    # ---------------------------------------------------------------- comparison path: bare pylsl
    lsl_ready = threading.Event()

    def lsl_consumer() -> None:
        cpu = thread_cpu_clock()
        st = stats["lsl_inlet"]
        found = pylsl.resolve_byprop("source_id", src + "-cmp", 1, 5.0)
        if not found:
            raise RuntimeError("comparison pylsl stream not found on loopback within 5 s")
        inlet = pylsl.StreamInlet(found[0], max_buflen=max(10, int(seconds) + 5))
        inlet.open_stream(5.0)
        lsl_ready.set()
        dest = np.empty((4096, n_ch))
        while st.count < total and not stop.is_set():
            sample, _ts = inlet.pull_sample(timeout=0.2)  # blocking, GIL released in liblsl
            if sample is None:
                continue
            st.hold(int(sample[-1]), 1, lsl_push_t, _now())
            _, ts = inlet.pull_chunk(timeout=0.0, max_samples=4096, dest_obj=dest)
            if ts:
                now = _now()
                st.hold(int(dest[0, -1]), len(ts), lsl_push_t, now)
        st.cpu_s = cpu()

    # ---------------------------------------------------------------- producer
    prod: dict[str, float] = {"cpu_s": 0.0}

    def paced_producer() -> None:
        cpu = thread_cpu_clock()
        rows = make_rows(total, rate, session_clock())
        period = 1.0 / rate
        produced = 0
        start = _now()
        while produced < total and not stop.is_set():
            due = min(total, int((_now() - start) * rate) + 1)
            if due > produced:
                buf.push_many(rows[produced:due])
                produced = due
            # sleep until the next sample is due, as a tracker thread does
            time.sleep(max(0.0, start + produced * period - _now()))
        prod["cpu_s"] = cpu()

    readers_threads = [
        acquisition_thread(guarded(recorder), "bench-recorder", "reader"),
        acquisition_thread(guarded(detector), "bench-detector", "reader"),
    ]
    if with_lsl:
        readers_threads.append(
            threading.Thread(target=guarded(lsl_consumer), name="bench-lsl-inlet")
        )
    for th in readers_threads:
        th.start()
    gaze_outlet.start()
    if with_lsl and not lsl_ready.wait(10.0):
        stop.set()
        raise RuntimeError(f"comparison inlet did not connect: {errors}")
    time.sleep(0.2)
    if producer_kind == "simulated":
        from acquisition.trackers import create_tracker

        tracker = create_tracker("simulated", buf, rate_hz=rate, seed=0)
        proc_cpu0 = time.process_time()
        wall0 = _now()
        tracker.start()
        sim_thread = [t for t in threading.enumerate() if t.name.startswith("gazeread-simulated")]
        sim_cpu0 = [
            time.clock_gettime(time.pthread_getcpuclockid(t.ident or 0)) for t in sim_thread
        ]
        buf.full.wait(seconds * 3 + 30)
        prod["cpu_s"] = sum(
            time.clock_gettime(time.pthread_getcpuclockid(t.ident or 0)) - c0
            for t, c0 in zip(sim_thread, sim_cpu0, strict=True)
        )
        tracker.stop()
        buf.close()
    else:
        proc_cpu0 = time.process_time()
        wall0 = _now()
        prod_thread = acquisition_thread(guarded(paced_producer), "bench-producer", "producer")
        prod_thread.start()
        prod_thread.join(seconds * 3 + 30)
        buf.close()
    wall = _now() - wall0
    for th in readers_threads:
        th.join(10.0)
    stop.set()
    gaze_outlet.stop()
    proc_cpu = time.process_time() - proc_cpu0
    if errors:
        raise RuntimeError(f"benchmark thread failed: {errors[0]!r}") from errors[0]

    produced = buf.total_pushed
    readers = [stats["recorder"], stats["detector"], stats["lsl_outlet"]]
    lat = np.concatenate([s.lat[:produced] for s in readers])
    lat = lat[np.isfinite(lat)] * 1e6
    delivered = min(s.count for s in readers)
    producer_cpu = prod["cpu_s"] - buf.lsl_push_s
    readers_cpu = sum(s.cpu_s for s in readers)
    lsl = stats["lsl_inlet"]
    lsl_lat = lsl.lat[:produced]
    lsl_lat = lsl_lat[np.isfinite(lsl_lat)] * 1e6

    def pct(a: np.ndarray, q: float) -> float:
        return float(np.percentile(a, q)) if len(a) else float("nan")

    return {
        "rate_hz": rate,
        "seconds": seconds,
        "producer": producer_kind,
        "wake": wake,
        "acquisition_cpu": acquisition_cpu(),
        "produced": produced,
        "delivered": delivered,
        "dropped": produced - delivered + sum(s.out_of_order for s in readers),
        "reader_overflow": sum(s.lost for s in readers),
        "latency_us_p50": pct(lat, 50),
        "latency_us_p99": pct(lat, 99),
        "latency_us_max": float(lat.max()) if len(lat) else float("nan"),
        "push_ns_per_sample": buf.push_ns / max(1, produced),
        "push_ns_per_call": buf.push_ns / max(1, buf.pushes),
        "push_ns_per_sample_median_call": float(
            np.median(buf.call_ns[: buf.pushes] / np.maximum(1, buf.call_n[: buf.pushes]))
        )
        if buf.pushes
        else float("nan"),
        **(
            {
                "push_write_ns_per_sample": (buf.push_ns - buf.wake_ns) / max(1, produced),
                "wake_ns_per_wake": buf.wake_ns / max(1, buf.wakes),
            }
            if breakdown
            else {}
        ),
        "samples_per_push": produced / max(1, buf.pushes),
        "cpu_percent": 100.0 * (producer_cpu + readers_cpu) / wall,
        "readers_cpu_percent": 100.0 * readers_cpu / wall,
        "producer_cpu_percent": 100.0 * producer_cpu / wall,
        "lsl_latency_us_p50": pct(lsl_lat, 50),
        "lsl_latency_us_p99": pct(lsl_lat, 99),
        "lsl_latency_us_max": float(lsl_lat.max()) if len(lsl_lat) else float("nan"),
        "lsl_delivered": lsl.count,
        "lsl_cpu_percent": 100.0 * (lsl.cpu_s + buf.lsl_push_s) / wall,
        "process_cpu_percent": 100.0 * proc_cpu / wall,
        "gaze_outlet_pushed": gaze_outlet.pushed,
        "reader_latency_us_p99": {
            s.name: round(pct(s.lat[:produced][np.isfinite(s.lat[:produced])] * 1e6, 99), 1)
            for s in readers
        },
        "switch_interval_s": sys.getswitchinterval(),
        "wall_s": wall,
        "loadavg_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }


class ConditionBuffer(RingBuffer):
    """The textbook alternative: readers wait on one ``threading.Condition``, pushes notify_all."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._cond = threading.Condition(threading.Lock())

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _wait_beyond(self, cursor: int, timeout: float) -> bool:
        if self._write > cursor or self._closed:
            return self._write > cursor
        deadline = time.monotonic() + timeout
        with self._cond:
            self._sleepers.append(None)  # type: ignore[arg-type]  # tells push() to notify
            try:
                while self._write <= cursor and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            finally:
                self._sleepers.pop()
        return self._write > cursor


def compare_wakeup(rate: float, seconds: float, n_readers: int = 3) -> dict:
    """One-row pushes at ``rate`` with ``n_readers`` waiting readers: wake-up strategies compared."""
    out: dict[str, dict[str, float]] = {}
    variants: tuple[tuple[str, Callable[[int], RingBuffer]], ...] = (
        ("ringbuffer_relay", RingBuffer),
        ("ringbuffer_wake_all", functools.partial(RingBuffer, wake="all")),
        ("condition", ConditionBuffer),
    )
    for name, cls in variants:
        total = round(rate * seconds)
        buf = cls(1 << 16)
        rows = make_rows(total, rate, session_clock())
        push_t = np.zeros(total)
        push_ns = np.zeros(total)
        lats: list[np.ndarray] = []

        def read(
            buf: RingBuffer = buf,
            push_t: np.ndarray = push_t,
            total: int = total,
            lats: list = lats,
        ) -> None:
            r = buf.reader()
            lat = np.full(total, np.nan)
            while True:
                if r.wait(0.1):
                    c = r.consume()
                    lat[c.first_index : c.first_index + len(c.samples)] = (
                        _now() - push_t[c.first_index : c.first_index + len(c.samples)]
                    )
                elif buf.closed:
                    break
            lats.append(lat)

        threads = [threading.Thread(target=read, name=f"wake-reader-{k}") for k in range(n_readers)]
        for th in threads:
            th.start()
        time.sleep(0.1)
        start = _now()
        for i in range(total):
            time.sleep(max(0.0, start + i / rate - _now()))
            push_t[i] = _now()
            a = time.perf_counter_ns()
            buf.push_many(rows[i : i + 1])
            push_ns[i] = time.perf_counter_ns() - a
        buf.close()
        for th in threads:
            th.join(5)
        lat = np.concatenate(lats)
        lat = lat[np.isfinite(lat)] * 1e6
        out[name] = {
            "push_ns_median": float(np.median(push_ns)),
            "push_ns_mean": float(push_ns.mean()),
            "latency_us_p50": float(np.percentile(lat, 50)),
            "latency_us_p99": float(np.percentile(lat, 99)),
        }
    return {
        "rate_hz": rate,
        "seconds": seconds,
        "readers": n_readers,
        "loadavg_1min": os.getloadavg()[0],
        **out,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=1200.0, help="sampling rate, Hz (default 1200)")
    p.add_argument("--seconds", type=float, default=10.0, help="duration, s (default 10)")
    p.add_argument("--capacity", type=int, default=1 << 18, help="ring buffer rows (default 2**18)")
    p.add_argument("--no-lsl", action="store_true", help="skip the pylsl comparison path")
    p.add_argument(
        "--producer",
        choices=("simulated", "paced"),
        default="simulated",
        help="simulated: the simulated tracker (chunks every 3 ms); paced: a bare thread pushing "
        "each sample when due, like a Tobii callback (default simulated)",
    )
    p.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval for the run, s (default: Python's, 0.005)",
    )
    p.add_argument(
        "--wake",
        choices=("relay", "all"),
        default="relay",
        help="RingBuffer wake-up strategy (default relay)",
    )
    p.add_argument(
        "--compare-wakeup",
        action="store_true",
        help="instead: one-row pushes with 3 waiting readers, RingBuffer's relay wake-up against a "
        "threading.Condition (push cost and latency)",
    )
    p.add_argument(
        "--no-pin",
        action="store_true",
        help=f"do not pin the acquisition threads to one CPU (sets {ENV_VAR}=off; by default "
        "they are pinned as in gazeread, see acquisition/affinity.py)",
    )
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the wake-up part of each push (adds two clock reads to every push)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.seconds <= 0:
        p.error(f"--rate and --seconds must be > 0, got {a.rate!r} and {a.seconds!r}")
    if a.no_pin:
        os.environ[ENV_VAR] = "off"
    if a.switch_interval is not None:
        sys.setswitchinterval(a.switch_interval)
    if a.compare_wakeup:
        cmp = compare_wakeup(a.rate, a.seconds)
        print(json.dumps(cmp) if a.json else json.dumps(cmp, indent=2))
        return 0
    res = run(a.rate, a.seconds, a.capacity, not a.no_lsl, a.producer, a.wake, a.breakdown)
    if a.json:
        print(json.dumps(res))
    else:
        width = max(len(k) for k in res)
        for k, v in res.items():
            print(f"{k:<{width}}  {v:.6g}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
