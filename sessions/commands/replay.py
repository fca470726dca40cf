"""`gazeread replay SESSION`: scrub a recorded session in a window, or export frames/videos.

Without ``--export-*`` a window opens (trial list, picture with gaze, scanpath and heatmap,
timeline). With ``--trial N --export-png FILE [--at SECONDS]`` or ``--export-video FILE`` the
same painter draws offscreen (no display needed: Qt's ``offscreen`` platform is used when
there is none) so figures and videos can be made in scripts.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessions.replay.data import TrialData

__all__ = ["HELP", "add_arguments", "run"]

HELP = "replay a recorded session in a window, or export frames/videos"


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--center must be image px 'X,Y', e.g. 512,300, got {text!r}"
        ) from None
    return x, y


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x800, got {text!r}") from None
    if w < 64 or h < 64 or w > 8192 or h > 8192:
        raise argparse.ArgumentTypeError(f"size {text!r} must be between 64x64 and 8192x8192")
    return w, h


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gazeread replay``."""
    parser.add_argument("session", help="session folder (…/sub-<id>/ses-<n>) or its session.sqlite")
    parser.add_argument(
        "--trial",
        type=int,
        default=None,
        metavar="N",
        help="trial number to show or export, from 1 as `gazeread check` and the replay list "
        "count them (default: the first shown)",
    )
    parser.add_argument("--export-png", metavar="FILE", help="write one frame as PNG and exit")
    parser.add_argument(
        "--at",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time of the PNG frame, seconds from image onset (default: the image offset, i.e. the whole scanpath)",
    )
    parser.add_argument(
        "--export-video", metavar="FILE", help="write the trial as a video (.mp4 or .gif) and exit"
    )
    parser.add_argument(
        "--fps", type=float, default=30.0, help="video frames per second (default 30)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="video speed, x real time (default 1)"
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=(1280, 800),
        metavar="WxH",
        help="frame size in px (default 1280x800)",
    )
    parser.add_argument(
        "--heatmap", action="store_true", help="draw the duration-weighted fixation heatmap"
    )
    parser.add_argument(
        "--no-fixations",
        dest="fixations",
        action="store_false",
        help="do not draw fixations/scanpath",
    )
    parser.add_argument(
        "--trail",
        type=float,
        default=0.75,
        metavar="SECONDS",
        help="seconds of raw gaze trail (default 0.75)",
    )
    parser.add_argument(
        "--last-fixations",
        type=int,
        default=0,
        metavar="N",
        help="draw only the last N fixations (default 0: all)",
    )
    parser.add_argument(
        "--no-hud", dest="hud", action="store_false", help="no title/legend text on exported frames"
    )
    parser.add_argument(
        "--eyes",
        choices=("both", "left", "right", "none"),
        default="both",
        help="raw gaze of which eye(s)",
    )
    parser.add_argument(
        "--zoom",
        type=float,
        default=1.0,
        help="magnify the exported view (1 = whole screen); never changes the recorded coordinates",
    )
    parser.add_argument(
        "--center",
        type=_point,
        default=None,
        metavar="X,Y",
        help="image px to centre a zoomed export on (default: the screen centre)",
    )


def _qt_platform() -> None:
    """Use the offscreen platform when there is no display (headless export)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _options(args: argparse.Namespace) -> Any:
    from sessions.replay.scene import ReplayOptions

    return ReplayOptions(
        show_left=args.eyes in ("both", "left"),
        show_right=args.eyes in ("both", "right"),
        trail_s=max(0.0, float(args.trail)),
        show_fixations=args.fixations,
        show_scanpath=args.fixations,
        show_heatmap=args.heatmap,
        show_hud=args.hud,
        last_fixations=max(0, int(args.last_fixations)),
    )


class _Refused(Exception):
    """A replay export that cannot go on; the message is printed and the exit code returned."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _export(args: argparse.Namespace) -> int:
    _qt_platform()
    from PyQt6.QtGui import QGuiApplication

    from sessions.replay.canvas_widget import _FrameCache
    from sessions.replay.export import VIDEO_SUFFIXES
    from sessions.replay.scene import ViewTransform

    try:
        if args.export_video and Path(args.export_video).suffix.lower() not in VIDEO_SUFFIXES:
            raise _Refused(f"--export-video {args.export_video}: use a .mp4 or .gif file name")
        if not 0.25 <= args.zoom <= 40:
            raise _Refused(f"--zoom {args.zoom} must be between 0.25 and 40")
        data = _shown_trial(args)
        app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        w, h = args.size
        size = (w - w % 2, h - h % 2)  # H.264 wants even sizes
        view = ViewTransform(*data.screen_size, *size, zoom=args.zoom)
        if args.center is not None:
            cx, cy = data.layout.image_to_screen(*args.center)
            view.cx, view.cy = float(cx), float(cy)
        if data.image_error:
            print(f"gazeread replay: warning: {data.image_error}", file=sys.stderr)
        render = _renderer(data, size, _options(args), view, _FrameCache())
        if args.export_png:
            _export_png(args, data, render)
        if args.export_video:
            _export_video(args, data, render)
    except _Refused as exc:
        print(f"gazeread replay: {exc}", file=sys.stderr)
        return exc.code
    del app
    return 0


