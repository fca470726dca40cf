"""SIGINT and SIGTERM stop a recording cleanly instead of killing it.

While a session records, :class:`StopSignals` turns the first SIGINT (Ctrl-C) or SIGTERM (a
``kill``, a logout, a job scheduler) into :class:`SessionInterrupted`, raised in the main
thread. The runner catches it, stops the tracker, writes a ``session_end`` event and status
``interrupted``, closes the store and exits with 128 + the signal number (130, 143), as a
shell does. Further signals while it shuts down are ignored, so a second Ctrl-C cannot cut the
shutdown short; SIGKILL cannot be caught, and ``--resume`` continues such a session.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["SessionInterrupted", "StopSignals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SessionInterrupted(BaseException):
    """A stop signal arrived; the session must stop cleanly and say so.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` on the
    way swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.name = signal.Signals(self.signum).name
        super().__init__(f"stopped by {self.name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by that signal."""
        return 128 + self.signum


class StopSignals:
    """``with StopSignals():`` the first SIGINT/SIGTERM raises :class:`SessionInterrupted`.

    Outside the main thread (where Python cannot set handlers) it does nothing.
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self.received: int | None = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # already stopping: let the shutdown finish
        self.received = signum
        raise SessionInterrupted(signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous.clear()
