"""The noise-adaptive detector: what it finds, on quiet and noisy gaze, for any chunking."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from acquisition.fixations import (
    AdaptiveParams,
    OnlineAdaptiveDetector,
    OnlineFixationDetector,
    choose_detector,
)
from acquisition.fixations.selection import SELECTION
from acquisition.geometry import px_per_degree
from tests.support.fixation_tracks import SCREEN, as_tuples, feed_in_chunks, to_samples, track

SCAN = [  # fixations between saccades of 1-8 degrees, as a reader scans an image
    ("fix", 0.30, 0.0, 0.0), ("sac", 0.04, 8.0, 2.0), ("fix", 0.25, 8.0, 2.0),
    ("sac", 0.02, 6.0, 2.0), ("fix", 0.20, 6.0, 2.0), ("sac", 0.04, -3.0, -4.0),
    ("fix", 0.40, -3.0, -4.0), ("sac", 0.03, 2.0, -1.0), ("fix", 0.35, 2.0, -1.0),
]  # fmt: skip


def _ends(events):
    return [e for e in events if e.kind == "end"]


def _run(t, x, y, params=None, chunk=30):
    det = OnlineAdaptiveDetector(SCREEN, params)
    return feed_in_chunks(det, t, x, y, itertools.repeat(chunk))


@pytest.mark.parametrize(("rate", "noise"), [(1000.0, 0.01), (300.0, 0.15), (60.0, 0.2)])
def test_finds_each_fixation_on_quiet_and_noisy_gaze(rate: float, noise: float) -> None:
    t, x, y, truth = track(SCAN, rate_hz=rate, noise_deg=noise, seed=3)
    ends = _ends(_run(t, x, y))
    assert len(ends) == len(truth), [(e.t_start, e.t_end) for e in ends]
    for e, (t0, t1, xd, yd) in zip(ends, truth, strict=True):
        assert abs(e.t_start - t0) <= 0.03 + 1.5 / rate and abs(e.t_end - t1) <= 0.03 + 1.5 / rate
        assert math.hypot(e.x_deg - xd, e.y_deg - yd) < 0.25


def test_the_radius_follows_the_noise() -> None:
    """A 1-degree saccade splits two fixations on quiet gaze; I-VT at 30 deg/s fragments noisy gaze."""
    seg = [("fix", 0.4, 0.0, 0.0), ("sac", 0.02, 1.0, 0.0), ("fix", 0.4, 1.0, 0.0)]
    t, x, y, _ = track(seg, rate_hz=500.0, noise_deg=0.005, seed=1)
    assert len(_ends(_run(t, x, y))) == 2
    t, x, y, _ = track([("fix", 1.5, 0.0, 0.0)], rate_hz=300.0, noise_deg=0.25, seed=2)
    assert len(_ends(_run(t, x, y))) == 1
    ivt = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, itertools.repeat(30))
    assert len(_ends(ivt)) != 1  # the velocity threshold cannot hold this noise


def _burst_track(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 2.6 s fixation at 300 Hz whose noise swells from 0.1 to 0.35 deg and back (0.9 s)."""
    t, x, y, _ = track([("fix", 2.6, 0.0, 0.0)], rate_hz=300.0, seed=seed)
    sd = np.full(len(t), 0.1)
    ramp = np.arange(90) / 90.0
    sd[300:390] = 0.1 + 0.25 * ramp
    sd[390:480] = 0.35
    sd[480:570] = 0.35 - 0.25 * ramp
    rng = np.random.default_rng(seed)
    ppd = px_per_degree(SCREEN)[0]
    return (
        t,
        x + rng.normal(0.0, 1.0, len(t)) * sd * ppd,
        y + rng.normal(0.0, 1.0, len(t)) * sd * ppd,
    )


def test_a_noise_burst_does_not_split_a_fixation() -> None:
    """The radius follows the noise of the last ``burst_ms`` too (head movement, bad tracking)."""
    counts = {0.0: [], 300.0: []}
    for seed in range(8):
        t, x, y = _burst_track(seed)
        for burst in counts:
            counts[burst].append(len(_ends(_run(t, x, y, AdaptiveParams(burst_ms=burst), 15))))
    assert counts[300.0] == [1] * 8
    assert max(counts[0.0]) > 1  # the slow noise estimate alone cuts it at the burst


@pytest.mark.parametrize("sizes", [[1], [7], [3, 50, 1, 11], [100000]])
def test_same_events_for_any_chunking(sizes: list[int]) -> None:
    t, x, y, _ = track(SCAN * 3, rate_hz=300.0, noise_deg=0.15, seed=5)
    x[200:230] = np.nan  # a 100 ms loss, and a short one
    x[500:503] = np.nan
    ref = as_tuples(_run(t, x, y, chunk=64))
    got = as_tuples(feed_in_chunks(OnlineAdaptiveDetector(SCREEN), t, x, y, itertools.cycle(sizes)))
    assert got == ref


def test_sample_rows_and_pixels_give_the_same_events() -> None:
    t, x, y, _ = track(SCAN, rate_hz=600.0, noise_deg=0.1, seed=8)
    a = OnlineAdaptiveDetector(SCREEN)
    b = OnlineAdaptiveDetector(SCREEN)
    ev_a = a.feed_px(t, x, y) + a.flush()
    ev_b = b.feed(to_samples(t, x, y)) + b.flush()
    assert len(ev_a) == len(ev_b) > 0
    for a_, b_ in zip(ev_a, ev_b, strict=True):  # px -> normalised -> px rounds the last bit
        assert (a_.kind, a_.t_start, a_.t_emitted, a_.fixation_id) == (
            b_.kind, b_.t_start, b_.t_emitted, b_.fixation_id,
        )  # fmt: skip
        assert a_.x_px == pytest.approx(b_.x_px, abs=1e-6)


