from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from experiment_protocols.loader import load_protocol
from experiment_protocols.model import Protocol
from experiment_protocols.schedule import Schedule, StimulusRef, build_schedule
from experiment_protocols.state_machine import PauseChoice, SessionStateMachine, State


def _proto(**changes: Any) -> Protocol:
    p = load_protocol("gazeval").protocol
    for section, values in changes.items():
        p = dataclasses.replace(p, **{section: dataclasses.replace(getattr(p, section), **values)})
    return p


def _sched(p: Protocol, n: int = 3, participant: str = "P01") -> Schedule:
    stim = [StimulusRef(f"i{k}", f"/i{k}.png", "real") for k in range(n)]
    return build_schedule(p, stim, participant, 1, seed=1)


def _run(sm: SessionStateMachine, limit: int = 1000) -> list[str]:
    """Advance until finished; returns the state names."""
    for _ in range(limit):
        if sm.finished:
            break
        sm.advance()
    return [s.state.value for s in sm.history]


def test_plain_session_sequence() -> None:
    p = _proto(
        breaks={"every_n_trials": 0, "between_blocks": False}, recalibration={"every_n_trials": 0}
    )
    sm = SessionStateMachine(p, _sched(p, 2))
    states = _run(sm)
    one = ["pre_trial", "image", "response", "iti"]
    assert states == [
        "welcome",
        "calibrate",
        "instructions",
        *one,
        *one,
        "instructions",
        *one,
        *one,
        "done",
    ]
    assert sm.completed == {0, 1, 2, 3}


def test_break_between_blocks_and_every_n() -> None:
    p = _proto(
        breaks={"every_n_trials": 3, "between_blocks": True}, recalibration={"every_n_trials": 0}
    )
    sm = SessionStateMachine(p, _sched(p, 3))  # 6 trials, block change after 3
    states = _run(sm)
    assert states.count("break") == 1  # the block change and the 3-trial break coincide
    i = states.index("break")
    assert states[i + 1] == "instructions"
    assert sm.history[i].reason == "between blocks"
    p2 = _proto(
        breaks={"every_n_trials": 2, "between_blocks": False}, recalibration={"every_n_trials": 0}
    )
    states2 = _run(SessionStateMachine(p2, _sched(p2, 3)))
    assert states2.count("break") == 2  # after trials 2 and 4 (none after the last)


def test_recalibration_every_n_trials() -> None:
    p = _proto(
        breaks={"every_n_trials": 0, "between_blocks": False}, recalibration={"every_n_trials": 2}
    )
    sm = SessionStateMachine(p, _sched(p, 3))
    states = _run(sm)
    # initial calibration + before trials 2 and 4
    assert states.count("calibrate") == 3
    cal_reasons = [s.reason for s in sm.history if s.state is State.CALIBRATE]
    assert cal_reasons == ["start", "every 2 trials", "every 2 trials"]


def test_failed_drift_check_retries_then_recalibrates_then_same_trial() -> None:
    p = _proto(recalibration={"drift_check_attempts": 2, "after_failed_drift_check": True})
    sm = SessionStateMachine(p, _sched(p, 2))
    while sm.state is not State.PRE_TRIAL:
        sm.advance()
    trial = sm.step.trial
    assert sm.drift_failed().state is State.PRE_TRIAL
    assert sm.step.attempt == 1
    s = sm.drift_failed()
    assert s.state is State.CALIBRATE and s.reason == "failed drift check"
    s = sm.advance()
    assert s.state is State.PRE_TRIAL and s.trial == trial and s.attempt == 0
    assert sm.advance().state is State.IMAGE


def test_failed_drift_check_without_recalibration_goes_on() -> None:
    p = _proto(recalibration={"drift_check_attempts": 1, "after_failed_drift_check": False})
    sm = SessionStateMachine(p, _sched(p, 2))
    while sm.state is not State.PRE_TRIAL:
        sm.advance()
    assert sm.drift_failed().state is State.IMAGE


def test_no_pre_trial_step() -> None:
    p = _proto(timing={"pre_trial": "none"})
    states = _run(SessionStateMachine(p, _sched(p, 1)))
    assert "pre_trial" not in states and states.count("image") == 2


def test_pause_during_image_reshows_the_trial() -> None:
    p = _proto()
    sm = SessionStateMachine(p, _sched(p, 2))
    while sm.state is not State.IMAGE:
        sm.advance()
    trial = sm.step.trial
    assert sm.pause().state is State.PAUSED
    s = sm.choose(PauseChoice.RESUME)
    assert s.state is State.PRE_TRIAL and s.trial == trial
    sm.advance()
    assert sm.step.state is State.IMAGE and sm.step.attempt == 1
    assert trial is not None and sm.trial_attempts[trial.index] == 1


def test_pause_during_response_keeps_the_form_and_recalibrates_after() -> None:
    p = _proto(
        breaks={"every_n_trials": 0, "between_blocks": False}, recalibration={"every_n_trials": 0}
    )
    sm = SessionStateMachine(p, _sched(p, 2))
    while sm.state is not State.RESPONSE:
        sm.advance()
    trial = sm.step.trial
    sm.pause()
    s = sm.choose("recalibrate")
    assert s.state is State.RESPONSE and s.trial == trial
    assert [sm.advance().state, sm.advance().state] == [State.ITI, State.CALIBRATE]
    assert sm.step.reason == "operator"


def test_pause_recalibrate_from_image() -> None:
    p = _proto()
    sm = SessionStateMachine(p, _sched(p, 2))
    while sm.state is not State.IMAGE:
        sm.advance()
    trial = sm.step.trial
    sm.pause()
    assert sm.choose("recalibrate").state is State.CALIBRATE
    assert sm.advance().trial == trial


def test_pause_end_finishes() -> None:
    p = _proto()
    sm = SessionStateMachine(p, _sched(p, 2))
    sm.advance()
    sm.pause()
    assert sm.choose("end").state is State.ENDED
    assert sm.finished
    assert sm.pause().state is State.ENDED
    with pytest.raises(RuntimeError):
        sm.advance()


def test_resume_skips_completed_and_recalibrates_first() -> None:
    p = _proto(breaks={"every_n_trials": 0, "between_blocks": False})
    sched = _sched(p, 3)
    sm = SessionStateMachine(p, sched, completed={0, 1}, resumed=True)
    assert sm.step.reason == "resumed"
    assert sm.advance().state is State.CALIBRATE
    assert sm.step.reason == "resume"
    assert sm.advance().state is State.INSTRUCTIONS  # instructions of the current block
    assert sm.step.trial is not None and sm.step.trial.index == 2
    states = _run(sm)
    assert states.count("image") == 4


def test_resume_with_everything_done() -> None:
    p = _proto()
    sched = _sched(p, 1)
    sm = SessionStateMachine(p, sched, completed={0, 1}, resumed=True)
    assert sm.advance().state is State.DONE


def test_errors_on_misuse() -> None:
    p = _proto()
    sm = SessionStateMachine(p, _sched(p, 1))
    with pytest.raises(RuntimeError):
        sm.drift_failed()
    with pytest.raises(RuntimeError):
        sm.choose("resume")
    sm.pause()
    with pytest.raises(ValueError):
        sm.choose("explode")
