"""A study's sessions read through the store, one session at a time, into plain tables.

:func:`read_session` turns one session into a :class:`SessionExtract` (picklable: numbers and
short lists, never samples), so that :func:`load_study` can read sessions on every core and
memory stays bounded by one session's trial at a time. Everything the findings need is here:
per reader x trial the answer and the truth, the trial's fixations on the image (image
coordinates normalised to 0..1, durations, in order), and the trial's pupil (baseline before
onset, size and dilation while the image was shown, blinks interpolated).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sessions.store import SessionReader

__all__ = [
    "BASELINE_S",
    "SessionExtract",
    "StudyData",
    "TrialRecord",
    "find_sessions",
    "load_study",
    "read_session",
]

#: Pupil baseline: the mean over this long before image onset (blinks interpolated).
BASELINE_S = 0.5
#: Pupil response window: from this long after onset (the light reflex settles) to offset.
RESPONSE_FROM_S = 0.5


@dataclasses.dataclass
class TrialRecord:
    """One reader x trial: what was shown, what was answered, and what the eyes did."""

    reader: str
    session: str
    trial: int  # from 1, as people count
    image_id: str
    image_path: str
    condition: str
    truth_authenticity: str
    truth_findings: tuple[str, ...]
    answer_authenticity: str | None
    answer_findings: tuple[str, ...] | None
    confidence: float | None
    confidence_min: float
    confidence_max: float
    rt_s: float | None
    viewing_s: float
    fixations: np.ndarray  # (n, 3): x, y (image, 0..1), duration (s); on the image, in order
    pupil_baseline_mm: float
    pupil_mm: float
    pupil_dilation_mm: float
    image_size: tuple[int, int]
    px_per_deg_image: float  # image px per degree of visual angle (for saliency sigma)


@dataclasses.dataclass
class SessionExtract:
    """What one session contributes to the study."""

    folder: str
    reader: str
    trials: list[TrialRecord]
    finding_labels: tuple[str, ...]
    protocol_text: str = ""


@dataclasses.dataclass
class StudyData:
    """Every session of a study, as records (``trials``) and the finding vocabulary."""

    trials: list[TrialRecord]
    finding_labels: tuple[str, ...]
    sessions: list[str]
    protocol_text: str = ""  # the first session's: what the readers were told and asked

    @property
    def readers(self) -> list[str]:
        """Reader labels, sorted."""
        return sorted({t.reader for t in self.trials})


def find_sessions(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every session folder (holding ``session.sqlite``) under the given folders, sorted."""
    out: set[Path] = set()
    for root in roots:
        r = Path(root)
        if (r / "session.sqlite").is_file():
            out.add(r)
        elif r.is_dir():
            out.update(p.parent for p in r.rglob("session.sqlite"))
        else:
            raise FileNotFoundError(f"{r}: no such folder")
    if not out:
        raise FileNotFoundError(
            f"no session (session.sqlite) under {', '.join(str(r) for r in roots)}"
        )
    return sorted(out)


def _protocol_scales(text: str | None) -> tuple[dict[str, tuple[float, float]], tuple[str, ...]]:
    """Confidence scale per condition and the diagnostic labels, from the stored protocol."""
    if not text:
        return {}, ()
    from experiment_protocols.loader import ProtocolError, parse_protocol

    try:
        proto = parse_protocol(text)
    except ProtocolError:
        return {}, ()
    scales: dict[str, tuple[float, float]] = {}
    labels: list[str] = []
    for name, cond in proto.conditions.items():
        scale = getattr(cond.form, "confidence_scale", None)
        if scale:
            scales[name] = (float(min(scale)), float(max(scale)))
        labels += list(getattr(cond.form, "labels", ()) or ())
    return scales, tuple(dict.fromkeys(labels))


#: Answers that mean "nothing found": an empty set of findings.
NO_FINDING = frozenset({"no finding", "none", "normal"})


def _split(text: Any) -> tuple[str, ...]:
    return tuple(
        f.strip()
        for f in str(text or "").split(";")
        if f.strip() and f.strip().lower() not in NO_FINDING
    )


def _pupil(store: SessionReader, t_onset: float, t_offset: float) -> tuple[float, float, float]:
    """Baseline, mean size while shown, and dilation (size - baseline), mm; NaN if unknown."""
    cols = ("t", "left_pupil", "right_pupil", "left_valid", "right_valid")
    a = store.sample_arrays(cols, t_onset - BASELINE_S, t_offset)
    t = a["t"]
    if len(t) < 4:
        return math.nan, math.nan, math.nan
    lp = np.where(a["left_valid"] > 0, a["left_pupil"], np.nan)
    rp = np.where(a["right_valid"] > 0, a["right_pupil"], np.nan)
    both = np.vstack((lp, rp))
    n_ok = np.isfinite(both).sum(axis=0)
    p = np.where(
        n_ok > 0, np.nansum(both, axis=0) / np.maximum(n_ok, 1), np.nan
    )  # mean of the valid eyes
    ok = np.isfinite(p)
    if ok.sum() < 4:
        return math.nan, math.nan, math.nan
    p = np.interp(t, t[ok], p[ok])  # blinks and losses interpolated
    base = p[t < t_onset]
    resp = p[t >= t_onset + RESPONSE_FROM_S]
    if len(base) == 0 or len(resp) == 0:
        return math.nan, math.nan, math.nan
    b, r = float(base.mean()), float(resp.mean())
    return b, r, r - b


