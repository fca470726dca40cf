"""Score the online fixation detector against hand-labelled recordings.

Usage::

    python benchmarks/fixations.py --data ../shared/testdata/eyemovements [--json]

``--data`` is a dataset folder (``*.tsv.gz`` + ``recordings.json`` here or in the parent) or a
folder of dataset folders. Every recording is streamed through the causal detector in chunks
(``--chunk-ms``; by default what the live worker hands the detector at the dataset's rate:
50 ms, or 6 samples below 120 Hz) and scored per
dataset folder and per human coder. ``--detector auto`` (the default) lets the session's
selection table choose per dataset, from the rate and the measured RMS sample-to-sample noise
(``acquisition.fixations.choose_detector``); ``adaptive``, ``ivt`` or ``idt`` force one.
Datasets recorded at up to 600 Hz (screen-based trackers) are also scored down-sampled to
``--rates`` (150, 120, 60 Hz: the nearest sample to each tick of the lower rate, with its
labels), as rows ``<dataset>@<rate>``, so that low-rate trackers are measured too:

- sample-level Cohen's kappa, fixation vs not (all samples of all recordings pooled);
- event-level F1: a detected fixation matches a human one when they overlap by at least 50%
  of their union (one-to-one, greedy by overlap), counts pooled over recordings;
- median onset / offset difference of matched pairs, detected minus human (ms);
- emission lag of confirmed starts (``t_emitted - t_start``) and of ends (``t_emitted -
  t_end``), median and p95 (ms), and the same against the matched human onset / offset;
- microseconds of detector time per sample (CPU time, the least of ``--repeat`` runs);
- how well the human coders agree with each other (each coder against each other one, and
  against the majority of the others): the ceiling a detector is measured against.

The same recordings are scored with pymovements' offline I-VT and, where importable,
REMoDNaV and I2MC. A reference that raises on a recording is counted and listed as a failure
for that recording (its other recordings are still scored), never dropped silently.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acquisition.fixations import DetectorChoice, batch_interval_s, choose_detector
from acquisition.geometry import px_per_degree, px_to_deg
from benchmarks._labelled_data import (
    FIXATION,
    LabelledRecording,
    downsample,
    find_datasets,
    load_dataset,
    rms_s2s_deg,
)

Intervals = np.ndarray  # (k, 2) int: first and last sample index (inclusive)


# ---------------------------------------------------------------------- scoring (pure)
def mask_to_intervals(mask: np.ndarray) -> Intervals:
    """Runs of True as (first, last) inclusive sample indices."""
    m = np.concatenate(([False], np.asarray(mask, bool), [False]))
    d = np.diff(m.astype(np.int8))
    return np.stack((np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1), axis=1)


def times_to_intervals(t: np.ndarray, spans: list[tuple[float, float]]) -> Intervals:
    """Time spans (s, inclusive) -> sample index intervals on the sample times ``t``."""
    out = []
    for t0, t1 in spans:
        a = int(np.searchsorted(t, t0 - 1e-9, side="left"))
        b = int(np.searchsorted(t, t1 + 1e-9, side="right")) - 1
        if b >= a:
            out.append((a, b))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def intervals_to_mask(iv: Intervals, n: int) -> np.ndarray:
    """Inverse of :func:`mask_to_intervals`."""
    d = np.zeros(n + 1, dtype=np.int64)
    np.add.at(d, iv[:, 0], 1)
    np.add.at(d, iv[:, 1] + 1, -1)
    return np.cumsum(d[:n]) > 0


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two boolean label vectors."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    po = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if pe >= 1.0 else (po - pe) / (1.0 - pe)


def match_events(det: Intervals, ref: Intervals, min_iou: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (det index, ref index) with overlap >= ``min_iou`` of the union."""
    cands = []
    if len(det) and len(ref):
        j0 = np.searchsorted(ref[:, 1], det[:, 0], side="left")
        for i, (a, b) in enumerate(det):
            j = int(j0[i])
            while j < len(ref) and ref[j, 0] <= b:
                c, d = ref[j]
                inter = min(b, d) - max(a, c) + 1
                union = max(b, d) - min(a, c) + 1
                if inter > 0 and inter / union >= min_iou:
                    cands.append((inter / union, i, j))
                j += 1
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))  # best overlap first; ties: earliest
    used_d, used_r, out = set(), set(), []
    for _, i, j in cands:
        if i not in used_d and j not in used_r:
            used_d.add(i)
            used_r.add(j)
            out.append((i, j))
    return out


