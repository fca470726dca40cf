"""Writing the findings: ``report.html`` (one self-contained page), ``tables/*.csv``, ``summary.json``.

The figures are drawn with matplotlib (Agg, no display) and embedded as PNG data, so the
page reads offline and can be mailed as one file; each has a caption that says what was
computed. The HTML comes from one jinja2 template.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from sessions.analysis.findings import Findings

__all__ = ["write_outputs"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #444; max-width: 900px; }
.note { color: #555; font-size: .9em; }
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ n_readers }} readers, {{ n_trials }} trials from {{ n_sessions }} sessions.
Definitions and sources of every metric: docs/analysis.md. 95% confidence intervals are
percentile bootstraps over readers and images together.</p>
{% for section in sections %}
<h2>{{ section.title }}</h2>
{% if section.text %}<p class="note">{{ section.text }}</p>{% endif %}
{% for table in section.tables %}
<table><tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endfor %}
{% for fig in section.figures %}
<figure><img alt="{{ fig.caption }}" src="data:image/png;base64,{{ fig.png }}" style="max-width:100%">
<figcaption>{{ fig.caption }}</figcaption></figure>
{% endfor %}
{% endfor %}
</body></html>
"""


def _fmt(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        ci = v.get("ci") or [math.nan, math.nan]
        return f"{_fmt(v['value'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]"
    if isinstance(v, (float, np.floating)):
        return "n/a" if not math.isfinite(v) else f"{v:.3f}"
    return str(v)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(f: Findings) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    return {
        "roc": _roc_figure(f),
        "reliability": _reliability_figure(f),
        "saccades": _saccade_figure(f),
        "bias": _bias_figure(f),
    }


def _roc_figure(f: Findings) -> str:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    roc = f.plots["roc"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    if roc["truth"].any() and not roc["truth"].all():
        fpr, tpr, _ = roc_curve(roc["truth"], roc["score"])
        auc = _fmt(f.summary["decisions"]["authenticity"]["auc"]["value"])
        ax.plot(fpr, tpr, label=f"readers (AUC {auc})")
    for name, m in f.summary["models"].items():
        sens, spec = (
            m["authenticity"]["sensitivity"]["value"],
            m["authenticity"]["specificity"]["value"],
        )
        if math.isfinite(sens) and math.isfinite(spec):
            ax.plot([1 - spec], [sens], "o", label=name)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(
        xlabel="1 - specificity (real called synthetic)", ylabel="sensitivity (synthetic detected)"
    )
    ax.legend(fontsize=8)
    return _png(fig)


def _reliability_figure(f: Findings) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, bins in f.plots["reliability"].items():
        if bins:
            ax.plot(
                [b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label=name
            )
    ax.plot([0.5, 1], [0.5, 1], ":", color="grey")
    ax.set(xlabel="confidence (probability of being right)", ylabel="accuracy",
           xlim=(0.45, 1.02), ylim=(0, 1.02))  # fmt: skip
    ax.legend(fontsize=8)
    return _png(fig)


def _saccade_figure(f: Findings) -> str:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9, 3.6))
    for k, label in enumerate(("real", "synthetic")):
        s = f.plots["saccades"][label]
        ax = fig.add_subplot(1, 3, k + 1, projection="polar")
        if len(s):
            ax.hist(np.radians(s[:, 1]), bins=24, color="C0" if label == "real" else "C3")
        ax.set_title(f"directions, {label}", fontsize=9)
    ax = fig.add_subplot(1, 3, 3)
    for label, col in (("real", "C0"), ("synthetic", "C3")):
        s = f.plots["saccades"][label]
        if len(s):
            ax.hist(s[:, 0], bins=30, range=(0, 20), histtype="step", color=col, label=label,
                    density=True)  # fmt: skip
    ax.set(xlabel="saccade amplitude (deg)", ylabel="density")
    ax.legend(fontsize=8)
    return _png(fig)


def _bias_figure(f: Findings) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(10, 5), sharex=True, sharey=True)
    for r, label in enumerate(("real", "synthetic")):
        for c, which in enumerate(("first", "last", "shortest", "longest")):
            pts = f.plots["bias"][label][which]
            ax = axes[r, c]
            if len(pts):
                ax.hist2d(pts[:, 0], pts[:, 1], bins=16, range=[[0, 1], [0, 1]], cmap="magma")
            ax.set_title(f"{which}, {label}", fontsize=9)
            ax.invert_yaxis()
    return _png(fig)


def _table(rows: list[list[Any]], header: list[str]) -> dict[str, Any]:
    return {"header": header, "rows": [[_fmt(c) for c in r] for r in rows]}


