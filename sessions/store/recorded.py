"""A recorded session as the replay tracker's source of samples (read-only).

``gazeread run --tracker replay --tracker-option session=PATH`` streams a recorded session
again. The acquisition layer does not know the store: the sessions layer opens the session
here, read-only, and hands the tracker this object (:class:`~acquisition.trackers.replay.
RecordedSession` is the interface it asks for).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from sessions.store.reader import SessionReader
from sessions.store.rows import trial_window

__all__ = ["RecordedSessionSource", "recorded_session"]


class RecordedSessionSource:
    """The samples, trials and tracker of one stored session, for the replay tracker."""

    def __init__(self, reader: SessionReader) -> None:
        self._reader = reader

    @property
    def label(self) -> str:
        """The session folder."""
        return str(self._reader.folder)

    def tracker_info(self) -> dict[str, Any]:
        """The session's ``tracker_json``."""
        info = self._reader.session_info().get("tracker_json")
        return dict(info) if isinstance(info, dict) else {}

    def time_range(self) -> tuple[float, float] | None:
        """First and last sample time."""
        return self._reader.sample_time_range()

    def trial_window(self, trial: int) -> tuple[float | None, float | None] | None:
        """``(onset or start, offset)`` of a trial, None if there is no such trial."""
        rows = [t for t in self._reader.trials() if int(t["id"]) == int(trial)]
        return trial_window(rows[0]) if rows else None

    def trial_count(self) -> int:
        """Number of trials."""
        return self._reader.trial_progress()[0]

    def samples(self, t0: float, t1: float) -> np.ndarray:
        """Samples with ``t0 <= t < t1``."""
        return self._reader.samples_between(t0, t1)

    def close(self) -> None:
        """Close the session."""
        self._reader.close()


def recorded_session(path: str | os.PathLike[str]) -> RecordedSessionSource:
    """Open a session folder (or its ``session.sqlite``) read-only as a replay source."""
    return RecordedSessionSource(SessionReader.open(path))


def with_recorded_session(
    tracker: str, options: dict[str, Any]
) -> tuple[dict[str, Any], RecordedSessionSource | None]:
    """The replay tracker's options with ``session=PATH`` opened as a source.

    Returns the options to pass to the tracker and the source opened here (the caller closes
    it when the tracker is done), or the options unchanged and None for any other tracker.
    """
    path = options.get("session")
    if tracker != "replay" or not isinstance(path, (str, os.PathLike)):
        return options, None
    source = recorded_session(path)
    return {**options, "session": source}, source
