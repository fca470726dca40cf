"""The recorder: a named thread that writes the ring buffer into the session store as it goes.

Every ``batch_s`` (default 50 ms) it consumes what its reader holds and commits it as one
transaction, so a crash loses at most the batch in flight (<= 100 ms of data). The same thread
drains the tracker's events and clock offsets and writes the fixations handed to
:meth:`Recorder.add_fixation_event`, so the store has a single writer for the stream data.

A write error (disk full, file-size limit, read-only folder, database gone) stops the thread
cleanly: everything committed so far stays intact, :attr:`Recorder.error` holds a message that
says what happened and what to do, an ``recording_error`` event is written if the database
still accepts writes, and the optional ``on_error`` callback is called.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from acquisition.affinity import acquisition_thread
from acquisition.ring_buffer import Reader
from sessions.run.fixation_trials import TrialWindow, cut_at_windows, fixation_to_row
from sessions.store import SessionStore, StoreError

__all__ = ["Recorder", "RecorderStats"]

_log = logging.getLogger(__name__)


@dataclasses.dataclass
class RecorderStats:
    """Counters of what the recorder wrote."""

    samples: int = 0
    batches: int = 0
    events: int = 0
    fixations: int = 0
    offsets: int = 0
    lost: int = 0
    rejected_fixations: int = 0
    late_fixations: int = 0  # handed over after the thread stopped or failed
    lost_fixations: int = 0  # of those, the ones that could not be written at all
    last_t: float = math.nan
    max_batch_span_s: float = 0.0


class Recorder:
    """Write samples, tracker events, clock offsets and fixations to a store, in a thread.

    Parameters
    ----------
    reader : acquisition.ring_buffer.Reader
        This recorder's own cursor into the ring buffer.
    store : SessionStore
        Where to write.
    tracker : Tracker, optional
        Its ``drain_events()`` and ``drain_offsets()`` are written each batch.
    batch_s : float
        Commit period (s), 0 < batch_s <= 0.1, so a batch never holds more than 100 ms of
        data unless the disk stalls.
    name : str
        Thread name.
    on_error : callable, optional
        Called (from the recorder thread) with the error message when writing fails.
    """

    def __init__(
        self,
        reader: Reader,
        store: SessionStore,
        tracker: Any = None,
        batch_s: float = 0.05,
        name: str = "recorder",
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if not 0 < batch_s <= 0.1:
            raise ValueError(f"batch_s must be in (0, 0.1] s, got {batch_s!r}")
        self.reader = reader
        self.store = store
        self.tracker = tracker
        self.batch_s = float(batch_s)
        self.on_error = on_error
        self.stats = RecorderStats()
        self.error: str | None = None
        self._fixations: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # False once the thread took its last look at the queue (stopped or failed)
        self._accepting = True
        self._accept_lock = threading.Lock()
        # (t_from, trial_id, layout), sorted by t_from: which trial a fixation belongs to
        self._trial_times: list[float] = []
        self._trial_info: list[tuple[int | None, Any]] = []
        self._trial_lock = threading.Lock()
        self._fix_cols: set[str] | None = None
        self._stop = threading.Event()
        self._thread = acquisition_thread(self._run, name, "reader")

    # ------------------------------------------------------------------ control
    def start(self) -> Recorder:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Flush everything still in the reader and queues, then end the thread.

        Raises :class:`TimeoutError` if the thread does not finish within ``timeout``.
        """
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(
                    f"recorder thread {self._thread.name!r} did not stop in {timeout} s"
                )

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    @property
    def failed(self) -> bool:
        """True once a write error stopped recording (see :attr:`error`)."""
        return self.error is not None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ inputs
    def set_trial(
        self, trial_id: int | None, layout: Any = None, t_from: float | None = None
    ) -> None:
        """Say which trial (and image layout) fixations starting from ``t_from`` belong to.

        Call it with the image onset flip time when the image appears and with
        ``(None, None, t_offset)`` when it goes: a fixation is cut at these times and each part
        goes to the trial in force (:mod:`sessions.run.fixation_trials`). Without ``t_from`` the
        switch applies from the newest recorded sample.
        """
        if t_from is None:
            last = self.stats.last_t
            t_from = last if math.isfinite(last) else -math.inf
        with self._trial_lock:
            i = bisect.bisect_right(self._trial_times, t_from)
            self._trial_times.insert(i, float(t_from))
            self._trial_info.insert(i, (trial_id, layout))

    def trial_at(self, t: float) -> tuple[int | None, Any]:
        """``(trial_id, layout)`` in force at session time ``t`` (``(None, None)`` before any)."""
        with self._trial_lock:
            i = bisect.bisect_right(self._trial_times, t) - 1
            return self._trial_info[i] if i >= 0 else (None, None)

    def add_fixation_event(self, event: Any) -> None:
        """Fixation sink (thread-safe): finished fixations are written by the recorder thread.

        Accepts detector ``FixationEvent`` objects (only ``kind == 'end'`` are stored; the
        trial and layout come from :meth:`set_trial` at the fixation's start) or ready
        ``fixations`` rows as dicts (stored as they are).

        A fixation that arrives after the thread stopped or failed is counted in
        ``stats.late_fixations``. After a write error it is counted in
        ``stats.lost_fixations`` (the error's message already tells). After a stop it is
        written straight away if the store still takes writes, else counted as lost and a
        :class:`RuntimeError` is raised (the fixation worker reports a sink that raises).
        """
        with self._accept_lock:
            if self._accepting:
                self._fixations.put(event)
                return
        self._late_fixation(event)

    def _late_fixation(self, event: Any) -> None:
        if getattr(event, "kind", "end") != "end":
            return  # start/cancel events are never stored
        self.stats.late_fixations += 1
        if self.error is not None:
            # the recording already stopped on a write error, and its message says so (and
            # counts these): no traceback for each fixation that can no longer be stored
            self.stats.lost_fixations += 1
            return
        why = "the recorder was stopped"
        if self.error is None and not self.store.closed:
            _log.warning("fixation arrived after the recorder stopped; writing it directly")
            try:
                self._write_fixation(event)
                return
            except Exception as exc:  # the store refuses writes now: reported below
                why = f"{type(exc).__name__}: {exc}"
        self.stats.lost_fixations += 1
        msg = (
            f"a fixation arrived after the recorder of {self.store.path} stopped and could not "
            f"be stored ({why}): {event!r}"
        )[:500]
        _log.error(msg)
        raise RuntimeError(msg)

    # ------------------------------------------------------------------ thread
    def _run(self) -> None:
        next_commit = time.monotonic() + self.batch_s
        try:
            while not self._stop.is_set():
                remaining = next_commit - time.monotonic()
                if remaining > 0:
                    self._stop.wait(remaining)
                next_commit = max(next_commit + self.batch_s, time.monotonic())
                self._write_once()
            with self._accept_lock:  # from here on add_fixation_event handles them itself
                self._accepting = False
            self._write_once()  # final flush
        except Exception as exc:  # sqlite3.Error, StoreError, OSError, ...: surfaced, never silent
            self._fail(exc)

    def _write_once(self) -> None:
        """One batch: samples, tracker events and offsets, fixations, in one transaction.

        The statistics are updated only once the batch is committed, so they never count
        what a failed batch rolled back.
        """
        chunk = self.reader.consume()
        samples = chunk.samples
        fixations: list[Any] = []
        while True:
            try:
                fixations.append(self._fixations.get_nowait())
            except queue.Empty:
                break
        events: list[Any] = []
        offsets: list[Any] = []
        if self.tracker is not None:
            events = list(self.tracker.drain_events())
            offsets = list(self.tracker.drain_offsets())
        if not (len(samples) or chunk.lost or fixations or events or offsets):
            return  # nothing to write: no empty transaction
        before = (self.stats.fixations, self.stats.rejected_fixations)
        try:
            with self.store.batch():
                self._write_batch(chunk, events, offsets, fixations)
        except BaseException:
            # the batch was rolled back: its fixations are not stored (nor counted as such)
            self.stats.fixations, self.stats.rejected_fixations = before
            self.stats.lost_fixations += sum(
                1 for ev in fixations if getattr(ev, "kind", "end") == "end"
            )
            raise
        self.stats.lost += chunk.lost
        self.stats.events += len(events)
        self.stats.offsets += len(offsets)
        if len(samples):
            ts = samples["t"]
            self.stats.samples += len(samples)
            self.stats.batches += 1
            self.stats.last_t = float(ts[-1])
            span = float(ts[-1] - ts[0])
            self.stats.max_batch_span_s = max(self.stats.max_batch_span_s, span)

    def _write_batch(
        self, chunk: Any, events: list[Any], offsets: list[Any], fixations: list[Any]
    ) -> None:
        """The writes of one batch (inside :meth:`SessionStore.batch`)."""
        if chunk.lost:
            if len(chunk.samples):
                t_lost = float(chunk.samples["t"][0])
            else:
                t_lost = self.stats.last_t if np.isfinite(self.stats.last_t) else 0.0
            self.store.add_event(
                t_lost,
                "samples_lost",
                f"the recorder fell {chunk.lost} samples behind the ring buffer; they are lost",
                count=chunk.lost,
            )
        if len(chunk.samples):
            self.store.append_samples(chunk.samples)
        for ev in events:
            data = dict(ev.data)
            t_ev = float(data.pop("t", ev.t))
            self.store.add_event(t_ev, ev.kind, ev.message, **data)
        for source, off in offsets:
            self.store.add_clock_offset(off.t_session, source, off.offset_s, off.uncertainty_s)
        for ev in fixations:
            self._write_fixation(ev)

    def _write_fixation(self, ev: Any) -> None:
        """One fixation; a malformed one is reported as an event, never stops the recording."""
        try:
            rows = self._fixation_rows(ev)
            if not rows:
                return
            if self._fix_cols is None:
                self._fix_cols = set(self.store.columns("fixations"))
            unknown = sorted(set().union(*rows) - self._fix_cols)
            if unknown:
                raise ValueError(f"unknown fixations column(s) {unknown}")
            self.store.add_fixations(rows)
        except (StoreError, ValueError, TypeError) as exc:
            t = getattr(ev, "t_emitted", None)
            if not isinstance(t, float) or not math.isfinite(t):
                t = self.stats.last_t if math.isfinite(self.stats.last_t) else 0.0
            self.store.add_event(
                t,
                "fixation_rejected",
                f"a fixation could not be stored ({type(exc).__name__}: {exc}): {ev!r}"[:500],
            )
            self.stats.rejected_fixations += 1
            return
        self.stats.fixations += len(rows)

    def trial_windows(self) -> list[TrialWindow]:
        """``(t_onset, t_offset, trial_id, layout)`` of every trial set so far (inf: showing)."""
        with self._trial_lock:
            times, info = list(self._trial_times), list(self._trial_info)
        out: list[TrialWindow] = []
        for i, (t0, (trial_id, layout)) in enumerate(zip(times, info, strict=True)):
            if trial_id is not None:
                t1 = times[i + 1] if i + 1 < len(times) else math.inf
                out.append((t0, t1, int(trial_id), layout))
        return out

    def _fixation_rows(self, ev: Any) -> list[dict[str, Any]]:
        """The store rows of one finished fixation, cut at image onsets and offsets.

        The one rule (:mod:`sessions.run.fixation_trials`): the part while an image was shown is
        that trial's, with image coordinates; the rest belongs to no trial.
        """
        if isinstance(ev, dict):
            return [dict(ev)]  # a ready row is stored as it is
        if getattr(ev, "kind", "end") != "end":
            return []
        t_start = float(getattr(ev, "t_start", math.nan))
        t_end = float(getattr(ev, "t_end", math.nan))
        pieces = cut_at_windows(t_start, t_end, self.trial_windows())
        rows = []
        for t0, t1, trial_id, layout in pieces:
            row = fixation_to_row(ev, layout, trial_id)
            if len(pieces) > 1:
                row.update(t_start=t0, t_end=t1, duration_ms=(t1 - t0) * 1000.0)
            rows.append(row)
        return rows

    def _fail(self, exc: BaseException) -> None:
        last = self.stats.last_t
        where = f"up to t={last:.3f} s" if np.isfinite(last) else "before the first batch"
        self.error = (
            f"recording stopped: could not write to {self.store.path}: "
            f"{type(exc).__name__}: {exc}. The {self.stats.samples} samples recorded {where} "
            "are saved and readable. Free disk space or fix the folder's permissions "
            "(or the file-size limit), then continue the session with --resume."
        )
        with self._accept_lock:  # later fixations go to _late_fixation, which reports them
            self._accepting = False
        left = 0
        while True:
            try:
                ev = self._fixations.get_nowait()
            except queue.Empty:
                break
            left += getattr(ev, "kind", "end") == "end"
        if left:
            self.stats.lost_fixations += left
            _log.error("%d fixation(s) not stored: %s", left, self.error)
        # a full disk: the store's reserved space makes room for the event and the final status
        with contextlib.suppress(Exception):
            self.store.release_reserve()
        # the database may refuse writes now: then the message is what counts
        with contextlib.suppress(Exception):
            self.store.add_event(
                last if np.isfinite(last) else 0.0,
                "recording_error",
                self.error,
                exception=type(exc).__name__,
                samples_written=self.stats.samples,
            )
        if self.on_error is not None:
            with contextlib.suppress(Exception):  # a failing callback must not hide the error
                self.on_error(self.error)
