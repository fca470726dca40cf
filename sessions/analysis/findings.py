"""The study's findings from its records: decisions, calibration, agreement, gaze and pupil.

:func:`analyse` returns a :class:`Findings`: ``summary`` (JSON-ready, the keys of
docs/analysis.md), ``tables`` (rows for ``tables/*.csv``) and ``plots`` (the arrays the
report draws). Every number is computed here from :class:`~sessions.analysis.study.StudyData`
and the models' answers; nothing is read or drawn.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any

import numpy as np

from sessions.analysis import agreement, behaviour, decisions
from sessions.analysis.models import ModelAnswer
from sessions.analysis.study import StudyData, TrialRecord

__all__ = ["Findings", "analyse"]


@dataclasses.dataclass
class Findings:
    """Everything ``gazeread analyze`` reports."""

    summary: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    plots: dict[str, Any]


def _ci(value: float, ci: tuple[float, float]) -> dict[str, Any]:
    return {"value": value, "ci": [ci[0], ci[1]]}


def _conf01(t: TrialRecord) -> float:
    if t.confidence is None:
        return math.nan
    span = t.confidence_max - t.confidence_min
    return float(np.clip((t.confidence - t.confidence_min) / span, 0, 1)) if span > 0 else 1.0


def _auth_rows(trials: list[TrialRecord]) -> list[TrialRecord]:
    return [
        t for t in trials if t.answer_authenticity in ("real", "synthetic") and t.truth_authenticity
    ]


def _diag_rows(trials: list[TrialRecord]) -> list[TrialRecord]:
    return [t for t in trials if t.answer_findings is not None and t.condition != "authenticity"]


def _authenticity(rows: list[TrialRecord], n_boot: int, boot: bool = True) -> dict[str, Any]:
    """Accuracy, sensitivity, specificity and AUC of authenticity calls, with CIs."""
    if not rows:
        return {
            k: _ci(math.nan, (math.nan, math.nan))
            for k in ("accuracy", "sensitivity", "specificity", "auc")
        }
    truth = np.array([t.truth_authenticity == "synthetic" for t in rows])
    called = np.array([t.answer_authenticity == "synthetic" for t in rows])
    c = np.array([_conf01(t) for t in rows])
    score = np.where(called, 1.0, -1.0) * np.where(np.isfinite(c), 0.5 + 0.5 * c, 0.5)
    rd = {r: i for i, r in enumerate(sorted({t.reader for t in rows}))}
    im = {r: i for i, r in enumerate(sorted({t.image_id for t in rows}))}
    rc = np.array([rd[t.reader] for t in rows])
    ic = np.array([im[t.image_id] for t in rows])
    base = decisions.rates(truth, called)
    base["auc"] = decisions.auc(truth, score)
    out = {}
    for key in ("accuracy", "sensitivity", "specificity", "auc"):

        def stat(idx: np.ndarray, key: str = key) -> float:
            if key == "auc":
                return decisions.auc(truth[idx], score[idx])
            return decisions.rates(truth[idx], called[idx])[key]

        ci = decisions.bootstrap_ci(stat, rc, ic, n_boot=n_boot) if boot else (math.nan, math.nan)
        out[key] = _ci(base[key], ci)
    return out


def _diagnostic(rows: list[TrialRecord], labels: tuple[str, ...]) -> dict[str, Any]:
    """Exact-match accuracy, label-wise accuracy and per-finding sensitivity/specificity."""
    if not rows:
        return {"accuracy": math.nan, "label_accuracy": math.nan, "per_finding": {}}
    exact = np.array([set(t.answer_findings or ()) == set(t.truth_findings) for t in rows])
    per: dict[str, Any] = {}
    hits = []
    for lab in labels:
        truth = np.array([lab in t.truth_findings for t in rows])
        called = np.array([lab in (t.answer_findings or ()) for t in rows])
        hits.append(truth == called)
        r = decisions.rates(truth, called)
        per[lab] = {
            "sensitivity": r["sensitivity"],
            "specificity": r["specificity"],
            "n_positive": int(truth.sum()),
        }
    return {
        "accuracy": float(exact.mean()),
        "label_accuracy": float(np.mean(hits)) if hits else math.nan,
        "per_finding": per,
    }


def _correct(t: TrialRecord) -> bool | None:
    if t.answer_authenticity in ("real", "synthetic") and t.condition == "authenticity":
        return t.answer_authenticity == t.truth_authenticity
    if t.answer_findings is not None:
        return set(t.answer_findings) == set(t.truth_findings)
    return None


def _calibration(rows: list[TrialRecord]) -> dict[str, Any]:
    rs = [t for t in rows if _correct(t) is not None and t.confidence is not None]
    correct = np.array([bool(_correct(t)) for t in rs])
    prob = 0.5 + 0.5 * np.array([_conf01(t) for t in rs])
    return decisions.calibration(correct, prob)


def _fleiss(rows: list[TrialRecord], code: Any) -> float:
    """Fleiss' kappa over items (image x condition) rated by every reader."""
    readers = sorted({t.reader for t in rows})
    by_item: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for t in rows:
        by_item[(t.image_id, t.condition)][t.reader] = code(t)
    table = [[v[r] for r in readers] for v in by_item.values() if len(v) == len(readers)]
    return decisions.fleiss_kappa(np.array(table)) if len(table) >= 2 else math.nan


