"""A preallocated single-producer, many-reader ring buffer of gaze samples.

The producer (a tracker backend's callback or thread) calls :meth:`RingBuffer.push` or
:meth:`RingBuffer.push_many`; these never block on readers and never allocate per sample.
Each reader (recorder, fixation detector, LSL outlet, presenter) holds a :class:`Reader` with its
own cursor and can peek or consume by count or by session-time range, or wait for new data.

A reader that falls more than ``capacity`` samples behind loses the oldest ones: the next read
reports how many in :attr:`Chunk.lost` and adds them to :attr:`Reader.lost_total`. Nothing is
lost silently. Reads copy out of the buffer and then check that the producer did not overwrite
the copied slots meanwhile (a seqlock-style check), so a reader never returns torn rows.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import numpy as np

from acquisition.samples import SAMPLE_DTYPE

__all__ = ["Chunk", "Reader", "RingBuffer"]


class Chunk(NamedTuple):
    """What a read returns.

    Attributes
    ----------
    samples : numpy.ndarray
        A copy of the rows read, oldest first (structured array of the buffer's dtype).
    lost : int
        Samples this reader lost to overflow just before these rows (0 normally).
    first_index : int
        The running index (0 = first sample ever pushed) of ``samples[0]``.
    """

    samples: np.ndarray
    lost: int
    first_index: int


class RingBuffer:
    """Preallocated ring buffer with one producer and any number of readers.

    Parameters
    ----------
    capacity : int
        Number of rows kept, > 0. At 1200 Hz, the default 2**18 rows hold 218 s.
    dtype : numpy.dtype
        Row dtype; :data:`acquisition.samples.SAMPLE_DTYPE` by default. Time-range reads need a
        float64 field ``t`` that the producer keeps non-decreasing.
    """

    def __init__(self, capacity: int = 1 << 18, dtype: np.dtype = SAMPLE_DTYPE) -> None:
        if not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        self._cap = capacity
        self._data = np.zeros(capacity, dtype=dtype)
        self._write = 0  # total rows ever pushed; the next row goes to slot _write % capacity
        self._cond = threading.Condition(threading.Lock())
        self._waiters = 0
        self._closed = False

    # ------------------------------------------------------------------ producer side
    @property
    def capacity(self) -> int:
        """Number of rows the buffer holds."""
        return self._cap

    @property
    def dtype(self) -> np.dtype:
        """Row dtype."""
        return self._data.dtype

    @property
    def total_pushed(self) -> int:
        """Rows pushed since creation (the running index of the next row)."""
        return self._write

    def push(self, row: tuple | np.void) -> None:
        """Append one row (a tuple in field order, or a ``numpy.void`` of the dtype).

        Never blocks on readers and allocates nothing per sample beyond what numpy needs to
        convert the tuple.
        """
        i = self._write
        self._data[i % self._cap] = row
        self._write = i + 1
        if self._waiters:
            self._notify()

    def push_many(self, rows: np.ndarray) -> None:
        """Append a block of rows (structured array of the buffer's dtype), oldest first."""
        n = len(rows)
        if n == 0:
            return
        if n > self._cap:  # only the newest `capacity` rows can be kept
            self._write += n - self._cap
            rows = rows[n - self._cap :]
            n = self._cap
        i = self._write
        start = i % self._cap
        first = min(n, self._cap - start)
        self._data[start : start + first] = rows[:first]
        if first < n:
            self._data[: n - first] = rows[first:]
        self._write = i + n
        if self._waiters:
            self._notify()

    def close(self) -> None:
        """Mark the stream ended: waiting readers wake up and :meth:`Reader.wait` returns."""
        self._closed = True
        self._notify()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ reading helpers
    def reader(self, name: str = "reader", *, from_start: bool = False) -> Reader:
        """Create a reader with its own cursor.

        Parameters
        ----------
        name : str
            Shown in diagnostics.
        from_start : bool
            Start at the oldest row still held instead of at the next row to be pushed.
        """
        cursor = max(0, self._write - self._cap) if from_start else self._write
        return Reader(self, name, cursor)

    def latest(self) -> np.void | None:
        """Copy of the newest row, or None when nothing was pushed yet."""
        w = self._write
        if w == 0:
            return None
        row = self._data[(w - 1) % self._cap].copy()
        if self._write - self._cap >= w:  # overwritten while copying: take the new latest
            return self.latest()
        return row

    def copy_range(self, start: int, stop: int) -> tuple[np.ndarray, int]:
        """Copy rows with running indices ``[start, stop)``.

        Returns the rows still valid after the copy and the running index of the first one
        (greater than ``start`` when older rows had been overwritten).
        """
        w = self._write
        stop = min(stop, w)
        oldest = max(0, w - self._cap)
        start = max(start, oldest)
        if stop <= start:
            return self._data[:0].copy(), start
        n = stop - start
        a = start % self._cap
        if a + n <= self._cap:
            out = self._data[a : a + n].copy()
        else:
            out = np.concatenate((self._data[a:], self._data[: a + n - self._cap]))
        # Seqlock check: rows the producer overwrote while we copied are torn; drop them.
        oldest_after = max(0, self._write - self._cap)
        if oldest_after > start:
            cut = oldest_after - start
            return out[cut:], start + cut
        return out, start

    def time_range(self, t0: float, t1: float) -> np.ndarray:
        """Copy of the rows still held whose ``t`` is in ``[t0, t1)`` (no cursor involved)."""
        w = self._write
        rows, _ = self.copy_range(max(0, w - self._cap), w)
        t = rows["t"]
        i0, i1 = np.searchsorted(t, [t0, t1], side="left")
        return rows[i0:i1]

    def index_at_time(self, t: float) -> int:
        """Running index of the first held row with ``t`` >= the given time."""
        w = self._write
        oldest = max(0, w - self._cap)
        rows, first = self.copy_range(oldest, w)
        return first + int(np.searchsorted(rows["t"], t, side="left"))

    def _wait_beyond(self, cursor: int, timeout: float) -> bool:
        if self._write > cursor or self._closed:
            return self._write > cursor
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiters += 1
            try:
                while self._write <= cursor and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            finally:
                self._waiters -= 1
        return self._write > cursor


class Reader:
    """One consumer's cursor into a :class:`RingBuffer`. Use from one thread at a time."""

    def __init__(self, buffer: RingBuffer, name: str, cursor: int) -> None:
        self._buf = buffer
        self.name = name
        self._cursor = cursor
        self.lost_total = 0

    @property
    def cursor(self) -> int:
        """Running index of the next row this reader will consume."""
        return self._cursor

    def available(self) -> int:
        """Rows pushed but not yet consumed by this reader (may exceed capacity if behind)."""
        return self._buf.total_pushed - self._cursor

    def wait(self, timeout: float) -> bool:
        """Block until at least one unread row exists or ``timeout`` seconds pass.

        Returns True when data is available. Returns False on timeout or when the buffer was
        closed with nothing left to read.
        """
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0 s, got {timeout!r}")
        return self._buf._wait_beyond(self._cursor, timeout)

    def peek(self, n: int | None = None) -> Chunk:
        """Copy up to ``n`` unread rows (all when None) without advancing the cursor."""
        return self._read(n, advance=False)

    def consume(self, n: int | None = None) -> Chunk:
        """Copy up to ``n`` unread rows (all when None) and advance past them."""
        return self._read(n, advance=True)

    def consume_until(self, t: float) -> Chunk:
        """Consume the unread rows with ``t`` < the given session time."""
        chunk = self.peek()
        k = int(np.searchsorted(chunk.samples["t"], t, side="left"))
        self._cursor = chunk.first_index + k
        self.lost_total += chunk.lost
        return Chunk(chunk.samples[:k], chunk.lost, chunk.first_index)

    def peek_time_range(self, t0: float, t1: float) -> np.ndarray:
        """Copy the held rows with ``t`` in ``[t0, t1)``, read or not, without moving."""
        return self._buf.time_range(t0, t1)

    def skip_to_latest(self) -> int:
        """Move the cursor to the newest row; return how many unread rows were skipped."""
        w = self._buf.total_pushed
        skipped = w - self._cursor
        self._cursor = w
        return skipped

    def _read(self, n: int | None, *, advance: bool) -> Chunk:
        if n is not None and n < 0:
            raise ValueError(f"n must be >= 0 or None, got {n!r}")
        w = self._buf.total_pushed
        stop = w if n is None else min(w, self._cursor + n)
        rows, first = self._buf.copy_range(self._cursor, stop)
        lost = first - self._cursor if first > self._cursor else 0
        if n is not None and lost and len(rows) > n:
            rows = rows[:n]
        if advance:
            self._cursor = first + len(rows)
            self.lost_total += lost
        return Chunk(rows, lost, first)
