"""Online fixation detection in the live acquisition path.

The simulated tracker's thread pushes samples at its native rate into the ring buffer; the
FixationWorker reads them as they come, detects fixations and hands the events to sinks (a
list here, the store and the LSL stream in a session). The detected fixations are checked
against the simulator's ground truth.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from acquisition.fixations import FixationEvent, FixationWorker, OnlineFixationDetector
from acquisition.geometry import ScreenGeometry, angular_distance_deg
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers.simulated import SimulatedTracker

SCREEN = ScreenGeometry(1920, 1080, 531.0, 299.0, 650.0)
DURATION_S = 4.0


def _match(det: list[FixationEvent], truth: list) -> list[tuple[FixationEvent, object]]:
    """One-to-one matches with overlap >= 50% of the union (greedy by overlap)."""
    cands = []
    for i, d in enumerate(det):
        for j, g in enumerate(truth):
            inter = min(d.t_end, g.t_end) - max(d.t_start, g.t_start)
            union = max(d.t_end, g.t_end) - min(d.t_start, g.t_start)
            if inter > 0 and inter / union >= 0.5:
                cands.append((inter / union, i, j))
    used_i, used_j, out = set(), set(), []
    for _, i, j in sorted(cands, reverse=True):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((det[i], truth[j]))
    return out


def test_simulated_tracker_through_ring_buffer_and_worker_matches_ground_truth():
    buf = RingBuffer(1 << 16)
    tracker = SimulatedTracker(buf, rate_hz=600.0, seed=7, screen=SCREEN, blink_rate_hz=0.5)
    events: list[FixationEvent] = []
    worker = FixationWorker(
        buf.reader("fixations"), OnlineFixationDetector(SCREEN), [events.append]
    )
    worker.start()
    tracker.start()
    try:
        deadline = time.monotonic() + 60.0  # generous: the machine is shared
        while worker.samples_seen < DURATION_S * 600 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tracker.stop()
        worker.stop(timeout=10)
    assert worker.samples_seen >= DURATION_S * 600, "the tracker did not deliver samples in time"
    assert worker.samples_lost == 0
    truth = [
        g for g in tracker.ground_truth() if g.kind == "fixation" and g.t_end - g.t_start >= 0.08
    ]
    ends = [e for e in events if e.kind == "end"]
    # only judge the time both cover
    t_last = min(max(e.t_end for e in ends), truth[-1].t_end)
    ends = [e for e in ends if e.t_end <= t_last]
    truth = [g for g in truth if g.t_end <= t_last]
    assert len(truth) >= 8
    pairs = _match(ends, truth)
    f1 = 2 * len(pairs) / (len(ends) + len(truth))
    assert f1 >= 0.85, (
        f"F1 {f1:.2f}: {len(pairs)} matched of {len(ends)} detected, {len(truth)} true"
    )
    for d, g in pairs:
        err = angular_distance_deg(
            SCREEN, d.x_px, d.y_px, g.x * SCREEN.width_px, g.y * SCREEN.height_px
        )
        assert err < 0.3, f"centroid {err:.2f} deg from the true fixation at {g.t_start:.3f} s"
        assert abs(d.t_start - g.t_start) < 0.04 and abs(d.t_end - g.t_end) < 0.04
    # events were emitted causally and delivered after they became decidable
    for e in events:
        assert e.t_emitted >= e.t_start
        assert np.isfinite(e.t_delivered)
    starts = [e.t_confirmed - e.t_start for e in ends]
    assert float(np.median(starts)) == pytest.approx(0.06, abs=0.015)


@pytest.mark.parametrize("rate", [60.0, 300.0, 600.0])
def test_tobii_like_gaze_live_with_the_selected_detector(rate: float) -> None:
    """Tobii-like noise and loss, streamed live; the table picks the adaptive detector."""
    from acquisition.fixations import choose_detector

    buf = RingBuffer(1 << 16)
    tracker = SimulatedTracker(buf, rate_hz=rate, seed=11, screen=SCREEN, profile="tobii")
    choice = choose_detector("simulated", rate, tracker.expected_noise_deg())
    assert choice.method == "adaptive", choice.reason
    events: list[FixationEvent] = []
    worker = FixationWorker(buf.reader("fixations"), choice.build(SCREEN), [events.append])
    duration = 8.0
    worker.start()
    tracker.start()
    try:
        deadline = time.monotonic() + 90.0  # generous: the machine is shared
        while worker.samples_seen < duration * rate and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tracker.stop()
        worker.stop(timeout=10)
    assert worker.samples_seen >= duration * rate and worker.samples_lost == 0
    ends = [e for e in events if e.kind == "end"]
    truth = [
        g for g in tracker.ground_truth() if g.kind == "fixation" and g.t_end - g.t_start >= 0.08
    ]
    t_last = min(max(e.t_end for e in ends), truth[-1].t_end)
    ends = [e for e in ends if e.t_end <= t_last]
    truth = [g for g in truth if g.t_end <= t_last]
    assert len(truth) >= 15
    pairs = _match(ends, truth)
    f1 = 2 * len(pairs) / (len(ends) + len(truth))
    # a short live window on a shared machine: the offline figure on 20 s is 0.96-0.985
    assert f1 >= 0.8, f"F1 {f1:.2f}: {len(pairs)} of {len(ends)} detected, {len(truth)} true"
    errs = [
        angular_distance_deg(SCREEN, d.x_px, d.y_px, g.x * SCREEN.width_px, g.y * SCREEN.height_px)
        for d, g in pairs
    ]
    assert float(np.median(errs)) < 0.3
    lags = [e.t_emitted - e.t_end for e in ends]
    assert float(np.median(lags)) <= 0.08  # the end is known within 80 ms
