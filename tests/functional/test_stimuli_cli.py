"""`gazeread stimuli`: demo -> check -> render, and a broken manifest reported in one go."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.cli import main

CXR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "cxr"


def test_demo_then_check_then_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["stimuli", "demo", str(out), "--n", "4", "--size", "128", "--seed", "2"]) == 0
    said = capsys.readouterr().out
    assert "not real radiographs" in said and str(out / "manifest.csv") in said

    assert main(["stimuli", "check", str(out / "manifest.csv")]) == 0
    text = capsys.readouterr().out
    assert "OK, 4 images" in text
    assert "real: 2, synthetic: 2" in text
    assert "128x128: 4" in text and "bit depths     12: 2, 8: 2" in text
    assert "MONOCHROME1: 1" in text

    assert main(["stimuli", "check", str(out / "manifest.csv"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["summary"]["n_images"] == 4
    assert {i["kind"] for i in data["images"]} == {"png", "dicom"}

    assert main(["stimuli", "render", str(out / "manifest.csv"), str(tmp_path / "seen")]) == 0
    assert sorted(p.name for p in (tmp_path / "seen").iterdir()) == [
        f"phantom-0{i}.png" for i in range(1, 5)
    ]


def test_check_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (CXR / "nih_00000001_000.png").exists():
        pytest.skip(f"real test images not found in {CXR.resolve()}")
    shutil.copy(CXR / "nih_00000001_000.png", tmp_path / "a.png")
    (tmp_path / "junk.dcm").write_bytes(b"\0" * 10)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "image_id,path,authenticity,generator,findings\n"
        "x,a.png,real,,\n"
        "x,a.png,maybe,,\n"
        "y,gone.png,real,,\n"
        "z,junk.dcm,synthetic,SD,\n",
        encoding="utf-8",
    )
    assert main(["stimuli", "check", str(manifest)]) == 1
    err = capsys.readouterr().err
    assert "4 problems" in err
    for fragment in (
        f"{manifest}:3 [image_id]",
        f"{manifest}:3 [authenticity]",
        f"{manifest}:4 [path]",
        f"{manifest}:5 [path]",
    ):
        assert fragment in err
    assert main(["stimuli", "check", str(manifest), "--json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["problems"]) == 4


def test_console_script_process(tmp_path: Path) -> None:
    """The real entry point in a child process: usage errors exit 2, a missing manifest 1."""
    run = [sys.executable, "-m", "sessions.cli", "stimuli"]
    r = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "usage" in r.stderr
    r = subprocess.run(
        [*run, "check", str(tmp_path / "none.csv")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 1 and "manifest file not found" in r.stderr
