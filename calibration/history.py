"""The history of every calibration, validation and drift check of a session.

Each entry is a :class:`CalibrationRecord` (serialisable) whose :meth:`~CalibrationRecord.
to_store_kwargs` feeds ``SessionStore.add_calibration(**kwargs)`` (the ``calibrations``
table). One calibration is *selected* at a time (the one in force), with its latest
validation; the operator can go back to an earlier one.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "CalibrationHistory", "CalibrationRecord"]

KINDS = ("calibration", "validation", "drift_check")


def _clean(v: Any) -> Any:
    """NaN/inf -> None, recursively, so the JSON is standard."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


@dataclasses.dataclass
class CalibrationRecord:
    """One calibration, validation or drift check.

    Attributes
    ----------
    id : int
        1-based, in the order they happened.
    t : float
        Session-clock time (s) when it finished.
    kind : str
        ``calibration``, ``validation`` or ``drift_check``.
    method : str
        ``software-affine``, ``software-poly2``, ``tobii`` (native), ``none``...
    accuracy_deg, worst_deg : float or None
        Validation figures (average and worst point); drift: the offset.
    passed : bool or None
        Gate verdict (None for a calibration, which is judged by its validation).
    selected : bool
        True for the calibration in force and its latest validation.
    parent : int or None
        For a validation: the id of the calibration it validated.
    result : dict
        Everything else (points, samples, coefficients, summary, settings, geometry).
    """

    id: int
    t: float
    kind: str
    method: str
    accuracy_deg: float | None = None
    worst_deg: float | None = None
    passed: bool | None = None
    selected: bool = False
    parent: int | None = None
    result: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"calibration record kind must be one of {KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _clean(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CalibrationRecord:
        """Inverse of :meth:`to_dict`."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_store_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``SessionStore.add_calibration`` for this record."""
        result = dict(self.result)
        result["history_id"] = self.id
        if self.parent is not None:
            result["parent_id"] = self.parent
        return {
            "t": float(self.t),
            "kind": self.kind,
            "method": self.method,
            "accuracy_deg": self.accuracy_deg,
            "worst_deg": self.worst_deg,
            "passed": None if self.passed is None else int(bool(self.passed)),
            "selected": int(self.selected),
            "result_json": _clean(result),
        }


class CalibrationHistory:
    """Every record of a session, in order, and which calibration is selected."""

    def __init__(self, records: list[CalibrationRecord] | None = None) -> None:
        self._records: list[CalibrationRecord] = list(records or [])

    def __iter__(self) -> Iterator[CalibrationRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def add(
        self,
        kind: str,
        method: str,
        t: float,
        result: dict[str, Any],
        *,
        accuracy_deg: float | None = None,
        worst_deg: float | None = None,
        passed: bool | None = None,
        parent: int | None = None,
    ) -> CalibrationRecord:
        """Append a record and return it (not selected)."""

        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        rec = CalibrationRecord(
            id=len(self._records) + 1,
            t=float(t),
            kind=kind,
            method=method,
            accuracy_deg=num(accuracy_deg),
            worst_deg=num(worst_deg),
            passed=passed,
            parent=parent,
            result=result,
        )
        self._records.append(rec)
        return rec

    def get(self, record_id: int) -> CalibrationRecord:
        """The record with that id; a missing id raises naming the valid ones."""
        for r in self._records:
            if r.id == record_id:
                return r
        raise KeyError(
            f"no calibration record {record_id!r}; ids are {[r.id for r in self._records]}"
        )

    def calibrations(self) -> list[CalibrationRecord]:
        """The calibration records, oldest first."""
        return [r for r in self._records if r.kind == "calibration"]

    def latest_validation(self, calibration_id: int) -> CalibrationRecord | None:
        """The newest validation of that calibration, if any."""
        vals = [r for r in self._records if r.kind == "validation" and r.parent == calibration_id]
        return vals[-1] if vals else None

    def select(self, calibration_id: int) -> CalibrationRecord:
        """Mark that calibration (and its latest validation) as the one in force."""
        cal = self.get(calibration_id)
        if cal.kind != "calibration":
            raise ValueError(f"record {calibration_id} is a {cal.kind}, not a calibration")
        val = self.latest_validation(calibration_id)
        for r in self._records:
            if r.kind in ("calibration", "validation"):
                r.selected = r is cal or r is val
        return cal

    def selected_calibration(self) -> CalibrationRecord | None:
        """The calibration in force, if one was selected."""
        for r in self._records:
            if r.kind == "calibration" and r.selected:
                return r
        return None

    def to_list(self) -> list[dict[str, Any]]:
        """Every record as a dict."""
        return [r.to_dict() for r in self._records]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]]) -> CalibrationHistory:
        """Inverse of :meth:`to_list`."""
        return cls([CalibrationRecord.from_dict(d) for d in items])

    def store_kwargs(self) -> list[dict[str, Any]]:
        """``add_calibration`` keyword arguments of every record, in order."""
        return [r.to_store_kwargs() for r in self._records]

    def save_json(self, path: str | Path, **extra: Any) -> Path:
        """Write the history (plus ``extra`` top-level fields) as JSON; returns the path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        payload = _clean({**extra, "records": self.to_list()})
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1, allow_nan=False), encoding="utf-8")
        tmp.replace(p)
        return p