class Score:
    """Pooled agreement of one detector with one coder over recordings."""

    def __init__(self) -> None:
        self.det_mask: list[np.ndarray] = []
        self.ref_mask: list[np.ndarray] = []
        self.tp = self.n_det = self.n_ref = 0
        self.onset: list[float] = []
        self.offset: list[float] = []

    def add(self, t: np.ndarray, det: Intervals, ref: Intervals) -> list[tuple[int, int]]:
        n = len(t)
        self.det_mask.append(intervals_to_mask(det, n))
        self.ref_mask.append(intervals_to_mask(ref, n))
        pairs = match_events(det, ref)
        self.tp += len(pairs)
        self.n_det += len(det)
        self.n_ref += len(ref)
        for i, j in pairs:
            self.onset.append((t[det[i, 0]] - t[ref[j, 0]]) * 1000.0)
            self.offset.append((t[det[i, 1]] - t[ref[j, 1]]) * 1000.0)
        return pairs

    def result(self) -> dict[str, float]:
        if not self.det_mask:
            return {"kappa": float("nan"), "event_f1": float("nan")}
        k = cohen_kappa(np.concatenate(self.det_mask), np.concatenate(self.ref_mask))
        denom = self.n_det + self.n_ref
        return {
            "kappa": k,
            "event_f1": 2.0 * self.tp / denom if denom else float("nan"),
            "onset_diff_ms": _med(self.onset),
            "offset_diff_ms": _med(self.offset),
            "n_detected": self.n_det,
            "n_reference": self.n_ref,
            "n_matched": self.tp,
        }


def _med(v: list[float]) -> float:
    return float(np.median(v)) if v else float("nan")


def _p95(v: list[float]) -> float:
    return float(np.percentile(v, 95)) if v else float("nan")


def human_agreement(recs: list[LabelledRecording]) -> dict[str, dict[str, float]]:
    """How well the coders agree with each other: the ceiling a detector is measured against.

    ``each_vs_others``: every coder scored against every other coder (as a detector is scored
    against each coder), averaged. ``majority_of_others`` (three coders or more): every coder
    scored against the sample-wise majority of the other coders, averaged: what a detector
    that labelled like the consensus would reach. Empty with fewer than two coders.
    """
    coders = sorted({c for r in recs for c in r.labels})
    if len(coders) < 2:
        return {}
    pairs: list[dict[str, float]] = []
    major: list[dict[str, float]] = []
    for a in coders:
        for b in coders:
            if a != b:
                s = Score()
                for r in recs:
                    if a in r.labels and b in r.labels:
                        ref = mask_to_intervals(r.labels[a] == FIXATION)
                        s.add(r.t, mask_to_intervals(r.labels[b] == FIXATION), ref)
                pairs.append(s.result())
        if len(coders) >= 3:
            s = Score()
            for r in recs:
                others = [r.labels[b] == FIXATION for b in coders if b != a and b in r.labels]
                if a in r.labels and others:
                    vote = np.mean(others, axis=0) > 0.5
                    s.add(r.t, mask_to_intervals(vote), mask_to_intervals(r.labels[a] == FIXATION))
            major.append(s.result())
    out = {"each_vs_others": _mean_of(pairs)}
    if major:
        out["majority_of_others"] = _mean_of(major)
    return out


def _mean_of(results: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.nanmean([r[k] for r in results])) for k in ("kappa", "event_f1")}


