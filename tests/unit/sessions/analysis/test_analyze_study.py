"""gazeread analyze on a simulated study recovers every injected effect within its CI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sessions.analysis.simulate import Effects, simulate_study

pytestmark = pytest.mark.slow
E = Effects()


def _gazeread(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sessions", *args], capture_output=True,
                          text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = simulate_study(tmp_path_factory.mktemp("study") / "sim", readers=12, images=24, seed=3)
    out = root / "analysis"
    r = _gazeread("analyze", str(root), "--models", str(root / "models.csv"), "--out", str(out),
                  "--bootstrap", "400")  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "summary.json").read_text())


def _within(v: dict, target: float) -> bool:
    return v["ci"][0] <= target <= v["ci"][1]


def test_summary_has_the_documented_keys(analysed: tuple[Path, dict]) -> None:
    _, s = analysed
    assert s["readers"] == 12 and s["trials"] == 12 * 48
    a = s["decisions"]["authenticity"]
    for k in ("accuracy", "sensitivity", "specificity", "auc"):
        assert set(a[k]) == {"value", "ci"} and len(a[k]["ci"]) == 2
    assert "accuracy" in s["decisions"]["diagnostic"] and "ece" in s["calibration"]
    assert {"cc", "nss", "auc_judd"} <= set(s["agreement"]["saliency"])
    assert {"multimatch", "dtw"} <= set(s["agreement"]["scanpath"])
    assert "mean_fixation_ms" in s["gaze"]["all"] and "pupil_dilation_mm" in s["pupil"]["all"]
    assert set(s["models"]["sim-llm"]["authenticity"]) == set(a)


def test_the_injected_effects_are_recovered(analysed: tuple[Path, dict]) -> None:
    _, s = analysed
    a = s["decisions"]["authenticity"]
    assert _within(a["accuracy"], E.auth_accuracy)
    assert a["auc"]["value"] > 0.75  # calibrated readers: confidence separates right from wrong
    assert s["calibration"]["ece"] < 0.15
    fix = s["gaze"]["all"]["mean_fixation_ms"]  # +40 ms drawn; trials end mid-fixation: a bit less
    assert fix["ci"][0] > 15 and fix["ci"][1] > 30 and fix["p"] < 0.01 and fix["d"] > 0.5
    pupil = s["pupil"]["all"]["pupil_dilation_mm"]
    # the simulated pupil reaches its dilation with a 0.4 s time constant: the mean from 0.5 s
    # after onset to offset is 96-97 % of it
    assert pupil["effect"] == pytest.approx(E.synthetic_pupil_mm * 0.965, abs=0.008)
    assert pupil["ci"][1] < 0 and pupil["p"] < 0.01
    base = s["pupil"]["all"]["pupil_baseline_mm"]
    assert abs(base["effect"]) < 0.05  # the baseline is before the image: no effect there
    diag = s["decisions"]["diagnostic"]
    assert 0.6 < diag["accuracy"] < 0.95
    sal = s["agreement"]["saliency"]
    assert sal["auc_judd"] > 0.75 and sal["nss"] > 1.0  # shared hotspots: above chance (0.5, 0)
    assert 0.5 < s["agreement"]["scanpath"]["multimatch"] <= 1.0
    model = s["models"]["sim-llm"]
    assert model["authenticity"]["accuracy"]["value"] < a["accuracy"]["value"]
    assert model["paired_vs_readers"]["difference"] < 0
    assert model["calibration"]["overconfidence"] > s["calibration"]["overconfidence"] + 0.1


def test_the_report_tables_and_the_models_template(
    analysed: tuple[Path, dict], tmp_path: Path
) -> None:
    out, _ = analysed
    html = (out / "report.html").read_text()
    for words in ("Authenticity", "Confidence calibration", "Gaze agreement", "Pupil",
                  "data:image/png;base64,", "sim-llm"):  # fmt: skip
        assert words in html
    for name in ("reader_trials", "readers", "images", "models"):
        assert (out / "tables" / f"{name}.csv").stat().st_size > 100
    study = out.parent
    tpl = tmp_path / "models.csv"
    r = _gazeread("analyze", str(study), "--models-template", str(tpl))
    assert r.returncode == 0, r.stderr
    lines = tpl.read_text().splitlines()
    assert lines[0] == "model,image_id,condition,findings,authenticity,confidence"
    assert len(lines) == 1 + 24 * 2
    # beside it, what to give the models: the items and the readers' instructions and questions
    prompts = json.loads((tmp_path / "models-items" / "prompts.json").read_text())
    assert prompts["authenticity"]["question"] == "Is this radiograph real or synthetic?"
    assert prompts["diagnostic"]["confidence_scale"] == [1, 2, 3, 4, 5]
    assert len((tmp_path / "models-items" / "items.csv").read_text().splitlines()) == 1 + 48
    bad = tmp_path / "bad.csv"
    bad.write_text(lines[0] + "\nm1,nope,authenticity,,real,3\nm1,cxr000,authenticity,,maybe,3\n")
    r = _gazeread("analyze", str(study), "--models", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "line 2: 'nope'" in r.stderr and "line 3, authenticity: 'maybe'" in r.stderr


def test_the_report_in_a_real_browser(analysed: tuple[Path, dict], artifacts: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium here (apt-get install chromium; .ci/run installs it)")
    from PIL import Image

    out, _ = analysed
    shot = artifacts / "report.png"
    r = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={shot}", "--window-size=1200,2400", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.exists(), r.stderr
    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.shape[0] >= 2000 and img.std() > 20  # text, tables and figures, not a blank page


def test_bad_input_is_named(tmp_path: Path) -> None:
    r = _gazeread("analyze", str(tmp_path / "nothing"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "no such folder" in r.stderr
    (tmp_path / "empty").mkdir()
    r = _gazeread("analyze", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "no session (session.sqlite)" in r.stderr
    r = _gazeread("simulate-study", "--readers", "0", "--out", str(tmp_path / "s"))
    assert r.returncode == 2 and "at least 1 reader" in r.stderr