def _shown_trial(args: argparse.Namespace) -> TrialData:
    """The trial asked for (default: the first shown), loaded; refuses naming the shown ones."""
    from sessions.replay.data import load_trial, open_for_reading, release, trial_summaries
    from sessions.store import StoreError

    try:
        store = open_for_reading(args.session)
    except StoreError as exc:
        raise _Refused(str(exc)) from None
    try:
        shown = [s for s in trial_summaries(store) if s.t_onset is not None]
        if not shown:
            raise _Refused(f"{args.session} has no trial that was shown", code=1)
        numbers = [s.number for s in shown]
        number = numbers[0] if args.trial is None else args.trial
        if number not in numbers:
            raise _Refused(f"trial {number} was not shown in this session; shown trials: {numbers}")
        return load_trial(store, number - 1)  # the store's ids start at 0
    finally:
        release(store)


def _renderer(data: Any, size: tuple[int, int], opts: Any, view: Any, cache: Any) -> Any:
    from sessions.replay.canvas_widget import qimage_to_array, render_frame

    def render(t: float) -> Any:
        return qimage_to_array(render_frame(data, t, size, opts, view, cache=cache))

    return render


def _export_png(args: argparse.Namespace, data: Any, render: Any) -> None:
    """One frame: at ``--at`` seconds from image onset, else at the image's offset."""
    from sessions.replay.export import write_png

    origin = data.t_onset if math.isfinite(data.t_onset) else data.t0
    if args.at is None:
        t = data.t_offset if math.isfinite(data.t_offset) else data.t1
    else:
        t = origin + args.at
        if not data.t0 <= t <= data.t1:
            raise _Refused(
                f"--at {args.at} is outside trial {data.trial_id + 1}, which runs from "
                f"{data.t0 - origin:+.3f} s to {data.t1 - origin:+.3f} s around image onset"
            )
    path = write_png(render(t), args.export_png)
    print(
        f"wrote {path} (trial {data.trial_id + 1} at {t - origin:+.3f} s from image onset; "
        f"the trial runs {data.t0 - origin:+.3f} to {data.t1 - origin:+.3f} s)"
    )


def _export_video(args: argparse.Namespace, data: Any, render: Any) -> None:
    from sessions.replay.export import frame_times, write_video

    try:
        times = frame_times(data.t0, data.t1, args.fps, args.speed)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    n = write_video((render(float(t)) for t in times), args.export_video, args.fps)
    print(
        f"wrote {args.export_video} ({n} frames, {n / args.fps:.1f} s at {args.fps:g} fps, "
        f"trial {data.trial_id + 1})"
    )


def run(args: argparse.Namespace) -> int:
    """Open the window, or export when asked to."""
    if args.export_png or args.export_video:
        return _export(args)
    from sessions.run.display import display_missing, no_display_message

    if display_missing():  # the window is for a person: refuse as run and calibrate do
        print(f"gazeread replay: {no_display_message('replay')}", file=sys.stderr)
        print(
            "gazeread replay: without a display, --trial N --export-png F or --export-video "
            "F.mp4 write frames instead",
            file=sys.stderr,
        )
        return 2
    from sessions.replay.data import open_for_reading, release
    from sessions.store import StoreError

    try:
        release(open_for_reading(args.session))
    except StoreError as exc:
        print(f"gazeread replay: {exc}", file=sys.stderr)
        return 2
    from PyQt6.QtWidgets import QApplication

    from sessions.replay.replay_window import ReplayWindow
    from sessions.replay.theme_widget import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_dark_theme(app)  # type: ignore[arg-type]
    first = None if args.trial is None else args.trial - 1  # the window takes the store's id
    win = ReplayWindow(args.session, first_trial=first)
    win.show()
    return int(app.exec())
