"""BIDS 1.11 eye-tracking export (``beh`` datatype, task ``reading``).

Per session: ``sub-<p>/ses-<n>/beh/sub-<p>_ses-<n>_task-reading_``
``recording-eye1_physio.tsv.gz`` (left eye) and ``recording-eye2`` (right eye), each with a
JSON sidecar; ``recording-eyeN_physioevents.tsv.gz`` (+ JSON) holding the online fixations and
the session's markers; ``events.tsv`` + ``events.json`` (image onsets and responses, screen
geometry under ``StimulusPresentation``). Dataset level: ``dataset_description.json``,
``participants.tsv``/``.json``, ``README``.

Times: the physio ``timestamp`` column is the session clock (s); ``events.tsv`` onsets are
seconds from the first sample of the session (``StartTime`` 0).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sessions.export.common import Progress, SessionData, bids_label, load_session
from sessions.store import SessionReader, trial_window

__all__ = ["TASK", "export_bids", "write_dataset_files"]

TASK = "reading"
BIDS_VERSION = "1.11.0"
_CHUNK_S = 120.0
_PHYSIO_COLS = ("t", "left_x", "left_y", "right_x", "right_y", "left_pupil", "right_pupil")


def _json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _na(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, str):
        return v.replace("\t", " ").replace("\n", " ") or "n/a"
    return v


def _prefix(data: SessionData) -> tuple[Path, str]:
    sub = bids_label(data.info["participant"])
    ses = bids_label(data.info["session_number"])
    return Path(f"sub-{sub}") / f"ses-{ses}" / "beh", f"sub-{sub}_ses-{ses}_task-{TASK}"


def _physio_sidecar(data: SessionData, eye: str) -> dict[str, Any]:
    tracker = data.info.get("tracker_json") or {}
    vals = [c for c in data.calibrations if c["kind"] == "validation"]
    cals = [c for c in data.calibrations if c["kind"] == "calibration"]
    side: dict[str, Any] = {
        "SamplingFrequency": data.nominal_rate_hz,
        "StartTime": 0,
        "Columns": ["timestamp", "x_coordinate", "y_coordinate", "pupil_size"],
        "PhysioType": "eyetrack",
        "TaskName": TASK,
        "RecordedEye": eye,
        "SampleCoordinateSystem": "gaze-on-screen",
        "EnvironmentCoordinates": "top-left",
        "Manufacturer": tracker.get("backend") or "n/a",
        "ManufacturersModelName": tracker.get("model") or "n/a",
        "DeviceSerialNumber": tracker.get("serial") or "n/a",
        "SoftwareVersions": f"gazeread {(data.info.get('provenance_json') or {}).get('packages', {}).get('gazeread', 'unknown')}",
        "CalibrationCount": len(cals),
        "timestamp": {
            "Description": "Session clock (LSL local_clock) time of the sample, mapped from the tracker's own timestamp",
            "Units": "s",
            "Origin": "LSL local_clock epoch (monotonic clock of the recording computer)",
        },
        "x_coordinate": {
            "LongName": "Gaze position (x)",
            "Description": f"Gaze x of the {eye} eye on the stimulus screen, origin top-left",
            "Units": "pixel",
        },
        "y_coordinate": {
            "LongName": "Gaze position (y)",
            "Description": f"Gaze y of the {eye} eye on the stimulus screen, origin top-left, y down",
            "Units": "pixel",
        },
        "pupil_size": {"Description": f"Pupil diameter of the {eye} eye", "Units": "mm"},
    }
    if vals and vals[-1]["accuracy_deg"] is not None:
        side["AverageCalibrationError"] = float(vals[-1]["accuracy_deg"])
        if vals[-1]["worst_deg"] is not None:
            side["MaximalCalibrationError"] = float(vals[-1]["worst_deg"])
    if cals:
        side["CalibrationType"] = str(cals[-1]["method"])
    return side


@contextlib.contextmanager
def _gzip_text(path: str | Path) -> Iterator[io.TextIOWrapper]:
    """A text stream into a reproducible gzip file (no name, mtime 0 in the header)."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as text,
    ):
        yield text


