"""``gazeread replay`` window: trial list, picture with overlays, timeline and transport.

The store is read by two worker threads (one loads the selected trial, one computes the
per-trial data quality of the list) that answer through signals; widgets are only touched on
the GUI thread. Keys: Space play/pause, Left/Right one sample (Shift: 100 ms), ``[``/``]``
speed, H heatmap, F fixations, 0 reset the view, Home/End.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, Qt, QThread, QTimer, pyqtSignal, pyqtSlot
from PyQt6.QtGui import QColor, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sessions.replay.canvas_widget import ReplayCanvas, render_frame
from sessions.replay.data import (
    TrialData,
    TrialSummary,
    load_trial,
    open_for_reading,
    release,
    trial_quality,
    trial_summaries,
)
from sessions.replay.timeline import SPEEDS, Playhead, format_time
from sessions.replay.timeline_widget import TimelineWidget
from sessions.store import SessionReader

__all__ = ["ReplayWindow", "TrialLoader"]

COLUMNS = (
    "#",
    "Reader",
    "Condition",
    "Image",
    "Truth",
    "Answer",
    "Conf.",
    "RT (s)",
    "Quality",
)


class TrialLoader(QObject):
    """Reads the store in its own thread (its own connection); answers with signals."""

    summariesReady = pyqtSignal(object)
    trialReady = pyqtSignal(object)
    qualityReady = pyqtSignal(int, object)
    failed = pyqtSignal(str)

    def __init__(self, session: Path) -> None:
        super().__init__()
        self.session = session
        self._store: SessionReader | None = None
        self._summaries: dict[int, TrialSummary] = {}
        self._stop = False

    def _db(self) -> SessionReader:
        if self._store is None:
            self._store = open_for_reading(self.session)
        return self._store

    @pyqtSlot()
    def summaries(self) -> None:
        """Emit the trial list."""
        try:
            rows = trial_summaries(self._db())
            self._summaries = {s.trial_id: s for s in rows}
            self.summariesReady.emit(rows)
        except Exception as exc:
            self.failed.emit(f"cannot read the session {self.session}: {exc}")

    @pyqtSlot(int)
    def trial(self, trial_id: int) -> None:
        """Emit one trial's data."""
        try:
            store = self._db()
            self.trialReady.emit(load_trial(store, trial_id, summary=self._summaries.get(trial_id)))
        except Exception as exc:
            self.failed.emit(f"trial {trial_id + 1}: {exc}")

    @pyqtSlot()
    def quality(self) -> None:
        """Emit every trial's data quality, one by one."""
        try:
            store = self._db()
            for tr in store.trials():
                if self._stop:
                    return
                self.qualityReady.emit(int(tr["id"]), trial_quality(store, tr))
        except Exception as exc:
            self.failed.emit(f"data quality: {exc}")

    def close(self) -> None:
        """Stop long loops and close the connection (call in the worker's thread or after it)."""
        self._stop = True
        if self._store is not None:
            release(self._store)
            self._store = None