def test_events_in_order_with_their_emission_times() -> None:
    t, x, y, _ = track(SCAN, rate_hz=300.0, noise_deg=0.1, seed=4)
    events = _run(t, x, y)
    by_id: dict[int, list] = {}
    for e in events:
        by_id.setdefault(e.fixation_id, []).append(e)
    p = AdaptiveParams()
    for evs in by_id.values():
        kinds = [e.kind for e in evs]
        assert kinds in (
            ["start_provisional", "start_confirmed", "end"],
            ["start_provisional", "cancel"],
        )
        if kinds[-1] == "end":
            prov, conf, end = evs
            # emitted onset_ms after the candidate began (its start is then moved inwards)
            assert (
                prov.t_start <= prov.t_emitted <= prov.t_start + p.onset_ms / 1e3 + 1 / 300 + 1e-9
            )
            assert conf.t_emitted == conf.t_confirmed == end.t_confirmed
            assert conf.t_confirmed >= conf.t_start + p.min_duration_ms / 1e3 - 1e-9
            lag = end.t_emitted - end.t_end
            assert 0 <= lag <= (p.merge_ms + p.onset_ms + p.exit_ms) / 1e3 + 3 / 300.0
            assert end.duration_ms == pytest.approx((end.t_end - end.t_start) * 1e3)
    times = [e.t_emitted for e in events]
    assert times == sorted(times)


def test_a_short_candidate_is_cancelled() -> None:
    seg = [("fix", 0.3, 0.0, 0.0), ("sac", 0.03, 6.0, 0.0), ("fix", 0.035, 6.0, 0.0),
           ("sac", 0.03, 12.0, 0.0), ("fix", 0.3, 12.0, 0.0)]  # fmt: skip
    t, x, y, _ = track(seg, rate_hz=500.0, noise_deg=0.01, seed=0)
    events = _run(t, x, y)
    assert [e.kind for e in events].count("cancel") == 1
    assert len(_ends(events)) == 2


def test_a_long_loss_ends_the_fixation_a_short_one_is_bridged() -> None:
    t, x, y, _ = track([("fix", 0.3, 0.0, 0.0), ("loss", 0.05), ("fix", 0.3, 0.0, 0.0)], 300.0)
    assert len(_ends(_run(t, x, y))) == 1
    t, x, y, _ = track([("fix", 0.3, 0.0, 0.0), ("loss", 0.3), ("fix", 0.3, 0.0, 0.0)], 300.0)
    ends = _ends(_run(t, x, y))
    assert len(ends) == 2 and ends[0].t_emitted < ends[1].t_start


def test_a_long_fixation_outgrows_the_history_block() -> None:
    t, x, y, _ = track([("fix", 6.0, 1.0, 1.0)], rate_hz=2000.0, noise_deg=0.01, seed=1)
    one = _run(t, x, y, chunk=len(t))
    assert len(_ends(one)) == 1 and as_tuples(one) == as_tuples(_run(t, x, y, chunk=97))


def test_times_must_go_forward() -> None:
    det = OnlineAdaptiveDetector(SCREEN)
    det.feed_px(np.array([0.0, 0.01]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="must not go back"):
        det.feed_px(np.array([0.005]), np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        det.feed_px(np.array([0.02, np.nan]), np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    det.feed_px(np.array([0.02]), np.array([1.0]), np.array([1.0]))  # nothing was taken


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("min_radius_deg", 5.0, "must not exceed max_radius_deg"), ("onset_ms", -1.0, "onset_ms"),
     ("noise_ms", float("nan"), "noise_ms")],
)  # fmt: skip
def test_settings_are_checked(field: str, value: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaptiveParams(**{field: value})
    with pytest.raises(ValueError, match="unknown AdaptiveParams field"):
        AdaptiveParams.from_dict({"radius": 1.0})


@pytest.mark.parametrize(
    ("tracker", "rate", "noise", "method"),
    [("tobii", 1200.0, None, "adaptive"), ("lsl", 300.0, None, "adaptive"),
     ("lsl", 1000.0, None, "ivt"), ("simulated", 1200.0, None, "ivt"),
     ("simulated", 1200.0, 0.25, "adaptive"), ("replay", 60.0, 0.02, "adaptive")],
)  # fmt: skip
def test_the_selection_table(tracker: str, rate: float, noise: float | None, method: str) -> None:
    choice = choose_detector(tracker, rate, noise)
    assert choice.method == method and choice.reason.startswith("auto: ")
    assert choice.to_dict()["params"] == choice.params.to_dict()
    assert SELECTION[-1].matches("anything", 1e9, None)  # the table always decides


def test_the_protocol_can_choose() -> None:
    c = choose_detector("tobii", 300.0, method="ivt", params={"threshold_deg_s": 40.0})
    assert c.method == "ivt" and c.params.threshold_deg_s == 40.0 and "protocol" in c.reason
    assert isinstance(c.build(SCREEN), OnlineFixationDetector)
    with pytest.raises(ValueError, match="valid: auto, adaptive, ivt, idt"):
        choose_detector("tobii", 300.0, method="velocity")
    with pytest.raises(ValueError, match="unknown IVTParams field"):
        choose_detector("tobii", 300.0, method="ivt", params={"radius": 1})
