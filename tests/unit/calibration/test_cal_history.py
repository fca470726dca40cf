"""Calibration history: records, selection, JSON, and the session store's calibrations table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from calibration.history import CalibrationHistory, CalibrationRecord


def _history() -> CalibrationHistory:
    h = CalibrationHistory()
    c1 = h.add("calibration", "software-affine", 10.0, {"correction": {"x": 1}})
    h.add(
        "validation",
        "software-affine",
        11.0,
        {"summary": {}},
        accuracy_deg=1.7,
        worst_deg=2.5,
        passed=False,
        parent=c1.id,
    )
    c2 = h.add("calibration", "software-affine", 20.0, {})
    h.add(
        "validation",
        "software-affine",
        21.0,
        {},
        accuracy_deg=0.4,
        worst_deg=math.nan,
        passed=True,
        parent=c2.id,
    )
    return h


def test_select_marks_one_calibration_and_its_validation() -> None:
    h = _history()
    h.select(3)
    assert [r.selected for r in h] == [False, False, True, True]
    h.select(1)
    assert [r.selected for r in h] == [True, True, False, False]
    assert h.selected_calibration() is h.get(1)
    with pytest.raises(ValueError, match="is a validation"):
        h.select(2)
    with pytest.raises(KeyError, match=r"ids are \[1, 2, 3, 4\]"):
        h.get(9)
    with pytest.raises(ValueError, match="kind"):
        CalibrationRecord(1, 0.0, "guess", "x")


def test_json_round_trip_without_nan(tmp_path: Path) -> None:
    h = _history()
    assert h.get(4).worst_deg is None  # NaN is not stored
    p = h.save_json(tmp_path / "c" / "x.json", tracker="fake")
    data = json.loads(p.read_text())
    assert data["tracker"] == "fake" and len(data["records"]) == 4
    back = CalibrationHistory.from_list(data["records"])
    assert [r.to_dict() for r in back] == [r.to_dict() for r in h]


def test_records_go_into_the_session_store(tmp_path: Path) -> None:
    from sessions.store import SessionStore

    h = _history()
    h.select(3)
    store = SessionStore.create(tmp_path, "study", "01", 1)
    try:
        for kw in h.store_kwargs():
            store.add_calibration(**kw)
        rows = store.query(
            "SELECT kind, method, accuracy_deg, worst_deg, passed, selected, result_json FROM calibrations ORDER BY id"
        )
    finally:
        store.close()
    assert [r[0] for r in rows] == ["calibration", "validation", "calibration", "validation"]
    assert rows[1][2:6] == (1.7, 2.5, 0, 0)
    assert rows[3][2:6] == (0.4, None, 1, 1)
    assert json.loads(rows[3][6])["parent_id"] == 3