# ---------------------------------------------------------------------- our detector
def run_online(rec: LabelledRecording, detector: Any, chunk_ms: float) -> tuple[list[Any], float]:
    """Stream a recording through a detector in chunks; return (events, CPU seconds spent).

    The chunks are cut beforehand and the CPU time (``time.process_time``, robust to other
    load on the machine) is read once around the whole loop: reading that clock costs tens of
    microseconds here, too much to read per chunk.
    """
    t = rec.t
    n_chunk = max(1, round(chunk_ms / 1000.0 * rec.rate_hz))
    chunks = [
        (t[a : a + n_chunk], rec.x_px[a : a + n_chunk], rec.y_px[a : a + n_chunk])
        for a in range(0, len(t), n_chunk)
    ]
    events: list[Any] = []
    t0 = time.process_time()
    for c in chunks:
        events += detector.feed_px(*c)
    events += detector.flush()
    return events, time.process_time() - t0


# ---------------------------------------------------------------------- references
def _pymovements_ivt(
    rec: LabelledRecording, threshold_deg_s: float, min_duration_ms: int
) -> list[tuple[float, float]]:
    """pymovements' I-VT on Savitzky-Golay velocities (20 ms window, order 2).

    pymovements needs a gap-free signal for the filter: lost samples are interpolated
    linearly for the velocity only, and their velocity is set to NaN (never a fixation).
    """
    import pymovements as pm

    dx, dy = px_to_deg(rec.screen, rec.x_px, rec.y_px)
    bad = ~(np.isfinite(dx) & np.isfinite(dy))
    if bad.all():
        return []
    if bad.any():
        i = np.arange(len(dx))
        dx = np.interp(i, i[~bad], dx[~bad])
        dy = np.interp(i, i[~bad], dy[~bad])
    win = round(0.020 * rec.rate_hz) | 1
    vel = pm.transforms.numpy.pos2vel(
        np.stack((dx, dy), axis=1),
        rec.rate_hz,
        method="savitzky_golay",
        window_length=max(win, 3),
        polyorder=2,
    )
    vel[bad] = np.nan
    ts = np.round(rec.t * 1000.0).astype(np.int64)
    fr = pm.events.ivt(
        vel, timesteps=ts, minimum_duration=min_duration_ms, velocity_threshold=threshold_deg_s
    ).frame
    return [
        (on / 1000.0, off / 1000.0)
        for on, off in zip(fr["onset"].to_list(), fr["offset"].to_list(), strict=True)
    ]


def ref_pymovements(rec: LabelledRecording) -> list[tuple[float, float]]:
    """pymovements I-VT with its default threshold and minimum (20 deg/s, 100 ms)."""
    return _pymovements_ivt(rec, 20.0, 100)


def ref_pymovements_tobii(rec: LabelledRecording) -> list[tuple[float, float]]:
    """pymovements I-VT with Tobii's threshold and minimum (30 deg/s, 60 ms)."""
    return _pymovements_ivt(rec, 30.0, 60)


_REMODNAV_FIX = ("FIXA",)


def ref_remodnav(rec: LabelledRecording) -> list[tuple[float, float]]:
    """REMoDNaV 1.1 with its defaults; its FIXA events.

    One adjustment: REMoDNaV refuses a Savitzky-Golay window of an even number of samples,
    which its 19 ms default gives at 250 or 2000 Hz; there the window gets one sample more.
    (At 500 and 1000 Hz it is the default: 9 and 19 samples.)
    """
    import logging

    from remodnav import EyegazeClassifier

    logging.getLogger("remodnav").setLevel(logging.ERROR)

    ppd = px_per_degree(rec.screen)[0]
    clf = EyegazeClassifier(px2deg=1.0 / ppd, sampling_rate=rec.rate_hz)
    data = np.zeros(len(rec.x_px), dtype=[("x", "f8"), ("y", "f8")])
    data["x"], data["y"] = rec.x_px, rec.y_px
    n_savgol = int(0.019 * rec.rate_hz)  # REMoDNaV's default, as it converts it to samples
    n_savgol = max(3, n_savgol + 1 - n_savgol % 2)  # odd, above the polynomial order (2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp = clf.preproc(data, savgol_length=(n_savgol + 0.5) / rec.rate_hz)
        events = clf(pp)
    t0 = float(rec.t[0])
    return [
        (t0 + e["start_time"], t0 + e["end_time"] - 1.0 / rec.rate_hz)
        for e in events
        if e["label"] in _REMODNAV_FIX
    ]