def _sections(f: Findings, figs: dict[str, str]) -> list[dict[str, Any]]:
    s = f.summary
    a = s["decisions"]["authenticity"]
    auth_rows = [["readers (pooled)", a["accuracy"], a["sensitivity"], a["specificity"], a["auc"]]]
    for name, m in s["models"].items():
        ma = m["authenticity"]
        auth_rows.append([name, ma["accuracy"], ma["sensitivity"], ma["specificity"], ma["auc"]])
    per_reader = [
        [
            r["reader"],
            r["authenticity_accuracy"],
            r["authenticity_auc"],
            r["diagnostic_accuracy"],
            r["ece"],
        ]
        for r in f.tables["readers"]
    ]
    d = s["decisions"]["diagnostic"]
    findings_rows = [
        [k, v["sensitivity"], v["specificity"], v["n_positive"]]
        for k, v in d["per_finding"].items()
    ]
    calib_rows = [["readers", s["calibration"]["ece"], s["calibration"]["overconfidence"]]]
    for name, m in s["models"].items():
        calib_rows.append([name, m["calibration"]["ece"], m["calibration"]["overconfidence"]])
    paired = [
        [
            name,
            m["paired_vs_readers"]["difference"],
            f"[{_fmt(m['paired_vs_readers']['ci'][0])}, {_fmt(m['paired_vs_readers']['ci'][1])}]",
            m["agreement_with_readers_kappa"],
        ]
        for name, m in s["models"].items()
    ]
    agree_rows = []
    for scope, v in [("all", s["agreement"]), *s["agreement_by"].items()]:
        agree_rows.append(
            [
                scope,
                v["saliency"]["cc"],
                v["saliency"]["nss"],
                v["saliency"]["auc_judd"],
                v["saliency"]["sim"],
                v["saliency"]["kl"],
                v["scanpath"]["multimatch"],
                v["scanpath"]["dtw"],
            ]
        )
    gaze_rows = _comparison_rows(s["gaze"])
    pupil_rows = _comparison_rows(s["pupil"])
    cmp_header = ["measure", "real", "synthetic", "effect (synthetic - real)", "95% CI", "p", "d_z"]
    return [
        {"title": "Authenticity (visual Turing test)", "text": "Synthetic is the positive class. AUC from the confidence-weighted rating (+confidence for 'synthetic', -confidence for 'real'). Models are scored on the same items.",
         "tables": [_table(auth_rows, ["who", "accuracy", "sensitivity", "specificity", "ROC AUC"]),
                    _table(per_reader, ["reader", "authenticity accuracy", "AUC", "diagnostic accuracy", "ECE"])],
         "figures": [{"png": figs["roc"], "caption": "ROC of the readers' pooled confidence-weighted ratings; each model as its operating point."}]},
        {"title": "Diagnosis", "text": f"Exact-match accuracy {_fmt(d['accuracy'])} (the chosen findings equal the manifest's), label-wise accuracy {_fmt(d['label_accuracy'])}.",
         "tables": [_table(findings_rows, ["finding", "sensitivity", "specificity", "positive trials"])], "figures": []},
        {"title": "Confidence calibration", "text": "Confidence mapped to the probability of being right (0.5 at the lowest point of the scale, 1 at the highest); ECE over five equal-width bins; overconfidence = mean probability - accuracy.",
         "tables": [_table(calib_rows, ["who", "ECE", "overconfidence"]), _table(paired, ["model", "accuracy - readers' (same images)", "95% CI over images", "Cohen's kappa with readers"])],
         "figures": [{"png": figs["reliability"], "caption": "Reliability diagram: accuracy against stated confidence per bin; the dotted line is perfect calibration."}]},
        {"title": "Gaze agreement between readers", "text": "Leave-one-reader-out: each reader's fixations against the duration-weighted density map (Gaussian, 1 degree) of all the other readers on the same image and condition. Scanpaths: MultiMatch (mean of its five similarities) and DTW (mean distance between matched fixations, image widths) over reader pairs.",
         "tables": [_table(agree_rows, ["scope", "CC", "NSS", "AUC-Judd", "SIM", "KL", "MultiMatch", "DTW"])], "figures": []},
        {"title": "Gaze behaviour, real against synthetic", "text": "Effects from a linear mixed model (metric ~ synthetic + (1 | reader)); d_z from the per-reader paired differences.",
         "tables": [_table(gaze_rows, cmp_header)],
         "figures": [{"png": figs["saccades"], "caption": "Saccade directions (polar histograms) and amplitudes, real against synthetic images."},
                     {"png": figs["bias"], "caption": "Where the first, last, shortest and longest fixation of each trial fell on the image (density), real (top) against synthetic (bottom)."}]},
        {"title": "Pupil, real against synthetic", "text": "Baseline: mean pupil over the 0.5 s before image onset; size: mean from 0.5 s after onset to offset; dilation = size - baseline; blinks interpolated. The image's mean luminance drives the pupil too: see tables/images.csv.",
         "tables": [_table(pupil_rows, cmp_header)], "figures": []},
    ]  # fmt: skip


def _comparison_rows(section: dict[str, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    """One row a scope and measure of a real-against-synthetic comparison."""
    return [
        [f"{scope}: {k}", v["real"], v["synthetic"], v["effect"],
         f"[{_fmt(v['ci'][0])}, {_fmt(v['ci'][1])}]", v["p"], v["d"]]
        for scope, metrics in section.items()
        for k, v in metrics.items()
    ]  # fmt: skip


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})


def _json_ready(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_ready(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_ready(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def write_outputs(
    findings: Findings, out: str | Path, title: str = "Reader study findings"
) -> Path:
    """Write ``report.html``, ``tables/*.csv`` and ``summary.json`` into ``out``."""
    from jinja2 import Environment

    folder = Path(out)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    for name, rows in findings.tables.items():
        _csv(folder / "tables" / f"{name}.csv", rows)
    (folder / "summary.json").write_text(
        json.dumps(_json_ready(findings.summary), indent=1, allow_nan=False), encoding="utf-8"
    )
    s = findings.summary
    html = Environment(autoescape=True).from_string(_TEMPLATE).render(
        title=title, n_readers=s["readers"], n_trials=s["trials"], n_sessions=s["sessions"],
        sections=_sections(findings, _figures(findings)),
    )  # fmt: skip
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
