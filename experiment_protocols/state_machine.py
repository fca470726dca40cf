"""The session's state machine in plain Python: what to show next, whatever happened.

The runner asks :attr:`SessionStateMachine.step` what to do, does it (draws, waits, records),
and reports how it went with one of :meth:`~SessionStateMachine.advance`,
:meth:`~SessionStateMachine.drift_failed`, :meth:`~SessionStateMachine.pause` and
:meth:`~SessionStateMachine.choose`. No display and no clock are needed, so every path is
tested directly.

Flow::

    welcome -> calibrate -> { [break] [calibrate] [instructions] pre_trial -> image ->
                              response -> iti } for every trial -> done

- ``pre_trial`` is the drift check or the fixation cross (or skipped, per the protocol);
  a drift check that fails ``drift_check_attempts`` times leads to ``calibrate`` (when the
  protocol says so) and then the same trial again.
- ``calibrate`` is due before the first trial, every ``every_n_trials`` trials, after a failed
  drift check and when the operator asks for it.
- ``break`` comes every ``breaks.every_n_trials`` trials and between blocks.
- ``pause`` (Escape) can come in any state; the operator chooses ``resume``, ``recalibrate``
  or ``end``. A trial paused while its image was up is shown again from its pre-trial step
  (its attempt counter goes up); a paused response form is simply shown again.
- A resumed session starts with a calibration, then the first unfinished trial.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable

from experiment_protocols.model import Protocol
from experiment_protocols.schedule import PlannedTrial, Schedule

__all__ = ["PauseChoice", "SessionStateMachine", "State", "Step"]


class State(str, enum.Enum):
    """What the session is doing."""

    WELCOME = "welcome"
    CALIBRATE = "calibrate"
    BREAK = "break"
    INSTRUCTIONS = "instructions"
    PRE_TRIAL = "pre_trial"
    IMAGE = "image"
    RESPONSE = "response"
    ITI = "iti"
    PAUSED = "paused"
    DONE = "done"
    ENDED = "ended"  # ended early by the operator (saved)


class PauseChoice(str, enum.Enum):
    """The operator's choices in the pause menu."""

    RESUME = "resume"
    RECALIBRATE = "recalibrate"
    END = "end"


@dataclasses.dataclass(frozen=True)
class Step:
    """The current step: a state, the trial it concerns (if any) and why we are here."""

    state: State
    trial: PlannedTrial | None = None
    reason: str = ""
    attempt: int = 0  # drift-check attempt (pre_trial) or trial attempt (image)


