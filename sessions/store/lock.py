"""The session lock: one recording process per session, and a killed one recognised.

The recording process (``gazeread run``, ``gazeread demo``, ``--resume``) holds an exclusive
``flock`` on ``session.lock`` in the session folder for its whole life. The file holds who took
it (pid, host, start time, command) as JSON and is never deleted, so that deleting it can never
let two processes lock two different files of the same name.

``flock`` and not ``fcntl``/``lockf`` on purpose: POSIX record locks belong to the process and
are all dropped when *any* descriptor of that file is closed, which is how a second descriptor
on ``session.sqlite`` used to drop SQLite's own locks under a live writer. A ``flock`` belongs
to the open file description: other descriptors, in this process or others, cannot drop it.
The kernel releases it when the holder dies, however it dies, so a lock whose file names a
holder but which nobody holds was left by a killed process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sessions.store.errors import SessionLockedError, StoreError

__all__ = ["LOCK_NAME", "LockHolder", "SessionLock", "lock_holder"]

LOCK_NAME = "session.lock"


@dataclasses.dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) a session's lock."""

    pid: int | None
    host: str
    since_utc: str
    command: str = ""

    def describe(self) -> str:
        """``pid 1234 on HOST since 2026-12-04T16:40:00+00:00``."""
        pid = "an unknown pid" if self.pid is None else f"pid {self.pid}"
        return f"{pid} on {self.host or 'an unknown host'} since {self.since_utc or '?'}"

    @classmethod
    def from_text(cls, text: str) -> LockHolder:
        """Parse the lock file's JSON; unreadable content gives an unknown holder."""
        try:
            data: Any = json.loads(text) if text.strip() else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        pid = data.get("pid")
        return cls(
            pid=int(pid) if isinstance(pid, int) else None,
            host=str(data.get("host") or ""),
            since_utc=str(data.get("since_utc") or ""),
            command=str(data.get("command") or ""),
        )


def _read_holder(fd: int) -> LockHolder:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        b = os.read(fd, 4096)
        if not b:
            break
        chunks.append(b)
    return LockHolder.from_text(b"".join(chunks).decode("utf-8", "replace"))


def lock_holder(folder: Path) -> LockHolder | None:
    """The live holder of ``folder``'s session lock, or None when no process holds it.

    Takes a shared lock for an instant to find out (never blocks, never writes). A folder
    without a lock file (a session recorded before the lock existed) has no live holder.
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read the session lock {path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return _read_holder(fd)
            raise StoreError(f"cannot test the session lock {path}: {exc}") from exc
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class SessionLock:
    """An exclusive lock on one session folder, held until :meth:`release`.

    :meth:`acquire` never waits: a session recorded by a live process is refused at once with
    :class:`SessionLockedError` naming that process.
    """

    def __init__(self, folder: Path, fd: int, previous: LockHolder | None) -> None:
        self.folder = folder
        self._fd: int | None = fd
        #: who held it before us (a killed recording when the session's status says running)
        self.previous = previous

    @classmethod
    def acquire(cls, folder: Path, command: str | None = None) -> SessionLock:
        """Lock ``folder`` (created if missing) for this process, or refuse naming the holder."""
        path = Path(folder) / LOCK_NAME
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot create the session lock {path}: {exc} (is the folder writable and the "
                "disk not full?)"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                holder = _read_holder(fd)
            finally:
                os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SessionLockedError(folder, holder) from None
            raise StoreError(f"cannot lock the session {folder}: {exc}") from exc
        try:
            previous = _read_holder(fd)
            me = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "command": command if command is not None else " ".join(sys.argv)[:500],
            }
            data = (json.dumps(me) + "\n").encode("utf-8")
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError:  # the lock is ours even if the note about it cannot be written
            previous = None
        return cls(Path(folder), fd, previous if previous and previous.since_utc else None)

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd is not None

    def release(self) -> None:
        """Give the lock up (idempotent). The file stays, naming its last holder."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
