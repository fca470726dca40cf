"""The session's store at the start of a run.

Created from the run's configuration, or, for ``--resume``, the plan of the stored session
read back.
"""

from __future__ import annotations

from pathlib import Path

from experiment_protocols.model import Protocol
from experiment_protocols.schedule import PlannedTrial, Schedule
from sessions.run.config import RunConfig
from sessions.store import SessionReader, SessionStore
from sessions.store.provenance import collect_provenance

__all__ = ["create_store", "planned_from_store", "store_trials"]


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
        provenance_json=dict(collect_provenance()["provenance_json"]),
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
