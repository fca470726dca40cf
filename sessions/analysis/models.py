"""Multimodal-model answers under the readers' conditions: the CSV, its template, its checks.

The file has one row a model x item: ``model, image_id, condition, findings, authenticity,
confidence`` (``findings`` ';'-separated as in a manifest; ``authenticity`` real or synthetic;
``confidence`` on the same scale the readers used, or empty). ``gazeread analyze
--models-template STUDY_DIR`` writes it with the study's items and the model column empty, to
be filled in wherever the models are run (the stimulus export gives them the images, the
instructions and the questions the readers saw).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sessions.analysis.study import StudyData

__all__ = [
    "MODEL_COLUMNS",
    "ModelAnswer",
    "ModelsFileError",
    "read_models",
    "write_items",
    "write_template",
]

MODEL_COLUMNS = ("model", "image_id", "condition", "findings", "authenticity", "confidence")


class ModelsFileError(ValueError):
    """A models file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True)
class ModelAnswer:
    """One model's answer to one item."""

    model: str
    image_id: str
    condition: str
    findings: tuple[str, ...] | None
    authenticity: str | None
    confidence: float | None


def write_template(study: StudyData, path: str | Path) -> Path:
    """The models CSV with every item (image x condition) of the study, answers empty."""
    items = sorted({(t.image_id, t.condition) for t in study.trials})
    out = Path(path)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MODEL_COLUMNS)
        for image_id, condition in items:
            w.writerow(["", image_id, condition, "", "", ""])
    return out


def write_items(study: StudyData, folder: str | Path) -> Path:
    """What a model must be given to answer as the readers did, in ``folder``.

    ``images/`` (each stimulus file, copied from where the sessions showed it), ``items.csv``
    (image_id, condition, file) and ``prompts.json`` (per condition: the instructions, the
    question, the finding labels and the confidence scale of the protocol the readers saw).
    """
    import json
    import shutil

    out = Path(folder)
    (out / "images").mkdir(parents=True, exist_ok=True)
    items = sorted({(t.image_id, t.condition, t.image_path) for t in study.trials})
    rows = []
    for image_id, condition, src in items:
        path = Path(src)
        name = f"{image_id}{path.suffix}" if path.suffix else image_id
        if path.is_file() and not (out / "images" / name).exists():
            shutil.copy2(path, out / "images" / name)
        rows.append(
            (image_id, condition, f"images/{name}" if path.is_file() else f"(missing: {src})")
        )
    with (out / "items.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("image_id", "condition", "file"))
        w.writerows(rows)
    (out / "prompts.json").write_text(
        json.dumps(_prompts(study.protocol_text), indent=1), encoding="utf-8"
    )
    return out


def _prompts(protocol_text: str) -> dict[str, object]:
    if not protocol_text:
        return {}
    from experiment_protocols.loader import ProtocolError, parse_protocol

    try:
        proto = parse_protocol(protocol_text)
    except ProtocolError:
        return {}
    out: dict[str, object] = {}
    for name, cond in proto.conditions.items():
        form = cond.form
        out[name] = {
            "instructions": cond.instructions,
            "question": getattr(form, "question", None),
            "labels": list(getattr(form, "labels", ()) or ()),
            "no_finding": getattr(form, "no_finding", None),
            "confidence_scale": list(getattr(form, "confidence_scale", ()) or ()),
            "confidence_low": getattr(form, "confidence_low", None),
            "confidence_high": getattr(form, "confidence_high", None),
        }
    return out


def read_models(path: str | Path, study: StudyData) -> list[ModelAnswer]:
    """Read and check a models CSV against the study's items; every problem at once."""
    p = Path(path)
    items = {(t.image_id, t.condition) for t in study.trials}
    problems: list[str] = []
    out: list[ModelAnswer] = []
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ModelsFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    rows = list(csv.DictReader(text.splitlines()))
    missing = [c for c in MODEL_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise ModelsFileError(
            f"{p}: needs the columns {', '.join(MODEL_COLUMNS)}"
            + (f" (missing {', '.join(missing)})" if missing else " and at least one row")
            + "; gazeread analyze --models-template STUDY_DIR writes one to fill in"
        )
    for line, r in enumerate(rows, start=2):
        model, image_id, cond = (r.get(k, "").strip() for k in ("model", "image_id", "condition"))
        if not model:
            continue  # a template row nobody filled in
        if (image_id, cond) not in items:
            problems.append(
                f"line {line}: {image_id!r} in condition {cond!r} is not an item of the study"
            )
            continue
        auth = (r.get("authenticity") or "").strip().lower() or None
        if auth not in (None, "real", "synthetic"):
            problems.append(f"line {line}, authenticity: {auth!r} is not real or synthetic")
            continue
        conf_text = (r.get("confidence") or "").strip()
        try:
            conf = float(conf_text) if conf_text else None
        except ValueError:
            problems.append(f"line {line}, confidence: {conf_text!r} is not a number")
            continue
        if conf is not None and not math.isfinite(conf):
            problems.append(f"line {line}, confidence: {conf_text!r} is not a number")
            continue
        fnd = r.get("findings")
        findings = tuple(x.strip() for x in fnd.split(";") if x.strip()) if fnd else None
        out.append(ModelAnswer(model, image_id, cond, findings, auth, conf))
    if problems:
        raise ModelsFileError(
            f"{p}: {len(problems)} problem(s):\n" + "\n".join(f"  - {x}" for x in problems)
        )
    return out
