"""Configuration and result types of a session run, and small store helpers (see runner.py)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acquisition.geometry import ScreenGeometry
from calibration.procedure import StopSession
from experiment_protocols.loader import LoadedProtocol
from experiment_protocols.model import Protocol
from experiment_protocols.schedule import PlannedTrial, Schedule, StimulusRef
from experiment_protocols.simulated_reader import SimulatedReader
from sessions.store import SessionReader, SessionStore, session_dir

__all__ = [
    "RunConfig",
    "RunResult",
    "SessionAbort",
    "create_store",
    "planned_from_store",
    "provenance",
    "store_trials",
]


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


def planned_from_store(store: SessionStore) -> list[PlannedTrial]:
    """The trial list of a stored session (the plan written before its first trial)."""
    out = []
    for r in store.trials():
        out.append(
            PlannedTrial(
                index=int(r["id"]),
                block=r["block"],
                block_index=0,
                condition=r["condition"],
                image_id=r["image_id"],
                image_path=r["image_path"],
                authenticity=r["authenticity"] or "",
                findings=tuple(f for f in (r["findings"] or "").split(";") if f),
            )
        )
    return out


def provenance() -> dict[str, Any]:
    """Python, OS, host and package versions (``provenance_json``)."""
    from sessions.provenance import collect_provenance

    return dict(collect_provenance()["provenance_json"])


def store_trials(folder: Path) -> list[str]:
    """Trial statuses of a stored session (opened read-only for the summary)."""
    with SessionReader.open(folder) as s:
        return s.trial_statuses()


def create_store(config: RunConfig, protocol: Protocol, schedule: Schedule) -> SessionStore:
    """A new session store for ``config``: protocol, manifest, screen, seed and settings."""
    return SessionStore.create(
        config.out,
        protocol.study,
        config.participant,
        config.session,
        protocol_name=protocol.name,
        protocol_text=config.protocol.text,
        protocol_sha256=config.protocol.sha256,
        manifest_path=str(config.manifest_path),
        manifest_text=config.manifest_text,
        manifest_sha256=config.manifest_sha256,
        seed=schedule.seed,
        screen_json=config.geometry.to_dict(),
        provenance_json=provenance(),
        settings_json={
            "tracker": config.tracker,
            "tracker_options": {
                k: v
                for k, v in config.tracker_options.items()
                if isinstance(v, (int, float, str, bool, dict, list))
            },
            "auto_respond": config.auto_respond,
            "fullscreen": config.fullscreen,
            "block_order": list(schedule.block_order),
            "participant_number": schedule.participant_number,
            "protocol_source": config.protocol.source,
            "lsl_scope": config.lsl_scope,
        },
    )