def _decisions(study: StudyData, n_boot: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    auth = _auth_rows(study.trials)
    diag = _diag_rows(study.trials)
    out: dict[str, Any] = {
        "authenticity": _authenticity(auth, n_boot),
        "diagnostic": _diagnostic(diag, study.finding_labels),
    }
    out["agreement"] = {
        "authenticity_fleiss_kappa": _fleiss(
            auth, lambda t: int(t.answer_authenticity == "synthetic")
        ),
        "findings_fleiss_kappa": {
            lab: _fleiss(diag, lambda t, lab=lab: int(lab in (t.answer_findings or ())))
            for lab in study.finding_labels
        },
    }
    per_reader = []
    for reader in study.readers:
        a = [t for t in auth if t.reader == reader]
        d = [t for t in diag if t.reader == reader]
        ra = _authenticity(a, 0, boot=False)
        per_reader.append({
            "reader": reader,
            "authenticity_accuracy": ra["accuracy"]["value"],
            "authenticity_sensitivity": ra["sensitivity"]["value"],
            "authenticity_specificity": ra["specificity"]["value"],
            "authenticity_auc": ra["auc"]["value"],
            "diagnostic_accuracy": _diagnostic(d, study.finding_labels)["accuracy"],
            "ece": _calibration([t for t in study.trials if t.reader == reader])["ece"],
        })  # fmt: skip
    return out, per_reader


def _models(
    study: StudyData, answers: list[ModelAnswer], n_boot: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each model on the readers' metrics, its paired difference from them, its agreement."""
    by_item: dict[tuple[str, str], list[TrialRecord]] = defaultdict(list)
    for t in study.trials:
        by_item[(t.image_id, t.condition)].append(t)
    lo_hi = {t.condition: (t.confidence_min, t.confidence_max) for t in study.trials}
    out: dict[str, Any] = {}
    rows_out = []
    for model in sorted({a.model for a in answers}):
        recs = []
        for a in (x for x in answers if x.model == model):
            ref = by_item[(a.image_id, a.condition)][0]
            lo, hi = lo_hi.get(a.condition, (1.0, 5.0))
            recs.append(dataclasses.replace(
                ref, reader=model, answer_authenticity=a.authenticity,
                answer_findings=a.findings, confidence=a.confidence, confidence_min=lo,
                confidence_max=hi, fixations=np.zeros((0, 3)),
            ))  # fmt: skip
        auth = _auth_rows(recs)
        res: dict[str, Any] = {
            "authenticity": _authenticity(auth, n_boot),
            "diagnostic": _diagnostic(_diag_rows(recs), study.finding_labels),
            "calibration": _calibration(recs),
        }
        res["paired_vs_readers"] = _paired(auth, _auth_rows(study.trials), n_boot)
        res["agreement_with_readers_kappa"] = _model_reader_kappa(auth, _auth_rows(study.trials))
        out[model] = res
        rows_out.append({
            "model": model,
            "authenticity_accuracy": res["authenticity"]["accuracy"]["value"],
            "authenticity_auc": res["authenticity"]["auc"]["value"],
            "diagnostic_accuracy": res["diagnostic"]["accuracy"],
            "ece": res["calibration"]["ece"],
            "overconfidence": res["calibration"]["overconfidence"],
            "accuracy_minus_readers": res["paired_vs_readers"]["difference"],
        })  # fmt: skip
    return out, rows_out


def _paired(
    model_rows: list[TrialRecord], reader_rows: list[TrialRecord], n_boot: int
) -> dict[str, Any]:
    """Model accuracy minus the readers' mean accuracy on the same images, CI over images."""
    m = {t.image_id: float(t.answer_authenticity == t.truth_authenticity) for t in model_rows}
    per_img: dict[str, list[float]] = defaultdict(list)
    for t in reader_rows:
        per_img[t.image_id].append(float(t.answer_authenticity == t.truth_authenticity))
    imgs = sorted(set(m) & set(per_img))
    if not imgs:
        return {"difference": math.nan, "ci": [math.nan, math.nan]}
    d = np.array([m[i] - np.mean(per_img[i]) for i in imgs])
    rng = np.random.default_rng(0)
    boots = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(n_boot)] if n_boot else []
    ci = (
        [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))]
        if boots
        else [math.nan] * 2
    )
    return {"difference": float(d.mean()), "ci": ci}


