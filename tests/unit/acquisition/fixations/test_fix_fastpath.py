"""The I-VT detector's shortcuts give the same results as its general code."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from acquisition.fixations import OnlineFixationDetector
from acquisition.fixations._history import ColumnHistory, History
from tests.support.fixation_tracks import SCREEN, as_tuples, feed_in_chunks


def test_column_history_matches_row_history():
    rng = np.random.default_rng(0)
    rows, cols = History(3, capacity=8), ColumnHistory(3, capacity=8)
    for _ in range(300):
        m = int(rng.integers(1, 40))
        block = rng.normal(size=(m, 3))
        rows.grow(m)[-m:] = block
        cols.grow(m)[:, -m:] = block.T
        keep = rows.base + int(rng.integers(0, len(rows) + 1))
        rows.trim(keep)
        cols.trim(keep)
        assert (rows.base, rows.stop, len(rows)) == (cols.base, cols.stop, len(cols))
        np.testing.assert_array_equal(rows.rows, cols.cols.T)


def _signal(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixations around the screen's left edge (x crosses 0), saccades, one short loss."""
    rng = np.random.default_rng(seed)
    t = 2.0 + np.arange(n) / 500.0
    k = np.cumsum(rng.random(n) < 0.01)
    x = rng.uniform(-2e-4, 2e-4, k.max() + 1)[k] * rng.choice([1.0, 1e6], k.max() + 1)[k]
    y = rng.uniform(0, 1080, k.max() + 1)[k] + rng.normal(0, 0.5, n)
    x = x + rng.normal(0, 1e-5, n) * (rng.random(n) < 0.5)
    x[n // 2 : n // 2 + 10] = np.nan
    return t, x, y


@pytest.mark.parametrize("seed", [1, 2])
def test_small_window_means_equal_the_numpy_route(seed):
    t, x, y = _signal(3000, seed)
    det = OnlineFixationDetector(SCREEN)
    det.feed_px(t, x, y)
    base, stop = det._hist.base, det._hist.stop
    rng = np.random.default_rng(seed)
    for _ in range(2000):
        m0 = int(rng.integers(base, stop))
        m1 = m0 + int(rng.integers(-1, 8))
        fast = det._mean_between(m0, m1)
        slow = det._mean_of(det._measured(m0, m1))
        assert fast[2] == slow[2]
        for a, b in zip(fast[:2], slow[:2], strict=True):
            assert (math.isnan(a) and math.isnan(b)) or (
                a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
            )


@pytest.mark.parametrize("chunk", ["1", "7", "50"])
def test_chunking_invariance_near_zero_and_with_repeated_times(chunk):
    t, x, y = _signal(4000, 3)
    t[100:103] = t[100]  # repeated timestamps: the time differences need clamping
    whole = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda: 10**9, None))
    n = int(chunk)
    got = feed_in_chunks(OnlineFixationDetector(SCREEN), t, x, y, iter(lambda: n, None))
    assert as_tuples(got) == as_tuples(whole)
    assert sum(e.kind == "end" for e in whole) >= 5


def test_history_stays_bounded_on_a_long_stream():
    rng = np.random.default_rng(4)
    n = 60_000
    t = np.arange(n) / 1000.0
    k = np.cumsum(rng.random(n) < 0.004)
    x = rng.uniform(0, 1920, k.max() + 1)[k] + rng.normal(0, 0.3, n)
    y = rng.uniform(0, 1080, k.max() + 1)[k] + rng.normal(0, 0.3, n)
    det = OnlineFixationDetector(SCREEN)
    longest = 0
    for a in range(0, n, 100):
        det.feed_px(t[a : a + 100], x[a : a + 100], y[a : a + 100])
        longest = max(longest, len(det._hist))
        assert len(det._hist) == len(det._rays)
    assert longest < 3000  # the open candidate (< 2 s here) plus a trimming batch


def test_quick_event_construction_equals_the_dataclass():
    from acquisition.fixations.events import FixationEvent, _new_event

    cases: list[dict[str, Any]] = [
        {"kind": "start_provisional", "t_emitted": 1.0, "t_start": 0.9, "x_px": 3.0},
        {"kind": "end", "t_emitted": 2.0, "t_start": 0.9, "t_end": 1.9, "n_samples": 7},
        {"kind": "cancel", "t_emitted": 1.5, "t_start": 0.9, "fixation_id": 4},
    ]
    for values in cases:
        quick, real = _new_event(**values), FixationEvent(**values)
        assert repr(quick) == repr(real)
        assert list(vars(quick)) == list(vars(real))
        assert as_tuples([quick]) == as_tuples([real])
