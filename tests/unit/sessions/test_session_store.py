"""The session store: round trips, refusal to overwrite, resume helpers, provenance, speed path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acquisition.samples import SAMPLE_COLUMNS, SAMPLE_DTYPE, empty_samples
from sessions.store import (
    SessionExistsError,
    SessionStore,
    StoreError,
    rows_to_samples,
    samples_to_rows,
    session_dir,
)
from sessions.store.provenance import collect_provenance
from tests.support.synthetic_session import write_synthetic_session


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


class _Conns:
    """Records every connection the store module opens (to check none is left open)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, factory: Any = sqlite3.Connection) -> None:
        import sessions.store.rows as store_mod

        self.conns: list[sqlite3.Connection] = []
        real = sqlite3.connect

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = real(*args, factory=factory, **kwargs)
            self.conns.append(conn)
            return conn

        monkeypatch.setattr(store_mod.sqlite3, "connect", connect)

    def all_closed(self) -> bool:
        for c in self.conns:
            try:
                c.execute("SELECT 1")
            except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
                continue
            return False
        return bool(self.conns)


def test_failed_open_closes_its_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.close()
    with sqlite3.connect(st.path) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    raw.close()
    conns = _Conns(monkeypatch)
    with pytest.raises(StoreError, match="schema version '99'"):
        SessionStore.open(st.path)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "session.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable gazeread session"):
        SessionStore.open(tmp_path / "junk")
    assert len(conns.conns) == 2 and conns.all_closed()


def test_failed_create_closes_and_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FailingScript(sqlite3.Connection):
        def executescript(self, sql: str, /) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("disk I/O error")

    conns = _Conns(monkeypatch, FailingScript)
    with pytest.raises(StoreError, match=r"cannot create the session database .*disk I/O error"):
        SessionStore.create(tmp_path, "study", "p01", 1)
    assert conns.all_closed()
    monkeypatch.undo()
    conns = _Conns(monkeypatch)
    with pytest.raises(StoreError, match="unknown session field"):
        SessionStore.create(tmp_path, "study", "p01", 1, no_such_field=1)
    assert conns.all_closed()
    # nothing half-made is left behind: the same session can be created now
    SessionStore.create(tmp_path, "study", "p01", 1).close()


def test_bad_trial_writes_name_the_file_and_trial(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.add_trials(
        [{"id": 1, "block": "main", "condition": "diagnostic", "image_id": "a", "image_path": "a"}]
    )
    where = str(st.path)
    with pytest.raises(StoreError, match="there is no trial 7") as e:
        st.update_trial(7, status="shown")
    assert where in str(e.value)
    with pytest.raises(StoreError, match=r"unknown trial 1 field\(s\) \['stauts'\]"):
        st.update_trial(1, stauts="shown")
    with pytest.raises(StoreError, match="response to trial 9 cannot be stored") as e:
        st.add_response(9, "diagnostic", 1.0)
    assert where in str(e.value)
    with pytest.raises(
        StoreError, match=r"unknown response to trial 1 field\(s\) \['confidance'\]"
    ):
        st.add_response(1, "diagnostic", 1.0, confidance=3)
    with pytest.raises(StoreError, match=r"trial 1 cannot be added"):
        st.add_trials(
            [{"id": 1, "block": "m", "condition": "x", "image_id": "b", "image_path": "b"}]
        )
    with pytest.raises(StoreError, match=r"unknown trial 2 field\(s\) \['imageid'\]"):
        st.add_trials([{"id": 2, "block": "main", "condition": "x", "imageid": "b"}])
    with pytest.raises(StoreError, match=r"unknown fixation field\(s\) \['xpx'\]"):
        st.add_fixations([{"t_start": 0.0, "t_end": 0.1, "xpx": 3.0}])
    with pytest.raises(StoreError, match=r"fixation of trial 1 cannot be stored .*duration_ms"):
        st.add_fixations([{"trial_id": 1, "t_start": 0.0, "t_end": 0.1}])
    with pytest.raises(StoreError, match=r"unknown validation record field\(s\) \['acc'\]"):
        st.add_calibration(0.0, "validation", "simulated", acc=0.3)
    # nothing of the refused writes went in, and the good trial is untouched
    assert [tr["id"] for tr in st.trials()] == [1] and st.trials()[0]["status"] == "pending"
    assert st.responses() == [] and st.fixations() == []
    st.update_trial(1, status="shown")
    assert st.trials()[0]["status"] == "shown"
    st.close()
