"""What one replay frame shows, as plain numbers (no Qt): the shared core of window and exports.

:func:`build_scene` turns a :class:`~sessions.replay.data.TrialData`, a time and a
:class:`ViewTransform` into a :class:`Scene` whose coordinates are widget/frame pixels. The Qt
painter (:mod:`sessions.replay.canvas_widget`) only draws what the scene says, so the pixel
placement of every overlay is decided (and tested) here.

World coordinates are stimulus-screen px. The view transform (zoom/pan) changes only where the
world is drawn, never the recorded coordinates.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sessions.metrics.maps import fixation_density_map
from sessions.replay.data import TrialData
from sessions.replay.timeline import format_time

__all__ = [
    "FixationMark",
    "HeatmapCache",
    "ReplayOptions",
    "Scene",
    "ViewTransform",
    "build_scene",
    "colourise",
    "fixation_radius",
    "place_labels",
]


@dataclasses.dataclass
class ViewTransform:
    """World (screen px) <-> view (widget px): fit the screen in the widget, then zoom and pan.

    ``cx, cy`` is the world point drawn at the widget centre; ``zoom`` multiplies the fit
    scale. :meth:`reset` shows the whole screen.
    """

    world_w: float
    world_h: float
    widget_w: float
    widget_h: float
    zoom: float = 1.0
    cx: float = math.nan
    cy: float = math.nan
    margin: float = 0.98

    MIN_ZOOM = 0.25
    MAX_ZOOM = 40.0

    def __post_init__(self) -> None:
        if min(self.world_w, self.world_h, self.widget_w, self.widget_h) <= 0:
            raise ValueError(
                f"view sizes must be positive: world {self.world_w}x{self.world_h}, "
                f"widget {self.widget_w}x{self.widget_h}"
            )
        if not math.isfinite(self.cx):
            self.cx = self.world_w / 2.0
        if not math.isfinite(self.cy):
            self.cy = self.world_h / 2.0

    @property
    def fit_scale(self) -> float:
        """View px per world px at zoom 1 (whole screen visible)."""
        return self.margin * min(self.widget_w / self.world_w, self.widget_h / self.world_h)

    @property
    def scale(self) -> float:
        """View px per world px."""
        return self.fit_scale * self.zoom

    def to_view(self, x: Any, y: Any) -> tuple[Any, Any]:
        """World -> view (arrays or floats)."""
        s = self.scale
        return (
            (np.asarray(x, dtype=float) - self.cx) * s + self.widget_w / 2.0,
            (np.asarray(y, dtype=float) - self.cy) * s + self.widget_h / 2.0,
        )

    def to_world(self, vx: Any, vy: Any) -> tuple[Any, Any]:
        """View -> world (exact inverse of :meth:`to_view`)."""
        s = self.scale
        return (
            (np.asarray(vx, dtype=float) - self.widget_w / 2.0) / s + self.cx,
            (np.asarray(vy, dtype=float) - self.widget_h / 2.0) / s + self.cy,
        )

    def rect_to_view(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
        """World rectangle (corners) -> view ``(x, y, w, h)``."""
        vx0, vy0 = self.to_view(x0, y0)
        vx1, vy1 = self.to_view(x1, y1)
        return (float(vx0), float(vy0), float(vx1 - vx0), float(vy1 - vy0))

    def zoom_at(self, factor: float, vx: float, vy: float) -> None:
        """Zoom by ``factor`` keeping the world point under view ``(vx, vy)`` in place."""
        wx, wy = self.to_world(vx, vy)
        self.zoom = min(max(self.zoom * factor, self.MIN_ZOOM), self.MAX_ZOOM)
        s = self.scale
        self.cx = float(wx) - (vx - self.widget_w / 2.0) / s
        self.cy = float(wy) - (vy - self.widget_h / 2.0) / s

    def pan_by(self, dvx: float, dvy: float) -> None:
        """Move the picture by ``(dvx, dvy)`` view px."""
        self.cx -= dvx / self.scale
        self.cy -= dvy / self.scale

    def resize(self, widget_w: float, widget_h: float) -> None:
        """New widget size (the centre and zoom are kept)."""
        self.widget_w, self.widget_h = float(max(widget_w, 1)), float(max(widget_h, 1))

    def reset(self) -> None:
        """Whole screen, centred."""
        self.zoom = 1.0
        self.cx, self.cy = self.world_w / 2.0, self.world_h / 2.0


@dataclasses.dataclass
class ReplayOptions:
    """What to draw.

    Attributes
    ----------
    trail_s : float
        Seconds of raw gaze trail behind the playhead (0 = current point only).
    heatmap_sigma_deg : float
        SD of the heatmap's Gaussian (degrees of visual angle; REFLACX/GazeVaLM use 1).
    last_fixations : int
        Draw only the last N fixations made so far (0 = all); numbers keep their order.
    """

    show_left: bool = True
    show_right: bool = True
    trail_s: float = 0.75
    show_fixations: bool = True
    show_scanpath: bool = True
    show_heatmap: bool = False
    heatmap_sigma_deg: float = 1.0
    heatmap_opacity: float = 0.65
    show_hud: bool = True
    last_fixations: int = 0


@dataclasses.dataclass(frozen=True)
class FixationMark:
    """A fixation circle in view px: centre, radius, order number, whether it is under way."""

    x: float
    y: float
    r: float
    number: int
    current: bool
    duration_ms: float


@dataclasses.dataclass
class Scene:
    """One frame in view px. Rectangles are ``(x, y, w, h)``."""

    width: int
    height: int
    screen_rect: tuple[float, ...]
    image_rect: tuple[float, ...]
    image_phase: str  # before | shown | after
    trail_left: NDArray[np.float64]
    trail_right: NDArray[np.float64]
    gaze_left: tuple[float, float] | None
    gaze_right: tuple[float, float] | None
    fixations: list[FixationMark]
    heatmap: NDArray[np.uint8] | None
    heatmap_rect: tuple[float, ...]
    title: str
    time_text: str
    notes: list[str]
    zoom: float


def fixation_radius(duration_ms: Any) -> Any:
    """Circle radius in screen px for a fixation of ``duration_ms`` (area ~ duration)."""
    return 5.0 + 1.25 * np.sqrt(np.maximum(np.asarray(duration_ms, dtype=float), 0.0))


_CMAP_POS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_CMAP_RGB = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=float
)


def colourise(m: NDArray[np.float64], opacity: float = 0.65) -> NDArray[np.uint8]:
    """Map values (scaled by their maximum) to RGBA (an inferno-like ramp, low values clear)."""
    peak = float(m.max()) if m.size else 0.0
    out = np.zeros((*m.shape, 4), dtype=np.uint8)
    if not peak > 0:
        return out
    v = m / peak
    for c in range(3):
        out[..., c] = np.interp(v, _CMAP_POS, _CMAP_RGB[:, c]).astype(np.uint8)
    alpha = np.clip((v - 0.03) / 0.35, 0.0, 1.0) * opacity * 255.0
    out[..., 3] = alpha.astype(np.uint8)
    return out


class HeatmapCache:
    """Duration-weighted density of the fixations made so far, on a coarse image-px grid.

    The density (:func:`sessions.metrics.maps.fixation_density_map`, not normalised) is additive, so the
    sum over completed fixations is kept at checkpoints every ``step`` fixations and any time
    costs at most ``step`` fixations' worth of Gaussians plus the running one: scrubbing stays
    fast on long trials. The result is exactly the map of all fixations up to ``t`` (the running
    one weighted by its duration so far). The grid is at most ``max_side`` cells on a side.
    """

    def __init__(self, max_side: int = 192, step: int = 16) -> None:
        self.max_side = max_side
        self.step = step
        self._key: tuple[Any, ...] | None = None
        self._rgba: NDArray[np.uint8] | None = None
        self._grid_key: tuple[Any, ...] | None = None
        self._ckpt: list[NDArray[np.float64]] = []

    def _grid(self, data: TrialData, opts: ReplayOptions) -> tuple[Any, ...]:
        lay = data.layout
        g = max(1.0, max(lay.image_width, lay.image_height) / self.max_side)
        gw, gh = max(1, math.ceil(lay.image_width / g)), max(1, math.ceil(lay.image_height / g))
        sig = (
            opts.heatmap_sigma_deg * data.px_per_degree[0] / lay.scale / g,
            opts.heatmap_sigma_deg * data.px_per_degree[1] / lay.scale / g,
        )
        key = (id(data), gw, gh, sig)
        if key != self._grid_key:
            self._grid_key = key
            ix, iy = lay.screen_to_image(data.fixations["x"], data.fixations["y"])
            self._gx, self._gy = ix / g, iy / g
            self._ckpt = [np.zeros((gh, gw))]
        return (gw, gh), sig

    def density(self, data: TrialData, t: float, opts: ReplayOptions) -> NDArray[np.float64] | None:
        """The (unnormalised) density map on the coarse grid at ``t``; None before any fixation."""
        fx = data.fixations
        k = int(np.searchsorted(fx["t_start"], t, side="right")) if fx.size else 0
        if k == 0:
            return None
        size, sig = self._grid(data, opts)
        done = k if fx["t_end"][k - 1] <= t else k - 1
        full = (fx["t_end"] - fx["t_start"]) * 1000.0
        c = done // self.step
        while len(self._ckpt) <= c:
            i = len(self._ckpt) - 1
            sl = slice(i * self.step, (i + 1) * self.step)
            add = fixation_density_map(
                self._gx[sl], self._gy[sl], full[sl], size, sig, normalise=False
            )
            self._ckpt.append(self._ckpt[-1] + add)
        m = self._ckpt[c].copy()
        rest = slice(c * self.step, k)
        w = full[rest].copy()
        if done < k:
            w[-1] = (t - fx["t_start"][k - 1]) * 1000.0
        if w.size:
            m += fixation_density_map(self._gx[rest], self._gy[rest], w, size, sig, normalise=False)
        return m

    def get(self, data: TrialData, t: float, opts: ReplayOptions) -> NDArray[np.uint8] | None:
        """RGBA heatmap over the image rectangle for time ``t`` (None without fixations)."""
        fx = data.fixations
        k = int(np.searchsorted(fx["t_start"], t, side="right")) if fx.size else 0
        if k == 0:
            return None
        running = min(float(fx["t_end"][k - 1]), t) - float(fx["t_start"][k - 1])
        key = (id(data), k, round(running * 40), opts.heatmap_sigma_deg, opts.heatmap_opacity)
        if key == self._key:
            return self._rgba
        m = self.density(data, t, opts)
        self._rgba = None if m is None else colourise(m, opts.heatmap_opacity)
        self._key = key
        return self._rgba


def _trail(
    data: TrialData, eye: NDArray[np.float64], t: float, trail_s: float, view: ViewTransform
) -> NDArray[np.float64]:
    if trail_s <= 0 or data.t.size == 0:
        return np.empty((0, 2))
    a = int(np.searchsorted(data.t, t - trail_s, side="left"))
    b = int(np.searchsorted(data.t, t, side="right"))
    pts = eye[a:b]
    vx, vy = view.to_view(pts[:, 0], pts[:, 1])
    out = np.column_stack((vx, vy))
    if out.shape[0] > 2:
        # drop samples that stay in the same half-pixel as the one before (fixational jitter at
        # 1200 Hz): the line looks the same and draws many times faster; NaN breaks are kept
        q = np.floor(out * 2.0)
        same = np.zeros(out.shape[0], dtype=bool)
        same[1:] = np.all(q[1:] == q[:-1], axis=1)
        same[-1] = False
        out = out[~same]
    return out


def _current(
    data: TrialData, eye: NDArray[np.float64], i: int, t: float, view: ViewTransform
) -> tuple[float, float] | None:
    if i < 0 or t - data.t[i] > 2.0 / max(data.rate_hz, 1.0) + 0.02:
        return None
    x, y = eye[i]
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    vx, vy = view.to_view(x, y)
    return (float(vx), float(vy))


def build_scene(
    data: TrialData,
    t: float,
    view: ViewTransform,
    opts: ReplayOptions | None = None,
    heatmap: HeatmapCache | None = None,
) -> Scene:
    """Everything to draw at session time ``t`` in the view ``view``."""
    opts = opts or ReplayOptions()
    lay = data.layout
    sw, sh = lay.screen_width, lay.screen_height
    screen_rect = view.rect_to_view(0.0, 0.0, float(sw), float(sh))
    image_rect = view.rect_to_view(*lay.screen_rect)
    if math.isfinite(data.t_onset) and t < data.t_onset:
        phase = "before"
    elif math.isfinite(data.t_offset) and t > data.t_offset:
        phase = "after"
    else:
        phase = "shown"
    i = data.sample_index(t)
    empty = np.empty((0, 2))
    trail_l = _trail(data, data.left, t, opts.trail_s, view) if opts.show_left else empty
    trail_r = _trail(data, data.right, t, opts.trail_s, view) if opts.show_right else empty
    gl = _current(data, data.left, i, t, view) if opts.show_left else None
    gr = _current(data, data.right, i, t, view) if opts.show_right else None

    marks: list[FixationMark] = []
    fx = data.fixations
    if opts.show_fixations and fx.size:
        k = int(np.searchsorted(fx["t_start"], t, side="right"))
        j0 = max(0, k - opts.last_fixations) if opts.last_fixations > 0 else 0
        if k > j0:
            sl = slice(j0, k)
            vx, vy = view.to_view(fx["x"][sl], fx["y"][sl])
            dur = (np.minimum(fx["t_end"][sl], t) - fx["t_start"][sl]) * 1000.0
            r = np.maximum(fixation_radius(dur) * view.scale, 4.0)
            cur = fx["t_end"][sl] > t
            marks = [
                FixationMark(
                    float(vx[j]), float(vy[j]), float(r[j]), j0 + j + 1, bool(cur[j]), float(dur[j])
                )
                for j in range(k - j0)
            ]
    hm = heatmap.get(data, t, opts) if (opts.show_heatmap and heatmap is not None) else None

    s = data.summary
    title = f"Trial {s.number}  ·  {s.reader}  ·  {s.condition}  ·  {s.image_id}"
    origin = data.t_onset if math.isfinite(data.t_onset) else data.t0
    time_text = (
        f"{format_time(t - origin)} from image onset  ·  {format_time(data.t1 - data.t0)} total"
    )
    notes: list[str] = []
    if phase == "before":
        notes.append("before image onset (fixation cross / drift check)")
    elif phase == "after":
        notes.append("image removed: response")
    if data.image_error:
        notes.append(data.image_error)
    if not data.layout_known:
        notes.append("no image layout stored for this trial: the image position is a guess")
    if data.t.size == 0:
        notes.append("no gaze samples were recorded in this trial")
    return Scene(
        width=int(view.widget_w),
        height=int(view.widget_h),
        screen_rect=screen_rect,
        image_rect=image_rect,
        image_phase=phase,
        trail_left=trail_l,
        trail_right=trail_r,
        gaze_left=gl,
        gaze_right=gr,
        fixations=marks,
        heatmap=hm,
        heatmap_rect=image_rect,
        title=title,
        time_text=time_text,
        notes=notes,
        zoom=view.zoom,
    )


#: Where a label may go, as fractions of its size from the point: on it, then beside it.
_LABEL_SPOTS = ((0.0, 0.0), (0.0, -1.1), (1.1, 0.0), (0.0, 1.1), (-1.1, 0.0), (1.1, -1.1),
                (-1.1, -1.1), (1.1, 1.1), (-1.1, 1.1))  # fmt: skip


def place_labels(
    points: list[tuple[float, float]], size: tuple[float, float] | list[tuple[float, float]]
) -> list[tuple[float, float] | None]:
    """Centres for number labels that do not overlap, newest first; None where none fits.

    ``points`` are the fixations in order; ``size`` is one ``(width, height)`` for all labels
    or one per label. Each label takes the first spot of :data:`_LABEL_SPOTS` (on its
    fixation, then beside it) that overlaps no label placed before; the newest fixations are
    placed first, so the current ones are always numbered and an old label that cannot fit
    is left out (its circle is still drawn).
    """
    sizes = size if isinstance(size, list) else [size] * len(points)
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float] | None] = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        (x, y), (w, h) = points[i], sizes[i]
        for fx, fy in _LABEL_SPOTS:
            cx, cy = x + fx * w, y + fy * h
            box = (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
            if all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3]
                   for b in placed):  # fmt: skip
                placed.append(box)
                out[i] = (cx, cy)
                break
    return out
