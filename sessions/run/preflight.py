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

from acquisition.geometry import ScreenGeometry
from experiment_protocols.loader import LoadedProtocol, ProtocolError, load_protocol
from experiment_protocols.schedule import StimulusRef, build_schedule
from sessions.store import SessionReader, StoreError, lock_holder, session_dir

__all__ = ["PreflightError", "PreflightResult", "estimate_bytes", "preflight"]

_BYTES_PER_SAMPLE = 200  # one samples row in SQLite with its index, generously
#: The rate the disk estimate assumes when the tracker cannot say its own (the fastest common one).
ESTIMATE_RATE_HZ = 1200.0


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


@dataclasses.dataclass
class _Stimuli:
    """What the manifest check loaded."""

    path: Path
    text: str = ""
    sha256: str = ""
    refs: list[StimulusRef] = dataclasses.field(default_factory=list)
    windows: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)


def _check_protocol(protocol: str, problems: list[str]) -> LoadedProtocol | None:
    try:
        return load_protocol(protocol)
    except ProtocolError as exc:
        problems.append(f"protocol: {exc}")
        return None


def _check_stimuli(
    manifest: str | os.PathLike[str],
    loaded: LoadedProtocol | None,
    problems: list[str],
    notes: list[str],
) -> _Stimuli:
    """The manifest with every image decoded; identifying DICOM headers said all at once."""
    from stimuli.manifest import ManifestError, check_manifest

    out = _Stimuli(Path(manifest))
    strict = bool(loaded and loaded.protocol.privacy.require_deidentified)
    try:
        m = check_manifest(out.path, check_images=True, require_deidentified=strict)
        if m.problems:
            raise ManifestError(m.path, m.problems)
        if not strict:
            for image_id, attrs in m.identifying.items():
                notes.append(
                    f"privacy: stimulus {image_id!r} is a DICOM whose header identifies a "
                    f"patient ({', '.join(attrs)}); de-identify it, or set [privacy] "
                    "require_deidentified = true to refuse such files"
                )
        out.path = Path(m.path)
        out.text = out.path.read_text(encoding="utf-8")
        out.sha256 = m.sha256
        for e in m.entries:
            out.refs.append(StimulusRef(e.image_id, str(e.path), e.authenticity, tuple(e.findings)))
            if e.window is not None:
                out.windows[e.image_id] = e.window
        if not out.refs:
            problems.append(f"stimuli: {out.path} lists no images")
    except ManifestError as exc:
        problems.append(f"stimuli: {exc}")
    except OSError as exc:
        problems.append(f"stimuli: cannot read {out.path}: {exc}")
    return out


def _check_tracker(
    name: str,
    options: dict[str, Any],
    rate_hz: float | None,
    geometry: Any,
    problems: list[str],
) -> float:
    """Known backend, usable here, valid options, its stream or device found; returns its rate.

    The tracker is built but not started, and no folder exists yet, so a corrected command can
    simply be run again. Where it cannot be built the rate asked for (else the default) is used
    for the disk estimate.
    """
    from acquisition.ring_buffer import RingBuffer
    from acquisition.trackers import (
        TrackerError,
        create_tracker,
        options_with_screen,
        tracker_class,
    )
    from acquisition.trackers.options import check_tracker_options
    from sessions.store import with_recorded_session

    fallback = rate_hz or ESTIMATE_RATE_HZ
    source = None
    try:
        avail = tracker_class(name).is_available()
        if not avail.ok:
            problems.append(f"tracker {name!r} cannot be used here: {avail.reason}")
            return fallback
        bad = check_tracker_options(name, options)
        if bad:
            problems += [f"tracker: {b}" for b in bad]
            return fallback
        opts, source = with_recorded_session(name, options)
        tracker = create_tracker(
            name, RingBuffer(1 << 10), **options_with_screen(name, opts, geometry)
        )
        if rate_hz is not None:
            tracker.set_rate(rate_hz)
        return float(tracker.rate_hz)
    except ImportError as exc:
        problems.append(f"tracker {name!r}: its backend cannot be imported ({exc})")
    except (TrackerError, StoreError, ValueError, TypeError) as exc:
        problems.append(f"tracker: {exc}")
    finally:
        if source is not None:
            source.close()
    return fallback


def _check_session(
    folder: Path, session: int, resume: bool, problems: list[str], notes: list[str]
) -> None:
    """The session number: free for a new session, or resumable (and not being recorded)."""
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
        _check_resumable(folder, session, problems, notes)


def _check_resumable(folder: Path, session: int, problems: list[str], notes: list[str]) -> None:
    try:
        with SessionReader.open(folder / "session.sqlite") as s:
            state = s.recording_state()
            total, complete = s.trial_progress()
    except Exception as exc:  # any reason the old session cannot be read
        problems.append(f"session: cannot open {folder} to resume: {exc}")
        return
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
        notes.append(f"resuming {folder}: {complete} of {total} trials complete ({state})")


def _check_disk(root: Path, n_trials: int, rate: float, problems: list[str]) -> None:
    w = _writable(root)
    if w:
        problems.append(w)
        return
    free = shutil.disk_usage(root).free
    need = estimate_bytes(max(n_trials, 1), rate)
    if free < need:
        problems.append(
            f"disk space: {free / 1e9:.1f} GB free in {root}, a session of {n_trials} trials at "
            f"{rate:g} Hz needs about {need / 1e9:.1f} GB: free some space or choose --out elsewhere"
        )


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
    geometry: ScreenGeometry | None = None,
) -> PreflightResult:
    """Check everything; return what was loaded, or raise :class:`PreflightError` listing all problems."""
    problems: list[str] = []
    notes: list[str] = []
    loaded = _check_protocol(protocol, problems)
    stim = _check_stimuli(manifest, loaded, problems, notes)
    rate = _check_tracker(tracker, dict(tracker_options or {}), rate_hz, geometry, problems)
    n_trials = 0
    folder = Path(out)
    if loaded is not None:
        try:
            folder = session_dir(out, loaded.protocol.study, participant, session)
        except StoreError as exc:
            problems.append(f"session: {exc}")
        if stim.refs:
            try:
                n_trials = len(
                    build_schedule(loaded.protocol, stim.refs, participant, session, seed=seed)
                )
            except ValueError as exc:
                problems.append(f"schedule: {exc}")
        _check_session(folder, session, resume, problems, notes)
    _check_disk(Path(out), n_trials, rate, problems)
    display = _display_problem() if need_display else None
    if display:
        problems.append(display)
    if problems or loaded is None:
        raise PreflightError(problems)
    return PreflightResult(
        loaded, stim.refs, stim.path, stim.text, stim.sha256, stim.windows, folder, n_trials, notes
    )


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
