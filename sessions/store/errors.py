"""The store's errors: each message says what happened and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sessions.store.lock import LockHolder

__all__ = ["SessionExistsError", "SessionLockedError", "StoreError"]


class StoreError(RuntimeError):
    """The session store could not be created, written or read; the message says why."""


class SessionExistsError(StoreError):
    """A session folder already holds a session: resume it or pick another number."""


class SessionLockedError(StoreError):
    """Another live process is recording this session; nothing was opened or changed."""

    def __init__(self, folder: Path, holder: LockHolder) -> None:
        self.folder = Path(folder)
        self.holder = holder
        super().__init__(
            f"session {self.folder} is being recorded by {holder.describe()}: wait for it to "
            "end (or stop that process), then try again"
        )
