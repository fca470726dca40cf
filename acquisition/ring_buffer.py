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

import bisect
import collections
import contextlib
import threading
from typing import NamedTuple

import numpy as np
import numpy.lib.recfunctions as rfn

from acquisition.samples import SAMPLE_DTYPE

__all__ = ["Chunk", "Reader", "RingBuffer"]

#: Blocks of the buffer's own dtype up to this many rows are copied through ``tobytes()``
#: (cheapest for the few rows a tracker pushes at a time); larger ones as whole records.
_BYTES_COPY_MAX_ROWS = 1024


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
    wake : {"relay", "all"}
        How a push wakes waiting readers: ``"relay"`` (default) wakes one, which wakes the
        others (cheapest push); ``"all"`` wakes every one from the producer (one hop less for
        the second and later readers, one futex wake per waiting reader in the push).
    """

    def __init__(
        self, capacity: int = 1 << 18, dtype: np.dtype = SAMPLE_DTYPE, *, wake: str = "relay"
    ) -> None:
        if not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity must be a positive int, got {capacity!r}")
        if wake not in ("relay", "all"):
            raise ValueError(f"wake must be 'relay' or 'all', got {wake!r}")
        self._wake_all = wake == "all"
        self._cap = capacity
        self._data = np.zeros(capacity, dtype=dtype)
        # The same memory seen as opaque fixed-size records: a block copy into it is one
        # memcpy instead of numpy's field-by-field structured assignment (about 6x faster).
        self._void_dtype = np.dtype((np.void, self._data.dtype.itemsize))
        self._raw = self._data.view(self._void_dtype)
        # ... and as bytes, for small blocks (see push_many).
        self._bytes = self._data.view(np.uint8).data
        self._nbytes = self._data.nbytes
        self._itemsize = self._data.dtype.itemsize
        self._dtype = self._data.dtype
        # np.zeros maps pages lazily: touch every page now so that no push takes a page fault
        # (one every ~40 rows otherwise, microseconds each on a VM).
        self._data.view(np.uint8).fill(0)
        self._write = 0  # total rows ever pushed; the next row goes to slot _write % capacity
        # Seqlock counter: running index one past the last row the producer is *writing*.
        # It is advanced before the slots are overwritten and _write after, so a reader
        # that copied slots can tell which of them may have been overwritten meanwhile.
        self._claim = 0
        # Wake-ups: each waiting reader parks on its own locked lock queued in _sleepers. The
        # producer wakes only the first (a wake-up costs the waker a context switch or two on a
        # busy machine: the woken thread preempts it, then blocks on the GIL) and moves the
        # others to _relayed; the woken reader releases those, off the producer's thread.
        # deque append/popleft/remove are atomic under the GIL, so no lock is shared between
        # producer and readers (with a Condition each woken reader re-takes the producer's
        # lock) and each parked lock is released at most once.
        self._sleepers: collections.deque[threading.Lock] = collections.deque()
        self._relayed: collections.deque[threading.Lock] = collections.deque()
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
        self._claim = i + 1
        self._data[i % self._cap] = row
        self._write = i + 1
        if self._sleepers:
            self._notify()

    def push_many(self, rows: np.ndarray) -> None:
        """Append a block of rows (structured array of the buffer's dtype), oldest first.

        A block of exactly the buffer's dtype is copied as raw bytes (one or two block copies).
        A block with the same field names in another order or other widths is converted field
        by field, by name; any other block raises ValueError naming the fields that differ,
        and nothing is pushed.
        """
        n = len(rows)
        if n == 0:
            return
        dt = rows.dtype
        if not (dt is self._dtype or dt == self._dtype):
            self.push_many(_fields_by_name(rows, self._dtype))  # raises before anything moves
            return
        cap = self._cap
        if n > cap:  # only the newest `capacity` rows can be kept
            self._claim = self._write + n
            self._write += n - cap
            rows = rows[n - cap :]
            n = cap
        if n <= _BYTES_COPY_MAX_ROWS:
            # A tracker thread pushes a few rows each time it wakes from sleep, when the CPU's
            # caches have lost numpy's code. Then making a void view of the rows costs ~2.6 us
            # alone, while tobytes() and a memoryview slice copy cost ~1.8 us together for 4
            # rows, and less than the view and copy up to 256 rows (docs/benchmarks.md).
            block = rows.tobytes()
            i = self._write
            a = (i % cap) * self._itemsize
            end = a + len(block)
            self._claim = i + n
            if end <= self._nbytes:
                self._bytes[a:end] = block
            else:
                k = self._nbytes - a
                whole = memoryview(block)
                self._bytes[a:] = whole[:k]
                self._bytes[: end - self._nbytes] = whole[k:]
            self._write = i + n
            if self._sleepers:
                self._notify()
            return
        # Large blocks: copy whole records, without the intermediate bytes. A same-itemsize
        # view is valid for any row stride, so no contiguity check is needed.
        dest = self._raw
        src = rows.view(self._void_dtype)
        i = self._write
        start = i % cap
        end = start + n
        self._claim = i + n
        if end <= cap:
            dest[start:end] = src
        else:
            k = cap - start
            dest[start:] = src[:k]
            dest[: end - cap] = src[k:]
        self._write = i + n
        if self._sleepers:
            self._notify()

    def close(self) -> None:
        """Mark the stream ended: waiting readers wake up and :meth:`Reader.wait` returns."""
        self._closed = True
        self._notify()
        self._relay()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def _notify(self) -> None:
        sleepers = self._sleepers
        if self._wake_all:
            while sleepers:
                try:
                    sleepers.popleft().release()
                except IndexError:  # taken by close() meanwhile
                    return
            return
        try:
            first = sleepers.popleft()
        except IndexError:
            return
        relayed = self._relayed
        while sleepers:
            try:
                relayed.append(sleepers.popleft())
            except IndexError:  # taken by close() meanwhile
                break
        first.release()  # always, after moving the rest: its owner relays them (see _wait_beyond)

    def _relay(self) -> None:
        relayed = self._relayed
        while relayed:
            try:
                relayed.popleft().release()
            except IndexError:  # another reader took the last one
                return

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
        while True:
            w = self._write
            if w == 0:
                return None
            row = self._data[(w - 1) % self._cap].copy()
            if self._claim - self._cap < w:  # slot not overwritten while copying
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
            raw = self._raw[a : a + n].copy()  # raw records: a memcpy, 4x faster than fields
        else:
            raw = np.concatenate((self._raw[a:], self._raw[: a + n - self._cap]))
        out = raw.view(self._data.dtype)
        # Seqlock check: rows the producer overwrote (or is overwriting) while we copied may be
        # torn or newer than their index says; drop them.
        oldest_after = max(0, self._claim - self._cap)
        if oldest_after > start:
            cut = oldest_after - start
            return out[cut:], start + cut
        return out, start

    def time_range(self, t0: float, t1: float) -> np.ndarray:
        """Copy of the rows still held whose ``t`` is in ``[t0, t1)`` (no cursor involved).

        Only the matching rows are copied: ``t`` is binary-searched in place (O(log n)).
        """
        i0, i1 = self._search_held((t0, t1))
        rows, _ = self.copy_range(i0, i1)
        return rows

    def index_at_time(self, t: float) -> int:
        """Running index of the first held row with ``t`` >= the given time."""
        return self._search_held((t,))[0]

    def _search_held(self, times: tuple[float, ...]) -> list[int]:
        """Running indices of the first held rows with ``t`` >= each of ``times``.

        Binary search on the buffer's ``t`` column where it lies (one or two contiguous
        slices), without copying it. Like reads, it is checked against the producer: when a
        held slot was overwritten during the search, the search is repeated.
        """
        cap = self._cap
        tcol = self._data["t"]  # a view; numpy's searchsorted would copy it (strided)
        for _ in range(16):
            w = self._write
            oldest = max(0, w - cap)
            found = [_bisect_ring(tcol, x, oldest, w, cap) for x in times]
            if self._claim - cap <= oldest:  # no slot searched was overwritten meanwhile
                return found
        # The producer keeps overtaking the search (tiny buffer, huge rate): search a copy.
        rows, first = self.copy_range(oldest, w)
        return [first + int(np.searchsorted(rows["t"], x, side="left")) for x in times]

    def _wait_beyond(self, cursor: int, timeout: float) -> bool:
        if self._write > cursor or self._closed:
            return self._write > cursor
        lock = threading.Lock()
        lock.acquire()
        self._sleepers.append(lock)
        woken = False
        # Re-check after queueing: a push that happened in between did not see this lock, but
        # its row is visible now (no lost wake-up).
        if self._write <= cursor and not self._closed:
            woken = lock.acquire(True, timeout)
        if not woken:
            for queue in (self._sleepers, self._relayed):
                with contextlib.suppress(ValueError):
                    queue.remove(lock)
                    break
            else:
                # Popped by a waker, which releases it right after moving the other sleepers to
                # _relayed: take that release and pass the wake-up on, or they would sleep on.
                woken = lock.acquire(True, 1.0)
        if woken:
            self._relay()
        return self._write > cursor


def _fields_by_name(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``rows`` converted to ``dtype`` field by field, by name; ValueError if the names differ."""
    have = set(rows.dtype.names or ())
    want = set(dtype.names or ())
    if have != want:
        raise ValueError(
            f"push_many needs rows with the buffer's fields, got dtype {rows.dtype}: "
            f"missing {sorted(want - have)}, unexpected {sorted(have - want)}. Make the rows "
            "with acquisition.samples.empty_samples (or the buffer's dtype) and fill them."
        )
    return rfn.require_fields(rows, dtype)  # assigns each field by name


