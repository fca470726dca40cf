"""Reading a session: every question the application asks of ``session.sqlite``, by name.

:class:`SessionReader` opens the database read-only (URI ``mode=ro``): ``check``, replay,
export, the demo's summary and the replay tracker can read a session while it is being
recorded and can never change, checkpoint or delete any of its files. :class:`SessionStore`
(the one writer) inherits every method here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.samples import SAMPLE_COLUMNS, empty_samples, rows_to_samples
from sessions.store.errors import StoreError
from sessions.store.lock import LockHolder, lock_holder
from sessions.store.rows import connect_read_only, trial_window

__all__ = ["SCHEMA_VERSION", "SessionReader"]

SCHEMA_VERSION = 1

_JSON_COLS = frozenset({"tracker_json", "screen_json", "provenance_json", "settings_json"})


def _database(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    db = p / "session.sqlite" if p.is_dir() else p
    if not db.is_file():
        raise StoreError(
            f"no gazeread session at {p}: expected a session folder holding session.sqlite "
            "(e.g. gazeread-sessions/<study>/sub-<id>/ses-<n>)"
        )
    return db


def check_schema(db: Path, conn: sqlite3.Connection) -> None:
    """Raise :class:`StoreError` (closing ``conn``) unless ``db`` is a session of our schema."""
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


class SessionReader:
    """One session's database, read-only. Thread-safe: every call takes an internal lock.

    Open it with :meth:`open` (a session folder or its ``session.sqlite``), use it as a context
    manager or call :meth:`close`.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._closed = False
        self._columns: dict[str, frozenset[str]] = {}
        self._shown_as: str | None = None

    @staticmethod
    def open(path: str | os.PathLike[str]) -> SessionReader:
        """Open an existing session read-only (it may be recording right now)."""
        db = _database(path)
        try:
            conn = connect_read_only(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{db} is not a readable gazeread session: {exc}") from exc
        check_schema(db, conn)
        return SessionReader(db, conn)

    def close(self) -> None:
        """Close the connection (idempotent). A reader never checkpoints."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def folder(self) -> Path:
        """The session folder."""
        return self.path.parent

    # ------------------------------------------------------------------ primitives
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run an ad-hoc read query and return all rows (scripts and tests).

        The application asks by the named methods below; this is for a researcher's own
        question. On a reader it cannot write (the connection is read-only).
        """
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def columns(self, table: str) -> frozenset[str]:
        """The column names of ``table``."""
        cols = self._columns.get(table)
        if cols is None:
            cols = frozenset(r[1] for r in self.query(f"PRAGMA table_info({table})"))
            if not cols:
                raise StoreError(f"{self.path}: there is no table {table!r}")
            self._columns[table] = cols
        return cols

    def _check_columns(self, table: str, names: Iterable[str], what: str) -> None:
        """Raise :class:`StoreError` naming the file when a name is not a column of ``table``."""
        cols = self.columns(table)
        bad = sorted(set(names) - cols)
        if bad:
            raise StoreError(f"{self.path}: unknown {what} field(s) {bad}; known: {sorted(cols)}")

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` or the first problems it found."""
        rows = self.query("PRAGMA integrity_check")
        return "; ".join(str(r[0]) for r in rows[:5])

    # ------------------------------------------------------------------ session
    def show_as(self, participant_label: str) -> None:
        """Present this session under a pseudonym (exports with ``--pseudonymise``).

        From now on :meth:`session_info` gives ``participant_label`` as the participant and
        leaves out the recording's command line (which names the participant).
        """
        self._shown_as = str(participant_label)

    def session_info(self) -> dict[str, Any]:
        """The ``session`` row as a dict (JSON columns decoded)."""
        rows = self._dicts("SELECT * FROM session WHERE id = 1")
        if not rows:
            raise StoreError(f"{self.path} has no session row: it is not a complete session")
        info = rows[0]
        for k in _JSON_COLS:
            if info.get(k):
                info[k] = json.loads(info[k])
        if self._shown_as is not None:
            info["participant"] = self._shown_as
            prov = info.get("provenance_json")
            if isinstance(prov, dict):
                info["provenance_json"] = {k: v for k, v in prov.items() if k != "argv"}
            info.pop("settings_json", None)
        return info

    def fixation_detector(self) -> dict[str, Any] | None:
        """The online fixation detector the session ran: ``method``, ``params``, ``reason``."""
        settings = self.session_info().get("settings_json") or {}
        choice = settings.get("fixation_detector") if isinstance(settings, dict) else None
        return dict(choice) if isinstance(choice, dict) else None

    def session_uid(self) -> str | None:
        """The session's pseudonymous uid (its LSL streams' source ids), None before it had one."""
        row = self.query("SELECT value FROM meta WHERE key = 'session_uid'")
        return str(row[0][0]) if row else None

    def lock_holder(self) -> LockHolder | None:
        """The live process recording this session, or None."""
        return lock_holder(self.folder)

    def recording_state(self) -> str:
        """What the session is now, in one word.

        ``recording`` (a live process holds its lock), ``killed`` (its status says running
        but no process holds the lock: the recording process died without closing it), or
        the stored status (``completed``, ``aborted``, ``interrupted``).
        """
        status = str(self.session_info().get("status") or "")
        if self.lock_holder() is not None:
            return "recording"
        return "killed" if status == "running" else status

    def summary_counts(self) -> dict[str, Any]:
        """Counts of one session for summaries: trials, samples, fixations, answers, frames."""
        q = self.query
        trials = q("SELECT COUNT(*), SUM(status = 'complete') FROM trials")[0]
        samples = q("SELECT COUNT(*), MIN(t), MAX(t) FROM samples")[0]
        fix = q("SELECT COUNT(*), AVG(duration_ms) FROM fixations WHERE trial_id IS NOT NULL")[0]
        fix_all = q("SELECT COUNT(*) FROM fixations")[0][0]
        answers = q(
            "SELECT r.condition, COUNT(*), "
            "SUM(CASE WHEN r.condition = 'authenticity' THEN r.authenticity = t.authenticity END), "
            "AVG(r.confidence), AVG(r.rt_s) FROM responses r JOIN trials t ON t.id = r.trial_id "
            "GROUP BY r.condition"
        )
        cal = q("SELECT kind, COUNT(*), AVG(accuracy_deg) FROM calibrations GROUP BY kind")
        frames = q(
            "SELECT SUM(dropped_frames), SUM(json_array_length(frame_intervals_json)) FROM trials"
        )[0]
        return {
            "trials_total": int(trials[0] or 0),
            "trials_complete": int(trials[1] or 0),
            "samples": int(samples[0] or 0),
            "recorded_s": float(samples[2] - samples[1]) if samples[0] else 0.0,
            "fixations_in_trials": int(fix[0] or 0),
            "fixations": int(fix_all or 0),
            "mean_fixation_ms": float(fix[1] or 0.0),
            "answers": {
                str(c): {
                    "n": int(n),
                    "correct_authenticity": None if ok is None else int(ok),
                    "mean_confidence": conf,
                    "mean_rt_s": rt,
                }
                for c, n, ok, conf, rt in answers
            },
            "calibrations": {str(k): {"n": int(n), "mean_accuracy_deg": a} for k, n, a in cal},
            "dropped_frames": int(frames[0] or 0),
            "image_frames": int(frames[1] or 0),
        }

    # ------------------------------------------------------------------ samples
    def samples_between(self, t0: float, t1: float) -> np.ndarray:
        """Samples with ``t0 <= t < t1`` as a SAMPLE_DTYPE array, in time order."""
        cols = ", ".join(SAMPLE_COLUMNS)
        rows = self.query(
            f"SELECT {cols} FROM samples WHERE t >= ? AND t < ? ORDER BY t",
            (t0, t1),
        )
        return rows_to_samples(rows)

    def sample_arrays(
        self,
        columns: Sequence[str],
        t0: float = -np.inf,
        t1: float = np.inf,
        *,
        include_end: bool = False,
    ) -> dict[str, np.ndarray]:
        """Some columns of the samples with ``t0 <= t < t1`` as float64 arrays (NULL -> NaN).

        ``include_end`` takes ``t <= t1`` instead. Cheaper than :meth:`samples_between` when
        only a few columns are needed.
        """
        bad = [c for c in columns if c not in SAMPLE_COLUMNS]
        if bad:
            raise StoreError(f"unknown sample column(s) {bad}; known: {list(SAMPLE_COLUMNS)}")
        op = "<=" if include_end else "<"
        rows = self.query(
            f"SELECT {', '.join(columns)} FROM samples WHERE t >= ? AND t {op} ? ORDER BY t",
            (float(t0), float(t1)),
        )
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), len(columns))
        return {c: arr[:, j] for j, c in enumerate(columns)}

    def sample_validity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, left_valid, right_valid)`` of every sample in time order (int64 validity).

        One packed validity column halves what SQLite hands to Python (2 M rows in ~1-2 s).
        """
        rows = self.query("SELECT t, left_valid + 2 * right_valid FROM samples ORDER BY t")
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), 2)
        packed = arr[:, 1].astype(np.int64)
        return np.ascontiguousarray(arr[:, 0]), packed & 1, (packed >> 1) & 1

    def window_validity(self, t0: float, t1: float) -> tuple[int, int, int, int]:
        """``(samples, left valid, right valid, either valid)`` counts for ``t0 <= t < t1``."""
        n, lv, rv, anyv = self.query(
            "SELECT COUNT(*), SUM(left_valid), SUM(right_valid), "
            "SUM(CASE WHEN left_valid OR right_valid THEN 1 ELSE 0 END) "
            "FROM samples WHERE t >= ? AND t < ?",
            (t0, t1),
        )[0]
        return int(n or 0), int(lv or 0), int(rv or 0), int(anyv or 0)

    def window_dropped(self, t0: float, t1: float, rate_hz: float) -> int:
        """Samples implied missing by gaps > 1.5 periods between samples in ``[t0, t1)``."""
        row = self.query(
            "SELECT SUM(ROUND(d * ?) - 1) FROM (SELECT t - LAG(t) OVER (ORDER BY t) AS d "
            "FROM samples WHERE t >= ? AND t < ?) WHERE d > ?",
            (rate_hz, t0, t1, 1.5 / rate_hz),
        )[0]
        return int(row[0] or 0)

    def sample_count(self) -> int:
        """Number of stored samples."""
        return int(self.query("SELECT COUNT(*) FROM samples")[0][0])

    def sample_time_range(self) -> tuple[float, float] | None:
        """``(first t, last t)`` of the stored samples, None when there are none."""
        row = self.query("SELECT MIN(t), MAX(t) FROM samples")[0]
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def last_sample_time(self, t_from: float = -np.inf) -> float | None:
        """Time of the last sample at or after ``t_from``, None when there is none."""
        row = self.query("SELECT MAX(t) FROM samples WHERE t >= ?", (float(t_from),))[0]
        return None if row[0] is None else float(row[0])

    def trial_samples(self, trial_id: int) -> np.ndarray:
        """Samples from a trial's image onset (else its start) to its offset."""
        tr = self.trial(trial_id)
        t0, t1 = trial_window(tr)
        if t0 is None:
            return empty_samples(0)
        return self.samples_between(t0, np.inf if t1 is None else t1)

    # ------------------------------------------------------------------ trials
    def trials(self) -> list[dict[str, Any]]:
        """All trials in schedule order, as dicts."""
        return self._dicts("SELECT * FROM trials ORDER BY id")

    def trial(self, trial_id: int) -> dict[str, Any]:
        """One trial as a dict; :class:`StoreError` when there is none with that id."""
        rows = self._dicts("SELECT * FROM trials WHERE id = ?", (trial_id,))
        if not rows:
            raise StoreError(f"{self.path}: there is no trial {trial_id}")
        return rows[0]

    def trial_statuses(self) -> list[str]:
        """The status of every trial, in schedule order."""
        return [str(r[0]) for r in self.query("SELECT status FROM trials ORDER BY id")]

    def trial_progress(self) -> tuple[int, int]:
        """``(trials planned, trials complete)``."""
        total, done = self.query("SELECT COUNT(*), SUM(status = 'complete') FROM trials")[0]
        return int(total or 0), int(done or 0)

    def first_unfinished_trial(self) -> dict[str, Any] | None:
        """The first trial in schedule order that is neither complete nor skipped."""
        rows = self._dicts(
            "SELECT * FROM trials WHERE status NOT IN ('complete', 'skipped') ORDER BY id LIMIT 1"
        )
        return rows[0] if rows else None

    def next_trial_start(self, after_t: float) -> float | None:
        """The earliest trial start (else onset) later than ``after_t``, None when none."""
        row = self.query(
            "SELECT MIN(COALESCE(t_start, t_onset)) FROM trials "
            "WHERE COALESCE(t_start, t_onset) > ?",
            (float(after_t),),
        )[0]
        return None if row[0] is None else float(row[0])

    # ------------------------------------------------------------------ answers, fixations, ...
    def responses(self) -> list[dict[str, Any]]:
        """All responses in order."""
        return self._dicts("SELECT * FROM responses ORDER BY id")

    def last_response_time(self, trial_id: int) -> float | None:
        """``t_response`` of a trial's last response, None when it has none."""
        row = self.query("SELECT MAX(t_response) FROM responses WHERE trial_id = ?", (trial_id,))
        return None if row[0][0] is None else float(row[0][0])

    def fixations(self, t0: float = -np.inf, t1: float = np.inf) -> list[dict[str, Any]]:
        """Fixations starting in ``[t0, t1)``."""
        return self._dicts(
            "SELECT * FROM fixations WHERE t_start >= ? AND t_start < ? ORDER BY t_start",
            (t0, t1),
        )

    def trial_fixations(
        self, trial_id: int, t0: float = -np.inf, t1: float = np.inf
    ) -> list[dict[str, Any]]:
        """A trial's fixations starting in ``[t0, t1)``, in time order.

        The rows with its id: the parts while its image was shown (the one rule,
        :mod:`sessions.run.fixation_trials`). ``t0``/``t1`` pick one showing of a trial that was shown again after a resume.
        """
        return self._dicts(
            "SELECT * FROM fixations WHERE trial_id = ? AND t_start >= ? AND t_start < ? "
            "ORDER BY t_start",
            (trial_id, t0, t1),
        )

    def calibrations(self) -> list[dict[str, Any]]:
        """Calibrations, validations and drift checks in time order."""
        return self._dicts("SELECT * FROM calibrations ORDER BY t, id")

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Events in time order, optionally of one kind (data_json decoded as ``data``)."""
        if kind is None:
            rows = self._dicts("SELECT * FROM events ORDER BY t, id")
        else:
            rows = self._dicts("SELECT * FROM events WHERE kind = ? ORDER BY t, id", (kind,))
        for r in rows:
            r["data"] = json.loads(r.pop("data_json") or "{}")
        return rows

    def events_between(self, t0: float, t1: float) -> list[tuple[float, str, str]]:
        """``(t, kind, message)`` of the events with ``t0 <= t <= t1``, in time order."""
        rows = self.query(
            "SELECT t, kind, message FROM events WHERE t >= ? AND t <= ? ORDER BY t, id",
            (float(t0), float(t1)),
        )
        return [(float(t), str(k), str(m or "")) for t, k, m in rows]

    def first_trial_event_time(
        self, trial_id: int, kinds: Sequence[str], t0: float, t1: float
    ) -> float | None:
        """The earliest event of a trial of one of ``kinds`` with ``t0 <= t <= t1``."""
        marks = ", ".join("?" * len(kinds))
        row = self.query(
            f"SELECT MIN(t) FROM events WHERE trial_id = ? AND kind IN ({marks}) "
            "AND t >= ? AND t <= ?",
            (trial_id, *kinds, float(t0), float(t1)),
        )[0]
        return None if row[0] is None else float(row[0])

    def last_data_time(self) -> float | None:
        """Latest session time of anything recorded (sample, event, response), or None."""
        row = self.query(
            "SELECT MAX(m) FROM (SELECT MAX(t) AS m FROM samples UNION ALL "
            "SELECT MAX(t) FROM events UNION ALL SELECT MAX(t_response) FROM responses)"
        )[0]
        return None if row[0] is None else float(row[0])
