"""The compiled velocity kernels: against the numpy formulation, and the two I-VT paths alike."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.fixations import OnlineFixationDetector
from acquisition.fixations import _kernels as k
from acquisition.fixations._signal import ray_angle_deg, ray_velocity, screen_vector, unit_rays
from tests.support.fixation_tracks import SCREEN, as_tuples, feed_in_chunks


def _gaze(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 1.0 + np.cumsum(rng.uniform(0.0008, 0.0012, n))
    x = 960.0 + np.cumsum(rng.normal(0.0, 3.0, n))
    y = 540.0 + np.cumsum(rng.normal(0.0, 3.0, n))
    return t, x, y


def test_rays_are_unit_vectors_towards_the_screen_point():
    _, x, y = _gaze(500, 0)
    u = unit_rays(SCREEN, x, y)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-15)
    # the same direction as the un-normalised vector eye -> point (mm)
    mm = np.stack(
        (
            (x - SCREEN.width_px / 2) * SCREEN.mm_per_px_x,
            (y - SCREEN.height_px / 2) * SCREEN.mm_per_px_y,
            np.full_like(x, SCREEN.distance_mm),
        ),
        axis=1,
    )
    np.testing.assert_allclose(u, mm / np.linalg.norm(mm, axis=1)[:, None], rtol=1e-14)


def test_window_velocity_matches_the_numpy_formulation():
    t, x, y = _gaze(2000, 1)
    u = unit_rays(SCREEN, x, y)
    j = np.maximum(t.searchsorted(t[1:] - 0.02, side="left"), 0)
    v = np.empty(len(j))
    k.window_velocity(t, u, 1, j, v)
    want = ray_angle_deg(u[1:], u[j]) / (t[1:] - t[j])
    np.testing.assert_allclose(v, want, rtol=1e-9)


def test_lost_gaze_gives_nan_and_equal_times_a_huge_finite_velocity():
    t = np.array([0.0, 0.001, 0.001, 0.002])
    x = np.array([500.0, 501.0, np.nan, 503.0])
    u = unit_rays(SCREEN, x, np.full(4, 500.0))
    assert np.isnan(u[2]).all()
    v = np.empty(3)
    k.window_velocity(t, u, 1, np.array([0, 1, 2]), v)
    assert np.isfinite(v[0]) and np.isnan(v[1]) and np.isnan(v[2])
    u = unit_rays(SCREEN, np.array([500.0, 520.0]), np.full(2, 500.0))
    k.window_velocity(np.array([0.5, 0.5]), u, 1, np.array([0]), v[:1])
    assert np.isfinite(v[0]) and v[0] > 1e6  # a movement, no division warning


def test_fast_kernel_gives_the_general_paths_bits():
    """clean_chunk (fast path) == unit_rays + ray_velocity (general path), bit for bit:
    what keeps streaming in any chunking equal to offline detection."""
    t, x, y = _gaze(3000, 2)
    first = 1200
    geom = screen_vector(SCREEN)
    u_fast = unit_rays(SCREEN, x, y)
    u_fast[first:] = 0.0  # the kernel fills the chunk's rows
    cols = np.zeros((5, len(t)))
    cols[[k.ROW_T, k.ROW_X, k.ROW_Y], :first] = t[:first], x[:first], y[:first]
    m = len(t) - first
    j = np.empty(m, dtype=np.intp)
    v = np.empty(m)
    vmax, vmin = k.clean_chunk(
        cols, u_fast, t[first:], x[first:], y[first:], first, 0, 0.02, geom, j, v
    )
    u = unit_rays(SCREEN, x, y)
    v_ref, j_ref, _ = ray_velocity(t, u, np.zeros(m, dtype=np.int64), first, 0.02)
    assert np.array_equal(cols[[k.ROW_T, k.ROW_X, k.ROW_Y]], np.stack((t, x, y)))
    assert (cols[k.ROW_MEAS, first:] == 1.0).all()
    assert np.array_equal(u_fast, u)
    assert np.array_equal(j, j_ref)
    assert np.array_equal(v, v_ref)
    assert (vmax, vmin) == (v.max(), v.min())


def test_fast_kernel_window_never_starts_before_the_segment():
    t, x, y = _gaze(400, 3)
    u = unit_rays(SCREEN, x, y)
    cols = np.zeros((5, 400))
    cols[k.ROW_T] = t
    j = np.empty(100, dtype=np.intp)
    v = np.empty(100)
    k.clean_chunk(cols, u, t[300:], x[300:], y[300:], 300, 295, 0.05, screen_vector(SCREEN), j, v)
    want = np.maximum(t.searchsorted(t[300:] - 0.05, side="left"), 295)
    assert np.array_equal(j, want) and j[0] == 295 and j[-1] > 295


def test_detector_compiles_nothing_while_streaming():
    """The kernels are compiled when a detector is made: feeding contiguous chunks or strided
    views afterwards adds no specialisation (no chunk waits for the compiler)."""
    t, x, y = _gaze(3000, 4)
    det = OnlineFixationDetector(SCREEN)
    kernels = (k.chunk_steps, k.unit_rays_into, k.window_velocity, k.clean_chunk)
    before = [len(f.signatures) for f in kernels]
    xy = np.stack((x, y), axis=1)  # columns of a 2-D block: strided views
    x[1000:1010] = np.nan  # a loss: the general path
    feed_in_chunks(det, t, x, y, iter(lambda: 37, None))
    det.feed_px(t[-1] + 0.001 + t[:500] - t[0], xy[:500, 0], xy[:500, 1])
    assert [len(f.signatures) for f in kernels] == before


def test_streaming_equals_offline_through_the_kernels():
    t, x, y = _gaze(6000, 5)
    x[2000:2030] = np.nan
    whole = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda: 10**9, None))
    for n in (1, 13, 120):
        got = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda n=n: n, None))
        assert as_tuples(got) == as_tuples(whole)


def test_chunk_steps():
    t = np.array([1.0, 1.5, 1.5, 3.0])
    assert k.chunk_steps(t, t, t) == (0.0, 1.5, True)
    assert k.chunk_steps(t[:1], t[:1], t[:1]) == (np.inf, 0.0, True)
    lo, _, finite = k.chunk_steps(np.array([1.0, np.nan, 2.0]), t[:3], t[:3])
    assert np.isnan(lo) and finite
    assert k.chunk_steps(t, t, np.array([0.0, np.inf, 0.0, 0.0]))[2] is False
    assert k.chunk_steps(t, np.array([0.0, 0.0, np.nan, 0.0]), t)[2] is False


def test_feed_px_refuses_arrays_of_different_lengths():
    det = OnlineFixationDetector(SCREEN)
    t = np.arange(10) / 500.0
    with pytest.raises(ValueError, match=r"equal length.*\(10,\), \(9,\), \(10,\)"):
        det.feed_px(t, np.zeros(9), np.zeros(10))
    assert det.n_samples == 0


def test_the_numpy_facing_functions_check_shapes_the_compiled_loops_do_not():
    x = np.full(5, 500.0)
    with pytest.raises(
        ValueError, match=r"out of shape \(n, 3\), got shapes \(5,\), \(5,\) and \(4, 3\)"
    ):
        unit_rays(SCREEN, x, x, out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="equal length"):
        unit_rays(SCREEN, x, x[:4])
    t = np.arange(5) * 0.001
    u = unit_rays(SCREEN, x, x)
    with pytest.raises(ValueError, match=r"u of shape \(len\(t\), 3\) = \(5, 3\)"):
        ray_velocity(t, u[:4], np.zeros(4, dtype=np.int64), 1, 0.02)
    with pytest.raises(ValueError, match="seg_start of length"):
        ray_velocity(t, u, np.zeros(3, dtype=np.int64), 1, 0.02)


@pytest.mark.parametrize("rate", [50.0, 60.0, 120.0])
def test_low_rates_and_steps_near_the_window_stream_as_offline(rate):
    """Below 100 Hz a step is more than half the 20 ms window; steps just under it take the
    fast path, steps just over it the general one: any mix gives the offline events."""
    rng = np.random.default_rng(int(rate))
    n = int(rate * 40)
    t = 5.0 + np.cumsum(rng.uniform(0.97, 1.03, n) / rate)
    k = np.cumsum(rng.random(n) < 3.0 / rate)  # a new fixation every ~1/3 s
    x = rng.uniform(100, 1800, k.max() + 1)[k] + rng.normal(0, 0.5, n)
    y = rng.uniform(100, 1000, k.max() + 1)[k] + rng.normal(0, 0.5, n)
    whole = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda: 10**9, None))
    assert sum(e.kind == "end" for e in whole) > 20
    for size in (1, 2, 7):
        got = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda s=size: s, None))
        assert as_tuples(got) == as_tuples(whole)