def _model_reader_kappa(model_rows: list[TrialRecord], reader_rows: list[TrialRecord]) -> float:
    """Mean Cohen's kappa between the model's and each reader's authenticity calls."""
    from sklearn.metrics import cohen_kappa_score

    m = {t.image_id: t.answer_authenticity for t in model_rows}
    ks = []
    for reader in sorted({t.reader for t in reader_rows}):
        pairs = [
            (m[t.image_id], t.answer_authenticity)
            for t in reader_rows
            if t.reader == reader and t.image_id in m
        ]
        if len(pairs) >= 2 and len({p for pair in pairs for p in pair}) > 1:
            a, b = zip(*pairs, strict=True)
            ks.append(cohen_kappa_score(a, b))
    return float(np.mean(ks)) if ks else math.nan


def _gaze(study: StudyData) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for t in study.trials:
        m = behaviour.trial_metrics(t.fixations, t.px_per_deg_image, t.image_size)
        rows.append({
            "reader": t.reader, "trial": t.trial, "image_id": t.image_id, "condition": t.condition,
            "synthetic": t.truth_authenticity == "synthetic", **m,
            "pupil_baseline_mm": t.pupil_baseline_mm, "pupil_mm": t.pupil_mm,
            "pupil_dilation_mm": t.pupil_dilation_mm,
            "correct": _correct(t), "confidence": t.confidence, "rt_s": t.rt_s,
        })  # fmt: skip
    gaze: dict[str, Any] = {}
    pupil: dict[str, Any] = {}
    for scope in ["all", *sorted({t.condition for t in study.trials})]:
        sel = [r for r in rows if scope == "all" or r["condition"] == scope]
        syn = [r["synthetic"] for r in sel]
        rd = [r["reader"] for r in sel]
        gaze[scope] = {
            k: behaviour.compare([r[k] for r in sel], syn, rd)
            for k in ("n_fixations", "mean_fixation_ms", "coverage", "saccade_amplitude_deg")
        }
        pupil[scope] = {
            k: behaviour.compare([r[k] for r in sel], syn, rd)
            for k in ("pupil_mm", "pupil_dilation_mm", "pupil_baseline_mm")
        }
    plots: dict[str, Any] = {"saccades": {}, "bias": {}}
    for label, syn_flag in (("real", False), ("synthetic", True)):
        chosen = [t for t in study.trials if (t.truth_authenticity == "synthetic") == syn_flag]
        sacs = [behaviour.saccades(t.fixations, t.px_per_deg_image, t.image_size) for t in chosen]
        plots["saccades"][label] = np.concatenate(sacs) if sacs else np.zeros((0, 2))
        plots["bias"][label] = _bias_points(chosen)
    return {"gaze": gaze, "pupil": pupil}, rows, plots


