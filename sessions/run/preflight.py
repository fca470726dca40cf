"""Preflight: everything that can be checked before the reader sits down (and before any window).

Protocol, manifest (every image decoded), trial schedule, tracker backend, output folder,
disk space, the session number, and a display. Every problem is collected and reported at
once, each naming the thing and saying how to fix it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiment_protocols.loader import LoadedProtocol, ProtocolError, load_protocol
from experiment_protocols.schedule import StimulusRef, build_schedule
from sessions.store import SessionReader, StoreError, lock_holder, session_dir

__all__ = ["PreflightError", "PreflightResult", "estimate_bytes", "preflight"]

_BYTES_PER_SAMPLE = 200  # one samples row in SQLite with its index, generously


class PreflightError(RuntimeError):
    """Preflight found problems; ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        n = len(problems)
        super().__init__(
            f"preflight found {n} problem{'s' if n != 1 else ''}; nothing was started:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


@dataclasses.dataclass
class PreflightResult:
    """What preflight loaded (reused by the runner so nothing is read twice)."""

    protocol: LoadedProtocol
    stimuli: list[StimulusRef]
    manifest_path: Path
    manifest_text: str
    manifest_sha256: str
    windows: dict[str, tuple[float, float]]
    folder: Path
    n_trials: int
    notes: list[str]


def estimate_bytes(n_trials: int, rate_hz: float, seconds_per_trial: float = 45.0) -> int:
    """Rough size of a session's database (samples dominate)."""
    return int(n_trials * seconds_per_trial * rate_hz * _BYTES_PER_SAMPLE) + 50_000_000


def _writable(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gazeread-write-test-"):
            pass
    except OSError as exc:
        return (
            f"output folder {folder} is not writable ({exc.strerror or exc}): choose another "
            "with --out, or fix its permissions"
        )
    return None


def _display_problem() -> str | None:
    from sessions.run.display import display_missing, no_display_message

    return no_display_message("run") if display_missing() else None


def _try_tracker(
    name: str,
    options: dict[str, Any],
    rate_hz: float | None,
    problems: list[str],
    geometry: Any = None,
) -> float | None:
    """Build the tracker (not started): finds its stream or device, checks values and the rate.

    Returns its rate; adds one line to ``problems`` when it cannot be used. Nothing is started
    and no folder exists yet, so a corrected command can simply be run again.
    """
    import inspect

    from acquisition.ring_buffer import RingBuffer
    from acquisition.trackers import TrackerError, create_tracker, tracker_class
    from sessions.store import with_recorded_session

    source = None
    try:
        opts, source = with_recorded_session(name, options)
        if geometry is not None and "screen" in inspect.signature(tracker_class(name)).parameters:
            opts.setdefault("screen", geometry)  # as the runner does (pixel gaze needs it)
        tracker = create_tracker(name, RingBuffer(1 << 10), **opts)
        if rate_hz is not None:
            tracker.set_rate(rate_hz)
        return float(tracker.rate_hz)
    except (TrackerError, StoreError, ValueError, TypeError) as exc:
        problems.append(f"tracker: {exc}")
        return None
    finally:
        if source is not None:
            source.close()


def preflight(
    *,
    protocol: str,
    manifest: str | os.PathLike[str],
    tracker: str,
    participant: str,
    session: int,
    out: str | os.PathLike[str],
    resume: bool,
    rate_hz: float | None = None,
    seed: int | None = None,
    need_display: bool = True,
    tracker_options: Mapping[str, Any] | None = None,
    geometry: Any = None,
) -> PreflightResult:
    """Check everything; return what was loaded, or raise :class:`PreflightError` listing all problems."""
    problems: list[str] = []
    notes: list[str] = []
    loaded: LoadedProtocol | None = None
    try:
        loaded = load_protocol(protocol)
    except ProtocolError as exc:
        problems.append(f"protocol: {exc}")

    stimuli: list[StimulusRef] = []
    windows: dict[str, tuple[float, float]] = {}
    mpath = Path(manifest)
    mtext, msha = "", ""
    try:
        from stimuli.manifest import ManifestError, check_manifest

        strict = bool(loaded and loaded.protocol.privacy.require_deidentified)
        try:
            m = check_manifest(mpath, check_images=True, require_deidentified=strict)
            if m.problems:
                raise ManifestError(m.path, m.problems)
            if not strict:  # identifying DICOM headers: said now, all at once, per file
                for image_id, attrs in m.identifying.items():
                    notes.append(
                        f"privacy: stimulus {image_id!r} is a DICOM whose header identifies a "
                        f"patient ({', '.join(attrs)}); de-identify it, or set [privacy] "
                        "require_deidentified = true to refuse such files"
                    )
            mpath = Path(m.path)
            mtext = mpath.read_text(encoding="utf-8")
            msha = m.sha256
            for e in m.entries:
                stimuli.append(
                    StimulusRef(e.image_id, str(e.path), e.authenticity, tuple(e.findings))
                )
                if e.window is not None:
                    windows[e.image_id] = e.window
            if not stimuli:
                problems.append(f"stimuli: {mpath} lists no images")
        except ManifestError as exc:
            problems.append(f"stimuli: {exc}")
        except OSError as exc:
            problems.append(f"stimuli: cannot read {mpath}: {exc}")
    except ImportError as exc:  # pragma: no cover - stimuli package incomplete
        problems.append(f"stimuli: the manifest reader is not available ({exc})")

    # Tracker: known name, usable here.
    try:
        from acquisition.trackers import TrackerError, tracker_class
        from acquisition.trackers.options import check_tracker_options

        try:
            cls = tracker_class(tracker)
            avail = cls.is_available()
            rate = rate_hz or 1200.0
            if not avail.ok:
                problems.append(f"tracker {tracker!r} cannot be used here: {avail.reason}")
            else:
                opts = dict(tracker_options or {})
                bad = check_tracker_options(tracker, opts)
                problems += [f"tracker: {b}" for b in bad]
                if not bad:
                    rate = _try_tracker(tracker, opts, rate_hz, problems, geometry) or rate
        except TrackerError as exc:
            problems.append(f"tracker: {exc}")
            rate = rate_hz or 1200.0
        except ImportError as exc:
            problems.append(f"tracker {tracker!r}: its backend cannot be imported ({exc})")
            rate = rate_hz or 1200.0
    except ImportError as exc:  # pragma: no cover
        problems.append(f"tracker: {exc}")
        rate = 1200.0

    n_trials = 0
    folder = Path(out)
    if loaded is not None:
        try:
            folder = session_dir(out, loaded.protocol.study, participant, session)
        except StoreError as exc:
            problems.append(f"session: {exc}")
        if stimuli:
            try:
                n_trials = len(
                    build_schedule(loaded.protocol, stimuli, participant, session, seed=seed)
                )
            except ValueError as exc:
                problems.append(f"schedule: {exc}")
        db = folder / "session.sqlite"
        holder = lock_holder(folder) if db.exists() else None
        if holder is not None:
            problems.append(
                f"session: {folder} is being recorded by {holder.describe()}: wait for it to "
                "end (or stop that process) before starting or resuming it"
            )
        elif db.exists() and not resume:
            problems.append(
                f"session: a session already exists at {folder}: continue it with --resume, or "
                f"start another with --session {session + 1}"
            )
        elif resume and not db.exists():
            problems.append(
                f"session: --resume given but there is no session at {folder}; check "
                "--participant/--session/--out, or start it without --resume"
            )
        elif resume:
            try:
                with SessionReader.open(db) as s:
                    state = s.recording_state()
                    total, complete = s.trial_progress()
                if state == "completed":
                    problems.append(
                        f"session: {folder} is already completed ({complete} of {total} trials): "
                        f"nothing to resume; start another with --session {session + 1}"
                    )
                elif total and complete >= total:
                    notes.append(
                        f"closing {folder}: all {total} trials were answered before it stopped "
                        f"({state}); --resume marks it completed and re-runs nothing"
                    )
                else:
                    notes.append(
                        f"resuming {folder}: {complete} of {total} trials complete ({state})"
                    )
            except Exception as exc:  # any reason the old session cannot be read
                problems.append(f"session: cannot open {folder} to resume: {exc}")

    root = Path(out)
    w = _writable(root)
    if w:
        problems.append(w)
    else:
        free = shutil.disk_usage(root).free
        need = estimate_bytes(max(n_trials, 1), rate)
        if free < need:
            problems.append(
                f"disk space: {free / 1e9:.1f} GB free in {root}, a session of {n_trials} trials at "
                f"{rate:g} Hz needs about {need / 1e9:.1f} GB: free some space or choose --out elsewhere"
            )
    if need_display:
        d = _display_problem()
        if d:
            problems.append(d)
    if problems or loaded is None:
        raise PreflightError(problems)
    return PreflightResult(loaded, stimuli, mpath, mtext, msha, windows, folder, n_trials, notes)


def describe(result: PreflightResult) -> dict[str, Any]:
    """A JSON-ready summary (printed by the commands)."""
    return {
        "protocol": result.protocol.protocol.name,
        "study": result.protocol.protocol.study,
        "images": len(result.stimuli),
        "trials": result.n_trials,
        "folder": str(result.folder),
        "notes": result.notes,
    }
