"""The plain types of the calibration procedure: settings, operator actions, results, outcome.

Re-exported by :mod:`calibration.procedure`; kept apart to keep that module readable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from calibration.history import CalibrationHistory, CalibrationRecord
from calibration.metrics import PointValidation, QualityGate
from calibration.targets import TargetState, TargetTiming

__all__ = [
    "Action",
    "CalibrationOutcome",
    "CalibrationSettings",
    "Display",
    "ResultsView",
    "TargetHook",
]

#: ``on_target(x, y)``: told where the target now is (normalised); auto mode wires it to the
#: simulated tracker's ``set_target`` so the simulated eye follows.
TargetHook = Callable[[float, float], None]


@dataclasses.dataclass(frozen=True)
class CalibrationSettings:
    """How to calibrate and validate (all fields have sensible defaults).

    Parameters
    ----------
    n_points : int
        5, 9 or 13 calibration points (ignored with ``custom_points``).
    custom_points, custom_validation_points : sequence of (x, y), optional
        Explicit normalised points.
    n_validation_points : int
        Validation points, none of them a calibration point (default 4).
    randomise : bool
        Shuffle the presentation order (with ``seed``).
    seed : int or None
        Seed of the order; None draws a fresh order each time.
    timing : TargetTiming
        Target motion, dwell and sizes.
    model : str
        Software calibration model: ``auto`` (poly2 with >= 9 points, else affine),
        ``affine`` or ``poly2``.
    gate : QualityGate
        Pass/fail thresholds.
    max_auto_attempts : int
        Auto mode recalibrates at most this many times before giving up.
    auto_results_s : float
        Auto mode shows the results this long before acting on them.
    """

    n_points: int = 9
    custom_points: tuple[tuple[float, float], ...] | None = None
    n_validation_points: int = 4
    custom_validation_points: tuple[tuple[float, float], ...] | None = None
    randomise: bool = True
    seed: int | None = None
    timing: TargetTiming = dataclasses.field(default_factory=TargetTiming)
    model: str = "auto"
    gate: QualityGate = dataclasses.field(default_factory=QualityGate)
    max_auto_attempts: int = 3
    auto_results_s: float = 1.5

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (stored with each record)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Action:
    """The operator's choice on the results screen.

    ``kind``: ``accept``, ``redo`` (the selected ``calibration_points`` and/or
    ``validation_points``, 0-based), ``recalibrate``, ``select`` (go back to calibration
    ``record_id``) or ``abort`` (keep what was in force before).
    """

    kind: str
    calibration_points: tuple[int, ...] = ()
    validation_points: tuple[int, ...] = ()
    record_id: int | None = None


@dataclasses.dataclass
class ResultsView:
    """Everything the results screen draws (no drawing here)."""

    calibration_targets: np.ndarray
    calibration_points: list[dict[str, Any]]
    validation_targets: np.ndarray
    validation: list[PointValidation]
    summary: dict[str, Any] | None
    verdict: str
    passed: bool
    grade: str
    messages: list[str]
    calibration_id: int | None
    history: list[tuple[int, float | None, bool]]  # (calibration id, its accuracy, passed)
    gate: dict[str, Any] = dataclasses.field(default_factory=dict)
    auto_action: Action | None = None
    #: the validation record's id: one numbering with the CLI table and the store
    validation_id: int | None = None


@dataclasses.dataclass
class CalibrationOutcome:
    """What :meth:`CalibrationProcedure.run` (and ``run_calibration``) returns.

    ``accepted``: the operator (or auto mode) accepted a calibration, now in force;
    ``passed``: its validation passed the gate. ``history`` holds every record, to be stored
    with ``store.add_calibration(**kw) for kw in outcome.store_kwargs()``.
    """

    accepted: bool
    passed: bool
    message: str
    calibration: CalibrationRecord | None
    validation: CalibrationRecord | None
    history: CalibrationHistory
    #: True when the operator left the procedure (Escape) rather than finishing it.
    aborted_by_operator: bool = False

    @property
    def accuracy_deg(self) -> float | None:
        """Average accuracy of the accepted validation (deg)."""
        return None if self.validation is None else self.validation.accuracy_deg

    def store_kwargs(self) -> list[dict[str, Any]]:
        """``SessionStore.add_calibration`` keyword arguments of every record."""
        return self.history.store_kwargs()


class Display(Protocol):
    """What the procedure needs from a screen. The PsychoPy screens implement it."""

    def target_frame(self, state: TargetState) -> None:
        """Draw the target in ``state`` and flip (returns after the flip)."""

    def message(self, text: str, *, error: bool = False, duration_s: float = 0.0) -> None:
        """Show a message (at least one frame, up to ``duration_s`` or a key press)."""

    def aborted(self) -> bool:
        """True once the operator asked to stop (Escape)."""

    def results(self, view: ResultsView, auto: bool) -> Action:
        """Show the results until the operator chooses (auto: show, then ``view.auto_action``)."""


@dataclasses.dataclass
class Collected:
    """Samples of one target's dwell window and what happened."""

    samples: np.ndarray
    message: str = ""
    native_ok: bool | None = None


def validation_verdict(v: CalibrationRecord) -> str:
    """One line for the log: PASS or FAIL, the grade, average and worst accuracy."""
    from calibration.metrics import verdict_label

    s = v.result.get("summary") or {}
    avg = "n/a" if v.accuracy_deg is None else f"{v.accuracy_deg:.2f}"
    worst = "n/a" if v.worst_deg is None else f"{v.worst_deg:.2f}"
    return f"{verdict_label(bool(v.passed), str(s.get('grade', '')))}, average {avg} deg, worst {worst} deg"
