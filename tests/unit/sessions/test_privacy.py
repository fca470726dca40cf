"""Privacy by default: no participant or patient identity leaves a session unless asked.

Owner-only files, identifying DICOM headers reported (or refused), pseudonymised exports whose
key stays apart, LSL configured for a local scope, and no DICOM header data in store or exports.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from acquisition.lsl_config import LslConfigError, configure_liblsl, liblsl_config_text
from sessions.export.pseudonyms import default_key_path, load_key, pseudonym_map
from sessions.store import SessionReader, SessionStore
from stimuli.deidentification import identifying_attributes, identifying_attributes_of_file
from tests.support.synthetic_session import write_synthetic_session

ROOT = Path(__file__).resolve().parents[3]
CXR = ROOT.parent / "shared" / "testdata" / "cxr"
LABEL = "JaneDoe77"


def _gazeread(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sessions", *args], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=300,
    )  # fmt: skip


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _identifying_dicom(path: Path) -> Path:
    from pydicom import dcmread

    src = CXR / "cr_chest_monochrome2.dcm"
    if not src.exists():
        pytest.skip(f"test data not found: {src}")
    ds = dcmread(src)
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN0012345"
    ds.PatientBirthDate = "19700412"
    ds.AccessionNumber = "ACC778899"
    ds.InstitutionName = "St Elsewhere Hospital"
    ds.StudyDate = "20240301"
    ds.save_as(path)
    return path


# ---------------------------------------------------------------------------- files
def test_a_new_session_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    st = SessionStore.create(tmp_path, "study", "p01", 1)
    st.add_event(1.0, "x")
    files = [st.path, Path(f"{st.path}-wal"), Path(f"{st.path}-shm"), st.folder / "session.lock"]
    files.append(st.folder / "session.reserve")
    for f in files:
        assert f.exists() and _mode(f) == 0o600, (f, oct(_mode(f)))
    for d in (tmp_path / "study", tmp_path / "study" / "sub-p01", st.folder):
        assert _mode(d) == 0o700, (d, oct(_mode(d)))
    st.close()
    assert _mode(st.path) == 0o600


def test_exports_are_owner_only_and_pseudonymised(tmp_path: Path) -> None:
    folder = write_synthetic_session(
        tmp_path / "s", participant=LABEL, n_trials=2, trial_s=0.5, rate_hz=120.0
    )
    for fmt in ("bids", "gazevalm", "reflacx"):
        out = tmp_path / f"out-{fmt}"
        res = _gazeread("export", str(folder), "--format", fmt, "--out", str(out),
                        "--no-progress", "--pseudonymise")  # fmt: skip
        assert res.returncode == 0, res.stderr
        key = default_key_path(out)
        assert key.exists() and not key.is_relative_to(out) and _mode(key) == 0o600
        assert load_key(key) == {LABEL: "01"}
        written = [p for p in out.rglob("*")]
        assert written
        for p in written:
            assert LABEL not in p.name
            assert _mode(p) == (0o700 if p.is_dir() else 0o600), (p, oct(_mode(p)))
            if p.is_file():
                assert LABEL.encode() not in p.read_bytes(), p
        assert any("sub-01" in str(p) for p in written)
    # a second export reuses the key, and a key inside the export is refused
    out = tmp_path / "out-gazevalm"
    res = _gazeread("export", str(folder), "--format", "gazevalm", "--out", str(out),
                    "--no-progress", "--pseudonymise", "--key", str(out / "key.csv"))  # fmt: skip
    assert res.returncode == 2 and "never include" in res.stderr and "Traceback" not in res.stderr
    assert not (out / "key.csv").exists()


def test_pseudonyms_are_stable_and_new_ones_appended() -> None:
    first = pseudonym_map(["b", "a"])
    assert first == {"a": "01", "b": "02"}
    assert pseudonym_map(["c", "a"], first) == {"a": "01", "b": "02", "c": "03"}


# ---------------------------------------------------------------------------- DICOM headers
def test_identifying_attributes_are_named_values_never_shown(tmp_path: Path) -> None:
    dcm = _identifying_dicom(tmp_path / "id.dcm")
    found = identifying_attributes_of_file(dcm)
    assert set(found) >= {"PatientName", "PatientID", "PatientBirthDate", "AccessionNumber",
                          "InstitutionName", "StudyDate"}  # fmt: skip
    for f in ("cr_chest_monochrome1.dcm", "cr_chest_monochrome2.dcm"):  # de-identified data
        assert identifying_attributes_of_file(CXR / f) == []
    from pydicom import Dataset

    ds = Dataset()
    ds.PatientName = "ANONYMOUS"
    ds.PatientID = "3f2a9c1e-7b44-4c1d-9e0f-5a6b7c8d9e0f"
    ds.PatientBirthDate = "19010101"
    assert identifying_attributes(ds) == []


def _manifest(folder: Path, files: dict[str, Path]) -> Path:
    from stimuli.manifest import write_manifest

    rows = [
        {"image_id": k, "path": str(v), "authenticity": "real", "generator": "", "findings": []}
        for k, v in files.items()
    ]
    return write_manifest(folder / "manifest.csv", rows)


def test_stimuli_check_reports_identifying_dicoms_all_at_once(tmp_path: Path) -> None:
    a = _identifying_dicom(tmp_path / "a.dcm")
    b = _identifying_dicom(tmp_path / "b.dcm")
    clean = tmp_path / "clean.dcm"
    shutil.copy(CXR / "cr_chest_monochrome1.dcm", clean)
    man = _manifest(tmp_path, {"a": a, "b": b, "clean": clean})
    res = _gazeread("stimuli", "check", str(man))
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if "identify a patient" in ln]
    assert len(lines) == 2 and all("PatientName" in ln and "AccessionNumber" in ln for ln in lines)
    assert "Doe" not in res.stderr + res.stdout and "ACC778899" not in res.stderr + res.stdout
    strict = _gazeread("stimuli", "check", str(man), "--require-deidentified")
    assert strict.returncode == 1 and strict.stderr.count("identify a patient") == 2


def test_preflight_refuses_identifying_dicoms_when_the_protocol_requires(tmp_path: Path) -> None:
    from sessions.run.preflight import PreflightError, preflight
    from tests.support.session_files import SMALL_PROTOCOL

    dcm = _identifying_dicom(tmp_path / "a.dcm")
    man = _manifest(tmp_path, {"a": dcm})
    loose = tmp_path / "loose.toml"
    loose.write_text(SMALL_PROTOCOL, encoding="utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text(
        SMALL_PROTOCOL + "\n[privacy]\nrequire_deidentified = true\n", encoding="utf-8"
    )
    kw = {"manifest": man, "tracker": "simulated", "participant": "P1", "session": 1,
          "out": tmp_path / "out", "resume": False, "rate_hz": None}  # fmt: skip
    res = preflight(protocol=str(loose), **kw)  # type: ignore[arg-type]
    assert any("privacy:" in n and "PatientName" in n for n in res.notes)
    with pytest.raises(PreflightError, match="identify a patient") as info:
        preflight(protocol=str(strict), **kw)  # type: ignore[arg-type]
    assert "Doe" not in str(info.value)
    assert not (tmp_path / "out" / "t-study").exists()


def test_no_dicom_header_reaches_the_store_or_an_export(tmp_path: Path) -> None:
    dcm = _identifying_dicom(tmp_path / "a.dcm")
    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=0.5, rate_hz=120.0)
    with SessionStore.open_for_writing(folder) as st:
        st.update_trial(0, image_path=str(dcm))
    for fmt in ("bids", "gazevalm", "reflacx"):
        res = _gazeread("export", str(folder), "--format", fmt, "--out", str(tmp_path / fmt),
                        "--no-progress")  # fmt: skip
        assert res.returncode == 0, res.stderr
    needles = (b"Doe", b"MRN0012345", b"ACC778899", b"Elsewhere", b"19700412")
    files = [folder / "session.sqlite", *(p for fmt in ("bids", "gazevalm", "reflacx")
                                          for p in (tmp_path / fmt).rglob("*") if p.is_file())]  # fmt: skip
    for p in files:
        data = p.read_bytes()
        assert not any(n in data for n in needles), p


# ---------------------------------------------------------------------------- LSL
def test_local_scope_configures_liblsl_for_this_computer(monkeypatch: pytest.MonkeyPatch) -> None:
    text = liblsl_config_text("local")
    assert "ResolveScope = machine" in text and "ListenAddress = 127.0.0.1" in text
    assert "IPv6 = disable" in text and "KnownPeers = {}" in text
    assert liblsl_config_text("network") == ""
    monkeypatch.delenv("LSLAPICFG", raising=False)
    path = configure_liblsl("local")
    assert path is not None and os.environ["LSLAPICFG"] == str(path)
    assert _mode(path) == 0o600 and path.read_text() == text
    monkeypatch.setenv("LSLAPICFG", "/etc/lsl_api/lsl_api.cfg")
    with pytest.raises(LslConfigError, match="unset LSLAPICFG"):
        configure_liblsl("local")
    assert configure_liblsl("network") is None  # the user's own file is kept


def test_protocol_privacy_section_is_checked(tmp_path: Path) -> None:
    from experiment_protocols.loader import ProtocolError, load_protocol
    from tests.support.session_files import SMALL_PROTOCOL

    p = tmp_path / "p.toml"
    p.write_text(SMALL_PROTOCOL + '\n[privacy]\nlsl_scope = "local"\n', encoding="utf-8")
    assert load_protocol(p).protocol.privacy.lsl_scope == "local"
    p.write_text(SMALL_PROTOCOL + '\n[privacy]\nlsl_scope = "lan"\n', encoding="utf-8")
    with pytest.raises(ProtocolError, match="lsl_scope"):
        load_protocol(p)


def test_session_uid_is_pseudonymous_and_kept_on_resume(tmp_path: Path) -> None:
    folder = write_synthetic_session(
        tmp_path, participant=LABEL, n_trials=2, trial_s=0.3, rate_hz=120.0, complete=False
    )
    with SessionReader.open(folder) as r:
        uid = r.session_uid()
    assert uid is not None and len(uid) == 8 and LABEL.lower() not in uid.lower()
    with SessionStore.open_for_resume(folder) as st:
        assert st.session_uid() == uid
