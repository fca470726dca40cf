"""A display without a window, for scripts, tests and CI (implements ``procedure.Display``).

Each frame waits ``frame_s`` (or calls ``on_frame``, e.g. to advance a fake clock); messages
go to the log; the results "screen" returns scripted actions, or the procedure's auto action.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from calibration.procedure import Action, ResultsView
from calibration.targets import TargetState

__all__ = ["HeadlessDisplay"]

log = logging.getLogger(__name__)


class HeadlessDisplay:
    """Headless :class:`~calibration.procedure.Display`.

    Parameters
    ----------
    actions : iterable of Action, optional
        Answers of successive results screens; when exhausted (or None), the auto action,
        else ``accept``.
    frame_s : float
        Real time per frame (ignored when ``on_frame`` is given).
    on_frame : callable, optional
        Called once per frame instead of sleeping.
    abort_after_frames : int, optional
        Report an operator abort after this many frames.
    """

    def __init__(
        self,
        actions: Iterable[Action] | None = None,
        *,
        frame_s: float = 1.0 / 60.0,
        on_frame: Callable[[], None] | None = None,
        abort_after_frames: int | None = None,
    ) -> None:
        self._actions = list(actions or [])
        self.frame_s = frame_s
        self.on_frame = on_frame
        self.abort_after_frames = abort_after_frames
        self.frames = 0
        self.states: list[TargetState] = []
        self.messages: list[tuple[str, bool]] = []
        self.views: list[ResultsView] = []

    def _tick(self) -> None:
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame()
        else:
            time.sleep(self.frame_s)

    def target_frame(self, state: TargetState) -> None:
        """Record the state and wait one frame."""
        self.states.append(state)
        self._tick()

    def message(self, text: str, *, error: bool = False, duration_s: float = 0.0) -> None:
        """Record and log the message (no waiting)."""
        self.messages.append((text, error))
        (log.warning if error else log.info)("display message: %s", text)
        self._tick()

    def aborted(self) -> bool:
        """True after ``abort_after_frames`` frames."""
        return self.abort_after_frames is not None and self.frames >= self.abort_after_frames

    def results(self, view: ResultsView, auto: bool) -> Action:
        """The next scripted action, else the auto action, else accept."""
        self.views.append(view)
        self._tick()
        if self._actions:
            return self._actions.pop(0)
        return view.auto_action or Action("accept")
