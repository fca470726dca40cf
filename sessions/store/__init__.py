"""The store: the one door to a session's ``session.sqlite``.

:class:`SessionStore` is the one writer (it holds the session lock while it records);
:class:`SessionReader` reads any session, live or finished, read-only. Nothing else in gazeread
opens the database.
"""

from acquisition.samples import SAMPLE_COLUMNS, rows_to_samples
from sessions.store.errors import SessionExistsError, SessionLockedError, StoreError
from sessions.store.lock import LOCK_NAME, LockHolder, SessionLock, lock_holder
from sessions.store.provenance import collect_provenance
from sessions.store.reader import SCHEMA_VERSION, SessionReader
from sessions.store.recorded import (
    RecordedSessionSource,
    recorded_session,
    with_recorded_session,
)
from sessions.store.rows import samples_to_rows, session_dir, trial_window
from sessions.store.writer import SessionStore

__all__ = [
    "LOCK_NAME",
    "SAMPLE_COLUMNS",
    "SCHEMA_VERSION",
    "LockHolder",
    "RecordedSessionSource",
    "SessionExistsError",
    "SessionLock",
    "SessionLockedError",
    "SessionReader",
    "SessionStore",
    "StoreError",
    "collect_provenance",
    "lock_holder",
    "recorded_session",
    "rows_to_samples",
    "samples_to_rows",
    "session_dir",
    "trial_window",
    "with_recorded_session",
]
