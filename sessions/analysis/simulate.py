"""``gazeread simulate-study``: a whole reader study written through the store, with known effects.

For testing ``gazeread analyze`` and measuring it at scale without a display or a tracker:
``readers`` sessions, each reading ``images`` chest X-rays (half real, half synthetic) in the
GazeVaLM protocol's two conditions (diagnostic, then the visual Turing test), with gaze
samples at ``rate_hz``, fixations, answers and pupils. The injected effects
(:class:`Effects`, documented in docs/analysis.md) are what the tests recover:

- readers call authenticity right with a reader-specific probability around ``auth_accuracy``;
  their confidence is higher when they are right (calibrated readers);
- diagnostic findings are reported with ``finding_sensitivity`` and a small false-positive rate;
- fixations last ``synthetic_fixation_ms`` longer on synthetic images;
- pupils dilate less on synthetic images (``synthetic_pupil_mm`` smaller);
- every image has hotspots that all readers look at (gaze agreement above chance), and each
  reader starts in a corner of their own (a reader-specific scanpath style);
- one model's answers file (``models.csv``): less accurate than the readers and overconfident.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.geometry import ScreenGeometry, px_to_deg
from acquisition.samples import empty_samples
from sessions.store import SessionStore
from stimuli.layout import fit_image

__all__ = ["Effects", "simulate_study"]

FINDINGS = ("Cardiomegaly", "Pleural effusion", "Nodule/Mass")


@dataclasses.dataclass(frozen=True)
class Effects:
    """The effects a simulated study carries (each recovered by the tests)."""

    auth_accuracy: float = 0.80
    auth_accuracy_sd: float = 0.04
    finding_sensitivity: float = 0.80
    finding_false_positive: float = 0.03
    fixation_ms: float = 260.0
    synthetic_fixation_ms: float = 40.0
    pupil_mm: float = 3.5
    dilation_mm: float = 0.25
    synthetic_pupil_mm: float = -0.15
    model_accuracy: float = 0.65


def _builtin_protocol_text() -> str:
    from experiment_protocols.loader import load_protocol

    return load_protocol("gazeval").text


def _trial_gaze(
    rng: np.random.Generator,
    n_fix: int,
    mean_fix_s: float,
    hotspots: np.ndarray,
    corner: np.ndarray,
) -> list[tuple[float, float, float]]:
    """Fixations (x, y on the image 0..1, duration s): from the reader's corner to hotspots."""
    out = []
    for k in range(n_fix):
        if k == 0:
            centre = corner
        else:
            centre = (
                hotspots[rng.integers(0, len(hotspots))]
                if rng.random() < 0.75
                else rng.uniform(0.15, 0.85, 2)
            )
        xy = np.clip(centre + rng.normal(0, 0.03, 2), 0.01, 0.99)
        dur = max(0.08, rng.gamma(6.0, mean_fix_s / 6.0))
        out.append((float(xy[0]), float(xy[1]), float(dur)))
    return out


def _write_session(
    root: Path, reader_index: int, images: list[dict[str, Any]], rate_hz: float, seed: int,
    effects: Effects, protocol_text: str,
) -> Path:  # fmt: skip
    rng = np.random.default_rng([seed, reader_index])
    screen = ScreenGeometry(1920, 1080, 531.0, 299.0, 650.0)
    layout = fit_image((1024, 1024), (screen.width_px, screen.height_px))
    p_correct = float(
        np.clip(rng.normal(effects.auth_accuracy, effects.auth_accuracy_sd), 0.55, 0.98)
    )
    pupil_offset = rng.normal(0, 0.3)
    corner = np.array([[0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8]])[reader_index % 4]
    store = SessionStore.create(
        root, "simstudy", f"R{reader_index + 1:02d}", 1,
        screen_json=screen.to_dict(), protocol_text=protocol_text, protocol_name="gazeval",
        tracker_json={"backend": "simulated", "rate_hz": rate_hz}, seed=seed,
        settings_json={"generator": "gazeread simulate-study"},
    )  # fmt: skip
    trials: list[dict[str, Any]] = []
    for cond in ("diagnostic", "authenticity"):
        for im in images:
            trials.append({"id": len(trials), "block": cond, "condition": cond,
                           "image_id": im["id"], "image_path": im["path"],
                           "authenticity": im["authenticity"], "findings": ";".join(im["findings"])})  # fmt: skip
    store.add_trials(trials)
    t = 1000.0
    for tr, im in zip(trials, images * 2, strict=True):
        synthetic = im["authenticity"] == "synthetic"
        viewing = float(rng.uniform(3.0, 5.0))
        t_start, t_onset = t, t + 0.6
        t_offset = t_onset + viewing
        mean_fix = (
            effects.fixation_ms + (effects.synthetic_fixation_ms if synthetic else 0.0)
        ) / 1000.0
        fixes = []
        tt = t_onset + 0.15
        for x, y, d in _trial_gaze(rng, 40, mean_fix, im["hotspots"], corner):
            if tt + d > t_offset:
                break
            fixes.append((tt, tt + d, x, y))
            tt += d + 0.035
        n = int((t_offset + 0.4 - t_start) * rate_hz)
        s = empty_samples(n)
        s["t"] = t_start + np.arange(n) / rate_hz
        s["device_ts"] = np.rint(s["t"] * 1e6).astype(np.int64)
        gx = np.full(n, 0.5)
        gy = np.full(n, 0.5)
        for fs, fe, x, y in fixes:
            m = (s["t"] >= fs) & (s["t"] <= fe)
            sx, sy = layout.image_to_screen(x * 1024, y * 1024)
            gx[m], gy[m] = sx / screen.width_px, sy / screen.height_px
        dil = effects.dilation_mm + (effects.synthetic_pupil_mm if synthetic else 0.0)
        resp = 1.0 - np.exp(-np.clip(s["t"] - t_onset, 0, None) / 0.4)
        pupil = effects.pupil_mm + pupil_offset + dil * resp + rng.normal(0, 0.02, n)
        for eye in ("left", "right"):
            s[f"{eye}_x"], s[f"{eye}_y"] = gx, gy
            s[f"{eye}_valid"] = 1
            s[f"{eye}_pupil"] = pupil
        blink = rng.random() < 0.3
        if blink:  # one blink in the trial: invalid samples, interpolated by the analysis
            a = int(rng.integers(0, max(1, n - int(0.15 * rate_hz))))
            z = a + int(0.12 * rate_hz)
            for eye in ("left", "right"):
                s[f"{eye}_valid"][a:z] = 0
                s[f"{eye}_pupil"][a:z] = np.nan
        store.update_trial(tr["id"], status="shown", t_start=t_start, t_onset=t_onset,
                           t_offset=t_offset, layout_json=layout.to_dict(), dropped_frames=0)  # fmt: skip
        store.append_samples(s)
        rows = []
        for fs, fe, x, y in fixes:
            sx, sy = layout.image_to_screen(x * 1024, y * 1024)
            dx, dy = px_to_deg(screen, sx, sy)
            rows.append({"trial_id": tr["id"], "t_start": fs, "t_end": fe, "duration_ms": (fe - fs) * 1e3,
                         "x_px": float(sx), "y_px": float(sy), "x_deg": float(dx), "y_deg": float(dy),
                         "image_x": x * 1024, "image_y": y * 1024, "dispersion_deg": 0.3,
                         "t_emitted_start": fs + 0.06, "t_emitted_end": fe + 0.03})  # fmt: skip
        store.add_fixations(rows)
        answer = _answer(rng, tr["condition"], im, p_correct, effects)
        store.add_response(tr["id"], tr["condition"], t_offset + 1.0, rt_s=viewing + 1.0,
                           answer_json=answer, **answer)  # fmt: skip
        t = t_offset + 1.5
    store.finish("completed")
    store.close()
    return store.folder


