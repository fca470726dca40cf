"""The per-sample random streams of the gaze generator do not depend on chunking."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.simulation.noise import NOISE_BLOCK, NOISE_COLS, Dropouts, NoiseBlocks, ar1
from acquisition.simulation.types import GazeParams

CHUNKINGS = [
    [10_000],
    [1] * 50 + [9_950],
    [NOISE_BLOCK - 1, 2, 10_000 - NOISE_BLOCK - 1],
    [333] * 30 + [10],
]


@pytest.mark.parametrize("sizes", CHUNKINGS, ids=["whole", "ones", "block-edge", "333"])
def test_noise_blocks_are_addressed_by_sample_index(sizes: list[int]) -> None:
    ref = NoiseBlocks(5).take(0, 10_000)
    nb, parts, k = NoiseBlocks(5), [], 0
    for m in sizes:
        parts.append(nb.take(k, m))
        k += m
    got = np.concatenate(parts)
    assert got.shape == (10_000, NOISE_COLS) and got.tobytes() == ref.tobytes()
    assert NoiseBlocks(6).take(0, 10).tobytes() != ref[:10].tobytes()


@pytest.mark.parametrize("sizes", CHUNKINGS, ids=["whole", "ones", "block-edge", "333"])
def test_dropouts_and_drift_do_not_depend_on_chunking(sizes: list[int]) -> None:
    p = GazeParams(dropout_prob=0.2, dropout_mean_s=0.05)
    t = np.arange(10_000) / 1000.0
    ref_l, ref_r = Dropouts(3, p).masks(t)
    assert 0.05 < (ref_l | ref_r).mean() < 0.4
    d, got_l, got_r, k = Dropouts(3, p), [], [], 0
    for m in sizes:
        lo, ro = d.masks(t[k : k + m])
        got_l.append(lo)
        got_r.append(ro)
        k += m
    assert np.array_equal(np.concatenate(got_l), ref_l)
    assert np.array_equal(np.concatenate(got_r), ref_r)
    c = np.random.default_rng(0).standard_normal(10_000)
    whole = ar1(c, 0.9, 0.5)
    y0, parts, k = 0.5, [], 0
    for m in sizes:
        part = ar1(c[k : k + m], 0.9, y0)
        parts.append(part)
        y0, k = float(part[-1]), k + m
    assert np.concatenate(parts).tobytes() == whole.tobytes()


def test_no_dropouts_when_probability_is_zero() -> None:
    lost_l, lost_r = Dropouts(1, GazeParams(dropout_prob=0.0)).masks(np.arange(1000) / 100.0)
    assert not lost_l.any() and not lost_r.any()
