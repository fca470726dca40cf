"""``gazeread console`` window: the current image with the live gaze, recent fixations and meters.

A QTimer (30 Hz) takes a :class:`~sessions.console.live.LiveSnapshot` from the LSL client's
state; images named by ``image_onset`` markers are loaded in a worker thread that answers
through a signal. Nothing here can reach the recording: the console only reads LSL.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QPointF, QRectF, Qt, QThread, QTimer, pyqtSignal, pyqtSlot
from PyQt6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PyQt6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from sessions.console.live import LiveSnapshot, LiveState
from sessions.console.lsl_client import LslClient
from sessions.replay.canvas_widget import COLOURS, gray_to_qimage, paint_labels, paint_legend
from sessions.replay.scene import ViewTransform, fixation_radius

__all__ = ["ConsoleWindow", "LiveCanvas"]

#: Screen shape assumed until a marker or stream says otherwise.
_FALLBACK_SCREEN = (1920, 1080)


def _qc(name: str, alpha: int = 255) -> QColor:
    return QColor(*COLOURS[name], alpha)


#: Status colours: fine, worth a look, a problem.
_OK, _WARN, _BAD = "#4fd27a", "#ffc45c", "#ff5050"


class ImageLoader(QObject):
    """Loads stimulus images off the GUI thread."""

    loaded = pyqtSignal(str, object, str)  # path, QImage or None, error

    @pyqtSlot(str)
    def load(self, path: str) -> None:
        """Load ``path`` and emit it (or the reason it failed)."""
        try:
            import warnings

            from stimuli.loading import load_image

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                img = load_image(path)
            self.loaded.emit(path, gray_to_qimage(np.ascontiguousarray(img.pixels)), "")
        except Exception as exc:  # any unreadable image: the console says so and carries on
            self.loaded.emit(path, None, f"cannot show image {path}: {exc}")


class LiveCanvas(QWidget):
    """The stimulus screen as the reader sees it, with gaze and recent fixations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 300)
        self.snap: LiveSnapshot | None = None
        self.image: QImage | None = None
        self.image_path: str | None = None
        self.note = ""

    def view(self) -> ViewTransform:
        """World (screen px) -> widget px for the current screen size."""
        sw, sh = self.snap.screen_size if self.snap and self.snap.screen_size else _FALLBACK_SCREEN
        return ViewTransform(sw, sh, max(self.width(), 1), max(self.height(), 1))

    def gaze_to_widget(self, x_norm: float, y_norm: float) -> tuple[float, float]:
        """Where a normalised gaze point is drawn (used by tests)."""
        v = self.view()
        vx, vy = v.to_view(x_norm * v.world_w, y_norm * v.world_h)
        return float(vx), float(vy)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw the current state."""
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.fillRect(self.rect(), _qc("background"))
            v = self.view()
            s = self.snap
            sr = QRectF(*v.rect_to_view(0, 0, v.world_w, v.world_h))
            p.fillRect(sr, _qc("screen"))
            p.setPen(QPen(_qc("screen_border"), 1.0))
            p.drawRect(sr)
            if s is None:
                return
            lay = s.layout
            if lay and s.image_visible:
                x0, y0 = float(lay["offset_x"]), float(lay["offset_y"])
                x1 = x0 + float(lay["image_width"]) * float(lay["scale"])
                y1 = y0 + float(lay["image_height"]) * float(lay["scale"])
                ir = QRectF(*v.rect_to_view(x0, y0, x1, y1))
                if self.image is not None and self.image_path == s.image_path:
                    p.drawImage(ir, self.image)
                else:
                    p.setPen(QPen(_qc("screen_border"), 1.0, Qt.PenStyle.DashLine))
                    p.drawRect(ir)
            # recent fixations (screen px), numbered
            font = QFont("DejaVu Sans", 9)
            font.setBold(True)
            p.setFont(font)
            pts = []
            for f in s.fixations:
                vx, vy = v.to_view(f.x_px, f.y_px)
                r = max(float(fixation_radius(f.duration_ms)) * v.scale, 4.0)
                ring = "fixation_current" if f.ongoing else "fixation"
                p.setPen(QPen(_qc(ring), 2.0))
                p.setBrush(QBrush(_qc(ring, 50)))
                p.drawEllipse(QPointF(float(vx), float(vy)), r, r)
                pts.append((float(vx), float(vy), f.number))
            paint_labels(p, [(x, y) for x, y, _ in pts], [str(n) for _, _, n in pts])
            for trail, colour in ((s.trail_left, "left"), (s.trail_right, "right")):
                ok = np.isfinite(trail).all(axis=1) if trail.size else np.zeros(0, bool)
                if ok.sum() >= 2:
                    vx, vy = v.to_view(trail[ok, 0] * v.world_w, trail[ok, 1] * v.world_h)
                    p.setPen(QPen(_qc(colour, 150), 1.5))
                    p.drawPolyline(
                        QPolygonF(
                            [QPointF(a, b) for a, b in zip(vx.tolist(), vy.tolist(), strict=True)]
                        )
                    )
            for g, colour in ((s.gaze_left, "left"), (s.gaze_right, "right")):
                if g is not None:
                    x, y = self.gaze_to_widget(*g)
                    p.setPen(QPen(QColor(255, 255, 255, 235), 2.0))
                    p.setBrush(_qc(colour))
                    p.drawEllipse(QPointF(x, y), 9.0, 9.0)
            paint_legend(p, self.width())
            if s.screen_size is None:
                p.setFont(QFont("DejaVu Sans", 9))
                p.setPen(_qc("text"))
                p.drawText(
                    QPointF(sr.left() + 8, sr.top() + 18),
                    "screen size not known yet: assuming 16:9",
                )
            if self.note:
                p.setFont(QFont("DejaVu Sans", 10))
                p.setPen(_qc("note"))
                p.drawText(
                    QRectF(12, self.height() - 30, self.width() - 24, 22),
                    Qt.AlignmentFlag.AlignLeft,
                    self.note,
                )
        finally:
            p.end()


def _meter_label(text: str = "–") -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("meterValue")
    return lab


class ConsoleWindow(QMainWindow):
    """The operator console of a running session."""

    _wantImage = pyqtSignal(str)

    def __init__(
        self, source: str | None = None, *, client: LslClient | None = None, refresh_ms: int = 33
    ) -> None:
        super().__init__()
        self.setWindowTitle("gazeread console" + (f" — {source}" if source else ""))
        self.resize(1500, 860)
        self.state = client.state if client else LiveState()
        self.client = client or LslClient(self.state, source=source)
        self.canvas = LiveCanvas()

        side = QWidget()
        side.setFixedWidth(340)
        sl = QVBoxLayout(side)
        self.stream_labels: dict[str, QLabel] = {}
        box = QGroupBox("Streams")
        g = QGridLayout(box)
        for i, kind in enumerate(("Gaze", "Fixations", "Markers")):
            g.addWidget(QLabel(kind), i, 0)
            lab = QLabel("searching…")
            self.stream_labels[kind] = lab
            g.addWidget(lab, i, 1)
        sl.addWidget(box)

        box = QGroupBox("Data quality (last 2 s)")
        g = QGridLayout(box)
        self.rate = _meter_label()
        self.since = _meter_label()
        self.lost = _meter_label()
        self.valid_bars: dict[str, QProgressBar] = {}
        g.addWidget(QLabel("Effective rate"), 0, 0)
        g.addWidget(self.rate, 0, 1)
        for row, eye in ((1, "left"), (2, "right")):
            g.addWidget(QLabel(f"Valid, {eye} eye"), row, 0)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setFormat("%v %")
            self.valid_bars[eye] = bar
            g.addWidget(bar, row, 1)
        g.addWidget(QLabel("Samples lost"), 3, 0)
        g.addWidget(self.lost, 3, 1)
        g.addWidget(QLabel("Last sample"), 4, 0)
        g.addWidget(self.since, 4, 1)
        sl.addWidget(box)

        box = QGroupBox("Trial")
        g = QGridLayout(box)
        self.trial_label = _meter_label()
        self.trial_bar = QProgressBar()
        self.trial_detail = QLabel("")
        self.trial_detail.setWordWrap(True)
        self.session_label = QLabel("")
        g.addWidget(self.trial_label, 0, 0)
        g.addWidget(self.trial_bar, 1, 0)
        g.addWidget(self.trial_detail, 2, 0)
        g.addWidget(self.session_label, 3, 0)
        sl.addWidget(box)

        box = QGroupBox("Calibration")
        g = QGridLayout(box)
        self.calib_label = _meter_label("none yet")
        self.drift_label = QLabel("")
        g.addWidget(self.calib_label, 0, 0)
        g.addWidget(self.drift_label, 1, 0)
        sl.addWidget(box)
        self.marker_label = QLabel("")
        self.marker_label.setWordWrap(True)
        sl.addWidget(self.marker_label)
        sl.addStretch(1)

        central = QWidget()
        hl = QHBoxLayout(central)
        hl.addWidget(self.canvas, 1)
        hl.addWidget(side)
        self.setCentralWidget(central)

        self._img_thread = QThread(self)
        self._img_thread.setObjectName("console-image-loader")
        self._loader = ImageLoader()
        self._loader.moveToThread(self._img_thread)
        self._wantImage.connect(self._loader.load)
        self._loader.loaded.connect(self._on_image)
        self._img_thread.start()
        self._asked: str | None = None

        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self.client.start()
        self._timer.start()

    def _on_image(self, path: str, img: Any, error: str) -> None:
        self.canvas.image = img
        self.canvas.image_path = path
        self.canvas.note = error
        self.canvas.update()

    def refresh(self) -> None:
        """Take a snapshot and update every widget."""
        import pylsl

        s = self.state.snapshot(pylsl.local_clock())
        self.canvas.snap = s
        if s.image_path and s.image_path != self._asked:
            self._asked = s.image_path
            self._wantImage.emit(s.image_path)
        self._refresh_note(s)
        self.canvas.update()
        self._refresh_streams(s)
        self._refresh_signal(s)
        self._refresh_trial(s)
        self._refresh_checks(s)
        self.marker_label.setText(f"Last marker: {s.last_marker}" if s.last_marker else "")

    def _refresh_note(self, s: Any) -> None:
        """The line over the canvas: what is missing, in the order it is needed."""
        if self.client.error is not None:
            self.canvas.note = f"LSL client stopped: {self.client.error!r} (restart the console)"
        elif not s.connected.get("Gaze"):
            self.canvas.note = (
                "waiting for a session's Gaze stream (start gazeread run/demo with LSL on)"
            )
        elif s.layout is None and s.connected.get("Markers"):
            self.canvas.note = "no image yet: the image appears at the next image onset"
        elif self.canvas.note.startswith(("waiting", "no image")):
            self.canvas.note = ""

    def _refresh_streams(self, s: Any) -> None:
        for kind, lab in self.stream_labels.items():
            name = s.connected.get(kind)
            lab.setText(
                f"<span style='color:{_OK}'>●</span> {name}"
                if name
                else f"<span style='color:{_BAD}'>●</span> not found"
            )

    def _refresh_signal(self, s: Any) -> None:
        """Rate, validity per eye, samples lost, time since the last sample."""
        if math.isfinite(s.rate_hz):
            nominal = s.nominal_rate_hz
            frac = s.rate_hz / nominal if math.isfinite(nominal) and nominal > 0 else 1.0
            c = _OK if frac > 0.95 else _WARN if frac > 0.8 else _BAD
            of = f" / {nominal:g}" if math.isfinite(nominal) else ""
            self.rate.setText(f"<span style='color:{c}'>{s.rate_hz:.0f}{of} Hz</span>")
        else:
            self.rate.setText("–")
        for eye, val in (("left", s.valid_left_percent), ("right", s.valid_right_percent)):
            bar = self.valid_bars[eye]
            bar.setValue(0 if not math.isfinite(val) else round(val))
            c = _OK if val >= 90 else _WARN if val >= 75 else _BAD
            bar.setStyleSheet(f"QProgressBar::chunk {{ background: {c}; }}")
        self.lost.setText(
            f"<span style='color:{_OK if s.samples_lost == 0 else _BAD}'>{s.samples_lost}</span>"
        )
        since = s.since_last_sample_s
        if math.isfinite(since):
            c = _OK if since < 0.1 else _WARN if since < 1.0 else _BAD
            self.since.setText(f"<span style='color:{c}'>{since * 1000:.0f} ms ago</span>")
        else:
            self.since.setText(f"<span style='color:{_BAD}'>no data</span>")

    def _refresh_trial(self, s: Any) -> None:
        if s.trial is not None:
            total = f" of {s.n_trials}" if s.n_trials else ""
            self.trial_label.setText(f"Trial {s.trial + 1}{total}")
            shown = (
                f"shown {s.now - s.t_image_onset:.1f} s"
                if (s.image_visible and s.t_image_onset)
                else "response / between trials"
            )
            self.trial_detail.setText(f"{s.condition} · {s.image_id}<br>{shown}")
        else:
            self.trial_label.setText("–")
        if s.n_trials:
            self.trial_bar.setRange(0, s.n_trials)
            self.trial_bar.setValue(min(s.trials_done, s.n_trials))
            self.trial_bar.setFormat(f"{s.trials_done} / {s.n_trials} done")
        self.session_label.setText(f"Session: {s.session_status}")

    def _refresh_checks(self, s: Any) -> None:
        """The last calibration and drift check."""
        cal = s.calibration
        if cal is None:
            self.calib_label.setText("none yet")
        elif cal.get("state") == "calibrating":
            self.calib_label.setText(f"<span style='color:{_WARN}'>calibrating…</span>")
        else:
            acc = cal.get("accuracy_deg")
            passed = cal.get("passed")
            c = _OK if passed else _BAD
            acc_t = f"{acc:.2f}°" if isinstance(acc, (int, float)) else "accuracy n/a"
            self.calib_label.setText(
                f"<span style='color:{c}'>{acc_t} {'passed' if passed else 'NOT passed'}</span>"
            )
        d = s.drift
        if d:
            off = d.get("offset_deg")
            off_t = f"{off:.2f}°" if isinstance(off, (int, float)) else "n/a"
            self.drift_label.setText(
                f"Last drift check: {off_t}, {'passed' if d.get('passed') else 'failed'}"
            )

    def closeEvent(self, event: Any) -> None:
        """Stop the refresh, the LSL threads and the image loader."""
        self._timer.stop()
        self.client.stop(3.0)
        self._img_thread.quit()
        self._img_thread.wait(3000)
        super().closeEvent(event)