def _answer(
    rng: np.random.Generator, cond: str, im: dict[str, Any], p_correct: float, e: Effects
) -> dict[str, Any]:
    if cond == "authenticity":
        correct = rng.random() < p_correct
        wrong = "real" if im["authenticity"] == "synthetic" else "synthetic"
        conf01 = float(np.clip(rng.normal(0.7 if correct else 0.35, 0.2), 0, 1))
        return {
            "authenticity": im["authenticity"] if correct else wrong,
            "confidence": 1 + round(4 * conf01),
        }
    chosen = [f for f in FINDINGS if (f in im["findings"] and rng.random() < e.finding_sensitivity)
              or (f not in im["findings"] and rng.random() < e.finding_false_positive)]  # fmt: skip
    correct = set(chosen) == set(im["findings"])
    conf01 = float(np.clip(rng.normal(0.7 if correct else 0.4, 0.2), 0, 1))
    return {
        "findings": ";".join(chosen) if chosen else "No finding",
        "confidence": 1 + round(4 * conf01),
    }


def _write_models(path: Path, images: list[dict[str, Any]], seed: int, e: Effects) -> Path:
    rng = np.random.default_rng([seed, 999])
    lines = ["model,image_id,condition,findings,authenticity,confidence"]
    for im in images:
        right = rng.random() < e.model_accuracy
        auth = (
            im["authenticity"]
            if right
            else ("real" if im["authenticity"] == "synthetic" else "synthetic")
        )
        lines.append(f"sim-llm,{im['id']},authenticity,,{auth},5")  # always sure: overconfident
        found = ";".join(f for f in im["findings"] if rng.random() < 0.6)
        lines.append(f"sim-llm,{im['id']},diagnostic,{found or 'No finding'},,4")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def simulate_study(
    out: str | os.PathLike[str],
    *,
    readers: int = 4,
    images: int = 10,
    rate_hz: float = 60.0,
    seed: int = 0,
    effects: Effects | None = None,
    workers: int | None = None,
) -> Path:
    """Write the study under ``out`` (sessions and ``models.csv``); returns ``out``."""
    from concurrent.futures import ProcessPoolExecutor

    if readers < 1 or images < 2:
        raise ValueError(f"need at least 1 reader and 2 images, got {readers} and {images}")
    e = effects or Effects()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ims = []
    for k in range(images):
        findings = [FINDINGS[int(rng.integers(0, len(FINDINGS)))]] if rng.random() < 0.6 else []
        ims.append({
            "id": f"cxr{k:03d}", "path": f"/stimuli/cxr{k:03d}.png",
            "authenticity": "synthetic" if k % 2 else "real", "findings": findings,
            "hotspots": rng.uniform(0.25, 0.75, (3, 2)),
        })  # fmt: skip
    text = _builtin_protocol_text()
    n = workers or os.cpu_count() or 1
    args = [(root, r, ims, rate_hz, seed, e, text) for r in range(readers)]
    if n <= 1 or readers == 1:
        for a in args:
            _write_session(*a)
    else:
        with ProcessPoolExecutor(max_workers=min(n, readers)) as pool:
            list(pool.map(_write_session_args, args))
    _write_models(root / "models.csv", ims, seed, e)
    return root


def _write_session_args(a: tuple[Any, ...]) -> Path:
    return _write_session(*a)
