"""Plain helpers of the session store: folder names, connections, rows <-> SQL values."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from sessions.store.errors import StoreError

__all__ = [
    "connect",
    "connect_read_only",
    "samples_to_rows",
    "session_dir",
    "trial_window",
]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def connect(path: Path) -> sqlite3.Connection:
    """The writer's connection to the session database: WAL, synchronous=NORMAL, foreign keys.

    WAL with synchronous=NORMAL makes every commit survive a killed process; a durable commit
    (``SessionStore.transaction(durable=True)``) runs with synchronous=FULL, which fsyncs the
    WAL, so it also survives a power cut. Shared between threads (the store has its own lock).
    """
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection (URI ``mode=ro``): it can never write, checkpoint or delete files.

    A reader of a live session sees every transaction committed before each of its queries
    began (WAL snapshot isolation) and never blocks the writer. A finished session (no
    ``-wal`` file) in a folder the reader cannot write, e.g. a study folder shared read-only
    with a group, cannot get the ``-shm`` file SQLite wants: it is then opened ``immutable``,
    which is safe because nothing writes it.
    """
    base = path.resolve().as_uri()
    try:
        return _open_read_only(f"{base}?mode=ro")
    except sqlite3.OperationalError:
        if Path(f"{path}-wal").exists():
            raise
        return _open_read_only(f"{base}?mode=ro&immutable=1")


def _open_read_only(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        uri, uri=True, check_same_thread=False, isolation_level=None, timeout=10.0
    )
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # fails here, not later
    except BaseException:
        conn.close()
        raise
    return conn


def session_dir(root: str | os.PathLike[str], study: str, participant: str, session: int) -> Path:
    """``<root>/<study>/sub-<participant>/ses-<n>``, with the names checked."""
    for label, value in (("study", study), ("participant", participant)):
        if not _SAFE.match(value):
            raise StoreError(
                f"{label} {value!r} is not usable in a folder name: use letters, digits, "
                "'_', '-' or '.', starting with a letter or digit"
            )
    if not isinstance(session, int) or session < 1:
        raise StoreError(f"session number must be a positive integer, got {session!r}")
    return Path(root) / study / f"sub-{participant}" / f"ses-{session}"


def _sample_columns(samples: np.ndarray) -> list[np.ndarray]:
    """The 18 columns of :data:`SAMPLE_COLUMNS` as 1-D arrays (float32 widened to float64)."""
    lp = samples["left_eye_pos"].astype(np.float64)
    rp = samples["right_eye_pos"].astype(np.float64)
    return [
        samples["t"], samples["device_ts"], samples["system_ts"],
        samples["left_x"], samples["left_y"], samples["right_x"], samples["right_y"],
        samples["left_valid"], samples["right_valid"],
        samples["left_pupil"].astype(np.float64), samples["right_pupil"].astype(np.float64),
        lp[:, 0], lp[:, 1], lp[:, 2], rp[:, 0], rp[:, 1], rp[:, 2],
        samples["flags"],
    ]  # fmt: skip


def samples_to_rows(samples: np.ndarray) -> list[tuple[Any, ...]]:
    """SAMPLE_DTYPE rows -> tuples in :data:`SAMPLE_COLUMNS` order.

    NaN floats are passed as they are: SQLite stores a bound NaN as NULL, so the table holds
    NULL for every missing value. Built from ``tolist()`` of each column and ``zip`` (about
    20x faster than going through an object array).
    """
    if len(samples) == 0:
        return []
    return list(zip(*(c.tolist() for c in _sample_columns(samples)), strict=True))


def trial_window(trial: dict[str, Any]) -> tuple[float | None, float | None]:
    """``(t0, t1)`` of a trial's viewing period: image onset (else start) to offset."""
    t0 = trial.get("t_onset")
    if t0 is None:
        t0 = trial.get("t_start")
    return (None if t0 is None else float(t0)), (
        None if trial.get("t_offset") is None else float(trial["t_offset"])
    )


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _to_sql(v: Any) -> Any:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=_json_default)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v