def ref_i2mc(rec: LabelledRecording) -> list[tuple[float, float]]:
    """I2MC with its defaults (monocular).

    Below 250 Hz its default down-sampling (by 2, 5 and 10, with a Chebyshev anti-alias
    filter) cannot run (I2MC refuses the filter at 120 and 60 Hz and asks for
    ``downsampFilter = False``): there it down-samples by 2 (and 3 from 100 Hz up) without
    the filter, as its documentation advises for low-rate data.
    """
    import I2MC
    import pandas as pd

    miss = -32768.0
    df = pd.DataFrame(
        {
            "time": rec.t * 1000.0,
            "L_X": np.where(np.isfinite(rec.x_px), rec.x_px, miss),
            "L_Y": np.where(np.isfinite(rec.y_px), rec.y_px, miss),
        }
    )
    opt = {
        "xres": rec.screen.width_px,
        "yres": rec.screen.height_px,
        "freq": rec.rate_hz,
        "missingx": miss,
        "missingy": miss,
        "scrSz": [rec.screen.width_mm / 10.0, rec.screen.height_mm / 10.0],
        "disttoscreen": rec.screen.distance_mm / 10.0,
    }
    if rec.rate_hz < 250.0:
        opt["downsampFilter"] = False
        opt["downsamples"] = [2, 3] if rec.rate_hz >= 100.0 else [2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fix, _, _ = I2MC.I2MC(df, opt, logging=False)
    if fix is False or not isinstance(fix, dict):
        raise RuntimeError("I2MC returned no result")
    return [(a / 1000.0, b / 1000.0) for a, b in zip(fix["startT"], fix["endT"], strict=False)]


def available_references() -> dict[str, Callable[[LabelledRecording], list]]:
    """Reference detectors whose packages import here."""
    out: dict[str, Callable[[LabelledRecording], list]] = {}
    for name, mod, fn in (
        ("pymovements_ivt", "pymovements", ref_pymovements),
        ("pymovements_ivt_30", "pymovements", ref_pymovements_tobii),
        ("remodnav", "remodnav", ref_remodnav),
        ("i2mc", "I2MC", ref_i2mc),
    ):
        try:
            __import__(mod)
        except Exception:
            continue
        out[name] = fn
    return out


# ---------------------------------------------------------------------- driver
def choose_for(
    recs: list[LabelledRecording], method: str, params: dict, noise: float | None
) -> DetectorChoice:
    """The detector a session on such recordings would run: the table's choice (``auto``),
    from the rate and the median measured RMS sample-to-sample noise, or the one forced."""
    return choose_detector("recording", recs[0].rate_hz if recs else 1000.0, noise,
                           method=method, params=params)  # fmt: skip


def _noise(recs: list[LabelledRecording]) -> float | None:
    """The median measured RMS sample-to-sample noise of the recordings (deg)."""
    return float(np.nanmedian([rms_s2s_deg(r) for r in recs])) if recs else None


def _warm_up(choice: DetectorChoice, rec: LabelledRecording) -> None:
    """Compile (or load) the detector's numba code before anything is timed."""
    det = choice.build(rec.screen)
    t = np.arange(64) / rec.rate_hz
    det.feed_px(t, np.full(64, rec.screen.width_px / 2.0), np.full(64, rec.screen.height_px / 2.0))
    det.flush()


def evaluate_recordings(
    name: str,
    recs: list[LabelledRecording],
    choice: DetectorChoice,
    chunk_ms: float,
    refs: dict,
    noise: float | None = None,
    repeat: int = 1,
) -> dict[str, Any]:
    """Score the chosen detector and every reference on one dataset (all coders).

    The detector's time per recording is the least of ``repeat`` runs (as ``timeit`` does: on
    a shared machine the other runs measure the neighbours); its events are the first run's
    (every run gives the same).
    """
    if recs:
        _warm_up(choice, recs[0])
    coders = sorted({c for r in recs for c in r.labels})
    ours = {c: Score() for c in coders}
    lag_s: list[float] = []
    lag_e: list[float] = []
    lag_sh: list[float] = []
    lag_eh: list[float] = []
    spent = 0.0
    n_samples = 0
    ref_scores = {name: {c: Score() for c in coders} for name in refs}
    ref_fail: dict[str, list[str]] = {name: [] for name in refs}
    ref_time = dict.fromkeys(refs, 0.0)
    for rec in recs:
        det = choice.build(rec.screen)
        try:
            events, sec = run_online(rec, det, chunk_ms)
        except ValueError as exc:  # e.g. times out of order: name the recording
            raise ValueError(f"{name}/{rec.name}: {exc}") from exc
        for _ in range(repeat - 1):
            sec = min(sec, run_online(rec, choice.build(rec.screen), chunk_ms)[1])
        spent += sec
        n_samples += len(rec.t)
        ends = [e for e in events if e.kind == "end"]
        det_iv = times_to_intervals(rec.t, [(e.t_start, e.t_end) for e in ends])
        for e in ends:
            lag_e.append((e.t_emitted - e.t_end) * 1000.0)
            lag_s.append((e.t_confirmed - e.t_start) * 1000.0)
        for c, lab in rec.labels.items():
            ref_iv = mask_to_intervals(lab == FIXATION)
            pairs = ours[c].add(rec.t, det_iv, ref_iv)
            for i, j in pairs:
                lag_sh.append((ends[i].t_confirmed - rec.t[ref_iv[j, 0]]) * 1000.0)
                lag_eh.append((ends[i].t_emitted - rec.t[ref_iv[j, 1]]) * 1000.0)
        for name, fn in refs.items():
            t0 = time.process_time()
            try:
                spans = fn(rec)
            except Exception as exc:
                ref_fail[name].append(f"{rec.name}: {type(exc).__name__}: {exc}"[:200])
                continue
            finally:
                ref_time[name] += time.process_time() - t0
            iv = times_to_intervals(rec.t, spans)
            for c, lab in rec.labels.items():
                ref_scores[name][c].add(rec.t, iv, mask_to_intervals(lab == FIXATION))
    per_coder = {c: s.result() for c, s in ours.items()}
    out: dict[str, Any] = {
        "method": choice.method,
        "method_reason": choice.reason,
        "rate_hz": recs[0].rate_hz if recs else None,
        "noise_rms_s2s_deg": noise,
        "n_recordings": len(recs),
        "n_samples": n_samples,
        "coders": coders,
        **_mean_over(per_coder),
        "start_lag_ms_median": _med(lag_s),
        "start_lag_ms_p95": _p95(lag_s),
        "end_lag_ms_median": _med(lag_e),
        "end_lag_ms_p95": _p95(lag_e),
        "start_lag_vs_human_ms_median": _med(lag_sh),
        "end_lag_vs_human_ms_median": _med(lag_eh),
        "us_per_sample": spent / max(1, n_samples) * 1e6,
        "chunk_ms": chunk_ms,
        "per_coder": per_coder,
        "humans": human_agreement(recs),
        "references": {},
    }
    for name in refs:
        pc = {c: s.result() for c, s in ref_scores[name].items()}
        out["references"][name] = {
            **_mean_over(pc),
            "per_coder": pc,
            "failures": len(ref_fail[name]),
            "failed_recordings": ref_fail[name],
            "us_per_sample": ref_time[name] / max(1, n_samples) * 1e6,
        }
    return out


def _mean_over(per_coder: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = ("kappa", "event_f1", "onset_diff_ms", "offset_diff_ms")
    out = {}
    for k in keys:  # the mean over coders with a value (NaN if none has one)
        vals = [v for r in per_coder.values() if np.isfinite(v := r.get(k, np.nan))]
        out[k] = float(np.mean(vals)) if vals else float("nan")
    return out


def _finite(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _fmt(v: Any, nd: int = 3) -> str:
    if isinstance(v, (int, np.integer)):
        return str(v)
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{nd}f}"


def print_table(result: dict[str, Any]) -> None:
    hdr = "| dataset | detector | coder | kappa | event F1 | onset diff ms | offset diff ms | start lag ms med/p95 | end lag ms med/p95 | us/sample | failures |"
    print(hdr)
    print("|---" * (hdr.count("|") - 1) + "|")
    for name, d in result["datasets"].items():
        rows = [(c, r) for c, r in d["per_coder"].items()] + [("mean", d)]
        for c, r in rows:
            lags = (
                f"{_fmt(d['start_lag_ms_median'], 1)}/{_fmt(d['start_lag_ms_p95'], 1)} | "
                f"{_fmt(d['end_lag_ms_median'], 1)}/{_fmt(d['end_lag_ms_p95'], 1)} | "
                f"{_fmt(d['us_per_sample'], 2)}"
                if c == "mean"
                else " | | "
            )
            print(
                f"| {name} | gazeread {d['method']} | {c} | {_fmt(r['kappa'])} | {_fmt(r['event_f1'])} | "
                f"{_fmt(r['onset_diff_ms'], 1)} | {_fmt(r['offset_diff_ms'], 1)} | {lags} | |"
            )
        for who, hr in d.get("humans", {}).items():
            print(
                f"| {name} | humans: {who.replace('_', ' ')} | mean | {_fmt(hr['kappa'])} | "
                f"{_fmt(hr['event_f1'])} | | | | | | |"
            )
        for ref, rr in d["references"].items():
            fails = f"{rr['failures']}/{d['n_recordings']}"
            print(
                f"| {name} | {ref} | mean | {_fmt(rr['kappa'])} | {_fmt(rr['event_f1'])} | "
                f"{_fmt(rr['onset_diff_ms'], 1)} | {_fmt(rr['offset_diff_ms'], 1)} | | | "
                f"{_fmt(rr['us_per_sample'], 1)} | {fails} |"
            )
    for name, d in result["datasets"].items():
        for ref, rr in d["references"].items():
            for f in rr["failed_recordings"]:
                print(f"{name}: {ref} failed on {f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="dataset folder or folder of them")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--detector", choices=("auto", "adaptive", "ivt", "idt"), default="auto")
    ap.add_argument(
        "--chunk-ms",
        type=float,
        default=None,
        help="streaming chunk length (ms of data); default: the live worker's at the dataset's "
        "rate (50 ms, or 6 samples below 120 Hz)",
    )
    ap.add_argument(
        "--rates",
        default="150,120,60",
        help="also score datasets of <= 600 Hz down-sampled to these rates ('' for none)",
    )
    ap.add_argument("--no-references", action="store_true", help="score only our detector")
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="time the detector over this many runs of each recording and keep the least",
    )
    ap.add_argument("--params", default="{}", help="JSON overrides of the detector parameters")
    args = ap.parse_args(argv)
    overrides = json.loads(args.params)
    if overrides and args.detector == "auto":
        print("fixations benchmark: --params needs a named --detector", file=sys.stderr)
        return 2
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    refs = {} if args.no_references else available_references()
    result: dict[str, Any] = {"detector": args.detector, "params": overrides, "datasets": {}}
    try:
        for folder in find_datasets(args.data):
            recs = load_dataset(folder)
            runs = [(folder.name, recs)]
            if recs and recs[0].rate_hz <= 600.0:
                runs += [
                    (f"{folder.name}@{r:g}", [downsample(x, r) for x in recs])
                    for r in rates
                    if r < recs[0].rate_hz
                ]
            for name, rs in runs:
                noise = _noise(rs)
                choice = choose_for(rs, args.detector, overrides, noise)
                chunk_ms = args.chunk_ms or batch_interval_s(rs[0].rate_hz if rs else 1e3) * 1e3
                result["datasets"][name] = evaluate_recordings(
                    name, rs, choice, chunk_ms, refs, noise, args.repeat
                )
                result["datasets"][name]["params"] = choice.params.to_dict()
    except (FileNotFoundError, ValueError) as exc:
        print(f"fixations benchmark: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_finite(result), indent=1, allow_nan=False))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