class ReplayWindow(QMainWindow):
    """The replay of one session.

    Signals
    -------
    trialShown(int) : a trial's data arrived and is on screen (used by tests and the benchmark).
    """

    trialShown = pyqtSignal(int)
    _wantSummaries = pyqtSignal()
    _wantTrial = pyqtSignal(int)
    _wantQuality = pyqtSignal()

    def __init__(self, session: str | Path, first_trial: int | None = None) -> None:
        super().__init__()
        self.session = Path(session)
        self.setWindowTitle(f"gazeread replay — {self.session}")
        self.resize(1700, 950)
        self.data: TrialData | None = None
        self.playhead: Playhead | None = None
        self._first_trial = first_trial
        self._wanted: int | None = None
        self._rows: dict[int, int] = {}
        self._summaries: list[TrialSummary] = []

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        hh = self.table.horizontalHeader()
        assert hh is not None
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        # long answers (several findings) are elided; the full text is in the tooltip
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(5, 150)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.itemSelectionChanged.connect(self._on_select)
        self.table.setMinimumWidth(660)

        self.canvas = ReplayCanvas()
        self.timeline = TimelineWidget()
        self.timeline.scrubbed.connect(self.seek)

        self.play_btn = QPushButton("▶ Play")
        self.play_btn.setToolTip("Play / pause (Space)")
        self.play_btn.clicked.connect(self.toggle_play)
        back = QPushButton("◀|")
        back.setToolTip("Back one sample (Left; Shift+Left: 100 ms)")
        back.clicked.connect(lambda: self.step(-1))
        fwd = QPushButton("|▶")
        fwd.setToolTip("Forward one sample (Right; Shift+Right: 100 ms)")
        fwd.clicked.connect(lambda: self.step(1))
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed.currentIndexChanged.connect(self._on_speed)
        self.time_label = QLabel("–")
        self.time_label.setToolTip(
            "the playhead: seconds from image onset (the clock of --at), and from the trial's "
            "start (drift check or fixation cross) out of the trial's length"
        )
        widest = "from image onset -0:00.000  ·  trial time 0:00.000 of 0:00.000"
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance(widest) + 8)
        for b in (back, fwd):
            b.setMaximumWidth(b.fontMetrics().horizontalAdvance(b.text()) + 28)

        self.checks: dict[str, QCheckBox] = {}
        for key, label, tip in (
            ("show_left", "Left eye", "raw gaze of the left eye"),
            ("show_right", "Right eye", "raw gaze of the right eye"),
            ("show_fixations", "Fixations", "fixations numbered in order (F)"),
            ("show_scanpath", "Scanpath", "lines joining the fixations in order"),
            ("show_heatmap", "Heatmap", "duration-weighted fixation density, 1 deg SD (H)"),
        ):
            cb = QCheckBox(label)
            cb.setToolTip(tip)
            cb.setChecked(bool(getattr(self.canvas.opts, key)))
            cb.toggled.connect(lambda on, k=key: self._set_opt(k, on))
            self.checks[key] = cb
        self.trail = QDoubleSpinBox()
        self.trail.setRange(0.0, 10.0)
        self.trail.setSingleStep(0.25)
        self.trail.setSuffix(" s trail")
        self.trail.setValue(self.canvas.opts.trail_s)
        self.trail.valueChanged.connect(lambda v: self._set_opt("trail_s", float(v)))
        self.last_fix = QSpinBox()
        self.last_fix.setRange(0, 999)
        self.last_fix.setSpecialValueText("all fixations")
        self.last_fix.setPrefix("last ")
        self.last_fix.setToolTip("Draw only the last N fixations (0 = all)")
        self.last_fix.valueChanged.connect(lambda v: self._set_opt("last_fixations", int(v)))
        reset = QPushButton("Fit view")
        reset.setToolTip("Show the whole screen (0, or double-click the picture)")
        reset.clicked.connect(self.canvas.reset_view)
        save = QPushButton("Save frame…")
        save.clicked.connect(self._save_frame)

        controls = QHBoxLayout()
        for widget in (self.play_btn, back, fwd, self.speed, self.time_label):
            controls.addWidget(widget)
        controls.addStretch(1)
        for extra in (reset, save):
            controls.addWidget(extra)
        layers = QHBoxLayout()
        for cb in self.checks.values():
            layers.addWidget(cb)
        layers.addStretch(1)
        layers.addWidget(self.trail)
        layers.addWidget(self.last_fix)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.canvas, 1)
        rl.addWidget(self.timeline)
        rl.addLayout(controls)
        rl.addLayout(layers)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 1000])
        self.setCentralWidget(split)
        sb = self.statusBar()
        assert sb is not None
        self.status = sb
        self.status.showMessage(f"opening {self.session} …")

        self._timer = QTimer(self)
        self._timer.setInterval(15)
        self._timer.timeout.connect(self._tick)
        self._last_tick = time.monotonic()

        self._threads: list[QThread] = []
        self.loader = self._worker(self._wantTrial, "trial")
        self._wantSummaries.connect(self.loader.summaries)
        self.loader.summariesReady.connect(self._on_summaries)
        self.loader.trialReady.connect(self._on_trial)
        self.loader.failed.connect(self._on_failed)
        self.quality_loader = self._worker(self._wantQuality, "quality")
        self.quality_loader.qualityReady.connect(self._on_quality)
        self.quality_loader.failed.connect(self._on_failed)
        self._install_shortcuts()
        self._wantSummaries.emit()

    # ------------------------------------------------------------------ workers
    def _worker(self, request: Any, slot: str) -> TrialLoader:
        th = QThread(self)
        th.setObjectName(f"replay-{slot}-loader")
        w = TrialLoader(self.session)
        w.moveToThread(th)
        request.connect(getattr(w, slot))
        th.finished.connect(w.close)
        th.start()
        self._threads.append(th)
        return w

    def closeEvent(self, event: Any) -> None:
        """Stop playback and the workers (each within 5 s)."""
        self._timer.stop()
        self.quality_loader._stop = True
        for th in self._threads:
            th.quit()
            th.wait(5000)
        self.loader.close()
        self.quality_loader.close()
        super().closeEvent(event)

    # ------------------------------------------------------------------ list
    def _on_summaries(self, rows: list[TrialSummary]) -> None:
        self._summaries = rows
        self.table.setRowCount(len(rows))
        for r, s in enumerate(rows):
            self._rows[s.trial_id] = r
            conf = "" if s.confidence is None else f"{s.confidence:g}"
            rt = "" if s.rt_s is None else f"{s.rt_s:.2f}"
            for c, text in enumerate(
                (
                    str(s.number),
                    s.reader,
                    s.condition,
                    s.image_id,
                    s.truth,
                    s.answer,
                    conf,
                    rt,
                    s.quality_text(),
                )
            ):
                item = QTableWidgetItem(text)
                if c == 5 and text:
                    item.setToolTip(text)
                if c in (0, 6, 7):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if s.t_onset is None:
                    item.setForeground(Qt.GlobalColor.gray)
                    item.setToolTip(f"trial {s.number} was not shown ({s.status})")
                self.table.setItem(r, c, item)
        shown = [s.trial_id for s in rows if s.t_onset is not None]
        if not shown:
            self.status.showMessage("this session has no trial that was shown: nothing to replay")
            return
        first = self._first_trial if self._first_trial in shown else shown[0]
        self.select_trial(first)

    def _on_quality(self, trial_id: int, q: dict[str, Any]) -> None:
        r = self._rows.get(trial_id)
        if r is None:
            return
        s = self._summaries[r]
        s.quality = q
        item = self.table.item(r, len(COLUMNS) - 1)
        if item is not None:
            item.setText(s.quality_text())
            bad = bool(q.get("samples")) and (q["valid_percent"] < 85.0 or q.get("dropped", 0) > 0)
            if bad:
                item.setForeground(QColor(255, 96, 96))
            if q.get("samples"):
                item.setToolTip(
                    f"{q['samples']} samples; left valid {q['left_percent']:.1f} %, right valid "
                    f"{q['right_percent']:.1f} %; {q.get('dropped', 0)} samples dropped"
                )

    def select_trial(self, trial_id: int) -> None:
        """Select a trial in the list (loads it)."""
        r = self._rows.get(trial_id)
        if r is not None:
            self.table.selectRow(r)

    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()  # type: ignore[union-attr]
        if not rows:
            return
        s = self._summaries[rows[0].row()]
        if s.t_onset is None:
            self.status.showMessage(
                f"trial {s.number} was not shown ({s.status}): nothing to replay"
            )
            return
        self._wanted = s.trial_id
        self.status.showMessage(f"loading trial {s.number} …")
        self._wantTrial.emit(s.trial_id)

    def _on_trial(self, data: TrialData) -> None:
        if data.trial_id != self._wanted:
            return  # the user moved on
        first = self.data is None
        self.data = data
        self.playhead = Playhead(
            data.t0, data.t1, data.rate_hz, speed=float(self.speed.currentData())
        )
        start = data.t_onset if math.isfinite(data.t_onset) else data.t0
        self.playhead.seek(start)
        self.canvas.set_data(data)
        self.timeline.set_data(data)
        self._show_time()
        self._set_playing(False)
        q = f"{data.t.size} samples at {data.rate_hz:g} Hz, {data.fixations.size} fixations"
        note = f"; {data.image_error}" if data.image_error else ""
        self.status.showMessage(f"trial {data.trial_id + 1}: {q}{note}")
        self.trialShown.emit(data.trial_id)
        if first:
            self._wantQuality.emit()

    def _on_failed(self, message: str) -> None:
        self.status.showMessage(message)

    # ------------------------------------------------------------------ transport
    def seek(self, t: float) -> None:
        """Move the playhead to session time ``t``."""
        if self.playhead is None:
            return
        self.playhead.seek(t)
        self._show_time()

    def step(self, n: int) -> None:
        """Step ``n`` samples (negative: back); pauses."""
        if self.playhead is None:
            return
        self.playhead.step(n)
        self._set_playing(False)
        self._show_time()

    def toggle_play(self) -> None:
        """Play or pause."""
        if self.playhead is not None:
            self._set_playing(not self.playhead.playing)

    def _set_playing(self, on: bool) -> None:
        if self.playhead is None:
            return
        if on:
            self.playhead.play()
            self._last_tick = time.monotonic()
            self._timer.start()
        else:
            self.playhead.pause()
            self._timer.stop()
        self.play_btn.setText("❚❚ Pause" if on else "▶ Play")

    def _tick(self) -> None:
        if self.playhead is None:
            return
        now = time.monotonic()
        self.playhead.advance(now - self._last_tick)
        self._last_tick = now
        if not self.playhead.playing:
            self._set_playing(False)
        self._show_time()

    def _show_time(self) -> None:
        ph, d = self.playhead, self.data
        if ph is None or d is None:
            return
        self.canvas.set_time(ph.t)
        self.timeline.set_time(ph.t)
        origin = d.t_onset if math.isfinite(d.t_onset) else d.t0
        self.time_label.setText(
            f"from image onset {format_time(ph.t - origin)}  ·  "
            f"trial time {format_time(ph.t - d.t0)} of {format_time(d.duration)}"
        )

    def _on_speed(self) -> None:
        if self.playhead is not None:
            self.playhead.set_speed(float(self.speed.currentData()))

    def _set_opt(self, key: str, value: Any) -> None:
        setattr(self.canvas.opts, key, value)
        self.canvas.update()

    def _save_frame(self) -> None:
        if self.data is None or self.playhead is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save frame", f"trial{self.data.trial_id + 1:03d}.png", "PNG (*.png)"
        )
        if name:
            img = render_frame(
                self.data,
                self.playhead.t,
                (self.canvas.width(), self.canvas.height()),
                self.canvas.opts,
                self.canvas.view,
            )
            ok = img.save(name)
            self.status.showMessage(f"saved {name}" if ok else f"could not write {name}")

    def _install_shortcuts(self) -> None:
        def frames(sign: int, shift: bool) -> None:
            ph = self.playhead
            if ph is not None:
                self.step(sign * (max(1, round(0.1 * ph.rate_hz)) if shift else 1))

        def speed(delta: int) -> None:
            i = min(max(self.speed.currentIndex() + delta, 0), len(SPEEDS) - 1)
            self.speed.setCurrentIndex(i)

        def home(end: bool) -> None:
            if self.playhead is not None:
                self.seek(self.playhead.t1 if end else self.playhead.t0)

        bindings: list[tuple[str, Any]] = [
            ("Space", self.toggle_play),
            ("Left", lambda: frames(-1, False)),
            ("Right", lambda: frames(1, False)),
            ("Shift+Left", lambda: frames(-1, True)),
            ("Shift+Right", lambda: frames(1, True)),
            ("[", lambda: speed(-1)),
            ("]", lambda: speed(1)),
            ("H", self.checks["show_heatmap"].toggle),
            ("F", self.checks["show_fixations"].toggle),
            ("0", self.canvas.reset_view),
            ("Home", lambda: home(False)),
            ("End", lambda: home(True)),
        ]
        for seq, fn in bindings:
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(fn)
