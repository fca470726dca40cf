"""Playback maths of the replay (no Qt): a playhead over a trial's time range.

The playhead is in session seconds. Playing advances it by ``speed`` times the wall-clock time
elapsed; stepping moves it by whole sample periods; scrubbing maps a fraction of the timeline
width to a time. The window owns one :class:`Playhead` and asks it where to draw.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["SPEEDS", "Playhead", "format_time"]

#: Playback speeds offered (x real time).
SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def format_time(seconds: float) -> str:
    """``m:ss.mmm`` (or ``-m:ss.mmm``) for a time relative to some origin."""
    if not math.isfinite(seconds):
        return "--:--.---"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    minutes = int(s // 60)
    return f"{sign}{minutes}:{s - 60 * minutes:06.3f}"


@dataclasses.dataclass
class Playhead:
    """Where the replay is in ``[t0, t1]`` and how it moves.

    Parameters
    ----------
    t0, t1 : float
        Range, session s (``t1 > t0``).
    rate_hz : float
        Recorded sampling rate: one frame step is one sample period.
    """

    t0: float
    t1: float
    rate_hz: float = 1000.0
    t: float = math.nan
    speed: float = 1.0
    playing: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.t0) and math.isfinite(self.t1) and self.t1 > self.t0):
            raise ValueError(
                f"playhead range must be finite with t1 > t0, got {self.t0}, {self.t1}"
            )
        if not (self.rate_hz > 0 and math.isfinite(self.rate_hz)):
            self.rate_hz = 1000.0
        if self.speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}, got {self.speed!r}")
        self.t = self.t0 if not math.isfinite(self.t) else self._clamp(self.t)

    @property
    def duration(self) -> float:
        """Length of the range (s)."""
        return self.t1 - self.t0

    @property
    def step_s(self) -> float:
        """One frame step: one sample period (s)."""
        return 1.0 / self.rate_hz

    @property
    def at_end(self) -> bool:
        """True when the playhead is at the end of the range."""
        return self.t >= self.t1

    def _clamp(self, t: float) -> float:
        return min(max(float(t), self.t0), self.t1)

    def seek(self, t: float) -> float:
        """Move to ``t`` (clamped to the range); returns the new time."""
        self.t = self._clamp(t)
        return self.t

    def seek_fraction(self, f: float) -> float:
        """Move to a fraction ``f`` (0..1) of the range (scrubbing)."""
        return self.seek(self.t0 + min(max(f, 0.0), 1.0) * self.duration)

    @property
    def fraction(self) -> float:
        """Where the playhead is, 0..1."""
        return (self.t - self.t0) / self.duration

    def step(self, n: int = 1) -> float:
        """Move by ``n`` sample periods (negative: back); stops playing."""
        self.playing = False
        return self.seek(self.t + n * self.step_s)

    def play(self) -> None:
        """Start playing (from the start when at the end)."""
        if self.at_end:
            self.t = self.t0
        self.playing = True

    def pause(self) -> None:
        """Stop playing."""
        self.playing = False

    def toggle(self) -> bool:
        """Play/pause; returns whether it is playing now."""
        if self.playing:
            self.pause()
        else:
            self.play()
        return self.playing

    def advance(self, wall_dt: float) -> float:
        """While playing, move by ``speed * wall_dt`` seconds; stop at the end."""
        if self.playing and wall_dt > 0:
            self.seek(self.t + self.speed * wall_dt)
            if self.at_end:
                self.playing = False
        return self.t

    def set_speed(self, speed: float) -> float:
        """Set a speed from :data:`SPEEDS` (the nearest one is taken)."""
        self.speed = min(SPEEDS, key=lambda s: abs(math.log(s / speed)) if speed > 0 else s)
        return self.speed

    def faster(self) -> float:
        """Next speed up."""
        i = SPEEDS.index(self.speed)
        self.speed = SPEEDS[min(i + 1, len(SPEEDS) - 1)]
        return self.speed

    def slower(self) -> float:
        """Next speed down."""
        i = SPEEDS.index(self.speed)
        self.speed = SPEEDS[max(i - 1, 0)]
        return self.speed
