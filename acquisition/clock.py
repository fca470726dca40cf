"""The session clock: LSL's ``local_clock()`` (monotonic seconds), shared by every process.

pylsl is imported on first use, not at import of this module, so importing gazeread never
loads the native liblsl.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ClockOffset", "measure_offset", "session_clock"]


def session_clock() -> float:
    """Seconds on the session clock (``pylsl.local_clock()``)."""
    from pylsl import local_clock

    return float(local_clock())


class ClockOffset(tuple):
    """``(t_session, offset_s, uncertainty_s)``: session time = other clock + offset_s."""

    __slots__ = ()

    def __new__(cls, t_session: float, offset_s: float, uncertainty_s: float) -> ClockOffset:
        """Build from the three numbers."""
        return super().__new__(cls, (t_session, offset_s, uncertainty_s))

    @property
    def t_session(self) -> float:
        """Session time of the measurement (s)."""
        return float(self[0])

    @property
    def offset_s(self) -> float:
        """Add this to the other clock's seconds to get session seconds."""
        return float(self[1])

    @property
    def uncertainty_s(self) -> float:
        """Half the round trip of the best paired read (s)."""
        return float(self[2])


def measure_offset(
    other_clock_s: Callable[[], float],
    reference: Callable[[], float] = session_clock,
    repeats: int = 25,
) -> ClockOffset:
    """Estimate ``reference - other`` by paired reads, keeping the tightest bracket.

    Reads reference, other, reference ``repeats`` times and keeps the pair whose reference
    reads are closest together (least likely to have been interrupted), as Titta and iohub do
    for Tobii's ``get_system_time_stamp()``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    best = (0.0, 0.0, float("inf"))
    for _ in range(repeats):
        a = reference()
        o = other_clock_s()
        b = reference()
        if b - a < best[2]:
            best = ((a + b) / 2.0, (a + b) / 2.0 - o, b - a)
        time.sleep(0)
    return ClockOffset(best[0], best[1], best[2] / 2.0)