def _trial_fixations(
    store: SessionReader, tr: dict[str, Any]
) -> tuple[np.ndarray, tuple[int, int]]:
    layout = tr.get("layout_json")
    size = (1, 1)
    if layout:
        import json

        lay = json.loads(layout) if isinstance(layout, str) else layout
        size = (int(lay.get("image_width", 1)), int(lay.get("image_height", 1)))
    rows = store.trial_fixations(int(tr["id"]), float(tr["t_onset"]), float(tr["t_offset"]) + 1e-9)
    pts = [
        (f["image_x"] / size[0], f["image_y"] / size[1], f["duration_ms"] / 1000.0)
        for f in rows
        if f.get("image_x") is not None and f.get("image_y") is not None
    ]
    return np.array(pts, dtype=float).reshape(-1, 3), size


def read_session(folder: str | os.PathLike[str]) -> SessionExtract:
    """Read one session (read-only) into a :class:`SessionExtract`."""
    from acquisition.geometry import ScreenGeometry, px_per_degree

    with SessionReader.open(folder) as store:
        info = store.session_info()
        scales, labels = _protocol_scales(info.get("protocol_text"))
        screen = ScreenGeometry.from_dict(info["screen_json"]) if info.get("screen_json") else None
        ppd_screen = float(np.mean(px_per_degree(screen))) if screen else 40.0
        reader = str(info.get("participant"))
        answers = {int(r["trial_id"]): r for r in store.responses()}
        records: list[TrialRecord] = []
        observed_conf = [
            r["confidence"] for r in answers.values() if r.get("confidence") is not None
        ]
        for tr in store.trials():
            if tr.get("t_onset") is None or tr.get("t_offset") is None:
                continue
            resp = answers.get(int(tr["id"]))
            fx, size = _trial_fixations(store, tr)
            lay = tr.get("layout_json")
            scale = 1.0
            if lay:
                import json

                scale = float((json.loads(lay) if isinstance(lay, str) else lay).get("scale", 1.0))
            lo, hi = scales.get(
                tr["condition"],
                (min(observed_conf, default=1.0), max(observed_conf, default=5.0)),
            )
            base, size_mm, dil = _pupil(store, float(tr["t_onset"]), float(tr["t_offset"]))
            records.append(
                TrialRecord(
                    reader=reader,
                    session=str(Path(folder)),
                    trial=int(tr["id"]) + 1,
                    image_id=str(tr["image_id"]),
                    image_path=str(tr.get("image_path") or ""),
                    condition=str(tr["condition"]),
                    truth_authenticity=str(tr.get("authenticity") or ""),
                    truth_findings=_split(tr.get("findings")),
                    answer_authenticity=(resp or {}).get("authenticity"),
                    answer_findings=_split(resp.get("findings")) if resp else None,
                    confidence=None
                    if not resp or resp.get("confidence") is None
                    else float(resp["confidence"]),
                    confidence_min=lo,
                    confidence_max=hi,
                    rt_s=None if not resp or resp.get("rt_s") is None else float(resp["rt_s"]),
                    viewing_s=float(tr["t_offset"]) - float(tr["t_onset"]),
                    fixations=fx,
                    pupil_baseline_mm=base,
                    pupil_mm=size_mm,
                    pupil_dilation_mm=dil,
                    image_size=size,
                    px_per_deg_image=ppd_screen / max(scale, 1e-9),
                )
            )
    return SessionExtract(
        str(folder), reader, records, labels, str(info.get("protocol_text") or "")
    )


def load_study(
    roots: Iterable[str | os.PathLike[str]],
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyData:
    """Every session under ``roots``, read on ``workers`` processes (default: all cores)."""
    folders = find_sessions(roots)
    n = workers or os.cpu_count() or 1
    extracts: list[SessionExtract] = []
    if n <= 1 or len(folders) == 1:
        for f in folders:
            extracts.append(read_session(f))
            if progress:
                progress(str(f))
    else:
        with ProcessPoolExecutor(max_workers=min(n, len(folders))) as pool:
            for ex in pool.map(read_session, folders):
                extracts.append(ex)
                if progress:
                    progress(ex.folder)
    labels: list[str] = []
    for ex in extracts:
        labels += list(ex.finding_labels)
    trials = [t for ex in extracts for t in ex.trials]
    for t in trials:
        labels += list(t.truth_findings)
    protocol = next((ex.protocol_text for ex in extracts if ex.protocol_text), "")
    return StudyData(trials, tuple(dict.fromkeys(labels)), [ex.folder for ex in extracts], protocol)
