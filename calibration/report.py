"""Plain-text reports of calibration records (for the command line and logs)."""

from __future__ import annotations

import math
from typing import Any

from calibration.history import CalibrationRecord
from calibration.metrics import verdict_label

__all__ = ["format_validation_table"]


def _f(v: Any, nd: int = 2, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{float(v):.{nd}f}{unit}"


def format_validation_table(
    validation: CalibrationRecord,
    calibration: CalibrationRecord | None = None,
    *,
    colour: bool = False,
) -> str:
    """The validation table (per point and eye), the averages and the verdict, as text.

    Columns: accuracy (deg), precision RMS-S2S and SD (deg), data loss (%), per eye. A point's
    data loss above the gate's per-point limit is marked ``!`` (and red with ``colour``, for a
    terminal).
    """
    if validation.kind != "validation":
        raise ValueError(f"record {validation.id} is a {validation.kind}, not a validation")
    res = validation.result
    summ = res.get("summary") or {}
    lines = []
    if calibration is not None:
        raw = calibration.result.get("raw_accuracy_deg")
        lines.append(
            f"calibration #{calibration.id} ({calibration.method})"
            + (
                f": raw gaze was {_f(raw)} deg off the calibration targets"
                if raw is not None
                else ""
            )
        )
    head = (
        "point",
        "x",
        "y",
        "acc L",
        "acc R",
        "RMS L",
        "RMS R",
        "SD L",
        "SD R",
        "loss L",
        "loss R",
    )
    rows: list[tuple[str, ...]] = [head]
    limit = (res.get("gate") or {}).get("max_point_data_loss_pct")
    marked = False

    def loss(q: dict[str, Any]) -> str:
        nonlocal marked
        v = q.get("data_loss_pct")
        text = _f(v, 0, "%")
        if limit is not None and v is not None and q.get("n_valid") and v > limit:
            marked = True
            return text + "!"
        return text

    for p in res.get("points", []):
        e = p.get("eyes", {})
        L, R = e.get("left", {}), e.get("right", {})
        rows.append(
            (
                str(p["index"] + 1), f"{p['target'][0]:.2f}", f"{p['target'][1]:.2f}",
                _f(L.get("accuracy_deg")), _f(R.get("accuracy_deg")),
                _f(L.get("rms_s2s_deg")), _f(R.get("rms_s2s_deg")),
                _f(L.get("sd_deg")), _f(R.get("sd_deg")),
                loss(L), loss(R),
            )
        )  # fmt: skip
    pe = summ.get("per_eye") or {}
    if pe:
        L, R = pe.get("left", {}), pe.get("right", {})
        rows.append(
            (
                "mean", "", "",
                _f(L.get("accuracy_deg")), _f(R.get("accuracy_deg")),
                _f(L.get("rms_s2s_deg")), _f(R.get("rms_s2s_deg")),
                _f(L.get("sd_deg")), _f(R.get("sd_deg")),
                _f(L.get("data_loss_pct"), 0, "%"), _f(R.get("data_loss_pct"), 0, "%"),
            )
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    of = f" of calibration #{validation.parent}" if validation.parent is not None else ""
    lines.append(f"validation #{validation.id}{of} (degrees; precision: RMS sample-to-sample, SD)")
    for r in rows:
        cells = [c.rjust(w) for c, w in zip(r, widths, strict=True)]
        if colour:
            cells = [f"\x1b[31m{c}\x1b[0m" if c.endswith("!") else c for c in cells]
        lines.append("  ".join(cells))
    if marked:
        lines.append(f"! data loss above the {limit:g} % per-point limit: redo those points")
    lines.append(
        f"verdict: {verdict_label(bool(validation.passed), str(summ.get('grade', '?')))} - "
        f"average {_f(validation.accuracy_deg)} deg, "
        f"worst {_f(validation.worst_deg)} deg"
        + (f" (point {summ['worst_point'] + 1})" if summ.get("worst_point") is not None else "")
    )
    gate = res.get("gate") or {}
    if gate:
        lines.append(
            f"gate: average < {gate.get('max_average_deg')} deg and worst < "
            f"{gate.get('max_worst_deg')} deg; recommended average < {gate.get('recommended_deg')} deg"
            + (" (reached)" if summ.get("recommended") else "")
        )
    for m in summ.get("messages", []):
        lines.append(f"note: {m}")
    return "\n".join(lines)
