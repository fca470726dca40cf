"""BIDS (checked by the official validator), GazeVaLM-style and REFLACX exports."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sessions.commands.export import export_sessions
from sessions.export.common import ExportWarning
from sessions.export.reflacx import FIXATION_COLUMNS, GAZE_COLUMNS
from sessions.store import SessionReader, SessionStore, StoreError
from tests.support.synthetic_session import write_synthetic_session


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("sessions")
    a = write_synthetic_session(root, n_trials=4, trial_s=1.0, rate_hz=500.0, seed=1)
    b = write_synthetic_session(
        root, participant="02", n_trials=3, trial_s=1.0, rate_hz=500.0, seed=2, complete=False
    )
    return [a, b]


def _validator() -> str | None:
    exe = Path(sys.executable).parent / "bids-validator-deno"
    return str(exe) if exe.exists() else shutil.which("bids-validator-deno")


def test_bids_export_layout_and_content(sessions: Any, tmp_path: Path) -> None:
    export_sessions(sessions, "bids", tmp_path)
    beh = tmp_path / "sub-01" / "ses-1" / "beh"
    base = "sub-01_ses-1_task-reading"
    for rec, eye in (("eye1", "left"), ("eye2", "right")):
        side = json.loads((beh / f"{base}_recording-{rec}_physio.json").read_text())
        assert side["RecordedEye"] == eye and side["PhysioType"] == "eyetrack"
        assert side["Columns"][:3] == ["timestamp", "x_coordinate", "y_coordinate"]
        assert side["SamplingFrequency"] == 500.0
        assert side["AverageCalibrationError"] == pytest.approx(0.51)
        with gzip.open(beh / f"{base}_recording-{rec}_physio.tsv.gz", "rt") as fh:
            first = fh.readline().rstrip("\n").split("\t")
        assert len(first) == 4 and float(first[0]) == pytest.approx(1000.0)  # no header
        assert (beh / f"{base}_recording-{rec}_physioevents.tsv.gz").exists()
    ev_json = json.loads((beh / f"{base}_events.json").read_text())
    sp = ev_json["StimulusPresentation"]
    assert sp["ScreenResolution"] == [1920, 1080] and sp["ScreenDistance"] == pytest.approx(0.65)
    ev = pd.read_csv(beh / f"{base}_events.tsv", sep="\t")
    assert (ev["trial_type"] == "image").sum() == 4 and (ev["trial_type"] == "response").sum() == 4
    parts = pd.read_csv(tmp_path / "participants.tsv", sep="\t")
    assert parts["participant_id"].tolist() == ["sub-01", "sub-02"]
    assert (tmp_path / "dataset_description.json").exists() and (tmp_path / "README").exists()


def test_bids_export_passes_the_official_validator(sessions: Any, tmp_path: Path) -> None:
    exe = _validator()
    if exe is None:
        pytest.skip("bids-validator-deno is not installed (pip install bids-validator-deno)")
    export_sessions(sessions, "bids", tmp_path)
    res = subprocess.run(
        [exe, str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(res.stdout)
    errors = [i for i in report["issues"]["issues"] if i["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=1)[:3000]


def test_gazevalm_export(sessions: Any, tmp_path: Path) -> None:
    # the synthetic sessions name images that do not exist: said, not silent
    with pytest.warns(ExportWarning, match=r"over grey because .*/stimuli/img\d+\.png: file not"):
        export_sessions(sessions, "gazevalm", tmp_path)
    table = pd.read_csv(tmp_path / "readings.csv")
    assert len(table) == 4 + 3  # every shown trial of both sessions
    first = table.iloc[0]
    assert first["condition"] == "diagnostic" and first["authenticity_truth"] == "synthetic"
    assert first["response_time_s"] == pytest.approx(2.0)
    auth = table[table["condition"] == "authenticity"].iloc[0]
    assert auth["answer_authenticity"] in ("real", "synthetic")
    assert auth["authenticity_correct"] == (
        auth["answer_authenticity"] == auth["authenticity_truth"]
    )
    folder = tmp_path / first["folder"]
    for name in (
        "samples.csv",
        "fixations.csv",
        "scanpath.csv",
        "scanpath.npy",
        "scanpath.png",
        "fixation_map.npy",
        "fixation_map.png",
        "saliency_map.npy",
        "saliency_map.png",
    ):
        assert (folder / name).exists(), name
    sal = np.load(folder / "saliency_map.npy")
    assert sal.shape == (1024, 1024) and sal.sum() == pytest.approx(1.0, rel=1e-4)
    fx = pd.read_csv(folder / "fixations.csv")
    assert fx["duration_ms"].gt(60).all()
    on = fx[fx["on_image"]]
    fmap = np.load(folder / "fixation_map.npy")
    assert fmap.sum() == len(on)
    samples = pd.read_csv(folder / "samples.csv")
    assert {"avg_x_screen", "avg_x_image", "left_valid"} <= set(samples.columns)
    # image px = (screen px - offset) / scale; the synthetic layout is 1024 px fit to 1080 high
    scale = 1080 / 1024
    row = samples.dropna(subset=["avg_x_screen"]).iloc[0]
    assert row["avg_x_image"] == pytest.approx(
        (row["avg_x_screen"] - (1920 - 1024 * scale) / 2) / scale, rel=1e-5
    )
    # a second export to the same folder replaces, not duplicates, the table rows
    with pytest.warns(ExportWarning):
        export_sessions(sessions[:1], "gazevalm", tmp_path)
    assert len(pd.read_csv(tmp_path / "readings.csv")) == 7


def test_reflacx_export(sessions: Any, tmp_path: Path) -> None:
    export_sessions(sessions[:1], "reflacx", tmp_path)
    folders = sorted((tmp_path / "demo" / "sub-01_ses-1").iterdir())
    assert len(folders) == 4
    fx = pd.read_csv(folders[0] / "fixations.csv")
    gz = pd.read_csv(folders[0] / "gaze.csv")
    assert list(fx.columns) == FIXATION_COLUMNS and list(gz.columns) == GAZE_COLUMNS
    assert gz["timestamp_sample"].iloc[0] == pytest.approx(0.0)
    assert fx["timestamp_end_fixation"].gt(fx["timestamp_start_fixation"]).all()
    assert fx["xmax_shown_from_image"].iloc[0] == 1024
    assert fx["xmin_in_screen_coordinates"].iloc[0] == pytest.approx((1920 - 1080) / 2)
    with SessionStore.open(sessions[0]) as st:
        n_fix = len([f for f in st.fixations() if f["trial_id"] == 0])
    assert len(fx) == n_fix
    assert gz["angular_resolution_x_pixels_per_degree"].between(30, 60).all()


def test_unknown_format_is_refused(sessions: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_sessions(sessions, "xdf", tmp_path)


def test_scanpath_is_drawn_over_the_real_image(tmp_path: Path) -> None:
    from PIL import Image

    dcm = (
        Path(__file__).resolve().parents[3]
        / ".."
        / "shared"
        / "testdata"
        / "cxr"
        / "cr_chest_monochrome1.dcm"
    )
    if not dcm.exists():
        pytest.skip(f"real test data not found at {dcm}")
    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=1.0, rate_hz=250.0)
    with SessionStore.open_for_writing(folder) as st:
        st.update_trial(0, image_path=str(dcm))
    export_sessions([folder], "gazevalm", tmp_path / "out")
    png = next((tmp_path / "out").rglob("scanpath.png"))
    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.shape == (1024, 1024)
    assert img.std() > 20  # the radiograph, not the flat grey fallback


def test_export_closes_every_store_when_one_cannot_be_opened(
    sessions: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[SessionReader] = []
    real = SessionReader.open

    def recording_open(path: Any) -> SessionReader:
        st = real(path)
        opened.append(st)
        return st

    monkeypatch.setattr(SessionReader, "open", staticmethod(recording_open))
    with pytest.raises(StoreError, match="no gazeread session"):
        export_sessions([*sessions, tmp_path / "missing"], "reflacx", tmp_path / "out")
    assert len(opened) == 2 and all(st.closed for st in opened)


def test_scanpath_background_uses_the_trial_display_window(tmp_path: Path) -> None:
    from PIL import Image

    ramp = np.tile(np.arange(1024) // 4, (1024, 1)).astype(np.uint8)  # grey 0..255, left->right
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=1.0, rate_hz=250.0)
    with SessionStore.open_for_writing(folder) as st:
        layout = json.loads(st.trials()[0]["layout_json"])
        # the runner stores the window shown next to the layout fields
        layout.update(window_center=128.0, window_width=2.0)
        st.update_trial(0, image_path=str(tmp_path / "ramp.png"), layout_json=layout)
    export_sessions([folder], "gazevalm", tmp_path / "out")
    export_sessions([folder], "reflacx", tmp_path / "rfx")
    png = next((tmp_path / "out").rglob("scanpath.png"))
    row = np.asarray(Image.open(png).convert("L"), dtype=float)[5]  # a row near the top edge
    # windowed to 127..129: black on the left half, white on the right (not the ramp)
    assert row[:500].max() <= 1 and row[524:].min() >= 254
    gaze = pd.read_csv(next((tmp_path / "rfx").rglob("gaze.csv")))
    assert gaze["window_level"].iloc[0] == 128.0 and gaze["window_width"].iloc[0] == 2.0


def test_export_error_exits_2_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    folder = write_synthetic_session(tmp_path / "s", n_trials=1, trial_s=0.5, rate_hz=250.0)
    with SessionStore.open_for_writing(folder) as st:
        st.update_session(screen_json={"width_px": "wide"})
    res = subprocess.run(
        [sys.executable, "-m", "sessions", "export", str(folder), "--format", "reflacx",
         "--out", str(tmp_path / "o"), "--no-progress"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "screen_json is not a screen geometry" in res.stderr and str(folder) in res.stderr
    assert "Traceback" not in res.stderr


def test_average_gaze_follows_the_detector_validity_rule() -> None:
    from acquisition.samples import empty_samples
    from sessions.export.common import average_gaze

    s = empty_samples(4)
    s["left_x"], s["left_y"] = [0.2, 0.2, 0.2, np.nan], [0.4, 0.4, 0.4, 0.4]
    s["right_x"], s["right_y"] = [0.6, 0.6, 0.6, 0.6], [0.8, 0.8, 0.8, 0.8]
    s["left_valid"] = [1, 0, 1, 1]  # sample 1: finite left coordinates flagged invalid
    s["right_valid"] = [1, 1, 0, 1]
    x, y = average_gaze(s)
    assert x.tolist() == pytest.approx([0.4, 0.6, 0.2, 0.6])
    assert y.tolist() == pytest.approx([0.6, 0.8, 0.4, 0.8])
