"""Qt drawing of a replay :class:`~sessions.replay.scene.Scene`, for the window and the exports.

:func:`paint_scene` is the one painter: :class:`ReplayCanvas` calls it in ``paintEvent`` and
:func:`render_frame` calls it on an offscreen ``QImage`` (PNG/video export, tests, benchmark).
Zoom (wheel), pan (drag) and reset (double-click) change only the view transform.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PyQt6.QtCore import QLineF, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PyQt6.QtWidgets import QWidget

from sessions.replay.data import TrialData
from sessions.replay.scene import (
    HeatmapCache,
    ReplayOptions,
    Scene,
    ViewTransform,
    build_scene,
    place_labels,
)

__all__ = [
    "COLOURS",
    "ReplayCanvas",
    "array_to_qimage",
    "gray_to_qimage",
    "paint_label",
    "paint_labels",
    "paint_legend",
    "paint_scene",
    "qimage_to_array",
    "render_frame",
]

#: RGB colours of the overlays (tests look for them).
COLOURS: dict[str, tuple[int, int, int]] = {
    "background": (24, 25, 28),
    "screen": (0, 0, 0),
    "screen_border": (70, 74, 82),
    "left": (64, 196, 255),
    "right": (255, 110, 199),
    "fixation": (255, 204, 0),
    "fixation_current": (255, 120, 40),
    "scanpath": (170, 174, 184),
    "text": (235, 236, 240),
    "note": (255, 196, 92),
}


def _qc(name: str, alpha: int = 255) -> QColor:
    r, g, b = COLOURS[name]
    return QColor(r, g, b, alpha)


def gray_to_qimage(pixels: NDArray[np.uint8]) -> QImage:
    """An 8-bit grey array ``(h, w)`` -> a QImage that owns a copy of the data."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()  # type: ignore[call-overload]