class SessionStateMachine:
    """Sequence of steps of one session.

    Parameters
    ----------
    protocol : Protocol
    schedule : Schedule
    completed : iterable of int
        Trial indices already complete (a resumed session skips them).
    resumed : bool
        The session continues an interrupted one (recalibrate first, say so on the welcome).
    """

    def __init__(
        self,
        protocol: Protocol,
        schedule: Schedule,
        completed: Iterable[int] = (),
        *,
        resumed: bool = False,
    ) -> None:
        self.protocol = protocol
        self.schedule = schedule
        self.completed: set[int] = set(completed)
        self.resumed = resumed
        self._todo = [t for t in schedule.trials if t.index not in self.completed]
        self._pos = 0  # index into _todo of the current trial
        self._trials_since_cal = 0
        self._trials_done_here = 0
        self._last_block: str | None = None
        self._drift_attempt = 0
        self.trial_attempts: dict[int, int] = {}
        self._paused_from: Step | None = None
        self._cal_requested = False
        self.history: list[Step] = []
        self._step = Step(State.WELCOME, reason="resumed" if resumed else "start")
        self.history.append(self._step)

    # ------------------------------------------------------------------ queries
    @property
    def step(self) -> Step:
        """What to do now."""
        return self._step

    @property
    def state(self) -> State:
        """The current state."""
        return self._step.state

    @property
    def finished(self) -> bool:
        """True once the session is done or ended by the operator."""
        return self._step.state in (State.DONE, State.ENDED)

    @property
    def current_trial(self) -> PlannedTrial | None:
        """The trial in progress or next (None when all are done)."""
        return self._todo[self._pos] if self._pos < len(self._todo) else None

    @property
    def remaining(self) -> int:
        """Trials not yet complete."""
        return len(self._todo) - self._pos

    # ------------------------------------------------------------------ transitions
    def _go(
        self, state: State, trial: PlannedTrial | None = None, reason: str = "", attempt: int = 0
    ) -> Step:
        self._step = Step(state, trial, reason, attempt)
        self.history.append(self._step)
        return self._step

    def _next_trial_entry(
        self, *, after_calibration: bool = False, after_break: bool = False
    ) -> Step:
        """The first step of the current trial: break, calibration, instructions or pre-trial."""
        trial = self.current_trial
        if trial is None:
            return self._go(State.DONE, reason="all trials complete")
        new_block = trial.block != self._last_block
        if not after_break and not after_calibration and self._trials_done_here > 0:
            every = self.protocol.breaks.every_n_trials
            if new_block and self.protocol.breaks.between_blocks:
                return self._go(State.BREAK, trial, "between blocks")
            if every and self._trials_done_here % every == 0:
                return self._go(State.BREAK, trial, f"every {every} trials")
        every_cal = self.protocol.recalibration.every_n_trials
        if not after_calibration and self._cal_requested:
            return self._go(State.CALIBRATE, trial, "operator")
        if not after_calibration and every_cal and self._trials_since_cal >= every_cal:
            return self._go(State.CALIBRATE, trial, f"every {every_cal} trials")
        if new_block:
            return self._go(State.INSTRUCTIONS, trial, f"block {trial.block}")
        return self._pre_trial(trial)

    def _pre_trial(self, trial: PlannedTrial) -> Step:
        self._drift_attempt = 0
        if self.protocol.timing.pre_trial == "none":
            return self._image(trial)
        return self._go(State.PRE_TRIAL, trial, self.protocol.timing.pre_trial, attempt=0)

    def _image(self, trial: PlannedTrial) -> Step:
        n = self.trial_attempts.get(trial.index, -1) + 1
        self.trial_attempts[trial.index] = n
        return self._go(State.IMAGE, trial, "", attempt=n)

    def advance(self) -> Step:
        """The current step finished normally; move on."""
        s = self._step
        trial = s.trial
        if s.state is State.WELCOME:
            if not self._todo:
                return self._go(State.DONE, reason="all trials complete")
            return self._go(
                State.CALIBRATE, self.current_trial, "resume" if self.resumed else "start"
            )
        if s.state is State.CALIBRATE:
            self._trials_since_cal = 0
            self._cal_requested = False
            if trial is not None and s.reason == "failed drift check":
                return self._pre_trial(trial)
            return self._next_trial_entry(after_calibration=True, after_break=True)
        if s.state is State.BREAK:
            return self._next_trial_entry(after_break=True)
        if s.state is State.INSTRUCTIONS:
            trial = _need(trial, s)
            self._last_block = trial.block
            return self._pre_trial(trial)
        if s.state is State.PRE_TRIAL:
            trial = _need(trial, s)
            return self._image(trial)
        if s.state is State.IMAGE:
            return self._go(State.RESPONSE, trial)
        if s.state is State.RESPONSE:
            trial = _need(trial, s)
            self.completed.add(trial.index)
            self._trials_since_cal += 1
            self._trials_done_here += 1
            return self._go(State.ITI, trial)
        if s.state is State.ITI:
            self._pos += 1
            return self._next_trial_entry()
        if s.state is State.PAUSED:
            return self.choose(PauseChoice.RESUME)
        raise RuntimeError(f"advance() called in state {s.state.value!r}, which has no successor")

    def drift_failed(self) -> Step:
        """The drift check of the current trial failed once."""
        s = self._step
        if s.state is not State.PRE_TRIAL or s.trial is None:
            raise RuntimeError(f"drift_failed() called in state {s.state.value!r}")
        self._drift_attempt += 1
        rc = self.protocol.recalibration
        if self._drift_attempt < rc.drift_check_attempts:
            return self._go(State.PRE_TRIAL, s.trial, s.reason, attempt=self._drift_attempt)
        if rc.after_failed_drift_check:
            return self._go(State.CALIBRATE, s.trial, "failed drift check")
        # Recalibration not wanted: go on with the image (the failure is recorded by the runner).
        return self._image(s.trial)

    def pause(self) -> Step:
        """The operator pressed Escape."""
        if self.finished or self._step.state is State.PAUSED:
            return self._step
        self._paused_from = self._step
        return self._go(State.PAUSED, self._step.trial, self._step.state.value)

    def choose(self, choice: PauseChoice | str) -> Step:
        """The operator's choice in the pause menu."""
        if self._step.state is not State.PAUSED or self._paused_from is None:
            raise RuntimeError(f"choose() called in state {self._step.state.value!r}")
        choice = PauseChoice(choice)
        before, self._paused_from = self._paused_from, None
        if choice is PauseChoice.END:
            return self._go(State.ENDED, before.trial, "ended by the operator")
        if choice is PauseChoice.RECALIBRATE:
            if before.state is State.RESPONSE:
                # Keep the answer to give: recalibrate after it, before the next trial.
                self._cal_requested = True
                return self._go(State.RESPONSE, before.trial, "after pause")
            trial = self.current_trial
            return self._go(State.CALIBRATE, trial, "operator")
        # resume
        if before.state in (State.IMAGE, State.PRE_TRIAL) and before.trial is not None:
            return self._pre_trial(before.trial)  # the image is shown again from its start
        if before.state is State.ITI:
            return self.advance_from(before)
        return self._go(before.state, before.trial, before.reason, before.attempt)

    def advance_from(self, step: Step) -> Step:
        """Continue as if ``step`` had just finished (used after a pause in the ITI)."""
        self._step = step
        return self.advance()


def _need(trial: PlannedTrial | None, step: Step) -> PlannedTrial:
    if trial is None:
        raise RuntimeError(f"state {step.state.value!r} reached without a trial")
    return trial
