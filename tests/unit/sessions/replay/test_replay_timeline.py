"""Playback maths: seeking, stepping, playing at a speed."""

from __future__ import annotations

import pytest

from sessions.replay.export import frame_times
from sessions.replay.timeline import SPEEDS, Playhead, format_time


def test_seek_is_clamped_and_fraction_maps_back() -> None:
    ph = Playhead(10.0, 20.0, rate_hz=100.0)
    assert ph.t == 10.0
    assert ph.seek(25.0) == 20.0 and ph.at_end
    assert ph.seek(5.0) == 10.0
    assert ph.seek_fraction(0.25) == pytest.approx(12.5)
    assert ph.fraction == pytest.approx(0.25)


def test_step_moves_whole_samples_and_pauses() -> None:
    ph = Playhead(0.0, 1.0, rate_hz=1200.0)
    ph.play()
    ph.step(3)
    assert not ph.playing
    assert ph.t == pytest.approx(3 / 1200)
    ph.step(-10)
    assert ph.t == 0.0


@pytest.mark.parametrize("speed", SPEEDS, ids=lambda s: f"{s:g}x")
def test_playing_advances_by_speed_times_wall_time(speed: float) -> None:
    ph = Playhead(0.0, 100.0, rate_hz=600.0, speed=speed)
    ph.play()
    ph.advance(0.5)
    assert ph.t == pytest.approx(0.5 * speed)


def test_play_stops_at_the_end_and_restarts_from_the_start() -> None:
    ph = Playhead(0.0, 1.0)
    ph.play()
    ph.advance(5.0)
    assert ph.t == 1.0 and not ph.playing
    ph.play()
    assert ph.t == 0.0 and ph.playing


def test_speed_steps_and_nearest() -> None:
    ph = Playhead(0.0, 1.0)
    assert ph.faster() == 2.0 and ph.slower() == 1.0
    for _ in range(10):
        ph.slower()
    assert ph.speed == 0.25
    assert ph.set_speed(3.5) == 4.0
    with pytest.raises(ValueError, match="speed must be one of"):
        Playhead(0.0, 1.0, speed=3.0)
    with pytest.raises(ValueError, match="t1 > t0"):
        Playhead(1.0, 1.0)


def test_format_time() -> None:
    assert format_time(75.5) == "1:15.500"
    assert format_time(-0.25) == "-0:00.250"
    assert format_time(float("nan")) == "--:--.---"


def test_frame_times_cover_the_range_and_end_on_it() -> None:
    t = frame_times(0.0, 1.0, fps=10, speed=1.0)
    assert t[0] == 0.0 and t[-1] == 1.0 and len(t) == 11
    t = frame_times(0.0, 1.05, fps=10, speed=2.0)
    assert t[-1] == 1.05 and t[1] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="positive"):
        frame_times(0.0, 1.0, fps=0)
