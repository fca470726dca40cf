"""RingBuffer: states (empty, partly filled, full, wrapped, overflowing), reads, waits, threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SAMPLE_DTYPE, empty_samples


def rows(start: int, n: int, rate: float = 100.0) -> np.ndarray:
    """n samples with running values start..start+n-1 in device_ts and t = index / rate."""
    out = empty_samples(n)
    idx = np.arange(start, start + n)
    out["device_ts"] = idx
    out["t"] = idx / rate
    out["left_x"] = idx * 1e-3
    return out


def as_tuple(i: int) -> tuple:
    nan3 = (np.nan, np.nan, np.nan)
    return (i / 100.0, i, 0, 0.5, 0.5, np.nan, np.nan, 1, 0, 3.0, np.nan, nan3, nan3, 0)


def idx_of(chunk_samples: np.ndarray) -> list[int]:
    return chunk_samples["device_ts"].tolist()


# ----------------------------------------------------------------------------- construction
@pytest.mark.parametrize("bad", [0, -1, 2.5, "8"], ids=["zero", "negative", "float", "str"])
def test_capacity_must_be_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="capacity must be a positive int"):
        RingBuffer(bad)  # type: ignore[arg-type]


def test_wake_strategy_validated() -> None:
    with pytest.raises(ValueError, match="wake must be 'relay' or 'all', got 'some'"):
        RingBuffer(8, wake="some")


def test_dtype_and_capacity_exposed() -> None:
    buf = RingBuffer(8)
    assert buf.capacity == 8
    assert buf.dtype == SAMPLE_DTYPE
    assert buf.total_pushed == 0


# ----------------------------------------------------------------------------- states
def test_empty_buffer_reads_nothing() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    assert buf.latest() is None
    assert r.available() == 0
    c = r.consume()
    assert len(c.samples) == 0 and c.lost == 0 and c.first_index == 0
    assert c.samples.dtype == SAMPLE_DTYPE
    assert len(r.peek(3).samples) == 0
    assert len(buf.time_range(-1e9, 1e9)) == 0
    assert r.wait(0.0) is False


def test_partly_filled() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 3))
    assert r.available() == 3
    assert idx_of(r.peek().samples) == [0, 1, 2]
    assert r.available() == 3, "peek must not move the cursor"
    c = r.consume(2)
    assert idx_of(c.samples) == [0, 1] and c.first_index == 0 and c.lost == 0
    c = r.consume()
    assert idx_of(c.samples) == [2] and c.first_index == 2
    assert r.available() == 0
    assert buf.latest()["device_ts"] == 2  # type: ignore[index]


def test_exactly_full_loses_nothing() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 8))
    c = r.consume()
    assert idx_of(c.samples) == list(range(8)) and c.lost == 0
    assert r.lost_total == 0


def test_wrapped_reads_in_order() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 6))
    assert len(r.consume().samples) == 6
    buf.push_many(rows(6, 5))  # slots 6,7,0,1,2: wraps
    c = r.consume()
    assert idx_of(c.samples) == [6, 7, 8, 9, 10] and c.lost == 0 and c.first_index == 6
    np.testing.assert_array_equal(c.samples["left_x"], np.arange(6, 11) * 1e-3)


def test_single_pushes_wrap() -> None:
    buf = RingBuffer(4)
    r = buf.reader("r")
    for i in range(10):
        buf.push(as_tuple(i))
        assert idx_of(r.consume().samples) == [i]
    assert buf.total_pushed == 10


def test_overflow_is_counted_exactly() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 13))  # 5 more than the capacity
    c = r.consume()
    assert c.lost == 5
    assert c.first_index == 5
    assert idx_of(c.samples) == list(range(5, 13))
    assert r.lost_total == 5
    # next read: nothing more lost
    buf.push_many(rows(13, 2))
    c = r.consume()
    assert c.lost == 0 and idx_of(c.samples) == [13, 14]
    assert r.lost_total == 5


def test_overflow_by_single_pushes_and_counted_reads() -> None:
    buf = RingBuffer(4)
    r = buf.reader("r")
    for i in range(11):
        buf.push(as_tuple(i))
    c = r.consume(2)
    assert c.lost == 7 and idx_of(c.samples) == [7, 8]
    c = r.consume(5)
    assert c.lost == 0 and idx_of(c.samples) == [9, 10]
    assert r.lost_total == 7


def test_block_larger_than_capacity_keeps_newest() -> None:
    buf = RingBuffer(4)
    r = buf.reader("r")
    buf.push_many(rows(0, 2))
    buf.push_many(rows(2, 10))
    assert buf.total_pushed == 12
    c = r.consume()
    assert idx_of(c.samples) == [8, 9, 10, 11]
    assert c.lost == 8


def test_peek_reports_loss_without_counting_it() -> None:
    buf = RingBuffer(4)
    r = buf.reader("r")
    buf.push_many(rows(0, 6))
    assert r.peek().lost == 2
    assert r.lost_total == 0
    assert r.consume().lost == 2
    assert r.lost_total == 2


def test_push_many_accepts_non_contiguous_blocks() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 10)[::2])
    assert idx_of(r.consume().samples) == [0, 2, 4, 6, 8]


@pytest.mark.parametrize(
    ("capacity", "block"),
    [(3000, 1024), (3000, 1025), (2500, 1500), (1000, 1)],
    ids=["bytes-path-largest", "records-path-smallest", "records-path-wraps", "one-row"],
)
def test_every_copy_path_keeps_all_fields_and_wraps(capacity: int, block: int) -> None:
    # Small blocks are copied through tobytes(), large ones as whole records: both must give
    # the same rows, every field, across the wrap.
    buf = RingBuffer(capacity)
    r = buf.reader("r")
    rng = np.random.default_rng(0)
    sent = rows(0, 3 * capacity)
    for name in ("right_x", "left_pupil", "system_ts"):
        sent[name] = rng.integers(0, 1000, len(sent))
    sent["left_eye_pos"] = rng.normal(size=(len(sent), 3))
    sent["flags"] = np.arange(len(sent)) % 7
    got = []
    for k in range(0, len(sent), block):
        buf.push_many(sent[k : k + block])
        c = r.consume()
        assert c.lost == 0
        got.append(c.samples)
    assert np.concatenate(got).tobytes() == sent.tobytes()


def test_blocks_of_another_layout_are_converted_by_field_name() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    sent = rows(0, 3)
    names = list(reversed(SAMPLE_DTYPE.names or ()))
    other = np.zeros(3, dtype=[(n, "<f4" if n == "t" else SAMPLE_DTYPE[n]) for n in names])
    for n in names:
        other[n] = sent[n]
    buf.push_many(other)
    got = r.consume().samples
    assert got.dtype == SAMPLE_DTYPE
    assert idx_of(got) == [0, 1, 2]
    assert np.allclose(got["t"], sent["t"], rtol=1e-6)  # float32 on the way in
    assert np.array_equal(got["left_x"], sent["left_x"])


def test_block_with_other_fields_is_refused_and_nothing_pushed() -> None:
    buf = RingBuffer(8)
    r = buf.reader("r")
    buf.push_many(rows(0, 2))
    narrow = np.zeros(3, dtype=[("t", "<f8"), ("device_ts", "<i8"), ("gaze_x", "<f8")])
    for block in (narrow, np.resize(narrow, 20)):  # 20 rows: more than the capacity
        with pytest.raises(
            ValueError, match=r"missing \['flags', 'left_eye_pos'.*unexpected \['gaze_x'\]"
        ):
            buf.push_many(block)
    assert buf.total_pushed == 2
    c = r.consume()
    assert idx_of(c.samples) == [0, 1] and c.lost == 0


def test_reader_from_start_and_skip_to_latest() -> None:
    buf = RingBuffer(4)
    buf.push_many(rows(0, 6))
    late = buf.reader("late")
    assert late.available() == 0
    early = buf.reader("early", from_start=True)
    assert idx_of(early.consume().samples) == [2, 3, 4, 5]
    buf.push_many(rows(6, 3))
    assert late.skip_to_latest() == 3
    assert late.available() == 0


@pytest.mark.parametrize("bad", [-1, -5])
def test_negative_counts_rejected(bad: int) -> None:
    r = RingBuffer(4).reader()
    with pytest.raises(ValueError, match="n must be >= 0"):
        r.consume(bad)
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        r.wait(float(bad))


# ----------------------------------------------------------------------------- time ranges
def test_time_range_and_consume_until() -> None:
    buf = RingBuffer(16)
    r = buf.reader("r")
    buf.push_many(rows(0, 10, rate=100.0))  # t = 0.00 .. 0.09
    got = buf.time_range(0.025, 0.055)
    assert idx_of(got) == [3, 4, 5]
    assert idx_of(r.peek_time_range(0.0, 0.02)) == [0, 1]
    c = r.consume_until(0.045)
    assert idx_of(c.samples) == [0, 1, 2, 3, 4]
    assert r.cursor == 5
    assert buf.index_at_time(0.07) == 7


def test_time_range_after_wrap_only_returns_held_rows() -> None:
    buf = RingBuffer(8)
    buf.push_many(rows(0, 20, rate=100.0))
    assert idx_of(buf.time_range(0.0, 1.0)) == list(range(12, 20))
    assert idx_of(buf.time_range(0.155, 0.175)) == [16, 17]
    assert len(buf.time_range(0.5, 0.6)) == 0


def _old_time_range(buf: RingBuffer, t0: float, t1: float) -> np.ndarray:
    """The former implementation (copy every held row, then search): the reference."""
    w = buf.total_pushed
    held, _ = buf.copy_range(max(0, w - buf.capacity), w)
    i0, i1 = np.searchsorted(held["t"], [t0, t1], side="left")
    return held[i0:i1]


def _old_index_at_time(buf: RingBuffer, t: float) -> int:
    w = buf.total_pushed
    held, first = buf.copy_range(max(0, w - buf.capacity), w)
    return first + int(np.searchsorted(held["t"], t, side="left"))


@pytest.mark.parametrize(
    "pushed", [0, 1, 5, 15, 16, 17, 23, 31, 32, 40, 100], ids=lambda n: f"pushed{n}"
)
def test_time_search_equals_copy_then_search(pushed: int) -> None:
    """Empty, partly filled, exactly full and wrapped at every offset; repeated times too."""
    buf = RingBuffer(16)
    block = rows(0, pushed, rate=100.0)
    block["t"] = np.floor(np.arange(pushed) / 2) / 100.0  # pairs of equal times
    for k in range(0, pushed, 7):  # pushes of odd sizes so the wrap lands anywhere
        buf.push_many(block[k : k + 7])
    probes = [-1.0, 0.0, 0.005, 0.01, 0.07, 0.2, 0.245, 0.3, 0.49, 0.5, 10.0, float("nan")]
    for t0 in probes:
        assert buf.index_at_time(t0) == _old_index_at_time(buf, t0), t0
        for t1 in probes:
            got, ref = buf.time_range(t0, t1), _old_time_range(buf, t0, t1)
            assert idx_of(got) == idx_of(ref), (t0, t1)
            assert got.tobytes() == ref.tobytes()


def test_time_range_copies_only_the_matching_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = RingBuffer(64)
    buf.push_many(rows(0, 100, rate=100.0))  # wrapped: holds 36..99
    asked: list[tuple[int, int]] = []
    real = buf.copy_range

    def spy(start: int, stop: int) -> tuple[np.ndarray, int]:
        asked.append((start, stop))
        return real(start, stop)

    monkeypatch.setattr(buf, "copy_range", spy)
    assert idx_of(buf.time_range(0.595, 0.655)) == [60, 61, 62, 63, 64, 65]
    assert buf.index_at_time(0.7) == 70
    assert asked == [(60, 66)], "only the rows in range are copied, index_at_time copies none"


def test_time_range_under_a_concurrent_producer_is_exact() -> None:
    """The in-place search races the producer: results are still exactly the rows in range."""
    buf = RingBuffer(64)
    stop = threading.Event()
    n_total = 60_000

    def produce() -> None:
        for k in range(0, n_total, 3):
            buf.push_many(rows(k, 3, rate=1000.0))
        stop.set()

    th = threading.Thread(target=produce, name="test-producer", daemon=True)
    th.start()
    checked = 0
    while not stop.is_set() or checked == 0:
        w = buf.total_pushed
        t0, t1 = (w - 40) / 1000.0, (w - 20) / 1000.0
        got = buf.time_range(t0, t1)
        i = buf.index_at_time(t0)
        assert i >= max(0, w - 40)
        if len(got):
            ts = got["t"]
            assert ts[0] >= t0 and ts[-1] < t1
            assert np.all(np.diff(got["device_ts"]) == 1)
        checked += 1
    th.join(5)
    assert checked > 0


def test_consume_until_counts_loss() -> None:
    buf = RingBuffer(4)
    r = buf.reader("r")
    buf.push_many(rows(0, 10, rate=100.0))
    c = r.consume_until(0.08)
    assert c.lost == 6 and idx_of(c.samples) == [6, 7]
    assert r.lost_total == 6


def test_latest_tracks_newest_row() -> None:
    buf = RingBuffer(3)
    for i in range(7):
        buf.push(as_tuple(i))
        latest = buf.latest()
        assert latest is not None and int(latest["device_ts"]) == i


# ----------------------------------------------------------------------------- wait / close
def test_wait_times_out_without_data() -> None:
    r = RingBuffer(4).reader()
    assert r.wait(0.01) is False


def test_wait_returns_at_once_when_data_is_there() -> None:
    buf = RingBuffer(4)
    r = buf.reader()
    buf.push(as_tuple(0))
    assert r.wait(10.0) is True


def test_wait_wakes_on_push_from_another_thread() -> None:
    buf = RingBuffer(4)
    r = buf.reader()
    started = threading.Event()

    def produce() -> None:
        started.wait(5)
        buf.push(as_tuple(0))

    th = threading.Thread(target=produce, name="test-producer")
    th.start()
    started.set()
    assert r.wait(10.0) is True  # well before the timeout: the push woke us
    th.join(5)
    assert idx_of(r.consume().samples) == [0]


def test_close_wakes_waiters_and_ends_waits() -> None:
    buf = RingBuffer(4)
    r = buf.reader()
    result: list[bool] = []
    th = threading.Thread(target=lambda: result.append(r.wait(30.0)), name="test-waiter")
    th.start()
    buf.close()
    th.join(5)
    assert not th.is_alive()
    assert result == [False]
    assert buf.closed
    assert r.wait(1.0) is False


def test_rows_pushed_before_close_can_still_be_read() -> None:
    buf = RingBuffer(4)
    r = buf.reader()
    buf.push(as_tuple(0))
    buf.close()
    assert r.wait(1.0) is True
    assert idx_of(r.consume().samples) == [0]
    assert r.wait(0.5) is False


# ----------------------------------------------------------------------------- threads
@pytest.mark.parametrize("wake", ["relay", "all"])
@pytest.mark.parametrize("n_readers", [1, 3])
def test_concurrent_producer_and_readers_see_every_sample_once(n_readers: int, wake: str) -> None:
    total = 20_000
    buf = RingBuffer(total, wake=wake)  # readers that keep up never lose anything
    seen: list[list[int]] = [[] for _ in range(n_readers)]
    errors: list[BaseException] = []
    readers = [buf.reader(f"r{k}") for k in range(n_readers)]

    def read(k: int) -> None:
        try:
            r = readers[k]
            while True:
                if not r.wait(5.0):
                    if buf.closed and r.available() == 0:
                        return
                    continue
                c = r.consume(None if k % 2 == 0 else 7)  # some read everything, some by count
                assert c.lost == 0
                seen[k].extend(c.samples["device_ts"].tolist())
        except BaseException as exc:
            errors.append(exc)

    def produce() -> None:
        i = 0
        while i < total:
            n = 1 + (i % 5)
            n = min(n, total - i)
            if n == 1:
                buf.push(as_tuple(i))
            else:
                buf.push_many(rows(i, n))
            i += n
        buf.close()

    threads = [
        threading.Thread(target=read, args=(k,), name=f"test-reader-{k}") for k in range(n_readers)
    ]
    for th in threads:
        th.start()
    producer = threading.Thread(target=produce, name="test-producer")
    producer.start()
    producer.join(30)
    for th in threads:
        th.join(30)
    assert not errors, errors
    for k in range(n_readers):
        assert seen[k] == list(range(total)), f"reader {k}"
        assert readers[k].lost_total == 0


@pytest.mark.parametrize("wake", ["relay", "all"])
def test_every_push_wakes_every_waiting_reader(wake: str) -> None:
    """Lock-step rounds: each row must reach every reader through a wake-up, not a timeout."""
    buf = RingBuffer(1024, wake=wake)
    n_readers, rounds = 4, 500
    counts = [0] * n_readers
    late: list[int] = []

    def read(k: int) -> None:
        r = buf.reader(f"r{k}")
        while True:
            t0 = time.monotonic()
            got = r.wait(10.0)  # a lost wake-up would sleep here until the next push or 10 s
            if got:
                counts[k] += len(r.consume().samples)
            elif buf.closed:
                return
            if time.monotonic() - t0 > 5.0:
                late.append(k)

    threads = [
        threading.Thread(target=read, args=(k,), name=f"test-reader-{k}") for k in range(n_readers)
    ]
    for th in threads:
        th.start()
    try:
        for i in range(rounds):
            buf.push(as_tuple(i))
            deadline = time.monotonic() + 5.0
            while min(counts) < i + 1 and time.monotonic() < deadline:
                time.sleep(0.0002)
            assert min(counts) == i + 1, f"round {i}: a reader was not woken ({counts})"
    finally:
        buf.close()
        for th in threads:
            th.join(15)
    assert not late


def test_slow_reader_under_concurrency_counts_loss_exactly() -> None:
    """A reader far behind gets every row it reads intact and the rest counted as lost."""
    total = 30_000
    buf = RingBuffer(64)
    r = buf.reader("slow")
    got: list[int] = []
    lost = 0
    done = threading.Event()

    def produce() -> None:
        for i in range(0, total, 3):
            buf.push_many(rows(i, 3))
        done.set()

    th = threading.Thread(target=produce, name="test-producer")
    th.start()
    while True:
        finished = done.is_set()
        c = r.consume(5)
        lost += c.lost
        got.extend(idx_of(c.samples))
        # every row read is the row its index says (no torn or relabelled rows)
        np.testing.assert_array_equal(c.samples["left_x"], c.samples["device_ts"] * 1e-3)
        if finished and r.available() == 0:
            break
    th.join(10)
    assert len(got) + lost == total
    assert got == sorted(got) and len(set(got)) == len(got)
    assert r.lost_total == lost
