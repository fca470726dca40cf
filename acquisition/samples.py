"""The gaze sample schema shared by every part of gazeread.

One sample is one row of :data:`SAMPLE_DTYPE`, a numpy structured dtype. Every backend fills
rows of it, the ring buffer stores it, the recorder writes it, the detector reads it.

Fields
------
t : float64, s
    Session-clock time of the measurement (LSL ``local_clock()`` domain), mapped from the
    tracker's own timestamp, never the time the sample was written.
device_ts : int64, us
    The tracker's device timestamp (Tobii ``device_time_stamp``; LSL: the remote timestamp in
    microseconds; simulated: microseconds from its start).
system_ts : int64, us
    The tracker's system timestamp (Tobii ``system_time_stamp``; 0 where the tracker has none).
left_x, left_y, right_x, right_y : float64, normalised display coordinates
    Gaze on the display area, origin top-left, y down, 0..1 across the screen
    (values outside 0..1 are off-screen). NaN when that eye is invalid.
left_valid, right_valid : uint8
    1 when that eye's gaze point is valid, else 0.
left_pupil, right_pupil : float32, mm
    Pupil diameter; NaN when invalid or not reported.
left_eye_pos, right_eye_pos : float32[3], mm
    Eye position (gaze origin) in the tracker's user coordinate system; NaN where the tracker
    does not report it.
flags : uint32
    A bit set of :class:`SampleFlag`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "GAP_PERIODS",
    "SAMPLE_COLUMNS",
    "SAMPLE_DTYPE",
    "SampleFlag",
    "empty_samples",
    "estimate_rate_hz",
    "gaps",
    "missing_in_gaps",
    "rows_to_samples",
    "sample_fields",
]

SAMPLE_DTYPE = np.dtype(
    [
        ("t", "<f8"),
        ("device_ts", "<i8"),
        ("system_ts", "<i8"),
        ("left_x", "<f8"),
        ("left_y", "<f8"),
        ("right_x", "<f8"),
        ("right_y", "<f8"),
        ("left_valid", "u1"),
        ("right_valid", "u1"),
        ("left_pupil", "<f4"),
        ("right_pupil", "<f4"),
        ("left_eye_pos", "<f4", (3,)),
        ("right_eye_pos", "<f4", (3,)),
        ("flags", "<u4"),
    ]
)


class SampleFlag(enum.IntFlag):
    """Bits of the per-sample ``flags`` word."""

    NONE = 0
    #: A gap of more than 1.5 sample periods precedes this sample (samples were dropped).
    AFTER_GAP = 1 << 0
    #: Gaze was corrected by a software calibration before it was stored.
    SOFTWARE_CALIBRATED = 1 << 1
    #: The sample was produced by the simulator during a blink.
    BLINK = 1 << 2
    #: The sample arrived after the tracker reconnected.
    AFTER_RECONNECT = 1 << 3
    #: The tracker was in calibration mode when the sample was taken.
    DURING_CALIBRATION = 1 << 4
    #: The sample was replayed from a recorded session.
    REPLAYED = 1 << 5


def empty_samples(n: int) -> np.ndarray:
    """Return ``n`` samples with every gaze/pupil/eye-position field NaN and validity 0.

    Parameters
    ----------
    n : int
        Number of rows, >= 0.

    Returns
    -------
    numpy.ndarray
        Structured array of shape ``(n,)`` and dtype :data:`SAMPLE_DTYPE`.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    out = np.zeros(n, dtype=SAMPLE_DTYPE)
    for name in ("left_x", "left_y", "right_x", "right_y", "left_pupil", "right_pupil"):
        out[name] = np.nan
    out["left_eye_pos"] = np.nan
    out["right_eye_pos"] = np.nan
    return out


def sample_fields() -> tuple[str, ...]:
    """Names of the fields of :data:`SAMPLE_DTYPE`, in order."""
    return tuple(SAMPLE_DTYPE.names or ())


#: Column order of a session store's ``samples`` table (SAMPLE_DTYPE flattened: eye positions
#: -> ``_x/_y/_z``); :func:`rows_to_samples` reads rows in this order.
SAMPLE_COLUMNS: tuple[str, ...] = (
    "t", "device_ts", "system_ts", "left_x", "left_y", "right_x", "right_y",
    "left_valid", "right_valid", "left_pupil", "right_pupil",
    "left_eye_x", "left_eye_y", "left_eye_z", "right_eye_x", "right_eye_y", "right_eye_z",
    "flags",
)  # fmt: skip


def rows_to_samples(rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Rows of :data:`SAMPLE_COLUMNS` values (e.g. from SQLite) -> SAMPLE_DTYPE samples.

    ``None`` (SQL NULL) becomes NaN. The integer timestamps go through float64, exact below
    2**53 us (285 years).

    Parameters
    ----------
    rows : sequence of sequences, shape (n, 18)
        One row per sample, values in :data:`SAMPLE_COLUMNS` order.

    Returns
    -------
    numpy.ndarray
        Structured array of shape ``(n,)`` and dtype :data:`SAMPLE_DTYPE`.
    """
    out = empty_samples(len(rows))
    if not rows:
        return out
    f = np.array(rows, dtype=np.float64)  # None -> NaN
    out["t"] = f[:, 0]
    out["device_ts"] = f[:, 1].astype(np.int64)
    out["system_ts"] = f[:, 2].astype(np.int64)
    out["left_x"], out["left_y"] = f[:, 3], f[:, 4]
    out["right_x"], out["right_y"] = f[:, 5], f[:, 6]
    out["left_valid"], out["right_valid"] = f[:, 7], f[:, 8]
    out["left_pupil"], out["right_pupil"] = f[:, 9], f[:, 10]
    out["left_eye_pos"] = f[:, 11:14]
    out["right_eye_pos"] = f[:, 14:17]
    out["flags"] = f[:, 17].astype(np.uint32)
    return out


def estimate_rate_hz(t: ArrayLike, *, default: float = math.nan) -> float:
    """Sampling rate (Hz) from the median positive interval of sample times.

    Parameters
    ----------
    t : array_like, shape (n,), s
        Sample times, non-decreasing (repeated times and NaN are ignored).
    default : float
        Returned when fewer than one positive interval exists (NaN by default).

    Returns
    -------
    float
        ``1 / median(diff(t)[diff(t) > 0])``, or ``default``.
    """
    ta = np.asarray(t, dtype=np.float64).ravel()
    if ta.size < 2:
        return float(default)
    d = np.diff(ta)
    d = d[d > 0]
    return float(1.0 / np.median(d)) if d.size else float(default)


#: The gap rule, in one place: an interval between consecutive samples longer than this many
#: nominal periods is a gap (the tracker's flag, the data-quality counts and replay use it).
GAP_PERIODS = 1.5


def gaps(intervals: np.ndarray, period: float) -> np.ndarray:
    """Which ``intervals`` (same unit as ``period``) are gaps: longer than 1.5 periods."""
    return np.asarray(intervals) > GAP_PERIODS * period


def missing_in_gaps(intervals: np.ndarray, period: float) -> np.ndarray:
    """Samples dropped in each interval: ``round(interval / period) - 1`` (0 for none)."""
    return np.maximum(np.rint(np.asarray(intervals, dtype=float) / period) - 1.0, 0.0)
