"""The store nothing can corrupt: one writer (the session lock), read-only readers, durability
without a second descriptor, a true state for a killed session, room to report a full disk."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acquisition.samples import empty_samples
from sessions.run.stop_signals import SessionInterrupted, StopSignals
from sessions.store import (
    LOCK_NAME,
    SessionExistsError,
    SessionLockedError,
    SessionReader,
    SessionStore,
    StoreError,
    lock_holder,
    session_dir,
)
from tests.support.synthetic_session import write_synthetic_session


def _samples(n: int, t0: float) -> np.ndarray:
    s = empty_samples(n)
    s["t"] = t0 + np.arange(n) / 600.0
    s["left_valid"] = s["right_valid"] = 1
    s["left_x"] = s["right_x"] = 0.5
    s["left_y"] = s["right_y"] = 0.5
    return s


def _live(tmp_path: Path) -> SessionStore:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.add_trials([{"id": 0, "block": "b", "condition": "c", "image_id": "i", "image_path": "p"}])
    st.append_samples(_samples(600, 10.0))
    return st


# ---------------------------------------------------------------------------- the session lock
def test_the_writer_holds_the_lock_and_names_itself(tmp_path: Path) -> None:
    st = _live(tmp_path)
    holder = lock_holder(st.folder)
    assert holder is not None and holder.pid == os.getpid() and holder.host
    data = json.loads((st.folder / LOCK_NAME).read_text())
    assert data["pid"] == os.getpid() and data["since_utc"]
    with pytest.raises(SessionLockedError, match=rf"being recorded by pid {os.getpid()} on "):
        SessionStore.open_for_resume(st.folder)
    with pytest.raises(SessionLockedError):
        SessionStore.create(tmp_path, "study", "p01", 1)
    with SessionReader.open(st.folder) as r:  # reading is never refused
        assert r.recording_state() == "recording" and r.sample_count() == 600
    st.close()
    assert lock_holder(st.folder) is None
    assert (st.folder / LOCK_NAME).exists()  # never deleted: it names its last holder


def _create_in_child(root: str, q: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        st = SessionStore.create(root, "study", "race", 1)
    except (SessionLockedError, SessionExistsError) as exc:
        q.put(("refused", type(exc).__name__, str(exc)))
        return
    q.put(("created", "", ""))
    import time

    time.sleep(1.0)  # hold it while the others try
    st.close()


def test_two_processes_starting_the_same_session_one_wins(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_create_in_child, args=(str(tmp_path), q)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(r[0] for r in results) == ["created", "refused", "refused", "refused"]
    for _, kind, msg in results:
        if kind:
            assert "\n" not in msg and ("being recorded by pid" in msg or "already exists" in msg)
    with SessionReader.open(session_dir(tmp_path, "study", "race", 1)) as r:
        assert r.integrity_check() == "ok"


def test_a_killed_session_is_recognised(tmp_path: Path) -> None:
    folder = write_synthetic_session(
        tmp_path, n_trials=3, trial_s=0.3, rate_hz=120.0, complete=False
    )
    with SessionReader.open(folder) as r:
        assert r.session_info()["status"] == "running"
        assert r.recording_state() == "killed"
    st = SessionStore.open_for_resume(folder)
    assert st.mark_interrupted(2000.0)["killed"] is True
    st.finish("interrupted")
    st.close()
    with SessionReader.open(folder) as r:
        assert r.recording_state() == "interrupted"


def test_a_lock_left_by_a_killed_process_is_stale(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from sessions.store import SessionStore\n"
        "st = SessionStore.create(sys.argv[1], 'study', 'p01', 1)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    folder = session_dir(tmp_path, "study", "p01", 1)
    holder = lock_holder(folder)
    assert holder is not None and holder.pid == proc.pid
    with pytest.raises(SessionLockedError, match=f"pid {proc.pid}"):
        SessionStore.open_for_resume(folder)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert lock_holder(folder) is None
    with SessionReader.open(folder) as r:
        assert r.recording_state() == "killed"
    st = SessionStore.open_for_resume(folder)  # the stale lock is taken over
    assert st.mark_interrupted(1.0)["killed"] is True
    st.close()
    proc.stdin.close()  # type: ignore[union-attr]
    proc.stdout.close()


# ---------------------------------------------------------------------------- readers never write
def test_a_reader_cannot_write(tmp_path: Path) -> None:
    st = _live(tmp_path)
    with SessionReader.open(st.folder) as r:
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            r.query("DELETE FROM samples")
        assert not hasattr(r, "add_event")
    assert st.sample_count() == 600
    st.close()


@pytest.mark.skipif(
    shutil.which("sqlite3") is None, reason="the sqlite3 command-line tool is not installed"
)
def test_the_sqlite3_tool_on_a_live_session_leaves_the_writer_intact(tmp_path: Path) -> None:
    """The README's own example, run while recording (it used to delete the live WAL)."""
    st = _live(tmp_path)
    st.add_response(0, "c", 11.0, confidence=5)  # a durable commit: fsync without a 2nd fd
    st.sync()
    wal = Path(f"{st.path}-wal")
    for uri in (str(st.path), f"file:{st.path}?mode=ro"):
        out = subprocess.run(
            ["sqlite3", uri, "select count(*) from samples"], capture_output=True, text=True
        )
        assert out.returncode == 0 and out.stdout.strip() == "600", out.stderr
        assert wal.exists(), "a reader deleted the live WAL"
    st.append_samples(_samples(600, 20.0))
    st.add_event(21.0, "after_readers")
    st.close()
    with SessionReader.open(st.folder) as r:
        assert r.integrity_check() == "ok"
        assert r.sample_count() == 1200 and len(r.events("after_readers")) == 1
        assert len(r.responses()) == 1