def _bisect_ring(tcol: np.ndarray, x: float, lo: int, hi: int, cap: int) -> int:
    """First running index in ``[lo, hi)`` whose ``t`` is >= ``x`` (``hi`` if none).

    ``tcol`` is the ring's ``t`` column; running index ``i`` lives in slot ``i % cap``. Like
    ``numpy.searchsorted(side="left")``, a NaN ``x`` sorts after every time.
    """
    n = hi - lo
    if n <= 0:
        return lo
    if x != x:  # NaN
        return hi
    a = lo % cap
    if a + n <= cap:  # one contiguous slice
        return lo + bisect.bisect_left(tcol, x, a, a + n) - a
    k = cap - a  # two slices: [a, cap) then [0, n - k)
    if tcol[cap - 1] >= x:
        return lo + bisect.bisect_left(tcol, x, a, cap) - a
    return lo + k + bisect.bisect_left(tcol, x, 0, n - k)


class Reader:
    """One consumer's cursor into a :class:`RingBuffer`. Use from one thread at a time."""

    def __init__(self, buffer: RingBuffer, name: str, cursor: int) -> None:
        self._buf = buffer
        self.name = name
        self._cursor = cursor
        self.lost_total = 0

    @property
    def buffer(self) -> RingBuffer:
        """The buffer this reader reads."""
        return self._buf

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
        buf = self._buf
        w = buf._write
        # A reader more than `capacity` behind resumes at the oldest row still held.
        start = max(self._cursor, buf._claim - buf._cap)
        stop = w if n is None else min(w, start + n)
        rows, first = buf.copy_range(start, stop)
        if len(rows) == 0 and stop > start:  # all overwritten while copying: retry from oldest
            return self._read(n, advance=advance)
        lost = first - self._cursor if first > self._cursor else 0
        if advance:
            self._cursor = first + len(rows)
            self.lost_total += lost
        return Chunk(rows, lost, first)
