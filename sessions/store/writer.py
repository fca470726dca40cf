"""The session store's writer: the one process that records ``session.sqlite``.

Layout on disk: ``<root>/<study>/sub-<participant>/ses-<n>/session.sqlite`` (WAL) beside
``session.lock``. The writer holds the session lock for its whole life (a second writer is
refused at once, a killed one is recognised), every write is a transaction, samples go in small
batches, and a response is committed durably (fsynced) before the next trial. It never opens a
second descriptor on the database: closing one would drop SQLite's POSIX locks under the live
connection (see docs/session_store.md). The schema is ``sessions/store/schema.sql``.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.samples import SAMPLE_COLUMNS, SAMPLE_DTYPE
from sessions.store.errors import SessionExistsError, StoreError
from sessions.store.lock import SessionLock
from sessions.store.reader import SCHEMA_VERSION, SessionReader, _database, check_schema
from sessions.store.rows import _json_default, _to_sql, connect, samples_to_rows, session_dir

__all__ = ["RESERVE_BYTES", "SessionStore", "new_session_uid"]


def _private_folders(root: Path, folder: Path) -> None:
    """Create the missing folders from ``root`` down to ``folder`` readable by the owner only."""
    missing = []
    p = folder
    while p != root and not p.exists():
        missing.append(p)
        p = p.parent
    try:
        root.mkdir(parents=True, exist_ok=True)  # the sessions root: the user's choice
        for d in reversed(missing):
            d.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the session folder {folder}: {exc}") from exc


def new_session_uid() -> str:
    """A pseudonymous session id: 8 random hex digits, no link to the participant.

    It names the session's LSL streams (``gazeread-<uid>-gaze``), so that the lab network
    never sees a participant label; the session table keeps the link.
    """
    return secrets.token_hex(4)


#: Disk space the writer keeps in ``session.reserve`` while it records, given back when a
#: write fails for want of space so that the ``recording_error`` event, the ``session_end``
#: event and the final status can still be written (a full disk otherwise leaves no room).
RESERVE_BYTES = 2 << 20


class SessionStore(SessionReader):
    """The writer of one session's database. Thread-safe: every call takes an internal lock.

    Use :meth:`create` for a new session (refuses an existing one) and
    :meth:`open_for_resume` to continue one; both take the session lock, released by
    :meth:`close`. To read a session use :meth:`SessionReader.open` (``SessionStore.open``
    is the same: it returns a read-only :class:`SessionReader`).
    """

    def __init__(
        self, path: Path, conn: sqlite3.Connection, lock: SessionLock | None = None
    ) -> None:
        super().__init__(path, conn)
        self._session_lock = lock
        self._reserve: Path | None = None
        if lock is not None:
            self._reserve = self._make_reserve(path.parent / "session.reserve")
        self._wrote = False
        self._depth = 0  # open transaction()/batch() levels (only the lock holder touches it)
        self._sync_pending = False

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        study: str,
        participant: str,
        session: int,
        **metadata: Any,
    ) -> SessionStore:
        """Create a new session and lock it; refuse if one is already there.

        ``metadata`` fills columns of the ``session`` table (JSON columns take dicts). Two
        processes creating the same session at once: one wins, the other gets
        :class:`SessionLockedError` or :class:`SessionExistsError` (one line, nothing touched).
        """
        folder = session_dir(root, study, participant, session)
        db = folder / "session.sqlite"
        _private_folders(Path(root), folder)
        lock = SessionLock.acquire(folder)
        if db.exists():
            lock.release()
            raise SessionExistsError(
                f"a session already exists at {db}: continue it with --resume, or choose "
                f"another session number (e.g. --session {session + 1})"
            )
        schema = (
            resources.files("sessions.store").joinpath("schema.sql").read_text(encoding="utf-8")
        )
        conn: sqlite3.Connection | None = None
        try:
            # owner-only from the first byte: SQLite gives -wal and -shm the database's mode
            os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
            conn = connect(db)
            conn.executescript(schema)
            store = cls(db, conn, lock)
            with store.transaction(durable=True) as c:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('session_uid', ?)", (new_session_uid(),)
                )
                c.execute(
                    "INSERT INTO session (id, study, participant, session_number, created_utc) "
                    "VALUES (1, ?, ?, ?, ?)",
                    (study, participant, session, datetime.now(timezone.utc).isoformat()),
                )
                if metadata:
                    store.update_session(**metadata)
        except BaseException as exc:
            # never leave an open connection or a half-made session that blocks a retry
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()
            for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                with suppress(OSError):
                    leftover.unlink()
            lock.release()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot create the session database {db}: {exc} (is the folder writable "
                    "and the disk not full?)"
                ) from exc
            raise
        return store

    @classmethod
    def open_for_resume(cls, path: str | os.PathLike[str]) -> SessionStore:
        """Open a session to continue it (``gazeread run --resume``), taking its lock.

        Refused at once, naming the process, while another process records it
        (:class:`SessionLockedError`); refused when it is completed. Call
        :meth:`mark_interrupted` next: it records the interruption and resets the unfinished
        trials; then recalibrate and continue at :meth:`first_unfinished_trial`.
        """
        store = cls.open_for_writing(path)
        if store.session_uid() is None:  # recorded before session uids existed
            with store.transaction(durable=True) as c:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('session_uid', ?)", (new_session_uid(),)
                )
        if store.session_info()["status"] == "completed":
            store.close()
            raise StoreError(
                f"the session at {store.folder} is already completed; nothing to resume "
                "(start a new session number instead)"
            )
        return store

    @staticmethod
    def _make_reserve(path: Path) -> Path | None:
        """Allocate the reserve file (None when the disk has not even that much room)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return None
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except OSError:
            os.close(fd)
            with suppress(OSError):
                path.unlink()
            return None
        os.close(fd)
        return path

    def release_reserve(self) -> bool:
        """Give the reserved disk space back (after a write failed); True if there was some."""
        path, self._reserve = self._reserve, None
        if path is None:
            return False
        try:
            path.unlink()
        except OSError:
            return False
        return True

    @classmethod
    def open_for_writing(cls, path: str | os.PathLike[str]) -> SessionStore:
        """Open an existing session to write to it, taking its lock (any status).

        For amending a stored session (repair scripts, tests); ``--resume`` goes through
        :meth:`open_for_resume`. Refused at once while another process records it.
        """
        db = _database(path)
        lock = SessionLock.acquire(db.parent)
        try:
            try:
                conn = connect(db)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{db} is not a readable gazeread session: {exc}") from exc
            check_schema(db, conn)
            return cls(db, conn, lock)
        except BaseException:
            lock.release()
            raise

    def close(self, checkpoint: bool = True) -> None:
        """Checkpoint the WAL, close and release the session lock. Idempotent.

        A failing checkpoint (disk full) is ignored: the WAL stays beside the database and is
        replayed by the next open. ``checkpoint=False`` leaves the store as a killed process
        would (the status unchanged, the WAL as it is): for tests and simulations.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._wrote and checkpoint:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            finally:
                self._conn.close()
                if checkpoint:
                    self.release_reserve()
                if self._session_lock is not None:
                    self._session_lock.release()

    def __enter__(self) -> SessionStore:
        return self

    # ------------------------------------------------------------------ primitives
    @contextmanager
    def transaction(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One atomic transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error).

        ``durable`` commits with ``synchronous=FULL``: the WAL is fsynced before this returns,
        so the transaction (and every one before it) survives a power cut. Inside a
        :meth:`batch` (or another transaction) of the same store it joins the open
        transaction as a SAVEPOINT: its writes are undone if it raises, and committed with the
        outermost block (durably, if any part asked for it). Every write goes through here.
        """
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.path}: the session store is closed")
            if self._depth:
                name = f"gz_{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield self._conn
                except BaseException:
                    with suppress(sqlite3.Error):  # the original error matters
                        self._conn.execute(f"ROLLBACK TO {name}")
                        self._conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {name}")
                    self._sync_pending |= durable
                finally:
                    self._depth -= 1
                return
            if durable:
                self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("BEGIN IMMEDIATE")
            self._wrote = True
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._sync_pending = False
                if self._conn.in_transaction:
                    # the disk may have failed under us: the original error matters
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
                if durable:
                    with suppress(sqlite3.Error):
                        self._conn.execute("PRAGMA synchronous=NORMAL")
            if self._sync_pending:
                self._sync_pending = False
                self.sync()

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """Group several writes into one transaction (re-entrant).

        ``with store.batch(): store.append_samples(...); store.add_event(...)`` commits all of
        them at the end of the outermost block, or none if it raises (one ``BEGIN
        IMMEDIATE``; nested :meth:`transaction`/:meth:`batch` calls join it as savepoints, so
        a failed inner write that is caught undoes only itself). A durable write inside
        (``add_response``) makes the batch's commit durable. Other threads wait on the store's
        lock for the whole block: keep it short.
        """
        return self.transaction()

    def sync(self) -> None:
        """Make everything committed so far durable (it survives a power cut).

        A commit with ``synchronous=NORMAL`` already survives the process being killed (it is
        in the WAL, in the OS page cache). This commits one small durable write (the time of
        the sync, in ``meta``): SQLite then fsyncs the WAL, which holds every earlier commit.
        It never checkpoints, so it never waits for readers, and it opens no descriptor of its
        own. Inside a :meth:`batch` it is deferred to the batch's commit.
        """
        with self._lock:
            if self._depth:
                self._sync_pending = True
                return
            with self.transaction(durable=True) as c:
                c.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('synced_utc', ?)",
                    (datetime.now(timezone.utc).isoformat(),),
                )

    # ------------------------------------------------------------------ session metadata
    def update_session(self, **fields: Any) -> None:
        """Set columns of the one ``session`` row (dicts go to the ``*_json`` columns)."""
        self._check_columns("session", fields, "session")
        values = [
            json.dumps(v, default=_json_default)
            if k.endswith("_json") and not isinstance(v, str)
            else v
            for k, v in fields.items()
        ]
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as c:
            c.execute(f"UPDATE session SET {sets} WHERE id = 1", values)

    def finish(self, status: str) -> None:
        """Set the session's final status (``completed``, ``aborted``, ``interrupted``), durably."""
        if status not in ("completed", "aborted", "interrupted"):
            raise StoreError(
                f"{self.path}: {status!r} is not a final status (completed, aborted, interrupted)"
            )
        with self.transaction(durable=True) as c:
            c.execute("UPDATE session SET status = ? WHERE id = 1", (status,))

    # ------------------------------------------------------------------ samples
    def append_samples(self, samples: np.ndarray) -> None:
        """Insert a batch of SAMPLE_DTYPE rows in one transaction."""
        if samples.dtype != SAMPLE_DTYPE:
            raise StoreError(f"samples must have SAMPLE_DTYPE, got {samples.dtype}")
        rows = samples_to_rows(samples)
        if not rows:
            return
        marks = ",".join("?" * len(SAMPLE_COLUMNS))
        with self.transaction() as c:
            c.executemany(f"INSERT INTO samples VALUES ({marks})", rows)

    # ------------------------------------------------------------------ events, trials, ...
    def add_event(
        self,
        t: float,
        kind: str,
        message: str = "",
        trial_id: int | None = None,
        **data: Any,
    ) -> int:
        """Record a marker or device event; returns its id."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO events (t, kind, trial_id, message, data_json) VALUES (?,?,?,?,?)",
                (t, kind, trial_id, message, json.dumps(data, default=_json_default)),
            )
            return int(cur.lastrowid or 0)

    def _insert(self, table: str, row: dict[str, Any], what: str) -> int:
        keys = list(row)
        self._check_columns(table, keys, what)
        try:
            cur = self._conn.execute(
                f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})",
                [_to_sql(row[k]) for k in keys],
            )
        except sqlite3.InterfaceError as exc:  # a value SQLite cannot store (an object, ...)
            raise StoreError(
                f"{self.path}: a {what} has a value that cannot be stored: {exc}"
            ) from exc
        return int(cur.lastrowid or 0)

    def add_trials(self, trials: Iterable[dict[str, Any]]) -> None:
        """Insert the planned trial list (dicts with the ``trials`` columns), all or none."""
        with self.transaction():
            for tr in trials:
                try:
                    self._insert("trials", tr, f"trial {tr.get('id')!r}")
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"{self.path}: trial {tr.get('id')!r} cannot be added ({exc}); give "
                        "each trial a new id and every required field"
                    ) from exc

    def update_trial(self, trial_id: int, **fields: Any) -> None:
        """Set columns of one trial (dict/list values stored as JSON).

        Raises :class:`StoreError` for an unknown column or a trial that does not exist.
        """
        self._check_columns("trials", fields, f"trial {trial_id!r}")
        with self.transaction() as c:
            if fields:
                sets = ", ".join(f"{k} = ?" for k in fields)
                cur = c.execute(
                    f"UPDATE trials SET {sets} WHERE id = ?",
                    [*(_to_sql(v) for v in fields.values()), trial_id],
                )
                found = cur.rowcount > 0
            else:
                found = c.execute("SELECT 1 FROM trials WHERE id = ?", (trial_id,)).fetchone()
            if not found:
                raise StoreError(
                    f"{self.path}: there is no trial {trial_id!r} to update (the trial list has "
                    "ids from add_trials)"
                )

    def add_response(self, trial_id: int, condition: str, t_response: float, **fields: Any) -> int:
        """Commit a response and mark its trial complete, durably, before returning."""
        row = {"trial_id": trial_id, "condition": condition, "t_response": t_response, **fields}
        with self.transaction(durable=True) as c:
            try:
                rid = self._insert("responses", row, f"response to trial {trial_id!r}")
            except sqlite3.IntegrityError as exc:
                raise StoreError(
                    f"{self.path}: the response to trial {trial_id!r} cannot be stored ({exc}); "
                    "is there a trial with that id?"
                ) from exc
            c.execute("UPDATE trials SET status = 'complete' WHERE id = ?", (trial_id,))
        return rid

    def add_fixations(self, fixations: Iterable[dict[str, Any]]) -> None:
        """Insert fixations (dicts with the ``fixations`` columns)."""
        with self.transaction():
            for fx in fixations:
                try:
                    self._insert("fixations", fx, "fixation")
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"{self.path}: a fixation of trial {fx.get('trial_id')!r} cannot be "
                        f"stored ({exc}); its trial must exist and t_start, t_end and "
                        "duration_ms be set"
                    ) from exc

    def add_calibration(self, t: float, kind: str, method: str, **fields: Any) -> int:
        """Record a calibration, validation or drift check; returns its id."""
        row = {"t": t, "kind": kind, "method": method, **fields}
        with self.transaction():
            return self._insert("calibrations", row, f"{kind} record")

    def add_clock_offset(
        self, t: float, source: str, offset_s: float, uncertainty_s: float | None = None
    ) -> None:
        """Record a clock-offset measurement."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO clock_offsets (t, source, offset_s, uncertainty_s) VALUES (?,?,?,?)",
                (t, source, offset_s, uncertainty_s),
            )

    # ------------------------------------------------------------------ resume
    def mark_interrupted(self, t_resume: float, reason: str = "") -> dict[str, Any]:
        """Record that the session stopped and is being resumed at ``t_resume`` (session s).

        A session whose status is still ``running`` was killed (it never closed: its lock was
        free when we took it); one whose status is ``aborted``/``interrupted`` was stopped on
        purpose. Adds an ``interrupted`` event at the last recorded time with the gap, puts
        trials that were shown but not answered back to ``pending`` with ``attempt + 1``, and
        sets the status to ``running``; all in one durable transaction.

        Returns the event data: ``previous_status``, ``killed``, ``last_t``, ``gap_s``,
        ``trials_reset``, ``next_trial``.
        """
        info = self.session_info()
        last_t = self.last_data_time()
        killed = info["status"] == "running"
        with self.transaction(durable=True) as c:
            reset = [
                int(r[0])
                for r in c.execute(
                    "SELECT id FROM trials WHERE status = 'shown' ORDER BY id"
                ).fetchall()
            ]
            c.execute(
                "UPDATE trials SET status = 'pending', attempt = attempt + 1 WHERE status = 'shown'"
            )
            nxt = self.first_unfinished_trial()
            data: dict[str, Any] = {
                "previous_status": info["status"],
                "killed": killed,
                "last_t": last_t,
                "t_resume": t_resume,
                "gap_s": None if last_t is None else t_resume - last_t,
                "trials_reset": reset,
                "next_trial": None if nxt is None else nxt["id"],
            }
            msg = reason or (
                "the recording process stopped without closing the session (killed or crashed)"
                if killed
                else f"the session was {info['status']} and is resumed"
            )
            self.add_event(last_t if last_t is not None else t_resume, "interrupted", msg, **data)
            c.execute("UPDATE session SET status = 'running' WHERE id = 1")
        return data