def test_durable_commits_restore_the_normal_level(tmp_path: Path) -> None:
    st = _live(tmp_path)
    st.add_response(0, "c", 11.0, confidence=5)
    with st.batch():
        st.add_event(12.0, "x")
        st.add_response(0, "c", 12.0, confidence=3)  # durable inside a batch: at its commit
    assert st.query("PRAGMA synchronous")[0][0] == 1  # NORMAL again
    assert st.query("SELECT value FROM meta WHERE key = 'synced_utc'")
    st.close()


def test_store_code_opens_no_second_descriptor_on_the_database() -> None:
    """Closing any descriptor of the file drops SQLite's POSIX locks: the store never opens one."""
    import inspect

    import sessions.store.reader as reader
    import sessions.store.writer as writer

    for mod in (reader, writer):
        src = inspect.getsource(mod)
        assert "os.open(self.path" not in src and "os.fsync" not in src


# ---------------------------------------------------------------------------- full disk
def test_a_full_disk_still_gets_its_recording_error(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        from acquisition.ring_buffer import RingBuffer
        from sessions.run.recorder import Recorder

        st = SessionStore.create(mnt, "study", "full", 1)
        assert (st.folder / "session.reserve").stat().st_size > 0
        filler = mnt / "filler"
        with filler.open("wb") as fh:  # fill what is left of the disk
            try:
                while True:
                    fh.write(b"\0" * (1 << 16))
                    fh.flush()
            except OSError:
                pass
        buf = RingBuffer(1 << 16)
        rec = Recorder(buf.reader("r"), st, batch_s=0.01).start()
        for k in range(200):  # until the disk refuses a batch
            buf.push_many(_samples(600, 10.0 + k))
            import time

            time.sleep(0.02)
            if rec.failed:
                break
        rec.stop()
        assert rec.failed and "full" in (rec.error or "").lower()
        st.finish("interrupted")
        st.close()
        with SessionReader.open(st.folder) as r:
            errs = r.events("recording_error")
            assert len(errs) == 1 and "--resume" in errs[0]["message"]
            assert r.session_info()["status"] == "interrupted"
            assert r.integrity_check() == "ok"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# ---------------------------------------------------------------------------- stop signals
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stop_signals_raise_once_with_the_shell_exit_code(sig: int, code: int) -> None:
    with StopSignals() as stop:
        with pytest.raises(SessionInterrupted) as info:
            os.kill(os.getpid(), sig)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
        assert info.value.exit_code == code and stop.received == sig
        os.kill(os.getpid(), sig)  # a second one while stopping is ignored
    assert signal.getsignal(signal.SIGTERM) is not None


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no gazeread session") as info:
        SessionReader.open(tmp_path)
    assert "\n" not in str(info.value)


def test_only_the_store_talks_sql() -> None:
    """No module outside sessions/store imports sqlite3 or asks the store ad-hoc SQL."""
    import re

    root = Path(__file__).resolve().parents[3]
    pattern = re.compile(r"import sqlite3|\.query\(|\._conn\b|\._dicts\(")
    offenders = []
    for pkg in ("acquisition", "calibration", "stimuli", "experiment_protocols", "sessions"):
        for f in (root / pkg).rglob("*.py"):
            if f.is_relative_to(root / "sessions" / "store"):
                continue
            if pattern.search(f.read_text(encoding="utf-8")):
                offenders.append(str(f.relative_to(root)))
    assert offenders == []


def test_a_finished_session_in_a_folder_the_reader_cannot_write_is_read_immutable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/privacy.md shares a study folder with g+rX: a group member cannot create -shm.

    SQLite then refuses mode=ro ("attempt to write a readonly database", seen as user nobody on
    a root-owned 755 folder); a finished session (no -wal) is opened immutable instead.
    """
    import sessions.store.rows as rows

    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=0.3, rate_hz=120.0)
    assert not Path(f"{folder}/session.sqlite-wal").exists()
    real = rows._open_read_only
    tried: list[str] = []

    def as_another_user(uri: str) -> sqlite3.Connection:
        tried.append(uri)
        if "immutable" not in uri:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(uri)

    monkeypatch.setattr(rows, "_open_read_only", as_another_user)
    with SessionReader.open(folder) as r:
        assert r.sample_count() > 0
    assert tried[-1].endswith("?mode=ro&immutable=1")
    live = _live(tmp_path / "live")  # a live session (its -wal exists) is never read immutable
    with pytest.raises(StoreError, match="readonly"):
        SessionReader.open(live.folder)
    live.close()
