"""Write a complete, plausible session with the store API, without a window or a tracker.

For tests, demos of ``check``/``export``/``replay`` and the store benchmark: trials with
layouts, samples at a given rate (fixations, saccades, blinks, dropouts), responses,
online-style fixations (with image coordinates), a calibration and a validation.
The content depends only on ``seed``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.geometry import ScreenGeometry, px_to_deg
from acquisition.samples import SampleFlag, empty_samples
from sessions.store import SessionStore
from stimuli.layout import fit_image

__all__ = ["synthetic_gaze", "write_synthetic_session"]

CONDITIONS = ("diagnostic", "authenticity")
FINDINGS = ("cardiomegaly", "effusion", "pneumothorax", "consolidation", "no_finding")


def synthetic_gaze(
    n: int,
    rate_hz: float,
    t0: float,
    rng: np.random.Generator,
    *,
    rect: tuple[float, float, float, float] = (0.2, 0.05, 0.8, 0.95),
    blink_prob: float = 0.002,
) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """``n`` samples of fixations (200-500 ms) joined by jumps, plus the fixations made.

    Returns the SAMPLE_DTYPE rows and ``(t_start, t_end, x_norm, y_norm)`` per fixation.
    """
    s = empty_samples(n)
    idx = np.arange(n)
    s["t"] = t0 + idx / rate_hz
    s["device_ts"] = np.rint(s["t"] * 1e6).astype(np.int64)
    durations = rng.integers(int(0.2 * rate_hz), int(0.5 * rate_hz), size=n // 24 + 2)
    starts = np.concatenate(([0], np.cumsum(durations)))
    k = int(np.searchsorted(starts, n, side="right"))
    starts = starts[:k]
    fx = rng.uniform(rect[0], rect[2], size=k)
    fy = rng.uniform(rect[1], rect[3], size=k)
    seg = np.searchsorted(starts, idx, side="right") - 1
    noise = rng.normal(0.0, 0.0008, size=(2, n))
    for eye, dx in (("left", -0.002), ("right", 0.002)):
        s[f"{eye}_x"] = fx[seg] + dx + noise[0]
        s[f"{eye}_y"] = fy[seg] + noise[1]
        s[f"{eye}_valid"] = 1
        s[f"{eye}_pupil"] = 3.5
    s["left_eye_pos"] = (-30.0, 0.0, 650.0)
    s["right_eye_pos"] = (30.0, 0.0, 650.0)
    # blinks: ~120 ms of invalid data
    for b in np.nonzero(rng.random(k) < blink_prob * 50)[0]:
        a = int(starts[b]) + 5
        z = min(n, a + int(0.12 * rate_hz))
        for eye in ("left", "right"):
            s[f"{eye}_x"][a:z] = np.nan
            s[f"{eye}_y"][a:z] = np.nan
            s[f"{eye}_valid"][a:z] = 0
            s[f"{eye}_pupil"][a:z] = np.nan
        s["flags"][a:z] |= np.uint32(SampleFlag.BLINK)
    ends = np.append(starts[1:], n) - 1
    fix = [
        (float(s["t"][a]), float(s["t"][e]), float(fx[i]), float(fy[i]))
        for i, (a, e) in enumerate(zip(starts, ends, strict=True))
        if e - a > 0.06 * rate_hz
    ]
    return s, fix


def write_synthetic_session(
    root: str | os.PathLike[str],
    *,
    study: str = "demo",
    participant: str = "01",
    session: int = 1,
    n_trials: int = 4,
    trial_s: float = 3.0,
    rate_hz: float = 1200.0,
    seed: int = 0,
    screen: ScreenGeometry | None = None,
    image_size: tuple[int, int] = (1024, 1024),
    drop_every: int = 0,
    drop_run: int = 1,
    complete: bool = True,
    t0: float = 1000.0,
    batch_s: float = 0.05,
) -> Path:
    """Write a session and return its folder.

    Parameters
    ----------
    n_trials, trial_s : int, float
        Trials and seconds of image viewing per trial (samples run through the whole session).
    drop_every : int
        When > 0, remove ``drop_run`` consecutive samples in every ``drop_every`` (the next
        one flagged AFTER_GAP) to simulate dropped samples.
    batch_s : float
        Seconds of samples per insert (0.05 as the recorder does; larger to synthesise fast).
    complete : bool
        When False, the last trial is shown but never answered and the status stays
        ``running`` (what a killed session looks like).
    """
    rng = np.random.default_rng(seed)
    screen = screen or ScreenGeometry()
    layout = fit_image(image_size, (screen.width_px, screen.height_px))
    store = SessionStore.create(
        root,
        study,
        participant,
        session,
        tracker_json={"backend": "simulated", "model": "synthetic", "rate_hz": rate_hz},
        screen_json=screen.to_dict(),
        provenance_json={"generator": "tests.support.synthetic_session", "seed": seed},
        protocol_name="synthetic.toml",
        seed=seed,
    )
    trials: list[dict[str, Any]] = []
    for i in range(n_trials):
        real = bool(i % 2)
        trials.append(
            {
                "id": i,
                "block": "main",
                "condition": CONDITIONS[(i // 2) % 2],
                "image_id": f"img{i // 2:03d}",
                "image_path": f"/stimuli/img{i // 2:03d}.png",
                "authenticity": "real" if real else "synthetic",
                "findings": FINDINGS[i % len(FINDINGS)],
            }
        )
    store.add_trials(trials)
    store.add_calibration(
        t0 - 30.0, "calibration", "software-affine", accuracy_deg=0.42, passed=True, selected=1
    )
    store.add_calibration(
        t0 - 10.0,
        "validation",
        "software-affine",
        accuracy_deg=0.51,
        worst_deg=0.93,
        passed=True,
        result_json={"precision_rms_deg": 0.05, "data_loss_percent": 1.0},
    )
    t = t0
    response_s = 1.5
    for i, tr in enumerate(trials):
        last = i == n_trials - 1
        t_start, t_onset = t, t + 0.5
        t_offset = t_onset + trial_s
        n = round((t_offset + response_s - t_start) * rate_hz)
        s, fix = synthetic_gaze(n, rate_hz, t_start, rng)
        if drop_every > 0:
            if not 0 < drop_run < drop_every:
                raise ValueError(f"drop_run must be in 1..drop_every-1, got {drop_run!r}")
            keep = np.ones(n, dtype=bool)
            for k in range(drop_run):
                keep[drop_every + k :: drop_every] = False
            after = np.zeros(n, dtype=bool)
            after[drop_every + drop_run :: drop_every] = True
            s["flags"][after] |= np.uint32(SampleFlag.AFTER_GAP)
            s = s[keep]
        store.update_trial(
            i,
            status="shown",
            t_start=t_start,
            t_onset=t_onset,
            layout_json=layout.to_dict(),
            dropped_frames=0,
        )
        store.add_event(t_onset, "image_onset", tr["image_id"], trial_id=i, image_id=tr["image_id"])
        step = max(1, int(rate_hz * batch_s))
        for a in range(0, len(s), step):
            store.append_samples(s[a : a + step])
        rows = []
        for fs, fe, nx, ny in fix:
            if fs < t_onset or fe > t_offset:
                continue
            xs, ys = nx * screen.width_px, ny * screen.height_px
            ix, iy = layout.screen_to_image(xs, ys)
            on = bool(layout.on_image(ix, iy))
            dx, dy = px_to_deg(screen, xs, ys)
            rows.append(
                {
                    "trial_id": i,
                    "t_start": fs,
                    "t_end": fe,
                    "duration_ms": (fe - fs) * 1000.0,
                    "x_px": xs,
                    "y_px": ys,
                    "x_deg": float(dx),
                    "y_deg": float(dy),
                    "image_x": float(ix) if on else None,
                    "image_y": float(iy) if on else None,
                    "dispersion_deg": 0.3,
                    "t_emitted_start": fs + 0.06,
                    "t_emitted_end": fe + 0.02,
                }
            )
        store.add_fixations(rows)
        if last and not complete:
            break
        store.update_trial(i, t_offset=t_offset, status="shown")
        store.add_event(t_offset, "image_offset", tr["image_id"], trial_id=i)
        if tr["condition"] == "authenticity":
            answer: dict[str, Any] = {
                "authenticity": "real" if rng.random() < 0.5 else "synthetic",
                "confidence": int(rng.choice([1, 3, 5, 7, 9])),
            }
        else:
            answer = {"findings": tr["findings"], "confidence": int(rng.choice([1, 3, 5, 7, 9]))}
        store.add_response(
            i,
            tr["condition"],
            t_offset + 1.0,
            rt_s=t_offset + 1.0 - t_onset,
            answer_json=answer,
            **answer,
        )
        t = t_offset + response_s
    if complete:
        store.finish("completed")
        store.close()
    else:
        store.close(checkpoint=False)  # left as a killed process leaves it
    return store.folder