def array_to_qimage(rgba: NDArray[np.uint8]) -> QImage:
    """An RGBA array ``(h, w, 4)`` -> QImage (copied)."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGBA8888).copy()  # type: ignore[call-overload]


def qimage_to_array(img: QImage) -> NDArray[np.uint8]:
    """A QImage -> ``(h, w, 3)`` uint8 RGB array (a copy)."""
    rgb = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = rgb.width(), rgb.height(), rgb.bytesPerLine()
    ptr = rgb.constBits()
    if ptr is None:
        return np.zeros((h, w, 3), dtype=np.uint8)
    ptr.setsize(h * bpl)
    flat = np.frombuffer(ptr, dtype=np.uint8)  # type: ignore[call-overload]
    buf = flat.reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def _segments(pts: NDArray[np.float64]) -> list[QLineF]:
    """Line segments joining consecutive finite points (NaN rows break the line).

    Separate segments, not one polyline: Qt strokes a translucent self-crossing polyline as one
    outline, which costs ~100x more for a jittery gaze trail or a long scanpath.
    """
    if pts.shape[0] < 2:
        return []
    a, b = pts[:-1], pts[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    seg = np.hstack((a[ok], b[ok])).tolist()
    return [QLineF(x0, y0, x1, y1) for x0, y0, x1, y1 in seg]


def _polylines(p: QPainter, pts: NDArray[np.float64], colour: str, width: float) -> None:
    """Draw a trail: NaN rows break it; older parts are fainter."""
    n = pts.shape[0]
    if n < 2:
        return
    parts = 4
    for k in range(parts):
        a, b = k * n // parts, min(n, (k + 1) * n // parts + 1)
        alpha = int(60 + 150 * (k + 1) / parts)
        # flat caps: round caps make Qt stroke every segment as a path (10x slower)
        p.setPen(QPen(_qc(colour, alpha), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        lines = _segments(pts[a:b])
        if lines:
            p.drawLines(lines)  # type: ignore[call-overload]


def _text_panel(p: QPainter, x: float, y: float, lines: list[tuple[str, str]], font: QFont) -> None:
    p.setFont(font)
    fm = p.fontMetrics()
    lh = fm.height()
    w = max((fm.horizontalAdvance(t) for t, _ in lines), default=0) + 16
    h = lh * len(lines) + 10
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(18, 19, 22, 200))
    p.drawRoundedRect(QRectF(x, y, w, h), 6, 6)
    for i, (text, colour) in enumerate(lines):
        p.setPen(_qc(colour))
        p.drawText(QPointF(x + 8, y + 5 + fm.ascent() + i * lh), text)


def paint_scene(
    p: QPainter,
    scene: Scene,
    image: QImage | None,
    heatmap: QImage | None = None,
    *,
    hud: bool = True,
    scanpath: bool = True,
) -> None:
    """Draw ``scene`` with painter ``p`` (the window and the exports both come here)."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    p.fillRect(QRectF(0, 0, scene.width, scene.height), _qc("background"))
    p.fillRect(QRectF(*scene.screen_rect), _qc("screen"))
    p.setPen(QPen(_qc("screen_border"), 1.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(*scene.screen_rect))
    if image is not None:
        p.setOpacity(1.0 if scene.image_phase == "shown" else 0.3)
        p.drawImage(QRectF(*scene.image_rect), image)
        p.setOpacity(1.0)
    else:
        p.setPen(QPen(_qc("screen_border"), 1.0, Qt.PenStyle.DashLine))
        p.drawRect(QRectF(*scene.image_rect))
    if heatmap is not None:
        p.drawImage(QRectF(*scene.heatmap_rect), heatmap)

    # scanpath: lines joining fixations in order, under the circles
    fx = scene.fixations
    if scanpath and len(fx) > 1:
        # opaque: translucent long lines cost ~5x more to rasterise
        p.setPen(QPen(_qc("scanpath"), 1.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        p.drawLines(_segments(np.array([(f.x, f.y) for f in fx])))  # type: ignore[call-overload]
    number_font = QFont("DejaVu Sans", 9)
    number_font.setBold(True)
    for f in fx:
        ring = "fixation_current" if f.current else "fixation"
        p.setPen(QPen(_qc(ring), 2.0))
        p.setBrush(QBrush(_qc(ring, 55)))
        p.drawEllipse(QPointF(f.x, f.y), f.r, f.r)
    p.setFont(number_font)
    paint_labels(p, [(f.x, f.y) for f in fx], [str(f.number) for f in fx])

    _polylines(p, scene.trail_left, "left", 1.5)
    _polylines(p, scene.trail_right, "right", 1.5)
    for pt, colour in ((scene.gaze_left, "left"), (scene.gaze_right, "right")):
        if pt is not None:
            p.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
            p.setBrush(_qc(colour))
            p.drawEllipse(QPointF(*pt), 6.0, 6.0)

    if not hud:
        return
    base = QFont("DejaVu Sans", 10)
    lines = [(scene.title, "text"), (scene.time_text, "text")]
    if scene.zoom != 1.0:
        lines.append((f"zoom {scene.zoom:.2f}x", "text"))
    _text_panel(p, 10, 10, lines, base)
    if scene.notes:
        small = QFont("DejaVu Sans", 9)
        p.setFont(small)
        lh = p.fontMetrics().height()
        _text_panel(
            p,
            10,
            scene.height - 10 - lh * len(scene.notes) - 10,
            [(n, "note") for n in scene.notes],
            small,
        )
    paint_legend(p, scene.width)


def _label_sprite(text: str, font: QFont) -> QImage:
    """White text with a dark outline on a transparent image (made once per text and font)."""
    key = (text, font.key())
    img = _LABELS.get(key)
    if img is not None:
        return img
    from PyQt6.QtGui import QFontMetrics

    fm = QFontMetrics(font)
    w, h = fm.horizontalAdvance(text) + 4, fm.height() + 2
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    q = QPainter(img)
    try:
        q.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        q.setFont(font)
        base = QPointF(2.0, 1.0 + fm.ascent())
        q.setPen(QColor(0, 0, 0, 230))
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            q.drawText(base + QPointF(dx, dy), text)
        q.setPen(QColor(255, 255, 255))
        q.drawText(base, text)
    finally:
        q.end()
    if len(_LABELS) > 4000:
        _LABELS.clear()
    _LABELS[key] = img
    return img


_LABELS: dict[tuple[str, str], QImage] = {}


def paint_label(p: QPainter, x: float, y: float, text: str) -> None:
    """White text centred on ``(x, y)`` with a dark outline (legible on any grey).

    Drawn from a cached sprite: one blit instead of five text draws per label.
    """
    img = _label_sprite(text, p.font())
    p.drawImage(QPointF(round(x - img.width() / 2.0), round(y - img.height() / 2.0)), img)


def paint_labels(p: QPainter, points: list[tuple[float, float]], texts: list[str]) -> None:
    """Number labels that never overlap (:func:`~sessions.replay.scene.place_labels`)."""
    fm = p.fontMetrics()
    sizes = [(fm.horizontalAdvance(t) + 4.0, fm.height() + 0.0) for t in texts]
    for spot, text in zip(place_labels(points, sizes), texts, strict=True):
        if spot is not None:
            paint_label(p, spot[0], spot[1], text)


def paint_legend(p: QPainter, width: float) -> None:
    """The colour legend in the top-right corner of a picture ``width`` px wide."""
    small = QFont("DejaVu Sans", 9)
    p.setFont(small)
    fm = p.fontMetrics()
    items = [
        ("left eye", "left"),
        ("right eye", "right"),
        ("fixation (size = duration)", "fixation"),
    ]
    w = sum(fm.horizontalAdvance(t) + 26 for t, _ in items) + 8
    x0, y0 = width - w - 10, 10.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(18, 19, 22, 200))
    p.drawRoundedRect(QRectF(x0, y0, w, fm.height() + 10), 6, 6)
    x = x0 + 10
    cy = y0 + 5 + fm.height() / 2.0
    for text, colour in items:
        if colour == "fixation":
            p.setPen(QPen(_qc(colour), 1.5))
            p.setBrush(QBrush(_qc(colour, 55)))
        else:
            p.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
            p.setBrush(_qc(colour))
        p.drawEllipse(QPointF(x, cy), 5.0, 5.0)
        p.setPen(_qc("text"))
        p.drawText(QPointF(x + 10, y0 + 5 + fm.ascent()), text)
        x += fm.horizontalAdvance(text) + 26


class _FrameCache:
    """QImages of one trial's picture and of the last heatmap (converted once)."""

    def __init__(self) -> None:
        self.data: TrialData | None = None
        self.image: QImage | None = None
        self.heatmap = HeatmapCache()
        self._hm_src: Any = None
        self._hm_img: QImage | None = None

    def image_for(self, data: TrialData) -> QImage | None:
        if data is not self.data:
            self.data = data
            self.image = None if data.image is None else gray_to_qimage(data.image)
            self.heatmap = HeatmapCache()
        return self.image

    def heatmap_for(self, rgba: NDArray[np.uint8] | None) -> QImage | None:
        if rgba is None:
            return None
        if rgba is not self._hm_src:
            self._hm_src = rgba
            self._hm_img = array_to_qimage(rgba)
        return self._hm_img


def render_frame(
    data: TrialData,
    t: float,
    size: tuple[int, int] = (1280, 800),
    opts: ReplayOptions | None = None,
    view: ViewTransform | None = None,
    cache: _FrameCache | None = None,
) -> QImage:
    """Draw the frame at session time ``t`` into a new ``size`` QImage (needs a QGuiApplication)."""
    opts = opts or ReplayOptions()
    w, h = size
    view = view or ViewTransform(data.screen_size[0], data.screen_size[1], w, h)
    cache = cache or _FrameCache()
    img = QImage(w, h, QImage.Format.Format_RGB32)
    qimg = cache.image_for(data)
    scene = build_scene(data, t, view, opts, cache.heatmap)
    p = QPainter(img)
    try:
        paint_scene(
            p,
            scene,
            qimg,
            cache.heatmap_for(scene.heatmap),
            hud=opts.show_hud,
            scanpath=opts.show_scanpath,
        )
    finally:
        p.end()
    return img


class ReplayCanvas(QWidget):
    """The replay picture: image, heatmap, scanpath, gaze trails; wheel zoom, drag pan.

    Signals
    -------
    viewChanged : emitted after zoom/pan/reset.
    """

    viewChanged = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setMouseTracking(False)
        self.data: TrialData | None = None
        self.t = math.nan
        self.opts = ReplayOptions()
        self.view: ViewTransform | None = None
        self._cache = _FrameCache()
        self._drag: QPointF | None = None
        self.last_scene: Scene | None = None

    def set_data(self, data: TrialData | None) -> None:
        """Show another trial (the view is reset to the whole screen)."""
        self.data = data
        self.view = None
        if data is not None:
            self.t = data.t0
        self.update()

    def set_time(self, t: float) -> None:
        """Move the picture to session time ``t``."""
        self.t = t
        self.update()

    def _view(self) -> ViewTransform | None:
        if self.data is None:
            return None
        if self.view is None:
            sw, sh = self.data.screen_size
            self.view = ViewTransform(sw, sh, max(self.width(), 1), max(self.height(), 1))
        return self.view

    def reset_view(self) -> None:
        """Whole screen, no zoom."""
        v = self._view()
        if v is not None:
            v.reset()
            self.viewChanged.emit()
            self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw the current state."""
        p = QPainter(self)
        try:
            v = self._view()
            if v is None or self.data is None:
                p.fillRect(self.rect(), _qc("background"))
                p.setPen(_qc("text"))
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
                return
            v.resize(self.width(), self.height())
            scene = build_scene(self.data, self.t, v, self.opts, self._cache.heatmap)
            self.last_scene = scene
            paint_scene(
                p,
                scene,
                self._cache.image_for(self.data),
                self._cache.heatmap_for(scene.heatmap),
                hud=self.opts.show_hud,
                scanpath=self.opts.show_scanpath,
            )
        finally:
            p.end()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        """Keep the view's centre and zoom on resize."""
        if self.view is not None:
            self.view.resize(self.width(), self.height())
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent | None) -> None:
        """Zoom about the cursor."""
        v = self._view()
        if v is None or event is None:
            return
        steps = event.angleDelta().y() / 120.0
        pos = event.position()
        v.zoom_at(1.25**steps, pos.x(), pos.y())
        self.viewChanged.emit()
        self.update()

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """Start a drag."""
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        """Drag: pan or scrub."""
        v = self._view()
        if event is None or v is None or self._drag is None:
            return
        pos = event.position()
        v.pan_by(pos.x() - self._drag.x(), pos.y() - self._drag.y())
        self._drag = pos
        self.viewChanged.emit()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        """End a drag."""
        self._drag = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent | None) -> None:
        """Reset the view."""
        self.reset_view()
