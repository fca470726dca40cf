"""The synthetic gaze generator: determinism, rates, physiology, ground truth, commands."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from acquisition.geometry import ScreenGeometry, angular_distance_deg, norm_to_px
from acquisition.samples import SAMPLE_DTYPE, SampleFlag
from acquisition.simulation import (
    KIND_BLINK,
    KIND_FIXATION,
    KIND_SACCADE,
    CalibrationError,
    GazeGenerator,
    GazeParams,
    GroundTruthEvent,
    label_samples,
    main_sequence_duration_s,
    min_jerk_position,
    simulate_recording,
)

SCREEN = ScreenGeometry()
#: A noiseless, driftless, single-eyed-looking viewer: measured gaze == true gaze (+ error).
CLEAN = GazeParams(noise_deg=0.0, drift_deg=0.0, vergence_deg=0.0, dropout_prob=0.0)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    for name in SAMPLE_DTYPE.names or ():
        x, y = a[name], b[name]
        ok = np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        if not ok:
            return False
    return True


def _deg(x1, y1, x2, y2) -> np.ndarray:
    ax, ay = norm_to_px(SCREEN, x1, y1)
    bx, by = norm_to_px(SCREEN, x2, y2)
    return angular_distance_deg(SCREEN, ax, ay, bx, by)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize(
    "chunks",
    [[1] * 50 + [4000], [7, 13, 4096, 1, 2000], [999] * 5, [10000]],
    ids=["singles-then-big", "ragged", "equal", "one"],
)
def test_content_does_not_depend_on_chunking(chunks):
    n = sum(chunks)
    whole, _ = simulate_recording(n_samples=n, rate_hz=1000, seed=11)
    gen = GazeGenerator(1000, 11)
    parts = [gen.generate(m) for m in chunks]
    assert _same(np.concatenate(parts), whole)


def test_commands_at_the_same_sample_give_the_same_samples_however_chunked():
    cmds = [
        (1.0, "target", (0.2, 0.3)),
        (2.5, "target", None),
        (3.0, "attention", {"points": [[0.7, 0.7]]}),
    ]
    whole, ev_whole = simulate_recording(5.0, 500, seed=4, commands=cmds)
    gen = GazeGenerator(500, 4)
    parts = [gen.generate(123), gen.generate(377)]
    gen.set_target((0.2, 0.3))
    parts += [gen.generate(1), gen.generate(749)]
    gen.set_target(None)
    parts.append(gen.generate(250))
    gen.set_attention(points=[[0.7, 0.7]])
    parts += [gen.generate(n) for n in (3, 997)]
    assert _same(np.concatenate(parts), whole)
    ongoing = gen.current_event()
    assert [*gen.events, ongoing] == ev_whole


def test_seeds_differ_and_same_seed_repeats():
    a, _ = simulate_recording(2.0, 250, seed=1)
    b, _ = simulate_recording(2.0, 250, seed=2)
    c, _ = simulate_recording(2.0, 250, seed=1)
    assert _same(a, c)
    assert not np.array_equal(a["left_x"], b["left_x"], equal_nan=True)


# ----------------------------------------------------------------------------- rates
@pytest.mark.parametrize("rate", [30, 60, 120, 250, 300, 500, 600, 1000, 1200, 2000])
def test_rate_gives_sample_count_and_spacing(rate):
    s, events = simulate_recording(3.0, rate, seed=rate)
    assert len(s) == 3 * rate
    period_us = 1e6 / rate
    d = np.diff(s["device_ts"])
    assert np.all(np.abs(d - period_us) <= 1.0)
    np.testing.assert_allclose(np.diff(s["t"]), 1.0 / rate, rtol=1e-9)
    assert s["device_ts"][0] == 0 and s["t"][0] == 0.0
    assert events and events[0].t_start == 0.0
    assert s["t"][-1] < events[-1].t_end <= 3.0  # the last event covers the last sample


def test_time_offset_shifts_samples_and_events():
    s0, e0 = simulate_recording(1.0, 120, seed=3)
    s1, e1 = simulate_recording(1.0, 120, seed=3, t0=1000.0)
    np.testing.assert_allclose(s1["t"] - s0["t"], 1000.0)
    assert [e.t_start + 1000.0 for e in e0] == pytest.approx([e.t_start for e in e1])


# ----------------------------------------------------------------------------- physiology
@pytest.fixture(scope="module")
def long_free_viewing():
    p = GazeParams(blink_rate_hz=0.0)
    return simulate_recording(300.0, 500, seed=7, params=p), p


def test_fixation_durations_follow_the_shifted_gamma(long_free_viewing):
    (_, events), p = long_free_viewing
    dur = np.array([e.duration_s for e in events if e.kind == "fixation" and not e.truncated])
    assert len(dur) > 800
    assert 0.25 <= dur.mean() <= 0.31
    assert dur.min() >= p.fixation_min_s
    assert stats.skew(dur) > 0.5  # right-skewed like real fixations
    ks = stats.kstest(
        dur - p.fixation_min_s, "gamma", args=(p.fixation_shape, 0, p.fixation_scale_s)
    )
    assert ks.pvalue > 1e-3


def test_saccades_follow_the_main_sequence(long_free_viewing):
    (_, events), p = long_free_viewing
    sac = [e for e in events if e.kind == "saccade" and not e.truncated]
    amp = np.array([e.amplitude_deg for e in sac])
    dur = np.array([e.duration_s for e in sac])
    ratio = dur / main_sequence_duration_s(amp, p)
    assert 0.97 <= ratio.mean() <= 1.03 and ratio.min() >= 0.7 and ratio.max() <= 1.3
    slope, intercept, r, *_ = stats.linregress(amp, dur * 1000)
    assert (
        slope == pytest.approx(2.2, abs=0.15) and intercept == pytest.approx(21, abs=2) and r > 0.95
    )
    peak = np.array([e.peak_velocity_deg_s for e in sac])
    big = peak[amp > 15]
    assert big.size and 450 <= big.mean() <= 750
    assert peak[amp < 3].mean() < 250
    assert 3.0 <= amp.mean() <= 8.0


def test_saccade_velocity_profile_is_smooth_and_peaks_in_the_middle():
    tau = np.linspace(0, 1, 1001)
    pos = min_jerk_position(tau)
    vel = np.gradient(pos, tau)
    assert pos[0] == 0 and pos[-1] == 1 and np.all(np.diff(pos) >= 0)
    assert abs(tau[np.argmax(vel)] - 0.5) < 0.01 and vel.max() == pytest.approx(1.875, rel=1e-3)
    assert vel[0] == pytest.approx(0, abs=1e-4) and vel[-1] == pytest.approx(0, abs=1e-4)


def test_ground_truth_is_contiguous_and_honest():
    s, events = simulate_recording(30.0, 1000, seed=5, params=CLEAN)
    for prev, ev in itertools.pairwise(events):
        assert ev.t_start == prev.t_end  # a fixation starts where the saccade/blink ended
        assert ev.t_end > ev.t_start
        if ev.kind == "fixation":
            assert prev.kind in ("saccade", "blink")
    labels = label_samples(s["t"], events)
    assert set(np.unique(labels)) == {KIND_FIXATION, KIND_SACCADE, KIND_BLINK}
    for ev in events:
        sel = (s["t"] >= ev.t_start) & (s["t"] < ev.t_end)
        if ev.kind == "fixation" and sel.any():  # noiseless: every sample sits on the centre
            np.testing.assert_allclose(s["left_x"][sel], ev.x, atol=1e-9)
            np.testing.assert_allclose(s["right_y"][sel], ev.y, atol=1e-9)
        if ev.kind == "saccade" and not ev.truncated:
            assert _deg(ev.x_start, ev.y_start, ev.x, ev.y) == pytest.approx(
                ev.amplitude_deg, rel=1e-6
            )


def test_blinks_invalidate_both_eyes():
    s, events = simulate_recording(
        60.0, 300, seed=9, params=dataclasses.replace(CLEAN, blink_rate_hz=0.5)
    )
    blinks = [e for e in events if e.kind == "blink"]
    assert len(blinks) >= 15
    assert all(0.1 <= e.duration_s <= 0.3 for e in blinks if not e.truncated)
    in_blink = label_samples(s["t"], events) == KIND_BLINK
    for eye in ("left", "right"):
        assert not s[f"{eye}_valid"][in_blink].any()
        assert (
            np.isnan(s[f"{eye}_x"][in_blink]).all() and np.isnan(s[f"{eye}_pupil"][in_blink]).all()
        )
        assert s[f"{eye}_valid"][~in_blink].all()  # no dropouts configured: everything else valid
    assert np.array_equal((s["flags"] & SampleFlag.BLINK) != 0, in_blink)


def test_dropouts_lose_one_or_both_eyes_at_the_configured_fraction():
    p = GazeParams(blink_rate_hz=0.0, dropout_prob=0.02)
    s, _ = simulate_recording(120.0, 250, seed=2, params=p)
    lost_l, lost_r = s["left_valid"] == 0, s["right_valid"] == 0
    assert 0.01 <= (lost_l | lost_r).mean() <= 0.04
    assert (lost_l & ~lost_r).any() and (lost_r & ~lost_l).any() and (lost_l & lost_r).any()
    assert np.isnan(s["left_x"][lost_l]).all() and np.isfinite(s["left_x"][~lost_l]).all()


def test_noise_pupil_eye_position_and_vergence_are_plausible():
    p = GazeParams(
        blink_rate_hz=0.0, dropout_prob=0.0, drift_deg=0.0, noise_deg=0.05, vergence_deg=0.2
    )
    s, events = simulate_recording(20.0, 1000, seed=1, params=p)
    assert np.nanmin(s["left_pupil"]) > 2.5 and np.nanmax(s["right_pupil"]) < 4.5
    z = s["left_eye_pos"][:, 2]
    assert np.all(np.abs(z - SCREEN.distance_mm) < 10)
    ipd = s["right_eye_pos"][:, 0] - s["left_eye_pos"][:, 0]
    np.testing.assert_allclose(ipd, p.ipd_mm, atol=1e-3)
    # noise: sample-to-sample jitter inside fixations, in degrees (per axis SD 0.05)
    fix = label_samples(s["t"], events) == KIND_FIXATION
    same = fix[1:] & fix[:-1]
    ax, ay = norm_to_px(SCREEN, s["left_x"], s["left_y"])
    step = angular_distance_deg(SCREEN, ax[1:], ay[1:], ax[:-1], ay[:-1])[same]
    rms_s2s = math.sqrt(np.mean(step**2))
    assert rms_s2s == pytest.approx(2 * p.noise_deg, rel=0.1)  # RMS-S2S of white noise = 2 SD/axis
    # fixation disparity: left eye left of right eye by vergence_deg on average
    mid = (s["left_x"] + s["right_x"]) / 2
    d = _deg(s["left_x"], s["left_y"], s["right_x"], s["right_y"])[fix]
    assert np.mean(d) == pytest.approx(0.2, abs=0.05)
    assert np.all(s["left_x"][fix].mean() < s["right_x"][fix].mean())
    assert np.isfinite(mid).all()


def test_post_saccadic_oscillation_is_optional_and_belongs_to_the_fixation():
    base = dataclasses.replace(CLEAN, blink_rate_hz=0.0)
    s0, e0 = simulate_recording(5.0, 1000, seed=3, params=base)
    s1, e1 = simulate_recording(
        5.0, 1000, seed=3, params=dataclasses.replace(base, pso_amplitude_deg=0.5)
    )
    assert [(e.kind, e.t_start) for e in e0] == [(e.kind, e.t_start) for e in e1]
    fix = [e for e in e1 if e.kind == "fixation" and e.t_start > 0]
    sel = (s1["t"] >= fix[0].t_start) & (s1["t"] < fix[0].t_start + 0.03)
    assert (
        _deg(s0["left_x"][sel], s0["left_y"][sel], s1["left_x"][sel], s1["left_y"][sel]).max() > 0.1
    )


# ----------------------------------------------------------------------------- calibration error
def test_calibration_error_is_applied_to_measured_gaze_only():
    err = {"offset": (0.02, -0.01), "gain": (1.05, 0.95), "rotation_deg": 2.0}
    p = dataclasses.replace(CLEAN, blink_rate_hz=0.0, calibration_error=err)
    cmds = [(0.0, "target", (0.3, 0.7))]
    s, events = simulate_recording(1.0, 500, seed=1, params=p, commands=cmds)
    truth, _ = simulate_recording(
        1.0, 500, seed=1, params=dataclasses.replace(p, calibration_error=None), commands=cmds
    )
    ce = CalibrationError.from_any(err)
    assert ce is not None
    ex, ey = ce.apply(SCREEN, truth["left_x"], truth["left_y"])
    np.testing.assert_allclose(s["left_x"], ex, atol=1e-12)
    np.testing.assert_allclose(s["left_y"], ey, atol=1e-12)
    fix = events[-1]
    assert fix.kind == "fixation" and (fix.x, fix.y) == pytest.approx((0.3, 0.7), abs=1e-9)
    assert (s["left_x"][-1], s["left_y"][-1]) == pytest.approx(ce.apply(SCREEN, 0.3, 0.7), abs=1e-9)


def test_calibration_error_geometry():
    ce = CalibrationError(offset=(0.01, 0.02))
    assert ce.apply(SCREEN, 0.5, 0.5) == pytest.approx((0.51, 0.52))
    rot = CalibrationError(rotation_deg=90.0)
    x, y = rot.apply(SCREEN, 0.5 + 100 / SCREEN.width_mm, 0.5)  # 100 mm right of centre
    assert (x - 0.5) * SCREEN.width_mm == pytest.approx(0, abs=1e-9)
    assert (y - 0.5) * SCREEN.height_mm == pytest.approx(-100)  # counter-clockwise: now above
    with pytest.raises(ValueError, match="rotation"):
        CalibrationError.from_any({"rotation": 1})


# ----------------------------------------------------------------------------- commands
def test_set_target_converges_on_the_target_with_noise():
    p = GazeParams(blink_rate_hz=0.0, dropout_prob=0.0, noise_deg=0.03)
    s, events = simulate_recording(
        3.0, 600, seed=8, commands=[(1.0, "target", (0.8, 0.2))], params=p
    )
    after = s[s["t"] >= 1.2]  # a saccade of < 30 deg lasts < 100 ms
    err = _deg(after["left_x"], after["left_y"], 0.8, 0.2)
    assert np.median(err) < 0.25
    sac = [e for e in events if e.kind == "saccade" and e.cause == "target"]
    assert (
        len(sac) == 1
        and sac[0].t_start == pytest.approx(1.0)
        and (sac[0].x, sac[0].y) == pytest.approx((0.8, 0.2))
    )
    final = events[-1]
    assert final.kind == "fixation" and final.cause == "target" and final.t_start == sac[0].t_end
    assert _deg(final.x, final.y, 0.8, 0.2) < 0.2
    cut = [e for e in events if e.t_end == pytest.approx(1.0)]
    assert cut and cut[0].truncated


def test_target_during_a_blink_saccades_after_the_blink():
    gen = GazeGenerator(1000, 0, params=dataclasses.replace(CLEAN, blink_rate_hz=2.0))
    for _ in range(1000):
        gen.generate(10)
        ongoing = gen.current_event()
        if ongoing is not None and ongoing.kind == "blink":
            break
    else:
        pytest.fail("no blink in 10 s at 2 blinks/s")
    gen.set_target((0.1, 0.1))
    gen.generate(500)
    blink = next(e for e in gen.events if e.kind == "blink")
    after = [e for e in gen.events if e.t_start >= blink.t_end]
    assert after[0].kind == "saccade" and after[0].cause == "target"
    assert after[0].t_start == blink.t_end and (after[0].x, after[0].y) == pytest.approx((0.1, 0.1))


def test_releasing_the_target_resumes_free_viewing():
    cmds = [(0.0, "target", (0.5, 0.5)), (2.0, "target", None)]
    _, events = simulate_recording(
        6.0, 250, seed=2, params=dataclasses.replace(CLEAN, blink_rate_hz=0.0), commands=cmds
    )
    later = [e for e in events if e.t_start > 2.0 and e.kind == "saccade"]
    assert len(later) >= 5 and all(e.cause == "free" for e in later)


def test_attention_points_attract_fixations():
    pts = np.array([[0.2, 0.2, 1.0], [0.8, 0.8, 3.0]])
    _, events = simulate_recording(
        60.0, 250, seed=6, commands=[(0.0, "attention", {"points": pts})]
    )
    fix = [e for e in events if e.kind == "fixation" and e.cause == "attention"]
    assert len(fix) > 100
    d = np.array([[_deg(e.x, e.y, *p[:2]) for p in pts] for e in fix])
    assert np.all(d.min(axis=1) < 3.0)
    near_heavy = np.mean(d.argmin(axis=1) == 1)
    assert 0.5 < near_heavy < 0.9  # weighted (3:1) with inhibition of return


def test_saliency_map_attracts_fixations_into_its_hot_area():
    sal = np.zeros((10, 20))
    sal[:, 15:] = 1.0  # right quarter of the rect
    rect = (0.2, 0.1, 0.8, 0.9)
    _, events = simulate_recording(
        30.0,
        120,
        seed=3,
        commands=[(0.0, "attention", {"saliency": sal, "rect": rect})],
        params=CLEAN,
    )
    fix = [e for e in events if e.kind == "fixation" and e.cause == "attention"]
    assert len(fix) > 50
    xs = np.array([e.x for e in fix])
    assert np.all(xs >= 0.2 + 0.6 * 15 / 20 - 0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"points": [[0.1]]}, "points"),
        ({"points": [[0.1, 0.2]], "weights": [-1]}, "weights"),
        ({"saliency": np.zeros((3, 3))}, "saliency"),
        ({"saliency": np.ones((3, 3)), "rect": (0.5, 0, 0.4, 1)}, "rect"),
    ],
)
def test_bad_attention_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GazeGenerator(60, 0).set_attention(**kwargs)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("noise_deg", -1.0),
        ("fixation_shape", 0.0),
        ("blink_duration_s", (0.3, 0.1)),
        ("dropout_prob", 0.7),
    ],
)
def test_bad_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        GazeParams(**{field: value})


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="rate_hz"):
        GazeGenerator(0, 0)
    with pytest.raises(ValueError, match="seed"):
        GazeGenerator(100, -1)
    with pytest.raises(ValueError, match="duration_s or n_samples"):
        simulate_recording(rate_hz=100)


def test_label_samples():
    ev = [
        GroundTruthEvent("fixation", 0.0, 0.5, 0.5, 0.5),
        GroundTruthEvent("saccade", 0.5, 0.55, 0.6, 0.5),
    ]
    t = np.array([0.0, 0.49, 0.5, 0.54, 0.55])
    assert label_samples(t, ev).tolist() == [
        KIND_FIXATION,
        KIND_FIXATION,
        KIND_SACCADE,
        KIND_SACCADE,
        0,
    ]


def test_repeating_the_same_target_every_frame_does_not_restart_the_saccade():
    cmds = [(1.0 + i / 60, "target", (0.9, 0.1)) for i in range(60)]
    _, events = simulate_recording(3.0, 1000, seed=2, commands=cmds, blink_rate_hz=0.0)
    sac = [e for e in events if e.cause == "target" and e.kind == "saccade"]
    assert len(sac) == 1 and not sac[0].truncated


def test_a_bad_target_changes_nothing():
    gen = GazeGenerator(100, 0)
    gen.generate(10)
    with pytest.raises(ValueError, match="finite"):
        gen.set_target((float("inf"), 0.5))
    assert gen.schedule == []
