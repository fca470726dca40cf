"""The session store: round trips, refusal to overwrite, resume helpers, provenance, speed path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.samples import SAMPLE_DTYPE, empty_samples
from sessions.provenance import collect_provenance
from sessions.store import (
    SAMPLE_COLUMNS,
    SessionExistsError,
    SessionStore,
    StoreError,
    rows_to_samples,
    samples_to_rows,
    session_dir,
)
from sessions.synthetic_session import write_synthetic_session


def _samples(n: int, t0: float = 0.0) -> np.ndarray:
    s = empty_samples(n)
    s["t"] = t0 + np.arange(n) / 1200.0
    s["device_ts"] = np.arange(n) * 833
    s["system_ts"] = 1_700_000_000_000_000 + np.arange(n)
    s["left_x"] = np.linspace(0, 1, n)
    s["left_y"] = 0.25
    s["left_valid"] = 1
    s["left_pupil"] = 3.25
    s["left_eye_pos"] = (1.5, -2.5, 600.0)
    s["flags"] = 5
    s["right_x"][::3] = 0.75  # right eye valid on every third sample
    s["right_valid"][::3] = 1
    return s


def test_rows_round_trip_preserves_values_and_nan() -> None:
    s = _samples(50)
    back = rows_to_samples(samples_to_rows(s))
    assert back.dtype == SAMPLE_DTYPE
    for name in SAMPLE_DTYPE.names or ():
        np.testing.assert_array_equal(back[name], s[name], err_msg=name)


def test_rows_have_one_value_per_column() -> None:
    rows = samples_to_rows(_samples(3))
    assert len(rows) == 3 and all(len(r) == len(SAMPLE_COLUMNS) for r in rows)
    assert samples_to_rows(empty_samples(0)) == []


def test_store_samples_round_trip_and_nan_is_null(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    s = _samples(300, t0=10.0)
    st.append_samples(s[:100])
    st.append_samples(s[100:])
    back = st.samples_between(10.0, 11.0)
    for name in SAMPLE_DTYPE.names or ():
        np.testing.assert_array_equal(back[name], s[name], err_msg=name)
    nulls = st.query("SELECT COUNT(*) FROM samples WHERE right_x IS NULL")[0][0]
    assert nulls == 200  # NaN is stored as SQL NULL for readers without gazeread
    cols = st.sample_arrays(("t", "left_valid"), 10.0, 10.05)
    assert len(cols["t"]) == 60 and cols["left_valid"].sum() == 60
    assert st.sample_time_range() == (pytest.approx(10.0), pytest.approx(s["t"][-1]))
    st.close()


def test_wrong_dtype_and_unknown_column_are_refused(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    with pytest.raises(StoreError, match="SAMPLE_DTYPE"):
        st.append_samples(np.zeros(3))
    with pytest.raises(StoreError, match="unknown sample column"):
        st.sample_arrays(("nope",))
    with pytest.raises(StoreError, match="unknown session field"):
        st.update_session(colour="blue")
    st.close()


def test_second_create_is_refused_with_resume_hint(tmp_path: Path) -> None:
    SessionStore.create(tmp_path, "study", "p01", 2).close()
    with pytest.raises(SessionExistsError, match=r"--resume.*--session 3"):
        SessionStore.create(tmp_path, "study", "p01", 2)


@pytest.mark.parametrize(
    ("study", "participant", "session"),
    [("bad study", "p1", 1), ("s", "../x", 1), ("s", "p", 0)],
    ids=["space-in-study", "path-in-participant", "session-zero"],
)
def test_bad_names_are_refused(tmp_path: Path, study: str, participant: str, session: Any) -> None:
    with pytest.raises(StoreError):
        session_dir(tmp_path, study, participant, session)


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    assert st.query("PRAGMA journal_mode")[0][0] == "wal"
    st.close()
    conn = sqlite3.connect(st.path)  # readable without gazeread
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    conn.close()


def test_open_refuses_non_sessions(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no gazeread session"):
        SessionStore.open(tmp_path)
    (tmp_path / "session.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable gazeread session"):
        SessionStore.open(tmp_path)


def test_provenance_has_versions_hashes_and_texts(tmp_path: Path) -> None:
    proto = tmp_path / "protocol.toml"
    proto.write_text("name = 'x'\n", encoding="utf-8")
    man = tmp_path / "manifest.csv"
    man.write_text("image_id,path\n", encoding="utf-8")
    prov = collect_provenance(
        tracker_info={"backend": "simulated", "serial": "S1"},
        screen={"width_px": 1920},
        protocol_path=proto,
        manifest_path=man,
    )
    import hashlib

    assert prov["protocol_sha256"] == hashlib.sha256(proto.read_bytes()).hexdigest()
    assert prov["manifest_text"] == "image_id,path\n"
    assert prov["provenance_json"]["packages"]["numpy"] == np.__version__
    assert prov["provenance_json"]["python"]
    st = SessionStore.create(tmp_path, "study", "p01", 1, **prov)
    info = st.session_info()
    assert info["tracker_json"]["serial"] == "S1"
    assert info["protocol_name"] == "protocol.toml"
    st.close()


def test_response_marks_trial_complete_and_is_on_disk(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.add_trials(
        [{"id": 0, "block": "b", "condition": "authenticity", "image_id": "a", "image_path": "/a"}]
    )
    st.add_response(
        0, "authenticity", 12.5, authenticity="real", confidence=7, answer_json={"x": 1}
    )
    # a second connection (another process would see the same) reads it
    conn = sqlite3.connect(st.path)
    assert conn.execute("SELECT status FROM trials WHERE id=0").fetchone()[0] == "complete"
    assert json.loads(conn.execute("SELECT answer_json FROM responses").fetchone()[0]) == {"x": 1}
    conn.close()
    st.close()


def test_resume_of_killed_session(tmp_path: Path) -> None:
    folder = write_synthetic_session(
        tmp_path, n_trials=4, trial_s=0.5, rate_hz=250.0, complete=False
    )
    st = SessionStore.open_for_resume(folder)
    assert st.session_info()["status"] == "running"  # never closed: it was killed
    last_t = st.last_data_time()
    assert last_t is not None
    data = st.mark_interrupted(last_t + 30.0)
    assert data["killed"] is True
    assert data["gap_s"] == pytest.approx(30.0)
    assert data["trials_reset"] == [3]
    nxt = st.first_unfinished_trial()
    assert nxt is not None and nxt["id"] == 3 and nxt["attempt"] == 1 and nxt["status"] == "pending"
    ev = st.events("interrupted")
    assert len(ev) == 1 and ev[0]["data"]["next_trial"] == 3
    st.close()


def test_completed_session_cannot_be_resumed(tmp_path: Path) -> None:
    folder = write_synthetic_session(tmp_path, n_trials=2, trial_s=0.2, rate_hz=120.0)
    with pytest.raises(StoreError, match="already completed"):
        SessionStore.open_for_resume(folder)
    with SessionStore.open(folder) as st:
        assert st.first_unfinished_trial() is None
        assert len(st.trial_samples(0)) == pytest.approx(0.2 * 120, abs=1)
        with pytest.raises(StoreError, match="no trial 9"):
            st.trial_samples(9)


def test_close_is_idempotent(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.close()
    st.close()
    assert st.closed
