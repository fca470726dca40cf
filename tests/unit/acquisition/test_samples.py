"""The sample schema helpers shared by the trackers and the session store."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acquisition.samples import (
    SAMPLE_COLUMNS,
    SAMPLE_DTYPE,
    empty_samples,
    estimate_rate_hz,
    rows_to_samples,
    sample_fields,
)


def _flat_fields() -> list[str]:
    out: list[str] = []
    for name in sample_fields():
        if name.endswith("_eye_pos"):
            out += [f"{name[:-4]}_{c}" for c in "xyz"]
        else:
            out.append(name)
    return out


def test_sample_columns_are_the_dtype_flattened_in_order() -> None:
    assert list(SAMPLE_COLUMNS) == _flat_fields()


def test_rows_to_samples_reads_sql_rows_with_nulls() -> None:
    row = [1.5, 123, 456, 0.25, 0.5, None, None, 1, 0, 3.0, None, 1.0, 2.0, 600.0, None, None,
           None, 5]  # fmt: skip
    s = rows_to_samples([row, row])
    assert s.dtype == SAMPLE_DTYPE and len(s) == 2
    assert s["t"][0] == 1.5 and s["device_ts"][0] == 123 and s["system_ts"][0] == 456
    assert (s["left_x"][0], s["left_y"][0]) == (0.25, 0.5)
    assert math.isnan(s["right_x"][0]) and math.isnan(s["right_pupil"][0])
    assert (s["left_valid"][0], s["right_valid"][0]) == (1, 0)
    assert s["left_eye_pos"][0].tolist() == [1.0, 2.0, 600.0]
    assert np.isnan(s["right_eye_pos"][0]).all() and s["flags"][0] == 5


def test_rows_to_samples_of_nothing_is_empty() -> None:
    assert rows_to_samples([]).dtype == SAMPLE_DTYPE and len(rows_to_samples([])) == 0


def test_large_microsecond_timestamps_survive() -> None:
    ts = 2**52 + 1
    row = [0.0, ts, ts, None, None, None, None, 0, 0] + [None] * 8 + [0]
    s = rows_to_samples([row])
    assert int(s["device_ts"][0]) == ts and int(s["system_ts"][0]) == ts


def test_session_store_exports_the_same_helpers() -> None:
    store = pytest.importorskip("sessions.store")
    assert store.SAMPLE_COLUMNS is SAMPLE_COLUMNS
    assert store.rows_to_samples is rows_to_samples
    s = empty_samples(3)
    s["t"] = [0.0, 0.001, 0.002]
    s["left_x"] = [0.1, np.nan, 0.3]
    s["flags"] = [0, 1, 2]
    back = rows_to_samples(store.samples_to_rows(s))
    assert back.tobytes() == s.tobytes()


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (np.arange(100) / 1200.0, 1200.0),
        ([0.0, 0.004, 0.004, 0.008, 0.1, 0.104], 250.0),  # repeats and a gap ignored
        ([0.0, np.nan, 0.002, 0.004], 500.0),
    ],
    ids=["regular", "repeats-and-gap", "nan"],
)
def test_estimate_rate_from_the_median_interval(t: list[float], expected: float) -> None:
    assert estimate_rate_hz(t) == pytest.approx(expected)


@pytest.mark.parametrize("t", [[], [1.0], [2.0, 2.0]], ids=["empty", "one", "no-interval"])
def test_estimate_rate_without_intervals_gives_the_default(t: list[float]) -> None:
    assert math.isnan(estimate_rate_hz(t))
    assert estimate_rate_hz(t, default=0.0) == 0.0
