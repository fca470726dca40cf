"""The replay timeline: a track with event markers, dropped-data spans and a draggable playhead."""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QWidget

from sessions.replay.data import TrialData

__all__ = ["CATEGORY_COLOURS", "TimelineWidget"]

#: Marker colour of each event category.
#: What the legend under the track names: (category, words).
LEGEND: tuple[tuple[str, str], ...] = (
    ("onset", "image onset"), ("offset", "offset"), ("answer", "answer"),
    ("drift", "drift check"), ("calibration", "calibration"), ("dropped", "dropped / lost data"),
)  # fmt: skip

CATEGORY_COLOURS: dict[str, tuple[int, int, int]] = {
    "onset": (80, 220, 120),
    "offset": (150, 160, 170),
    "answer": (90, 170, 255),
    "drift": (200, 140, 255),
    "dropped": (255, 80, 80),
    "calibration": (255, 196, 92),
    "other": (120, 125, 135),
}


class TimelineWidget(QWidget):
    """Shows a trial's time range; click or drag to scrub.

    Signals
    -------
    scrubbed(float) : session time the user dragged the playhead to.
    """

    scrubbed = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(76)
        self.setMaximumHeight(82)
        self.data: TrialData | None = None
        self.t = math.nan
        self._dragging = False
        self._help = (
            "Click or drag to scrub. Markers: green onset, grey offset, blue answer, "
            "violet drift check, amber calibration, red dropped/lost data"
        )
        self.setToolTip(self._help)
        self.setMouseTracking(True)

    def set_data(self, data: TrialData | None) -> None:
        """Show another trial."""
        self.data = data
        self.t = data.t0 if data is not None else math.nan
        self.update()

    def set_time(self, t: float) -> None:
        """Move the playhead."""
        self.t = t
        self.update()

    def _track(self) -> QRectF:
        return QRectF(12.0, 8.0, max(self.width() - 24.0, 1.0), 22.0)

    def _x(self, t: float) -> float:
        d = self.data
        tr = self._track()
        if d is None:
            return tr.left()
        return tr.left() + (t - d.t0) / d.duration * tr.width()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw the current state."""
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.fillRect(self.rect(), QColor(30, 31, 35))
            tr = self._track()
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(48, 50, 56))
            p.drawRoundedRect(tr, 4, 4)
            d = self.data
            if d is None:
                return
            if math.isfinite(d.t_onset):
                x0 = self._x(d.t_onset)
                x1 = self._x(d.t_offset) if math.isfinite(d.t_offset) else tr.right()
                p.setBrush(QColor(70, 74, 84))
                p.drawRect(QRectF(x0, tr.top(), max(x1 - x0, 1.0), tr.height()))
            red = QColor(*CATEGORY_COLOURS["dropped"])
            for spans, alpha in ((d.lost, 90), (d.dropped, 230)):
                red.setAlpha(alpha)
                p.setBrush(red)
                for a, b in np.asarray(spans).tolist():
                    xa, xb = self._x(a), self._x(b)
                    p.drawRect(QRectF(xa, tr.bottom() - 6, max(xb - xa, 2.0), 6))
            for ev in d.events:
                x = self._x(ev.t)
                p.setPen(QPen(QColor(*CATEGORY_COLOURS.get(ev.category, (120, 125, 135))), 2.0))
                p.drawLine(QPointF(x, tr.top() - 3), QPointF(x, tr.bottom() + 3))
            font = QFont("DejaVu Sans", 8)
            p.setFont(font)
            p.setPen(QColor(170, 174, 182))
            origin = d.t_onset if math.isfinite(d.t_onset) else d.t0
            n_ticks = max(2, min(12, int(tr.width() // 90)))
            for k in range(n_ticks + 1):
                t = d.t0 + d.duration * k / n_ticks
                x = self._x(t)
                p.drawLine(QPointF(x, tr.bottom() + 4), QPointF(x, tr.bottom() + 8))
                text = f"{t - origin:+.1f}s"
                w = p.fontMetrics().horizontalAdvance(text)
                p.drawText(
                    QPointF(min(max(x - w / 2, 0.0), self.width() - w), tr.bottom() + 20), text
                )
            self._paint_legend(p, tr.bottom() + 36)
            if math.isfinite(self.t):
                x = self._x(self.t)
                p.setPen(QPen(QColor(255, 255, 255), 2.0))
                p.drawLine(QPointF(x, tr.top() - 6), QPointF(x, tr.bottom() + 6))
                p.setBrush(QColor(255, 255, 255))
                p.drawEllipse(QPointF(x, tr.top() - 5), 4.0, 4.0)
        finally:
            p.end()

    def _paint_legend(self, p: QPainter, y: float) -> None:
        """One line under the ticks: what the markers' colours and the tick times mean."""
        p.setFont(QFont("DejaVu Sans", 8))
        fm = p.fontMetrics()
        x = 12.0
        for cat, words in LEGEND:
            p.setPen(QPen(QColor(*CATEGORY_COLOURS[cat]), 2.0))
            p.drawLine(QPointF(x, y - 9), QPointF(x, y + 1))
            p.setPen(QColor(170, 174, 182))
            p.drawText(QPointF(x + 5, y), words)
            x += 5 + fm.horizontalAdvance(words) + 14
        for text in (
            "ticks: s from image onset · shaded: image shown",
            "ticks: s from image onset",
        ):
            w = fm.horizontalAdvance(text)
            if x + w <= self.width() - 12:  # the longest that fits, right-aligned
                p.drawText(QPointF(self.width() - 12 - w, y), text)
                break

    def _scrub_to(self, x: float) -> None:
        d = self.data
        if d is None:
            return
        tr = self._track()
        f = min(max((x - tr.left()) / tr.width(), 0.0), 1.0)
        self.scrubbed.emit(d.t0 + f * d.duration)

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """Start a drag."""
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self._scrub_to(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        """Drag: scrub. Hover: name the event under the cursor."""
        if event is None:
            return
        x = event.position().x()
        if self._dragging:
            self._scrub_to(x)
            return
        self.setToolTip(self.event_at(x) or self._help)

    def event_at(self, x: float, tolerance_px: float = 4.0) -> str:
        """Label and time of the event marker nearest ``x`` (within the tolerance), or ''."""
        d = self.data
        if d is None or not d.events:
            return ""
        best = min(d.events, key=lambda e: abs(self._x(e.t) - x))
        if abs(self._x(best.t) - x) > tolerance_px:
            return ""
        origin = d.t_onset if math.isfinite(d.t_onset) else d.t0
        return f"{best.label} ({best.t - origin:+.3f} s)"

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        """End a drag."""
        self._dragging = False