def _write_physio(store: SessionReader, data: SessionData, base: Path, t_first: float) -> None:
    w, h = data.screen.width_px, data.screen.height_px
    with contextlib.ExitStack() as stack:
        handles = {
            eye: stack.enter_context(_gzip_text(f"{base}_recording-{rec}_physio.tsv.gz"))
            for eye, rec in (("left", "eye1"), ("right", "eye2"))
        }
        t0 = t_first
        rng = store.sample_time_range()
        t_end = rng[1] if rng else t0
        while t0 <= t_end:
            s = store.sample_arrays(_PHYSIO_COLS, t0, t0 + _CHUNK_S)
            t0 += _CHUNK_S
            if len(s["t"]) == 0:
                continue
            for eye, fh in handles.items():
                df = pd.DataFrame(
                    {
                        "timestamp": np.round(s["t"], 7),
                        "x": np.round(s[f"{eye}_x"] * w, 3),
                        "y": np.round(s[f"{eye}_y"] * h, 3),
                        "pupil": np.round(s[f"{eye}_pupil"], 4),
                    }
                )
                df.to_csv(fh, sep="\t", header=False, index=False, na_rep="n/a")


def _physioevents(data: SessionData, store: SessionReader) -> pd.DataFrame:
    rows: list[tuple[Any, Any, Any, Any]] = []
    for f in store.fixations():
        rows.append((f["t_start"], round(f["t_end"] - f["t_start"], 6), "fixation", "n/a"))
    for e in data.events:
        msg = e["kind"] + (f": {e['message']}" if e["message"] else "")
        rows.append((e["t"], "n/a", "n/a", _na(msg)))
    rows.sort(key=lambda r: float(r[0]))
    df = pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "message"])
    df["onset"] = df["onset"].astype(float).round(7)
    return df


def _events(data: SessionData, t_first: float) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for tr in data.trials:
        t0, t1 = trial_window(tr)
        if t0 is None:
            continue
        resp = data.responses.get(int(tr["id"]))
        common = {
            "trial": int(tr["id"]) + 1,
            "condition": tr["condition"],
            "image_id": tr["image_id"],
            "ground_truth": _na(tr["authenticity"]),
            "findings_truth": _na(tr["findings"]),
        }
        rows.append(
            {
                "onset": round(t0 - t_first, 6),
                "duration": "n/a" if t1 is None else round(t1 - t0, 6),
                "trial_type": "image",
                **common,
                "response_authenticity": "n/a",
                "response_findings": "n/a",
                "confidence": "n/a",
                "response_time": "n/a",
            }
        )
        if resp is not None:
            rows.append(
                {
                    "onset": round(float(resp["t_response"]) - t_first, 6),
                    "duration": 0,
                    "trial_type": "response",
                    **common,
                    "response_authenticity": _na(resp["authenticity"]),
                    "response_findings": _na(resp["findings"]),
                    "confidence": _na(resp["confidence"]),
                    "response_time": _na(resp["rt_s"]),
                }
            )
    cols = [
        "onset", "duration", "trial_type", "trial", "condition", "image_id", "ground_truth",
        "findings_truth", "response_authenticity", "response_findings", "confidence",
        "response_time",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).sort_values("onset", kind="stable")


def _events_sidecar(data: SessionData) -> dict[str, Any]:
    s = data.screen
    return {
        "TaskName": TASK,
        "TaskDescription": (
            "A radiologist reads chest X-rays, real and AI-generated, in free viewing; per image "
            "they report findings (diagnostic) or judge real vs synthetic with a confidence "
            "(authenticity)."
        ),
        "StimulusPresentation": {
            "ScreenDistance": s.distance_mm / 1000.0,
            "ScreenOrigin": ["top", "left"],
            "ScreenResolution": [int(s.width_px), int(s.height_px)],
            "ScreenSize": [s.width_mm / 1000.0, s.height_mm / 1000.0],
            "SoftwareName": "gazeread",
        },
        "onset": {"Description": "Seconds from the first gaze sample of the session", "Units": "s"},
        "duration": {"Description": "Image on screen (image onset to offset flip)", "Units": "s"},
        "trial_type": {
            "Description": "What happened",
            "Levels": {"image": "an image was shown", "response": "the reader answered"},
        },
        "trial": {
            "Description": "trial number in the session schedule, from 1 (session.sqlite "
            "trials.id + 1)"
        },
        "condition": {
            "Description": "Task condition: diagnostic (findings) or authenticity (real vs synthetic)"
        },
        "image_id": {"Description": "Stimulus identifier from the stimulus manifest"},
        "ground_truth": {"Description": "Whether the image is real or synthetic (manifest)"},
        "findings_truth": {"Description": "Ground-truth findings, ';'-separated (manifest)"},
        "response_authenticity": {"Description": "The reader's real/synthetic judgement"},
        "response_findings": {"Description": "Findings the reader reported, ';'-separated"},
        "confidence": {"Description": "The reader's confidence on the protocol's scale"},
        "response_time": {"Description": "Image onset to response", "Units": "s"},
    }


