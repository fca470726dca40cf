"""The protocol of a reading study as typed, self-validating dataclasses.

A :class:`Protocol` says what a session does: which conditions exist (each with its
instructions and response form), how trials are grouped into blocks and ordered, the timing of
a trial, when to recalibrate and when to rest. It is loaded from TOML by
:mod:`experiment_protocols.loader`; the built-in ``gazeval`` and ``demo`` protocols live in
``experiment_protocols/builtin/``.

Every class checks itself in ``__post_init__`` and raises :class:`ProtocolError` naming the
field and the bad value; the loader adds the file and line.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

__all__ = [
    "AUTHENTICITY_CHOICES",
    "AuthenticityForm",
    "Block",
    "Breaks",
    "Condition",
    "DiagnosticForm",
    "Display",
    "FixationSettings",
    "Privacy",
    "Protocol",
    "ProtocolError",
    "Randomisation",
    "Recalibration",
    "Timing",
    "TrackerSettings",
]

#: The answers of the visual Turing test.
AUTHENTICITY_CHOICES: tuple[str, str] = ("real", "synthetic")


class ProtocolError(ValueError):
    """A protocol is invalid. ``field`` is the dotted TOML path of the bad value, if known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_scale(scale: tuple[int, ...], field: str) -> None:
    if len(scale) < 2:
        raise ProtocolError(
            f"{field} must list at least two values (e.g. [1, 2, 3, 4, 5] or [1, 3, 5, 7, 9]), "
            f"got {list(scale)!r}",
            field,
        )
    if any(not isinstance(v, int) or isinstance(v, bool) for v in scale):
        raise ProtocolError(f"{field} must be whole numbers, got {list(scale)!r}", field)
    if list(scale) != sorted(set(scale)):
        raise ProtocolError(
            f"{field} must be strictly increasing without repeats, got {list(scale)!r}", field
        )


@dataclasses.dataclass(frozen=True)
class DiagnosticForm:
    """Multi-select of finding labels (with a 'no finding' choice), free text, confidence.

    Attributes
    ----------
    labels : tuple of str
        The finding labels offered (without the no-finding label).
    no_finding : str
        The label meaning "nothing abnormal"; choosing it clears the others.
    free_text : bool
        Offer an optional free-text field (typed on the keyboard).
    confidence_scale : tuple of int
        The confidence values offered, low to high.
    confidence_low, confidence_high : str
        Words under the two ends of the scale.
    """

    labels: tuple[str, ...] = (
        "Atelectasis",
        "Cardiomegaly",
        "Consolidation",
        "Edema",
        "Pleural effusion",
        "Pneumothorax",
        "Nodule/Mass",
        "Support devices",
    )
    no_finding: str = "No finding"
    free_text: bool = True
    confidence_scale: tuple[int, ...] = (1, 2, 3, 4, 5)
    confidence_low: str = "not confident"
    confidence_high: str = "very confident"
    kind: Literal["diagnostic"] = "diagnostic"

    def __post_init__(self) -> None:
        if not self.labels:
            raise ProtocolError("labels must list at least one finding label", "labels")
        if any(not isinstance(s, str) or not s.strip() for s in self.labels):
            raise ProtocolError(f"labels must be non-empty strings, got {list(self.labels)!r}")
        if len(set(self.labels)) != len(self.labels):
            dup = sorted({s for s in self.labels if self.labels.count(s) > 1})
            raise ProtocolError(f"labels has duplicates: {dup}", "labels")
        if self.no_finding in self.labels:
            raise ProtocolError(
                f"no_finding {self.no_finding!r} must not also be in labels", "no_finding"
            )
        if not self.no_finding.strip():
            raise ProtocolError("no_finding must be a non-empty label", "no_finding")
        _check_scale(self.confidence_scale, "confidence_scale")

    @property
    def all_labels(self) -> tuple[str, ...]:
        """The labels followed by the no-finding label (the order shown)."""
        return (*self.labels, self.no_finding)


@dataclasses.dataclass(frozen=True)
class AuthenticityForm:
    """Real or synthetic, with a confidence.

    Attributes
    ----------
    question : str
        The question shown above the two choices.
    confidence_scale : tuple of int
        The confidence values offered, low to high.
    """

    question: str = "Is this radiograph real or synthetic?"
    confidence_scale: tuple[int, ...] = (1, 2, 3, 4, 5)
    confidence_low: str = "guessing"
    confidence_high: str = "certain"
    kind: Literal["authenticity"] = "authenticity"

    def __post_init__(self) -> None:
        _check_scale(self.confidence_scale, "confidence_scale")