def _bias_points(trials: list[TrialRecord]) -> dict[str, np.ndarray]:
    """Positions of the first, last, shortest and longest fixation of each trial."""
    out: dict[str, list[Any]] = {"first": [], "last": [], "shortest": [], "longest": []}
    for t in trials:
        f = t.fixations
        if len(f):
            out["first"].append(f[0, :2])
            out["last"].append(f[-1, :2])
            out["shortest"].append(f[np.argmin(f[:, 2]), :2])
            out["longest"].append(f[np.argmax(f[:, 2]), :2])
    return {k: np.array(v).reshape(-1, 2) for k, v in out.items()}


def _agreement(
    study: StudyData, progress: Any = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    items: dict[tuple[str, str], list[TrialRecord]] = defaultdict(list)
    for t in study.trials:
        items[(t.image_id, t.condition)].append(t)
    rows: list[dict[str, Any]] = []
    for (image_id, cond), ts in sorted(items.items()):
        fix = {t.reader: t.fixations for t in ts}
        sigma = float(np.mean([t.px_per_deg_image / t.image_size[0] * agreement.GRID for t in ts]))
        sal = agreement.leave_one_out(fix, sigma)
        sp = agreement.scanpath_agreement(fix, ts[0].image_size)
        rows.append({"image_id": image_id, "condition": cond,
                     "synthetic": ts[0].truth_authenticity == "synthetic",
                     "n_readers": len(ts), **sal, **sp})  # fmt: skip
        if progress:
            progress(f"{image_id} ({cond})")

    def mean_of(sel: list[dict[str, Any]], k: str) -> float:
        v = np.array([r[k] for r in sel], float)
        return float(np.nanmean(v)) if np.isfinite(v).any() else math.nan

    out: dict[str, Any] = {}
    scopes: dict[str, list[dict[str, Any]]] = {"all": rows}
    scopes["real"] = [r for r in rows if not r["synthetic"]]
    scopes["synthetic"] = [r for r in rows if r["synthetic"]]
    for cond in sorted({r["condition"] for r in rows}):
        scopes[cond] = [r for r in rows if r["condition"] == cond]
    for name, sel in scopes.items():
        out[name] = {
            "saliency": {k: mean_of(sel, k) for k in ("cc", "nss", "auc_judd", "sim", "kl")},
            "scanpath": {
                k: mean_of(sel, k)
                for k in (
                    "multimatch",
                    "dtw",
                    "mm_vector",
                    "mm_direction",
                    "mm_length",
                    "mm_position",
                    "mm_duration",
                )
            },
        }
    return out, rows


_SCANPATH_KEYS = (
    "multimatch", "dtw", "mm_vector", "mm_direction", "mm_length", "mm_position", "mm_duration",
)  # fmt: skip


def analyse(
    study: StudyData,
    models: list[ModelAnswer] | None = None,
    *,
    n_boot: int = 1000,
    progress: Any = None,
) -> Findings:
    """Every finding of the study (docs/analysis.md gives each definition and source)."""
    dec, per_reader = _decisions(study, n_boot)
    gp, trial_rows, plots = _gaze(study)
    agree, item_rows = _agreement(study, progress)
    model_res, model_rows = _models(study, models or [], n_boot)
    calib = _calibration(study.trials)
    plots["reliability"] = {"readers": calib["bins"]}
    for name, res in model_res.items():
        plots["reliability"][name] = res["calibration"]["bins"]
    roc = _auth_rows(study.trials)
    plots["roc"] = {
        "truth": np.array([t.truth_authenticity == "synthetic" for t in roc]),
        "score": np.array(
            [
                (1 if t.answer_authenticity == "synthetic" else -1)
                * (0.5 + 0.5 * np.nan_to_num(_conf01(t), nan=0.0))
                for t in roc
            ]
        ),
    }
    summary = {
        "readers": len(study.readers),
        "trials": len(study.trials),
        "sessions": len(study.sessions),
        "decisions": {"authenticity": dec["authenticity"], "diagnostic": dec["diagnostic"]},
        "reader_agreement": dec["agreement"],
        "calibration": {k: v for k, v in calib.items() if k != "bins"},
        "agreement": agree["all"],
        "agreement_by": {k: v for k, v in agree.items() if k != "all"},
        "gaze": gp["gaze"],
        "pupil": gp["pupil"],
        "models": model_res,
    }
    tables = {
        "reader_trials": trial_rows,
        "readers": per_reader,
        "images": item_rows,
        "models": model_rows,
    }
    return Findings(summary, tables, plots)