def write_dataset_files(out: Path, sessions: list[SessionData]) -> None:
    """``dataset_description.json``, ``participants.tsv``/``.json`` and ``README``.

    Participants already listed in an existing ``participants.tsv`` are kept.
    """
    out.mkdir(parents=True, exist_ok=True)
    studies = sorted({d.info["study"] for d in sessions})
    _json(
        out / "dataset_description.json",
        {
            "Name": f"gazeread reading study {', '.join(studies)}",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{"Name": "gazeread", "Description": "gazeread export --format bids"}],
        },
    )
    rows: dict[str, dict[str, str]] = {}
    ptsv = out / "participants.tsv"
    if ptsv.exists():
        with ptsv.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                rows[r["participant_id"]] = r
    for d in sessions:
        pid = f"sub-{bids_label(d.info['participant'])}"
        rows[pid] = {"participant_id": pid, "study": d.info["study"]}
    with ptsv.open("w", encoding="utf-8", newline="") as fh:
        wr = csv.DictWriter(fh, ["participant_id", "study"], delimiter="\t", lineterminator="\n")
        wr.writeheader()
        for pid in sorted(rows):
            wr.writerow({"participant_id": pid, "study": rows[pid].get("study", "n/a")})
    _json(
        out / "participants.json",
        {
            "participant_id": {"Description": "Reader (radiologist) identifier"},
            "study": {"Description": "gazeread study name"},
        },
    )
    readme = out / "README"
    if not readme.exists():
        readme.write_text(
            "Eye-tracked reading of real and synthetic chest X-rays, recorded with gazeread.\n\n"
            "Each session holds per-eye gaze (recording-eye1 = left, recording-eye2 = right) in\n"
            "screen pixels with the session-clock timestamp, online fixations and markers in\n"
            "_physioevents, and image onsets and the reader's responses in _events.tsv.\n",
            encoding="utf-8",
        )


def export_bids(
    store: SessionReader, out: str | Path, progress: Progress | None = None
) -> list[Path]:
    """Export one session into the BIDS dataset at ``out``; returns the files written.

    Call :func:`write_dataset_files` once after all sessions (``export_sessions`` does).
    """
    out = Path(out)
    data = load_session(store)
    folder, prefix = _prefix(data)
    (out / folder).mkdir(parents=True, exist_ok=True)
    base = out / folder / prefix
    rng = store.sample_time_range()
    t_first = rng[0] if rng else 0.0
    _write_physio(store, data, base, t_first)
    if progress:
        progress("physio")
    written: list[Path] = []
    pev = _physioevents(data, store)
    for eye, rec in (("left", "eye1"), ("right", "eye2")):
        _json(Path(f"{base}_recording-{rec}_physio.json"), _physio_sidecar(data, eye))
        pev_path = Path(f"{base}_recording-{rec}_physioevents.tsv.gz")
        with _gzip_text(pev_path) as fh:
            pev.to_csv(fh, sep="\t", header=False, index=False, na_rep="n/a")
        _json(
            Path(f"{base}_recording-{rec}_physioevents.json"),
            {
                "Columns": ["onset", "duration", "trial_type", "message"],
                "TaskName": TASK,
                "Description": "Online fixations (binocular, gazeread's detector) and session markers",
                "OnsetSource": "timestamp",
                "onset": {"Description": "Session clock time", "Units": "s"},
                "duration": {"Description": "Fixation duration", "Units": "s"},
                "trial_type": {
                    "Description": "Event type",
                    "Levels": {"fixation": "a fixation detected online"},
                },
                "message": {"Description": "Marker or device event: kind, then its message"},
            },
        )
        written += [
            Path(f"{base}_recording-{rec}_physio.tsv.gz"),
            Path(f"{base}_recording-{rec}_physio.json"),
            pev_path,
        ]
    ev = _events(data, t_first)
    ev.to_csv(f"{base}_events.tsv", sep="\t", index=False, na_rep="n/a", lineterminator="\n")
    _json(Path(f"{base}_events.json"), _events_sidecar(data))
    written += [Path(f"{base}_events.tsv"), Path(f"{base}_events.json")]
    if progress:
        progress("events")
    return written
