"""A simulated radiologist for demos and tests: where it looks, how long, and what it answers.

The reader drives a simulated tracker (duck-typed: ``set_attention(points=..., rect=...)`` and
``set_target(x, y)`` of :class:`acquisition.trackers.simulated.SimulatedTracker`) so that the
recorded gaze scans a chest radiograph the way a reader does (a systematic search over both
lungs, the heart and mediastinum, the hila, the diaphragm and the costophrenic angles), and it
answers the response forms with a configurable accuracy, confidence and response time.

Everything is deterministic given the seed, the trial index and the attempt.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from experiment_protocols.forms import FormState, Target
from experiment_protocols.model import AUTHENTICITY_CHOICES, AuthenticityForm, DiagnosticForm
from experiment_protocols.schedule import PlannedTrial
from stimuli.layout import ImageLayout

__all__ = ["CXR_REGIONS", "AttentionTracker", "ReaderAnswer", "SimulatedReader", "scan_points"]

#: Anatomical regions of a frontal (PA) chest radiograph, as fractions of the image width and
#: height (x right, y down; the patient's right lung is on the image's left). Weights are the
#: share of dwell a reader gives them (lungs most, then heart, angles, hila, mediastinum).
CXR_REGIONS: dict[str, tuple[float, float, float]] = {
    "right upper lung": (0.32, 0.30, 1.0),
    "right mid lung": (0.30, 0.45, 1.0),
    "right lower lung": (0.31, 0.60, 1.0),
    "left upper lung": (0.68, 0.30, 1.0),
    "left mid lung": (0.70, 0.45, 1.0),
    "left lower lung": (0.70, 0.60, 0.8),
    "heart": (0.56, 0.58, 1.2),
    "mediastinum": (0.50, 0.28, 0.6),
    "right hilum": (0.41, 0.43, 0.6),
    "left hilum": (0.60, 0.43, 0.6),
    "right costophrenic angle": (0.17, 0.74, 0.9),
    "left costophrenic angle": (0.83, 0.75, 0.9),
    "right hemidiaphragm": (0.33, 0.69, 0.5),
    "left hemidiaphragm": (0.67, 0.71, 0.5),
}


class AttentionTracker(Protocol):
    """What the reader needs of a simulated tracker."""

    def set_attention(
        self, points: Any = None, saliency: Any = None, rect: Any = None, weights: Any = None
    ) -> None:
        """Free viewing over ``points`` (normalised display coordinates)."""

    def set_target(self, x: float | None, y: float | None = None) -> None:
        """Fixate one point (normalised), or release with None."""


def scan_points(layout: ImageLayout, rng: np.random.Generator | None = None) -> NDArray[np.float64]:
    """The regions in a reading order, as tracker-normalised (x, y, weight) rows.

    A systematic search: mediastinum, then the right lung top to bottom, the right angle, the
    diaphragm, the heart, the left side bottom to top, then the hila; small jitter (a few
    percent of the image) so that no two readings are identical.
    """
    order = [
        "mediastinum", "right upper lung", "right mid lung", "right lower lung",
        "right costophrenic angle", "right hemidiaphragm", "heart", "left hemidiaphragm",
        "left costophrenic angle", "left lower lung", "left mid lung", "left upper lung",
        "right hilum", "left hilum",
    ]  # fmt: skip
    fx = np.array([CXR_REGIONS[k][0] for k in order])
    fy = np.array([CXR_REGIONS[k][1] for k in order])
    w = np.array([CXR_REGIONS[k][2] for k in order])
    if rng is not None:
        fx = np.clip(fx + rng.normal(0, 0.02, fx.shape), 0.05, 0.95)
        fy = np.clip(fy + rng.normal(0, 0.02, fy.shape), 0.05, 0.95)
    nx, ny = layout.image_to_normalised(fx * layout.image_width, fy * layout.image_height)
    return np.column_stack([nx, ny, w / w.sum()])


@dataclasses.dataclass(frozen=True)
class ReaderAnswer:
    """What the reader will answer, and the order of its clicks."""

    findings: tuple[str, ...] = ()
    authenticity: str | None = None
    confidence: int | None = None
    correct: bool = True


@dataclasses.dataclass
class SimulatedReader:
    """A reader with a given skill and pace.

    Parameters
    ----------
    seed : int
    accuracy : float
        Probability of a correct authenticity judgement and of detecting each true finding.
    viewing_s : (min, max)
        Self-paced viewing time range (s), drawn uniformly.
    response_s : (min, max)
        Time to fill a form (s), spread over its clicks.
    false_positive_rate : float
        Probability of adding one wrong finding.
    """

    seed: int = 0
    accuracy: float = 0.8
    viewing_s: tuple[float, float] = (2.5, 4.0)
    response_s: tuple[float, float] = (1.0, 2.0)
    false_positive_rate: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy must be in [0, 1], got {self.accuracy!r}")
        for name in ("viewing_s", "response_s"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(
                    f"{name} must be (min, max) with 0 <= min <= max, got {(lo, hi)!r}"
                )

    def _rng(self, trial: PlannedTrial, attempt: int, what: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, trial.index, attempt, what])

    # ------------------------------------------------------------------ viewing
    def viewing_time(self, trial: PlannedTrial, attempt: int = 0) -> float:
        """Seconds the reader looks at the image before ending it."""
        lo, hi = self.viewing_s
        return float(self._rng(trial, attempt, 0).uniform(lo, hi))

    def look_at_image(
        self, tracker: AttentionTracker, layout: ImageLayout, trial: PlannedTrial, attempt: int = 0
    ) -> NDArray[np.float64]:
        """Start free viewing of the image; returns the (x, y, weight) points used."""
        pts = scan_points(layout, self._rng(trial, attempt, 1))
        tracker.set_target(None)
        x0, y0, x1, y1 = layout.screen_rect
        rect = (
            x0 / layout.screen_width,
            y0 / layout.screen_height,
            x1 / layout.screen_width,
            y1 / layout.screen_height,
        )
        tracker.set_attention(points=pts[:, :2], rect=rect, weights=pts[:, 2])
        return pts

    @staticmethod
    def look_at(tracker: AttentionTracker, x: float, y: float) -> None:
        """Fixate a point given in normalised display coordinates."""
        tracker.set_target(float(x), float(y))

    # ------------------------------------------------------------------ answers
    def answer(
        self, trial: PlannedTrial, form: DiagnosticForm | AuthenticityForm, attempt: int = 0
    ) -> ReaderAnswer:
        """The answer to ``form`` for ``trial`` (ground truth from the trial's manifest entry)."""
        rng = self._rng(trial, attempt, 2)
        scale = form.confidence_scale
        if isinstance(form, AuthenticityForm):
            truth = trial.authenticity if trial.authenticity in AUTHENTICITY_CHOICES else "real"
            correct = bool(rng.random() < self.accuracy)
            other = "synthetic" if truth == "real" else "real"
            choice = truth if correct else other
            conf = self._confidence(rng, scale, correct)
            return ReaderAnswer(authenticity=choice, confidence=conf, correct=correct)
        truth_set = [
            lab for lab in form.labels if any(_same_finding(f, lab) for f in trial.findings)
        ]
        found = [f for f in truth_set if rng.random() < self.accuracy]
        if rng.random() < self.false_positive_rate:
            wrong = [f for f in form.labels if f not in truth_set]
            if wrong:
                found.append(wrong[int(rng.integers(len(wrong)))])
        findings = tuple(sorted(found, key=form.labels.index)) or (form.no_finding,)
        correct = set(found) == set(truth_set)
        return ReaderAnswer(
            findings=findings, confidence=self._confidence(rng, scale, correct), correct=correct
        )

    @staticmethod
    def _confidence(rng: np.random.Generator, scale: tuple[int, ...], correct: bool) -> int:
        n = len(scale)
        half = n // 2
        pool = scale[half:] if correct else scale[: max(half + 1, 1)]
        return int(pool[int(rng.integers(len(pool)))])

    def response_time(self, trial: PlannedTrial, attempt: int = 0) -> float:
        """Seconds to fill the form."""
        lo, hi = self.response_s
        return float(self._rng(trial, attempt, 3).uniform(lo, hi))

    def clicks(self, answer: ReaderAnswer, state: FormState, targets: list[Target]) -> list[Target]:
        """The targets the reader clicks, in order, ending with the submit button."""
        out: list[Target] = []
        for t in targets:
            if (
                t.group == "finding"
                and t.value in answer.findings
                and t.value not in state.findings
            ) or (t.group == "choice" and t.value == answer.authenticity):
                out.append(t)
        out += [t for t in targets if t.group == "confidence" and t.value == answer.confidence]
        out += [t for t in targets if t.group == "submit"]
        return out


def _same_finding(truth: str, label: str) -> bool:
    """Whether a manifest finding names a form label (case-insensitive; 'effusion' ~ 'Pleural effusion')."""
    a, b = truth.strip().lower(), label.strip().lower()
    if not a:
        return False
    parts = [p.strip() for p in b.replace("/", ";").split(";")]
    return a == b or a in parts or any(a in p.split() for p in parts) or b in a