Form = DiagnosticForm | AuthenticityForm


@dataclasses.dataclass(frozen=True)
class Condition:
    """A way of reading an image: its instructions and the response form after it."""

    name: str
    instructions: str
    form: Form

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ProtocolError(
                f"condition name {self.name!r} must be letters, digits, '_' or '-'", "name"
            )
        if not self.instructions.strip():
            raise ProtocolError(f"condition {self.name!r} needs instructions", "instructions")

    @property
    def kind(self) -> str:
        """``diagnostic`` or ``authenticity``."""
        return self.form.kind


@dataclasses.dataclass(frozen=True)
class Block:
    """A run of trials: every selected image under each of ``conditions``, shuffled.

    Attributes
    ----------
    name : str
    conditions : tuple of str
        Condition names; with several, the conditions are interleaved within the block.
    n_images : int or None
        Use only the first ``n_images`` of the (shuffled) stimulus set; None for all.
    """

    name: str
    conditions: tuple[str, ...]
    n_images: int | None = None

    def __post_init__(self) -> None:
        if not self.conditions:
            raise ProtocolError(f"block {self.name!r} lists no conditions", "conditions")
        if self.n_images is not None and (not isinstance(self.n_images, int) or self.n_images < 1):
            raise ProtocolError(
                f"block {self.name!r}: n_images must be a positive integer, got {self.n_images!r}",
                "n_images",
            )


