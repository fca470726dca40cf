"""`gazeread replay` exports as a user runs them in a script: real processes, no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sessions.replay.data import load_trial
from sessions.replay.export import frame_times
from sessions.store import SessionStore
from tests.support.replay_sessions import colour_centroid, expected_view_point, make_session


def _gazeread(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, "-m", "sessions", "replay", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_session(tmp_path_factory.mktemp("replay-cli"), n_trials=2, trial_s=1.0)


def test_export_png_headless_puts_gaze_where_recorded(
    session: Path, tmp_path: Path, artifacts: Path
) -> None:
    import shutil

    from PIL import Image

    out = tmp_path / "fig" / "frame.png"
    r = _gazeread(
        str(session),
        "--trial",
        "2",  # the second trial, as people count (its id in the store is 1)
        "--export-png",
        str(out),
        "--at",
        "0.4",
        "--size",
        "1000x700",
        "--no-hud",
        "--eyes",
        "left",
        "--trail",
        "0",
        "--no-fixations",
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout
    assert "from image onset" in r.stdout  # the clock --at takes is the one it reports
    shutil.copy(out, artifacts / "exported-frame.png")
    rgb = np.asarray(Image.open(out).convert("RGB"))
    assert rgb.shape == (700, 1000, 3)
    with SessionStore.open(session) as store:
        data = load_trial(store, 1, with_image=False)
    i = data.sample_index(data.t_onset + 0.4)
    ex, ey = expected_view_point(data.left[i, 0], data.left[i, 1], data.screen_size, (1000, 700))
    cx, cy, n = colour_centroid(rgb, (64, 196, 255), (ex, ey), 12)
    assert n > 40 and abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0


def test_export_png_defaults_to_the_whole_scanpath_with_heatmap(
    session: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scanpath.png"
    r = _gazeread(str(session), "--export-png", str(out), "--heatmap")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000


def test_export_gif_and_mp4(session: Path, tmp_path: Path) -> None:
    from PIL import Image

    gif = tmp_path / "t0.gif"
    r = _gazeread(
        str(session),
        "--trial",
        "1",
        "--export-video",
        str(gif),
        "--fps",
        "5",
        "--speed",
        "2",
        "--size",
        "320x200",
    )
    assert r.returncode == 0, r.stderr
    with SessionStore.open(session) as store:
        data = load_trial(store, 0, with_image=False)
    with Image.open(gif) as im:
        assert im.n_frames == len(frame_times(data.t0, data.t1, 5, 2))
        assert im.size == (320, 200)
    mp4 = tmp_path / "t0.mp4"
    r = _gazeread(
        str(session),
        "--trial",
        "1",
        "--export-video",
        str(mp4),
        "--fps",
        "10",
        "--speed",
        "4",
        "--size",
        "321x201",
    )
    assert r.returncode == 0, r.stderr
    import imageio_ffmpeg

    frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(mp4))
    assert frames == len(frame_times(data.t0, data.t1, 10, 4))
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(mp4)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "320x200" in probe.stderr  # even sizes for H.264


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trial", "7", "--export-png", "x.png"], "trial 7 was not shown"),
        (["--export-png", "x.png", "--at", "99"], "outside trial"),
        (["--export-video", "x.avi"], ".mp4 or .gif"),
        (["--size", "10x10", "--export-png", "x.png"], "between 64x64"),
        (["--zoom", "100", "--export-png", "x.png"], "between 0.25 and 40"),
        (["--center", "a,b", "--export-png", "x.png"], "image px 'X,Y'"),
    ],
    ids=["unknown-trial", "time-outside", "bad-video-suffix", "bad-size", "bad-zoom", "bad-centre"],
)
def test_bad_requests_say_what_is_wrong(
    session: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    r = _gazeread(str(session), *[a if not a.startswith("x.") else str(tmp_path / a) for a in args])
    assert r.returncode == 2
    assert message in r.stderr


def test_not_a_session(tmp_path: Path) -> None:
    r = _gazeread(str(tmp_path), "--export-png", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert "no gazeread session" in r.stderr


def test_zoomed_export_keeps_gaze_on_its_sample(session: Path, tmp_path: Path) -> None:
    from PIL import Image

    with SessionStore.open(session) as store:
        data = load_trial(store, 0, with_image=False)
    i = data.sample_index(data.t_onset + 0.6)
    ix, iy = data.layout.screen_to_image(*data.left[i])
    centre = (float(ix) + 7.5, float(iy) - 4.25)  # image px, near the sample
    out = tmp_path / "zoom.png"
    r = _gazeread(str(session), "--trial", "1", "--export-png", str(out), "--at", "0.6", "--size", "800x600", "--zoom", "3", "--center", f"{centre[0]},{centre[1]}", "--no-hud", "--eyes", "left", "--trail", "0", "--no-fixations")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rgb = np.asarray(Image.open(out).convert("RGB"))
    sc = data.layout.image_to_screen(*centre)
    ex, ey = expected_view_point(
        data.left[i, 0],
        data.left[i, 1],
        data.screen_size,
        (800, 600),
        3.0,
        (float(sc[0]), float(sc[1])),
    )
    cx, cy, n = colour_centroid(rgb, (64, 196, 255), (ex, ey), 12)
    assert n > 40 and abs(cx - ex) < 1.0 and abs(cy - ey) < 1.0


@pytest.mark.slow
def test_replay_of_a_recorded_demo_session(tmp_path: Path) -> None:
    """A session recorded by `gazeread demo` (PsychoPy, simulated tracker) replays and exports."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    demo = subprocess.run(
        [sys.executable, "-m", "sessions", "demo", "--out", str(tmp_path / "sessions"), "--no-lsl"],
        capture_output=True, text=True, timeout=280, check=False, env=env,
    )  # fmt: skip
    if demo.returncode != 0:
        pytest.skip(f"gazeread demo is not usable here yet: {demo.stderr.strip()[-300:]}")
    dbs = sorted((tmp_path / "sessions").glob("**/session.sqlite"))
    assert dbs, "gazeread demo wrote no session"
    folder = dbs[0].parent
    with SessionStore.open(folder) as store:
        from sessions.replay.data import trial_summaries

        shown = [s for s in trial_summaries(store) if s.t_onset is not None]
        assert shown
        for s in shown:
            data = load_trial(store, s.trial_id)
            assert data.image is not None, data.image_error
            assert data.layout_known and data.t.size > 0
            inside = np.isfinite(data.left[:, 0])
            assert inside.any()
    out = tmp_path / "demo.png"
    r = _gazeread(
        str(folder), "--trial", str(shown[0].number), "--export-png", str(out), "--heatmap"
    )
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000
