"""The crash-safe session store: one SQLite database (WAL) per session.

Layout on disk: ``<root>/<study>/sub-<participant>/ses-<n>/session.sqlite``. Every write is a
transaction; samples go in small batches, a response is committed and synced before the next
trial. A session killed at any moment opens again. The schema is ``sessions/schema.sql``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.samples import SAMPLE_COLUMNS, SAMPLE_DTYPE, empty_samples, rows_to_samples
from sessions._store_rows import (
    SessionExistsError,
    StoreError,
    _json_default,
    _to_sql,
    connect,
    samples_to_rows,
    session_dir,
    trial_window,
)
from sessions.provenance import collect_provenance

__all__ = [
    "SCHEMA_VERSION",
    "SessionExistsError",
    "SessionStore",
    "StoreError",
    "collect_provenance",
    "rows_to_samples",
    "samples_to_rows",
    "session_dir",
    "trial_window",
]

SCHEMA_VERSION = 1


class SessionStore:
    """One session's database. Thread-safe: every call takes an internal lock.

    Use :meth:`create` for a new session (refuses an existing one) and :meth:`open` for an
    existing one (to read, check, export or resume).
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._closed = False
        self._wrote = False
        self._columns: dict[str, frozenset[str]] = {}
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
        """Create a new session; refuse if one is already there.

        ``metadata`` fills columns of the ``session`` table (JSON columns take dicts).
        """
        folder = session_dir(root, study, participant, session)
        db = folder / "session.sqlite"
        if db.exists():
            raise SessionExistsError(
                f"a session already exists at {db}: continue it with --resume, or choose "
                f"another session number (e.g. --session {session + 1})"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the session folder {folder}: {exc}") from exc
        schema = resources.files("sessions").joinpath("schema.sql").read_text(encoding="utf-8")
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(db)
            conn.executescript(schema)
            store = cls(db, conn)
            from datetime import datetime, timezone

            with store.transaction() as c:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                c.execute(
                    "INSERT INTO session (id, study, participant, session_number, created_utc) "
                    "VALUES (1, ?, ?, ?, ?)",
                    (study, participant, session, datetime.now(timezone.utc).isoformat()),
                )
            if metadata:
                store.update_session(**metadata)
            store.sync()
        except BaseException as exc:
            # never leave an open connection or a half-made session that blocks a retry
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()
            for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                with suppress(OSError):
                    leftover.unlink()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot create the session database {db}: {exc} (is the folder writable "
                    "and the disk not full?)"
                ) from exc
            raise
        return store

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SessionStore:
        """Open an existing session (its folder or its ``session.sqlite``)."""
        p = Path(path)
        db = p / "session.sqlite" if p.is_dir() else p
        if not db.is_file():
            raise StoreError(
                f"no gazeread session at {p}: expected a session folder holding session.sqlite "
                "(e.g. sessions/<study>/sub-<id>/ses-<n>)"
            )
        try:
            conn = connect(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{db} is not a readable gazeread session: {exc}") from exc
        try:
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{db} is not a readable gazeread session: {exc}") from exc
        if version is None or str(version[0]).strip() != str(SCHEMA_VERSION):
            conn.close()
            raise StoreError(
                f"{db} has schema version {version and version[0]!r}; this gazeread reads "
                f"version {SCHEMA_VERSION}"
            )
        return cls(db, conn)

    def close(self) -> None:
        """Checkpoint the WAL and close. Idempotent.

        A failing checkpoint (disk full) is ignored: the WAL stays beside the database and is
        replayed by the next open.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._wrote:  # a reader (check, export) never blocks a live recording
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            finally:
                self._conn.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def folder(self) -> Path:
        """The session folder."""
        return self.path.parent

    # ------------------------------------------------------------------ primitives
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error).

        Inside a :meth:`batch` (or another transaction) of the same store it joins the open
        transaction as a SAVEPOINT: its writes are undone if it raises, and committed with
        the outermost block. Every write method of the store goes through here.
        """
        with self._lock:
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
                finally:
                    self._depth -= 1
                return
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
            if self._sync_pending:
                self._sync_pending = False
                self.sync()

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """Group several writes into one transaction (re-entrant).

        ``with store.batch(): store.append_samples(...); store.add_event(...)`` commits all of
        them at the end of the outermost block, or none if it raises (one ``BEGIN
        IMMEDIATE``; nested :meth:`transaction`/:meth:`batch` calls join it as savepoints, so
        a failed inner write that is caught undoes only itself). A :meth:`sync` asked for
        inside (``add_response``) runs after the commit. Other threads wait on the store's
        lock for the whole block: keep it short.
        """
        return self.transaction()

    def sync(self) -> None:
        """Force everything committed so far to disk (fsync of the WAL and the database file).

        With ``synchronous=NORMAL`` a commit survives the process being killed (it is in the
        WAL, in the OS page cache); this also makes it survive a power cut. It does not
        checkpoint, so it never waits for readers. Inside a :meth:`batch` it is deferred to
        the batch's commit.
        """
        with self._lock:
            if self._depth:
                self._sync_pending = True
                return
            for p in (Path(f"{self.path}-wal"), self.path):
                try:
                    fd = os.open(p, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return all rows."""
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    # ------------------------------------------------------------------ session metadata
    _JSON_COLS = frozenset({"tracker_json", "screen_json", "provenance_json", "settings_json"})

    def update_session(self, **fields: Any) -> None:
        """Set columns of the one ``session`` row (dicts go to the ``*_json`` columns)."""
        cols = {r[1] for r in self.query("PRAGMA table_info(session)")}
        bad = sorted(set(fields) - cols)
        if bad:
            raise StoreError(f"unknown session field(s) {bad}; known: {sorted(cols)}")
        values = [
            json.dumps(v) if k in self._JSON_COLS and not isinstance(v, str) else v
            for k, v in fields.items()
        ]
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as c:
            c.execute(f"UPDATE session SET {sets} WHERE id = 1", values)

    def session_info(self) -> dict[str, Any]:
        """The ``session`` row as a dict (JSON columns decoded)."""
        with self._lock:
            cur = self._conn.execute("SELECT * FROM session WHERE id = 1")
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        info = dict(zip(names, row, strict=True))
        for k in self._JSON_COLS:
            if info.get(k):
                info[k] = json.loads(info[k])
        return info

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

    def samples_between(self, t0: float, t1: float) -> np.ndarray:
        """Samples with ``t0 <= t < t1`` as a SAMPLE_DTYPE array, in time order."""
        cols = ", ".join(SAMPLE_COLUMNS)
        rows = self.query(
            f"SELECT {cols} FROM samples WHERE t >= ? AND t < ? ORDER BY t",
            (t0, t1),
        )
        return rows_to_samples(rows)

    def sample_arrays(
        self, columns: Sequence[str], t0: float = -np.inf, t1: float = np.inf
    ) -> dict[str, np.ndarray]:
        """Some columns of the samples with ``t0 <= t < t1`` as float64 arrays (NULL -> NaN).

        Cheaper than :meth:`samples_between` when only a few columns are needed.
        """
        bad = [c for c in columns if c not in SAMPLE_COLUMNS]
        if bad:
            raise StoreError(f"unknown sample column(s) {bad}; known: {list(SAMPLE_COLUMNS)}")
        rows = self.query(
            f"SELECT {', '.join(columns)} FROM samples WHERE t >= ? AND t < ? ORDER BY t",
            (float(t0), float(t1)),
        )
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), len(columns))
        return {c: arr[:, j] for j, c in enumerate(columns)}

    def sample_count(self) -> int:
        """Number of stored samples."""
        return int(self.query("SELECT COUNT(*) FROM samples")[0][0])

    def sample_time_range(self) -> tuple[float, float] | None:
        """``(first t, last t)`` of the stored samples, None when there are none."""
        row = self.query("SELECT MIN(t), MAX(t) FROM samples")[0]
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def trial_samples(self, trial_id: int) -> np.ndarray:
        """Samples from a trial's image onset (else its start) to its offset."""
        tr = self._dicts("SELECT * FROM trials WHERE id = ?", (trial_id,))
        if not tr:
            raise StoreError(f"{self.path}: there is no trial {trial_id}")
        t0, t1 = trial_window(tr[0])
        if t0 is None:
            return empty_samples(0)
        return self.samples_between(t0, np.inf if t1 is None else t1)

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

    def _check_columns(self, table: str, names: Iterable[str], what: str) -> None:
        """Raise :class:`StoreError` naming the file when a name is not a column of ``table``."""
        cols = self._columns.get(table)
        if cols is None:
            cols = frozenset(r[1] for r in self.query(f"PRAGMA table_info({table})"))
            self._columns[table] = cols
        bad = sorted(set(names) - cols)
        if bad:
            raise StoreError(f"{self.path}: unknown {what} field(s) {bad}; known: {sorted(cols)}")

    def add_trials(self, trials: Iterable[dict[str, Any]]) -> None:
        """Insert the planned trial list (dicts with the ``trials`` columns), all or none."""
        with self.transaction() as c:
            for tr in trials:
                keys = list(tr)
                self._check_columns("trials", keys, f"trial {tr.get('id')!r}")
                try:
                    c.execute(
                        f"INSERT INTO trials ({', '.join(keys)}) "
                        f"VALUES ({', '.join('?' * len(keys))})",
                        [_to_sql(tr[k]) for k in keys],
                    )
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

    def trials(self) -> list[dict[str, Any]]:
        """All trials in schedule order, as dicts."""
        return self._dicts("SELECT * FROM trials ORDER BY id")

    def add_response(self, trial_id: int, condition: str, t_response: float, **fields: Any) -> int:
        """Commit a response, mark its trial complete, and sync to disk before returning."""
        keys = ["trial_id", "condition", "t_response", *fields]
        vals = [trial_id, condition, t_response, *(_to_sql(v) for v in fields.values())]
        self._check_columns("responses", keys, f"response to trial {trial_id!r}")
        with self.transaction() as c:
            try:
                cur = c.execute(
                    f"INSERT INTO responses ({', '.join(keys)}) "
                    f"VALUES ({', '.join('?' * len(keys))})",
                    vals,
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(
                    f"{self.path}: the response to trial {trial_id!r} cannot be stored ({exc}); "
                    "is there a trial with that id?"
                ) from exc
            c.execute("UPDATE trials SET status = 'complete' WHERE id = ?", (trial_id,))
            rid = int(cur.lastrowid or 0)
        self.sync()
        return rid

    def responses(self) -> list[dict[str, Any]]:
        """All responses in order."""
        return self._dicts("SELECT * FROM responses ORDER BY id")

    def add_fixations(self, fixations: Iterable[dict[str, Any]]) -> None:
        """Insert fixations (dicts with the ``fixations`` columns)."""
        with self.transaction() as c:
            for fx in fixations:
                keys = list(fx)
                self._check_columns("fixations", keys, "fixation")
                try:
                    c.execute(
                        f"INSERT INTO fixations ({', '.join(keys)}) "
                        f"VALUES ({', '.join('?' * len(keys))})",
                        [_to_sql(fx[k]) for k in keys],
                    )
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"{self.path}: a fixation of trial {fx.get('trial_id')!r} cannot be "
                        f"stored ({exc}); its trial must exist and t_start, t_end and "
                        "duration_ms be set"
                    ) from exc

    def fixations(self, t0: float = -np.inf, t1: float = np.inf) -> list[dict[str, Any]]:
        """Fixations starting in ``[t0, t1)``."""
        return self._dicts(
            "SELECT * FROM fixations WHERE t_start >= ? AND t_start < ? ORDER BY t_start",
            (t0, t1),
        )

    def add_calibration(self, t: float, kind: str, method: str, **fields: Any) -> int:
        """Record a calibration, validation or drift check; returns its id."""
        keys = ["t", "kind", "method", *fields]
        vals = [t, kind, method, *(_to_sql(v) for v in fields.values())]
        self._check_columns("calibrations", keys, f"{kind} record")
        with self.transaction() as c:
            cur = c.execute(
                f"INSERT INTO calibrations ({', '.join(keys)}) "
                f"VALUES ({', '.join('?' * len(keys))})",
                vals,
            )
            return int(cur.lastrowid or 0)

    def add_clock_offset(
        self, t: float, source: str, offset_s: float, uncertainty_s: float | None = None
    ) -> None:
        """Record a clock-offset measurement."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO clock_offsets (t, source, offset_s, uncertainty_s) VALUES (?,?,?,?)",
                (t, source, offset_s, uncertainty_s),
            )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Events in time order, optionally of one kind (data_json decoded as ``data``)."""
        if kind is None:
            rows = self._dicts("SELECT * FROM events ORDER BY t, id")
        else:
            rows = self._dicts("SELECT * FROM events WHERE kind = ? ORDER BY t, id", (kind,))
        for r in rows:
            r["data"] = json.loads(r.pop("data_json") or "{}")
        return rows

    # ------------------------------------------------------------------ resume
    @classmethod
    def open_for_resume(cls, path: str | os.PathLike[str]) -> SessionStore:
        """Open a session to continue it (``gazeread run --resume``).

        A completed session is refused. Call :meth:`mark_interrupted` next: it records the
        interruption and resets the unfinished trials; then recalibrate and continue at
        :meth:`first_unfinished_trial`.
        """
        store = cls.open(path)
        status = store.session_info()["status"]
        if status == "completed":
            store.close()
            raise StoreError(
                f"the session at {store.folder} is already completed; nothing to resume "
                "(start a new session number instead)"
            )
        return store

    def first_unfinished_trial(self) -> dict[str, Any] | None:
        """The first trial in schedule order that is neither complete nor skipped."""
        rows = self._dicts(
            "SELECT * FROM trials WHERE status NOT IN ('complete', 'skipped') ORDER BY id LIMIT 1"
        )
        return rows[0] if rows else None

    def last_data_time(self) -> float | None:
        """Latest session time of anything recorded (sample, event, response), or None."""
        row = self.query(
            "SELECT MAX(m) FROM (SELECT MAX(t) AS m FROM samples UNION ALL "
            "SELECT MAX(t) FROM events UNION ALL SELECT MAX(t_response) FROM responses)"
        )[0]
        return None if row[0] is None else float(row[0])

    def mark_interrupted(self, t_resume: float, reason: str = "") -> dict[str, Any]:
        """Record that the session stopped and is being resumed at ``t_resume`` (session s).

        A session whose status is still ``running`` was killed (it never closed); one whose
        status is ``aborted``/``interrupted`` was stopped on purpose. Adds an ``interrupted``
        event at the last recorded time with the gap, puts trials that were shown but not
        answered back to ``pending`` with ``attempt + 1``, and sets the status to ``running``.

        Returns the event data: ``previous_status``, ``killed``, ``last_t``, ``gap_s``,
        ``trials_reset``, ``next_trial``.
        """
        info = self.session_info()
        last_t = self.last_data_time()
        killed = info["status"] == "running"
        with self.transaction() as c:
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
        self.update_session(status="running")
        self.sync()
        return data

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
