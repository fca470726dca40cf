"""What a session run is given (:class:`RunConfig`) and how it ended (:class:`RunResult`)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acquisition.geometry import ScreenGeometry
from calibration.procedure import StopSession
from experiment_protocols.loader import LoadedProtocol
from experiment_protocols.schedule import StimulusRef
from experiment_protocols.simulated_reader import SimulatedReader
from sessions.store import session_dir

__all__ = ["RunConfig", "RunResult", "SessionAbort"]


class SessionAbort(StopSession):
    """Stop the session now (tracker lost, recorder failed); the message says why.

    A :class:`~calibration.procedure.StopSession`, so that it also ends a calibration under way.
    """


@dataclasses.dataclass
class RunConfig:
    """Everything a session needs (built by ``gazeread run`` / ``gazeread demo``)."""

    protocol: LoadedProtocol
    stimuli: list[StimulusRef]
    manifest_path: Path
    manifest_text: str
    manifest_sha256: str
    tracker: str
    participant: str
    session: int = 1
    out: Path = Path("gazeread-sessions")
    resume: bool = False
    auto_respond: bool = False
    geometry: ScreenGeometry = dataclasses.field(default_factory=ScreenGeometry)
    fullscreen: bool = True
    tracker_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    rate_hz: float | None = None
    seed: int | None = None
    reader: SimulatedReader | None = None
    lsl: bool = True
    #: who can find the LSL streams: network or local (liblsl is configured before the run)
    lsl_scope: str = "network"
    #: what the pause menu answers by itself in unattended runs (tests use "end")
    auto_pause_choice: str = "resume"
    windows: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)

    @property
    def folder(self) -> Path:
        """The session folder."""
        return session_dir(self.out, self.protocol.protocol.study, self.participant, self.session)


@dataclasses.dataclass
class RunResult:
    """How the session ended."""

    folder: Path
    status: str  # completed | ended | aborted | interrupted
    trials_total: int
    trials_complete: int
    message: str = ""
    problems: list[str] = dataclasses.field(default_factory=list)
    #: the process exit code a stop signal calls for (130 SIGINT, 143 SIGTERM), else None
    signal_exit: int | None = None