@dataclasses.dataclass(frozen=True)
class Timing:
    """What happens within a trial, and how long.

    Attributes
    ----------
    pre_trial : {"drift_check", "fixation_cross", "none"}
        A central drift check (gaze must dwell on the target), a plain fixation cross shown for
        ``fixation_s``, or nothing.
    fixation_s : float
        Duration of the fixation cross (s).
    max_viewing_s : float or None
        The image ends by itself after this long; None for self-paced only.
    min_viewing_s : float
        Keys and clicks are ignored for this long after onset (s).
    iti_s : float
        Blank inter-trial interval after the response (s).
    end_keys : tuple of str
        Keys that end self-paced viewing (PsychoPy key names).
    end_on_click : bool
        A mouse click also ends viewing.
    """

    pre_trial: Literal["drift_check", "fixation_cross", "none"] = "drift_check"
    fixation_s: float = 0.5
    max_viewing_s: float | None = None
    min_viewing_s: float = 0.5
    iti_s: float = 0.5
    end_keys: tuple[str, ...] = ("space", "return")
    end_on_click: bool = True

    def __post_init__(self) -> None:
        if self.pre_trial not in ("drift_check", "fixation_cross", "none"):
            raise ProtocolError(
                f"pre_trial must be 'drift_check', 'fixation_cross' or 'none', got {self.pre_trial!r}",
                "pre_trial",
            )
        for name in ("fixation_s", "min_viewing_s", "iti_s"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ProtocolError(f"{name} must be a number >= 0 (s), got {v!r}", name)
        if self.max_viewing_s is not None and (
            not isinstance(self.max_viewing_s, (int, float)) or not self.max_viewing_s > 0
        ):
            raise ProtocolError(
                f"max_viewing_s must be > 0 (s) or absent for self-paced viewing, "
                f"got {self.max_viewing_s!r}",
                "max_viewing_s",
            )
        if not self.end_keys and not self.end_on_click and self.max_viewing_s is None:
            raise ProtocolError(
                "the image could never end: give end_keys, end_on_click = true or max_viewing_s",
                "end_keys",
            )


@dataclasses.dataclass(frozen=True)
class Recalibration:
    """Calibration settings and when to recalibrate.

    Attributes
    ----------
    points : int
        Calibration points (5, 9 or 13).
    validation_points : int
        Validation points.
    max_point_data_loss_pct : float
        A validation fails when any point lost more than this share of its samples (default
        40 %: one ordinary blink in the 0.8 s collection window loses up to 37.5 %;
        calibration.metrics.QualityGate).
    every_n_trials : int
        Recalibrate before every N-th trial (0: never on a count).
    after_failed_drift_check : bool
        A failed drift check leads to a recalibration.
    drift_check_attempts : int
        Drift-check attempts before it counts as failed.
    """

    points: int = 9
    validation_points: int = 5
    max_point_data_loss_pct: float = 40.0
    every_n_trials: int = 0
    after_failed_drift_check: bool = True
    drift_check_attempts: int = 2

    def __post_init__(self) -> None:
        v = self.max_point_data_loss_pct
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 100:
            raise ProtocolError(
                f"max_point_data_loss_pct must be a percentage above 0 and up to 100, got {v!r}",
                "max_point_data_loss_pct",
            )
        if self.points not in (5, 9, 13):
            raise ProtocolError(f"points must be 5, 9 or 13, got {self.points!r}", "points")
        for name in ("validation_points", "drift_check_attempts"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ProtocolError(f"{name} must be a positive integer, got {v!r}", name)
        if not isinstance(self.every_n_trials, int) or self.every_n_trials < 0:
            raise ProtocolError(
                f"every_n_trials must be an integer >= 0 (0 = never), got {self.every_n_trials!r}",
                "every_n_trials",
            )


@dataclasses.dataclass(frozen=True)
class Breaks:
    """Rest breaks: every N trials and/or between blocks (the reader resumes with a key)."""

    every_n_trials: int = 0
    between_blocks: bool = True
    min_duration_s: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.every_n_trials, int) or self.every_n_trials < 0:
            raise ProtocolError(
                f"every_n_trials must be an integer >= 0 (0 = never), got {self.every_n_trials!r}",
                "every_n_trials",
            )
        if self.min_duration_s < 0:
            raise ProtocolError(
                f"min_duration_s must be >= 0, got {self.min_duration_s!r}", "min_duration_s"
            )


@dataclasses.dataclass(frozen=True)
class Randomisation:
    """Trial order and counterbalancing.

    Attributes
    ----------
    seed : int or None
        Fixed seed; None derives one from study, participant and session (recorded).
    block_order : {"counterbalanced", "fixed"}
        ``counterbalanced`` rotates the block order by participant number (with two blocks:
        odd participants get A-B, even ones B-A); ``fixed`` keeps the file's order.
    shuffle : bool
        Shuffle the trials within each block.
    """

    seed: int | None = None
    block_order: Literal["counterbalanced", "fixed"] = "counterbalanced"
    shuffle: bool = True

    def __post_init__(self) -> None:
        if self.block_order not in ("counterbalanced", "fixed"):
            raise ProtocolError(
                f"block_order must be 'counterbalanced' or 'fixed', got {self.block_order!r}",
                "block_order",
            )
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise ProtocolError(f"seed must be a non-negative integer, got {self.seed!r}", "seed")


@dataclasses.dataclass(frozen=True)
class Display:
    """Look of the stimulus screen and the image layout.

    Attributes
    ----------
    background : tuple of 3 ints
        RGB 0-255 of the background (dark for reading rooms).
    margin_px : int
        Space kept free around the image.
    integer_scaling : bool
        Scale images by whole factors only.
    """

    background: tuple[int, int, int] = (0, 0, 0)
    margin_px: int = 20
    integer_scaling: bool = False

    def __post_init__(self) -> None:
        if len(self.background) != 3 or any(
            not isinstance(v, int) or not 0 <= v <= 255 for v in self.background
        ):
            raise ProtocolError(
                f"background must be three integers 0-255, got {list(self.background)!r}",
                "background",
            )
        if not isinstance(self.margin_px, int) or self.margin_px < 0:
            raise ProtocolError(f"margin_px must be an integer >= 0, got {self.margin_px!r}")


@dataclasses.dataclass(frozen=True)
class TrackerSettings:
    """How the session treats its tracker (``[tracker]``).

    Attributes
    ----------
    outage_limit_s : float
        An outage of the tracker shorter than this never ends the session (the gap is
        recorded); a longer one stops it cleanly, resumable with ``--resume``. Measured from
        the tracker's last sample to its return (for LSL: the outlet published again), not
        counting the time liblsl then takes to reconnect, nor a CPU too busy to run the
        tracker's thread (docs/acquisition.md).
    """

    outage_limit_s: float = 2.0

    def __post_init__(self) -> None:
        v = self.outage_limit_s
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.1 <= v <= 60:
            raise ProtocolError(
                f"outage_limit_s must be a number of seconds from 0.1 to 60, got {v!r}",
                "outage_limit_s",
            )


@dataclasses.dataclass(frozen=True)
class FixationSettings:
    """Which online fixation detector the session runs (``[fixations]``; docs/fixations.md).

    Attributes
    ----------
    detector : {"auto", "adaptive", "ivt", "idt"}
        ``auto`` (the default) chooses by tracker, rate and expected noise
        (``acquisition.fixations.selection.SELECTION``); a name forces that detector.
    params : table
        Settings of the named detector that differ from its defaults, e.g.
        ``params = { min_radius_deg = 0.4 }`` (only with a named detector).
    """

    detector: str = "auto"
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        from acquisition.fixations.selection import choose_detector

        if not isinstance(self.params, dict):
            raise ProtocolError(
                f"params must be a table of settings, got {self.params!r}", "params"
            )
        if self.params and self.detector == "auto":
            raise ProtocolError(
                'params need a named detector (detector = "adaptive", "ivt" or "idt"): '
                "whose settings are they?",
                "params",
            )
        try:  # the same check the session makes: names and values
            choose_detector("protocol", 300.0, method=self.detector, params=self.params)
        except (TypeError, ValueError) as exc:
            field = "params" if self.detector in ("adaptive", "ivt", "idt") else "detector"
            raise ProtocolError(str(exc), field) from None


@dataclasses.dataclass(frozen=True)
class Privacy:
    """What a session lets out (``[privacy]``; docs/privacy.md).

    Attributes
    ----------
    lsl_scope : {"network", "local"}
        Who can find the session's LSL streams: ``network`` (the lab network, as LSL does by
        default) or ``local`` (discovery on this computer only). ``--lsl-scope`` overrides it.
    require_deidentified : bool
        Refuse to start when a stimulus DICOM carries attributes that identify a patient (the
        DICOM PS3.15 basic profile's list); otherwise they are reported as a warning.
    """

    lsl_scope: Literal["network", "local"] = "network"
    require_deidentified: bool = False

    def __post_init__(self) -> None:
        if self.lsl_scope not in ("network", "local"):
            raise ProtocolError(
                f"lsl_scope must be 'network' or 'local', got {self.lsl_scope!r}", "lsl_scope"
            )
        if not isinstance(self.require_deidentified, bool):
            raise ProtocolError(
                f"require_deidentified must be true or false, got {self.require_deidentified!r}",
                "require_deidentified",
            )


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A whole study design.

    Attributes
    ----------
    name : str
        Protocol name (``gazeval``, ``demo``, or the file's own).
    study : str
        Study name: the first folder level of the sessions it records.
    description : str
    welcome : str
        Text of the first screen.
    conditions : dict of str to Condition
    blocks : tuple of Block
    timing, recalibration, breaks, randomisation, display, privacy, tracker, fixations : settings
    """

    name: str
    study: str
    conditions: dict[str, Condition]
    blocks: tuple[Block, ...]
    description: str = ""
    welcome: str = "Welcome. Thank you for taking part."
    timing: Timing = dataclasses.field(default_factory=Timing)
    recalibration: Recalibration = dataclasses.field(default_factory=Recalibration)
    breaks: Breaks = dataclasses.field(default_factory=Breaks)
    randomisation: Randomisation = dataclasses.field(default_factory=Randomisation)
    display: Display = dataclasses.field(default_factory=Display)
    privacy: Privacy = dataclasses.field(default_factory=Privacy)
    tracker: TrackerSettings = dataclasses.field(default_factory=TrackerSettings)
    fixations: FixationSettings = dataclasses.field(default_factory=FixationSettings)

    def __post_init__(self) -> None:
        import re

        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", self.study or ""):
            raise ProtocolError(
                f"study {self.study!r} must start with a letter or digit and use only letters, "
                "digits, '_', '-' or '.' (it names the sessions folder)",
                "study.name",
            )
        if not self.conditions:
            raise ProtocolError("the protocol defines no conditions", "conditions")
        if not self.blocks:
            raise ProtocolError("the protocol defines no blocks ([[blocks]])", "blocks")
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ProtocolError(f"block names must be unique, got {names}", "blocks")
        for i, b in enumerate(self.blocks):
            for c in b.conditions:
                if c not in self.conditions:
                    raise ProtocolError(
                        f"block {b.name!r} uses condition {c!r}, which is not defined; "
                        f"defined conditions: {sorted(self.conditions)}",
                        f"blocks[{i}].conditions",
                    )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON in the session's settings)."""
        return dataclasses.asdict(self)
