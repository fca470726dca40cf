"""benchmarks/fixations.py: its scoring, and a whole run on a folder it has never seen.

The benchmark will be run on other recordings in the shared format, so it is tested here on
synthetic dataset folders written in that format (gzipped TSV + recordings.json), at sampling
rates the shared data do not have.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest

import benchmarks.fixations as fb
from acquisition.geometry import ScreenGeometry, deg_to_px_offset
from benchmarks._labelled_data import LabelledRecording

SCREEN = ScreenGeometry(1280, 1024, 376.0, 301.0, 600.0)


# ---------------------------------------------------------------------- scoring
def test_masks_and_intervals_round_trip():
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    iv = fb.mask_to_intervals(mask)
    assert iv.tolist() == [[1, 2], [5, 5], [7, 9]]
    assert np.array_equal(fb.intervals_to_mask(iv, len(mask)), mask)
    assert fb.mask_to_intervals(np.zeros(4, bool)).shape == (0, 2)


def test_times_to_intervals_are_inclusive_sample_spans():
    t = np.arange(10) * 0.01
    iv = fb.times_to_intervals(t, [(0.02, 0.05), (0.071, 0.079), (0.08, 0.2)])
    assert iv.tolist() == [[2, 5], [8, 9]]  # the middle span holds no sample


def test_cohen_kappa():
    a = np.array([1, 1, 0, 0, 1, 0, 1, 0], bool)
    assert fb.cohen_kappa(a, a) == 1.0
    assert fb.cohen_kappa(a, ~a) == -1.0
    b = np.array([1, 0, 0, 0, 1, 0, 1, 1], bool)  # po 0.75, pe 0.5
    assert fb.cohen_kappa(a, b) == pytest.approx(0.5)
    assert np.isnan(fb.cohen_kappa(np.ones(4, bool), np.ones(4, bool)))


def test_event_matching_is_one_to_one_at_half_the_union():
    ref = np.array([[0, 9], [20, 29]])
    det = np.array([[0, 4], [5, 9], [18, 30]])
    # [0, 4] and [5, 9] each cover exactly half of [0, 9]: the earlier one is matched, the
    # other is a false positive; [18, 30] covers 10 of 13, the best overlap, matched first
    assert fb.match_events(det, ref) == [(2, 1), (0, 0)]
    assert fb.match_events(np.array([[0, 3]]), ref) == []  # 4 / 10 of the union
    assert fb.match_events(np.zeros((0, 2), int), ref) == []


# ---------------------------------------------------------------------- whole runs
def _recording(rate: float, seed: int, coders: int) -> tuple[np.ndarray, ...]:
    """Fixations (gamma durations), saccades (~40 deg/s..400 deg/s), one blink; labels."""
    rng = np.random.default_rng(seed)
    xs, ys, lab = [], [], []
    pos = np.array([0.0, 0.0])
    for k in range(40):
        n = round(rng.gamma(4.0, 0.06) * rate) + round(0.08 * rate)
        xs.append(pos[0] + rng.normal(0, 0.03, n))
        ys.append(pos[1] + rng.normal(0, 0.03, n))
        lab.append(np.full(n, 1))
        if k == 20:  # a blink
            n = round(0.12 * rate)
            xs.append(np.full(n, np.nan))
            ys.append(np.full(n, np.nan))
            lab.append(np.full(n, 5))
        new = rng.uniform(-12, 12, 2)
        n = max(2, round((0.02 + 0.002 * np.hypot(*(new - pos))) * rate))
        f = np.arange(1, n + 1) / n
        xs.append(pos[0] + (new[0] - pos[0]) * f)
        ys.append(pos[1] + (new[1] - pos[1]) * f)
        lab.append(np.full(n, 2))
        pos = new
    dx, dy, labels = np.concatenate(xs), np.concatenate(ys), np.concatenate(lab)
    x, y = deg_to_px_offset(SCREEN, dx, dy)
    t = np.arange(len(x)) / rate
    per_coder = [labels]
    for _ in range(coders - 1):  # a second coder: each fixation's start a sample later
        other = labels.copy()
        starts = np.flatnonzero((labels[1:] == 1) & (labels[:-1] != 1)) + 1
        other[starts] = 2
        per_coder.append(other)
    return t, x, y, *per_coder


def _write_dataset(root: Path, name: str, rate: float, n_rec: int, coders: int) -> dict:
    folder = root / name
    folder.mkdir(parents=True)
    meta = {}
    names = ["A", "B"][:coders]
    for r in range(n_rec):
        t, x, y, *labels = _recording(rate, seed=r + int(rate), coders=coders)
        rec = f"{name}_rec{r}"
        with gzip.open(folder / f"{rec}.tsv.gz", "wt", encoding="utf-8") as f:
            f.write("\t".join(["t_s", "x_px", "y_px", *[f"label_{c}" for c in names]]) + "\n")
            for i in range(len(t)):
                xy = [
                    "n/a" if np.isnan(x[i]) else f"{x[i]:.2f}",
                    "n/a" if np.isnan(y[i]) else f"{y[i]:.2f}",
                ]
                f.write("\t".join([f"{t[i]:.6f}", *xy, *[str(int(lb[i])) for lb in labels]]) + "\n")
        meta[rec] = {
            "coders": names,
            "n_samples": len(t),
            "sampling_rate_hz": rate,
            "screen_resolution_px": [SCREEN.width_px, SCREEN.height_px],
            "screen_size_m": [SCREEN.width_mm / 1000, SCREEN.height_mm / 1000],
            "viewing_distance_m": SCREEN.distance_mm / 1000,
        }
    return meta


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eyemovements")
    meta = _write_dataset(root, "synth250", 250.0, 2, coders=2)
    meta |= _write_dataset(root, "synth2000", 2000.0, 1, coders=1)
    (root / "recordings.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


def _run_json(capsys, *args: str) -> dict:
    assert fb.main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_new_folder_is_scored_per_dataset_with_the_documented_keys(data_root, capsys):
    out = _run_json(capsys, "--data", str(data_root), "--no-references")
    # a dataset of <= 600 Hz is also scored at the rates of low-rate trackers
    assert set(out["datasets"]) == {
        "synth250", "synth250@150", "synth250@120", "synth250@60", "synth2000",
    }  # fmt: skip
    assert out["datasets"]["synth250@60"]["rate_hz"] == 60.0
    # the table chooses per dataset: a 250 Hz tracker gets the adaptive detector
    assert out["datasets"]["synth250"]["method"] == "adaptive"
    assert out["datasets"]["synth2000"]["method"] == "ivt"
    for name, d in out["datasets"].items():
        for key in (
            "kappa",
            "event_f1",
            "onset_diff_ms",
            "offset_diff_ms",
            "start_lag_ms_median",
            "end_lag_ms_median",
            "us_per_sample",
            "references",
        ):
            assert key in d, (name, key)
        # clean synthetic gaze: the detector agrees well with the labels at every rate
        assert d["kappa"] > 0.8 and d["event_f1"] > 0.9, (name, d["kappa"], d["event_f1"])
        assert 60 <= d["start_lag_ms_median"] <= 100, (name, d["start_lag_ms_median"])
    assert out["datasets"]["synth250"]["coders"] == ["A", "B"]
    # the coders' agreement with each other: B starts each fixation a sample after A
    humans = out["datasets"]["synth250"]["humans"]
    assert humans["each_vs_others"]["event_f1"] == 1.0
    assert 0.9 < humans["each_vs_others"]["kappa"] < 1.0
    assert "majority_of_others" not in humans  # needs three coders
    assert out["datasets"]["synth2000"]["humans"] == {}
    assert out["datasets"]["synth250"]["n_recordings"] == 2
    # kappa and F1 are the mean over the coders
    pc = out["datasets"]["synth250"]["per_coder"]
    assert out["datasets"]["synth250"]["kappa"] == pytest.approx(
        (pc["A"]["kappa"] + pc["B"]["kappa"]) / 2
    )


def test_one_dataset_folder_and_the_table(data_root, capsys):
    assert fb.main(["--data", str(data_root / "synth2000"), "--no-references"]) == 0
    table = capsys.readouterr().out
    assert "| synth2000 | gazeread ivt | mean |" in table
    assert fb.main(["--data", str(data_root / "synth250"), "--no-references", "--rates", ""]) == 0
    assert "| synth250 | humans: each vs others | mean |" in capsys.readouterr().out


def test_a_reference_that_raises_is_counted_per_recording_never_dropped(
    data_root, capsys, monkeypatch
):
    def flaky(rec):
        if rec.name.endswith("rec0"):
            raise ValueError("array must not contain infs or NaNs")
        return [(0.0, 0.1)]

    monkeypatch.setattr(fb, "available_references", lambda: {"flaky": flaky})
    out = _run_json(capsys, "--data", str(data_root / "synth250"))
    ref = out["datasets"]["synth250"]["references"]["flaky"]
    assert ref["failures"] == 1
    assert ref["failed_recordings"] == [
        "synth250_rec0: ValueError: array must not contain infs or NaNs"
    ]
    assert ref["kappa"] is not None  # scored on the recording it did not fail on


def test_bad_folders_get_a_message_naming_what_is_wrong(tmp_path, capsys):
    assert fb.main(["--data", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "r1.tsv.gz").write_bytes(gzip.compress(b"t_s\tx_px\ty_px\n0\t1\t1\n"))
    assert fb.main(["--data", str(tmp_path / "d"), "--no-references"]) == 2
    assert "no recordings.json" in capsys.readouterr().err
    (tmp_path / "d" / "recordings.json").write_text("{}", encoding="utf-8")
    assert fb.main(["--data", str(tmp_path / "d"), "--no-references"]) == 2
    assert "no entry 'r1' in recordings.json" in capsys.readouterr().err


def test_a_recording_with_times_out_of_order_is_named(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    rows = "".join(f"{t}\t500\t500\t1\n" for t in (0.0, 0.002, 0.004, 0.003, 0.006))
    (d / "r1.tsv.gz").write_bytes(gzip.compress(("t_s\tx_px\ty_px\tlabel_A\n" + rows).encode()))
    meta = {
        "r1": {
            "coders": ["A"],
            "sampling_rate_hz": 500.0,
            "screen_resolution_px": [1024, 768],
            "screen_size_m": [0.38, 0.30],
            "viewing_distance_m": 0.67,
        }
    }
    (d / "recordings.json").write_text(json.dumps(meta), encoding="utf-8")
    assert fb.main(["--data", str(d), "--no-references"]) == 2
    err = capsys.readouterr().err
    assert "d/r1: sample times must not go back: sample 3 of the chunk has t=0.003" in err


# ---------------------------------------------------------------------- the reference detectors
@pytest.fixture(scope="module")
def with_references(data_root) -> dict:
    """One run with every reference detector that imports here (the `bench` extra)."""
    if not fb.available_references():
        pytest.skip("no reference detector installed: pip install -e '.[bench]' (CI: 3.12 lane)")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert fb.main(["--data", str(data_root), "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("pymovements_ivt", "pymovements"),
        ("pymovements_ivt_30", "pymovements"),
        ("remodnav", "remodnav"),
        ("i2mc", "I2MC"),
    ],
)
def test_each_reference_runs_on_every_dataset_and_is_scored(with_references, name, module):
    """The wrappers still fit the installed packages' APIs (pymovements changes often) and
    work at rates other than the shared data's (REMoDNaV refuses an even Savitzky-Golay
    window: 19 ms is 38 samples at 2000 Hz).

    How well each reference does is its own business (on this white-noise gaze REMoDNaV
    calls most fixations pursuit at 1000 Hz and above); a plain I-VT must agree well.
    """
    pytest.importorskip(module, reason=f"{module} is in the bench extra (the 3.12 CI lane has it)")
    for dataset, d in with_references["datasets"].items():
        ref = d["references"][name]
        assert ref["failures"] == 0, (dataset, ref["failed_recordings"])
        assert isinstance(ref["kappa"], float) and isinstance(ref["event_f1"], float)
        assert ref["us_per_sample"] > 0
        if name.startswith("pymovements") and "@" not in dataset:  # at the native rate; at
            # 60 Hz its 20 ms Savitzky-Golay window is one sample and onsets shift by one
            assert ref["kappa"] > 0.8 and ref["event_f1"] > 0.9, (dataset, name, ref)


def test_the_coders_agreement_with_each_other_and_with_their_majority():
    """Two coders mark three fixations; a third joins the first two: the ceiling rows."""
    t = np.arange(300) / 100.0
    a = np.zeros(300, dtype=np.int64)
    for s, e in ((10, 80), (90, 180), (200, 290)):
        a[s:e] = 1
    c = a.copy()
    c[80:90] = 1  # the first two fixations as one
    rec = LabelledRecording(
        "r", "d", 100.0, SCREEN, t, np.zeros(300), np.zeros(300), {"A": a, "B": a.copy(), "C": c}
    )
    out = fb.human_agreement([rec])
    # A-B agree (F1 1); C matches two of A's (or B's) three fixations: F1 2 * 2 / (3 + 2)
    assert out["each_vs_others"]["event_f1"] == pytest.approx((2 * 1.0 + 4 * 0.8) / 6)
    # the majority of the others (more than half of them) is A's labels, for every coder
    assert out["majority_of_others"]["event_f1"] == pytest.approx((1.0 + 1.0 + 0.8) / 3)
