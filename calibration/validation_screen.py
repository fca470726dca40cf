"""The validation results screen (PsychoPy).

Top: a map of the screen with each validation target (numbered), the gaze samples collected
around it (left eye blue, right eye orange), the mean gaze per eye, a 1-degree ring for scale,
and the calibration points (lettered, dim). Bottom: the table of accuracy, precision and data
loss per point and eye, the averages, the verdict (PASS/FAIL with the EyeLink-style grade) and
the keys:

- ``1``-``9`` (or a click on a target) select validation points; ``Shift``+``1``-``9`` (or a
  click on a calibration point) select calibration points;
- ``R`` redo the selected points; ``C`` recalibrate; ``P`` go back to the previous
  calibration; ``Enter`` accept; ``Escape`` leave without accepting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from psychopy import event, visual

from acquisition.geometry import ScreenGeometry, px_per_degree
from calibration.procedure import Action, ResultsView

__all__ = ["ResultsScreen"]

BG = (-0.78, -0.76, -0.72)
PANEL = (-0.62, -0.6, -0.56)
TEXT = (0.9, 0.9, 0.9)
DIM = (0.2, 0.2, 0.22)
LEFT = (-0.4, 0.55, 0.95)
RIGHT = (1.0, 0.45, -0.3)
GOOD = (-0.3, 0.75, -0.2)
FAIR = (1.0, 0.7, -0.6)
POOR = (0.95, -0.35, -0.35)
SELECT = (1.0, 0.95, -0.2)
FONT = "DejaVu Sans"
MIN_TEXT_PX = 11.0  # legible on small windows
MONO = "DejaVu Sans Mono"


def _fmt(v: Any, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "  -  "
    return f"{float(v):.{nd}f}"


def _colour(acc: float | None, avg_limit: float, worst_limit: float) -> tuple[float, float, float]:
    if acc is None or not math.isfinite(acc):
        return POOR
    if acc < avg_limit:
        return GOOD
    if acc < worst_limit:
        return FAIR
    return POOR


class ResultsScreen:
    """Draws a :class:`~calibration.procedure.ResultsView` and returns the operator's Action."""

    def __init__(self, win: visual.Window, geometry: ScreenGeometry, view: ResultsView) -> None:
        self.win = win
        self.geometry = geometry
        self.view = view
        w, h = (float(v) for v in win.size)
        self.w, self.h = w, h
        # The map keeps the screen's aspect ratio, 60 % of the window, at the top.
        self.scale = 0.6
        self.map_w, self.map_h = w * self.scale, h * self.scale
        self.map_cy = h / 2 - 0.035 * h - self.map_h / 2
        self.sel_val: set[int] = set()
        self.sel_cal: set[int] = set()
        self.ppd = px_per_degree(geometry)[0] * (w / geometry.width_px) * self.scale
        gate = view.gate
        self.avg_limit = float(gate.get("max_average_deg", 1.0))
        self.worst_limit = float(gate.get("max_worst_deg", 1.5))
        loss = gate.get("max_point_data_loss_pct")
        self.loss_limit = float(loss) if loss is not None else math.inf
        self._static: list[Any] = []
        self._dynamic: list[Any] = []
        self._build()

    # ------------------------------------------------------------------ geometry
    def map_pos(self, x: float, y: float) -> tuple[float, float]:
        """Normalised screen point -> pixel position on the map."""
        return (x - 0.5) * self.map_w, self.map_cy + (0.5 - y) * self.map_h

    # ------------------------------------------------------------------ building
    def _text(
        self,
        text: str,
        pos: tuple[float, float],
        height: float,
        color: Any = TEXT,
        *,
        bold: bool = False,
        align: str = "center",
        font: str = FONT,
        wrap: float | None = None,
    ) -> visual.TextStim:
        return visual.TextStim(
            self.win, text=text, pos=pos, height=height, color=color, bold=bold, font=font,
            anchorHoriz=align, alignText=align, anchorVert="center", units="pix",
            wrapWidth=wrap or self.w,
        )  # fmt: skip

    def _build(self) -> None:
        self._build_frame()
        self._build_calibration_points()
        self._build_samples()
        for k, t in enumerate(self.view.validation_targets):
            self._build_validation_point(k, float(t[0]), float(t[1]))
        self._build_table()

    def _build_frame(self) -> None:
        """Background, map panel, title and legend."""
        win, v, s = self.win, self.view, self._static
        s.append(
            visual.Rect(win, width=self.w, height=self.h, fillColor=BG, lineColor=None, units="pix")
        )
        s.append(
            visual.Rect(
                win, width=self.map_w, height=self.map_h, pos=(0, self.map_cy),
                fillColor=PANEL, lineColor=DIM, lineWidth=1.5, units="pix",
            )
        )  # fmt: skip
        if v.validation_id is not None and v.calibration_id is not None:
            # the numbers the CLI table prints: one id sequence for both kinds of record
            title = f"Validation #{v.validation_id} of calibration #{v.calibration_id}"
        elif v.calibration_id is not None:
            title = f"Calibration #{v.calibration_id} (not validated)"
        else:
            title = "Calibration"
        s.append(
            self._text(
                title,
                (self.map_w / 2, self.h / 2 - 0.018 * self.h),
                0.022 * self.h,
                bold=True,
                align="right",
            )
        )
        # legend, above the map's right edge
        ly = self.map_cy + self.map_h / 2 + 0.018 * self.h
        lx, lh = -self.map_w / 2, self._th * 0.85
        for text, col in (
            ("● left eye", LEFT),
            ("● right eye", RIGHT),
            ("+ mean gaze    ring: 1°", (0.6, 0.6, 0.62)),
        ):
            s.append(self._text(text, (lx, ly), lh, col, align="left"))
            lx += (len(text) * 0.6 + 2.0) * lh  # ~0.6 em per glyph, then a gap

    @property
    def _th(self) -> float:
        """Body text height (px)."""
        return max(0.017 * self.h, MIN_TEXT_PX)

    def _build_calibration_points(self) -> None:
        """Calibration points: dim dots with letters above right."""
        for i, t in enumerate(self.view.calibration_targets):
            x, y = self.map_pos(float(t[0]), float(t[1]))
            self._static.append(
                visual.Circle(
                    self.win, radius=4, pos=(x, y), fillColor=DIM, lineColor=None, units="pix"
                )
            )
            self._static.append(
                self._text(chr(ord("A") + i), (x + 11, y + 11), self._th * 0.9, DIM)
            )

    def _build_samples(self) -> None:
        """Gaze samples per eye, all points, as one element array each."""
        for eye, col in (("left", LEFT), ("right", RIGHT)):
            xy = [
                self.map_pos(gx, gy)
                for p in self.view.validation
                for gx, gy in p.eyes[eye].gaze
                if eye in p.eyes
            ]
            if xy:
                self._static.append(
                    visual.ElementArrayStim(
                        self.win, units="pix", nElements=len(xy), xys=np.array(xy), sizes=4,
                        elementTex=None, elementMask="circle", colors=col, opacities=0.55,
                    )
                )  # fmt: skip

    def _build_validation_point(self, k: int, tx: float, ty: float) -> None:
        """Validation target ``k``: 1-degree ring, number, mean gaze per eye and its label."""
        win, s, th = self.win, self._static, self._th
        x, y = self.map_pos(tx, ty)
        s.append(
            visual.Circle(
                win,
                radius=self.ppd,
                pos=(x, y),
                fillColor=None,
                lineColor=DIM,
                lineWidth=1,
                units="pix",
                edges=64,
            )
        )
        s.append(
            visual.Circle(
                win,
                radius=6,
                pos=(x, y),
                fillColor=None,
                lineColor=TEXT,
                lineWidth=2,
                units="pix",
            )
        )
        s.append(
            visual.Circle(win, radius=1.8, pos=(x, y), fillColor=TEXT, lineColor=None, units="pix")
        )
        # the number left of the ring: calibration letters sit above right of their dots
        s.append(
            self._text(
                str(k + 1), (x - self.ppd - 0.006 * self.h, y), th * 1.2, TEXT, bold=True,
                align="right",
            )
        )  # fmt: skip
        pv = next((p for p in self.view.validation if p.index == k), None)
        if pv is None:
            s.append(self._text("not measured", (x, y - 0.03 * self.h), th, POOR))
            return
        for eye, col in (("left", LEFT), ("right", RIGHT)):
            q = pv.eyes.get(eye)
            if q is not None and math.isfinite(q.mean_x):
                mx, my = self.map_pos(q.mean_x, q.mean_y)
                s.append(
                    visual.ShapeStim(
                        win,
                        vertices="cross",
                        size=9,
                        pos=(mx, my),
                        fillColor=col,
                        lineColor=col,
                        units="pix",
                    )
                )
        parts = []
        for eye, tag in (("left", "L"), ("right", "R")):
            q = pv.eyes.get(eye)
            if q is not None and q.n_valid:
                parts.append(f"{tag} {q.accuracy_deg:.2f}°")
        label = "   ".join(parts) if parts else "no data"
        accs = [pv.eyes[e].accuracy_deg for e in pv.eyes if pv.eyes[e].n_valid]
        col = _colour(max(accs) if accs else None, self.avg_limit, self.worst_limit)
        lost = max((q.data_loss_pct for q in pv.eyes.values() if q.n_valid), default=0.0)
        if lost > self.loss_limit:  # a point that lost too much gaze fails the gate
            label += f"\nloss {lost:.0f} %"
            col = POOR
        s.append(self._text(label, (x, y - self.ppd - 0.022 * self.h), th, col, bold=True))

    def _build_table(self) -> None:
        v, s = self.view, self._static
        top = self.map_cy - self.map_h / 2 - 0.03 * self.h
        th = 0.0165 * self.h
        header = f"{'point':>5}  {'acc L':>6} {'acc R':>6}  {'RMS L':>6} {'RMS R':>6}  {'SD L':>6} {'SD R':>6}  {'loss L':>6} {'loss R':>6}"
        rows = [header]
        for p in v.validation:
            L, R = p.eyes.get("left"), p.eyes.get("right")

            def g(q: Any, f: str) -> Any:
                return None if q is None else getattr(q, f)

            rows.append(
                f"{p.index + 1:>5}  {_fmt(g(L, 'accuracy_deg')):>6} {_fmt(g(R, 'accuracy_deg')):>6}  "
                f"{_fmt(g(L, 'rms_s2s_deg')):>6} {_fmt(g(R, 'rms_s2s_deg')):>6}  "
                f"{_fmt(g(L, 'sd_deg')):>6} {_fmt(g(R, 'sd_deg')):>6}  "
                f"{_fmt(g(L, 'data_loss_pct'), 0):>5}% {_fmt(g(R, 'data_loss_pct'), 0):>5}%"
            )
        pe = (v.summary or {}).get("per_eye", {})
        if pe:
            L, R = pe.get("left", {}), pe.get("right", {})
            rows.append(
                f"{'mean':>5}  {_fmt(L.get('accuracy_deg')):>6} {_fmt(R.get('accuracy_deg')):>6}  "
                f"{_fmt(L.get('rms_s2s_deg')):>6} {_fmt(R.get('rms_s2s_deg')):>6}  "
                f"{_fmt(L.get('sd_deg')):>6} {_fmt(R.get('sd_deg')):>6}  "
                f"{_fmt(L.get('data_loss_pct'), 0):>5}% {_fmt(R.get('data_loss_pct'), 0):>5}%"
            )
        table_x = -0.47 * self.w
        # monospace glyphs are ~0.6 em wide: the table must fit the left half
        th = max(min(th, 0.47 * self.w / (0.62 * len(header))), 7.0)
        lh = th * 1.2
        s.append(
            self._text(
                "\n".join(rows),
                (table_x, top - lh * len(rows) / 2),
                th,
                TEXT,
                align="left",
                font=MONO,
            )
        )
        s.append(
            self._text(
                "degrees; precision as RMS sample-to-sample and SD",
                (table_x, top - lh * (len(rows) + 0.8)),
                th * 0.8,
                DIM,
                align="left",
            )
        )
        # verdict block on the right
        vx = 0.26 * self.w
        th = max(0.0165 * self.h, MIN_TEXT_PX)
        summ = v.summary or {}
        col = GOOD if v.passed else (FAIR if v.grade == "FAIR" else POOR)
        s.append(
            self._text(
                v.verdict, (vx, top - 0.02 * self.h), max(0.042 * self.h, 16.0), col, bold=True
            )
        )
        if summ:
            rec = "  (recommended < 0.5° reached)" if summ.get("recommended") else ""
            s.append(self._text(
                f"average {_fmt(summ.get('accuracy_deg'))}°   worst {_fmt(summ.get('worst_deg'))}°{rec}\n"
                f"gate: average < {self.avg_limit:g}°, worst < {self.worst_limit:g}°"
                + (f", loss < {self.loss_limit:g} %/point" if math.isfinite(self.loss_limit) else ""),
                (vx, top - 0.075 * self.h), th, TEXT, wrap=0.46 * self.w,
            ))  # fmt: skip
        msgs = v.messages[-3:]
        if msgs:
            s.append(
                self._text(
                    "\n".join(msgs), (vx, top - 0.15 * self.h), th * 0.9, FAIR, wrap=0.46 * self.w
                )
            )
        hist = "   ".join(
            f"#{cid} {_fmt(acc)}°{' ✓' if ok else ''}{' (shown)' if cid == v.calibration_id else ''}"
            for cid, acc, ok in v.history[-5:]
        )
        if hist:
            s.append(self._text("history: " + hist, (vx, top - 0.2 * self.h), th * 0.85, DIM))
        keys = (
            "1-9 / click: select validation points     Shift+1-9 / click letter: select calibration points     "
            "R: redo selected     C: recalibrate     P: previous calibration     Enter: accept     Esc: leave"
        )
        kh = max(min(th * 0.85, 0.96 * self.w / (0.55 * len(keys))), 7.0)
        s.append(self._text(keys, (0, -self.h / 2 + 0.02 * self.h), kh, TEXT))

    def _build_selection(self) -> None:
        d: list[Any] = []
        for k in sorted(self.sel_val):
            x, y = self.map_pos(*(float(c) for c in self.view.validation_targets[k]))
            d.append(
                visual.Circle(
                    self.win,
                    radius=16,
                    pos=(x, y),
                    fillColor=None,
                    lineColor=SELECT,
                    lineWidth=3,
                    units="pix",
                )
            )
        for i in sorted(self.sel_cal):
            x, y = self.map_pos(*(float(c) for c in self.view.calibration_targets[i]))
            d.append(
                visual.Circle(
                    self.win,
                    radius=10,
                    pos=(x, y),
                    fillColor=None,
                    lineColor=SELECT,
                    lineWidth=3,
                    units="pix",
                )
            )
        if self.sel_val or self.sel_cal:
            names = [str(k + 1) for k in sorted(self.sel_val)] + [
                chr(ord("A") + i) for i in sorted(self.sel_cal)
            ]
            d.append(
                self._text(
                    "selected: " + ", ".join(names) + "  (R to redo)",
                    (0, self.map_cy - self.map_h / 2 + 0.02 * self.h),
                    0.018 * self.h,
                    SELECT,
                )
            )
        self._dynamic = d

    # ------------------------------------------------------------------ interaction
    def draw(self) -> None:
        """Draw everything (no flip)."""
        for st in self._static:
            st.draw()
        for st in self._dynamic:
            st.draw()

    def toggle(self, kind: str, index: int) -> None:
        """Select or unselect a validation (``'val'``) or calibration (``'cal'``) point."""
        sel, n = (
            (self.sel_val, len(self.view.validation_targets))
            if kind == "val"
            else (self.sel_cal, len(self.view.calibration_targets))
        )
        if 0 <= index < n:
            sel.symmetric_difference_update({index})
            self._build_selection()

    def handle_key(self, key: str, mods: dict[str, bool] | None = None) -> Action | None:
        """Apply one key press; return an Action when it ends the screen."""
        mods = mods or {}
        if key.isdigit() and key != "0":
            self.toggle("cal" if mods.get("shift") else "val", int(key) - 1)
        elif key == "r":
            if self.sel_val or self.sel_cal:
                return Action("redo", tuple(sorted(self.sel_cal)), tuple(sorted(self.sel_val)))
        elif key == "c":
            return Action("recalibrate")
        elif key == "p":
            ids = [cid for cid, _, _ in self.view.history]
            cur = self.view.calibration_id
            if cur in ids and ids.index(cur) > 0:
                return Action("select", record_id=ids[ids.index(cur) - 1])
            if cur not in ids and ids:
                return Action("select", record_id=ids[-1])
        elif key in ("return", "num_enter", "space"):
            return Action("accept")
        elif key == "escape":
            return Action("abort")
        return None

    def handle_click(self, pos: tuple[float, float]) -> None:
        """Toggle the point nearest a click (within 25 px)."""
        best: tuple[float, str, int] | None = None
        for kind, pts in (
            ("val", self.view.validation_targets),
            ("cal", self.view.calibration_targets),
        ):
            for i, t in enumerate(pts):
                x, y = self.map_pos(float(t[0]), float(t[1]))
                d = math.hypot(pos[0] - x, pos[1] - y)
                if d < 25 and (best is None or d < best[0]):
                    best = (d, kind, i)
        if best is not None:
            self.toggle(best[1], best[2])

    def run(
        self,
        *,
        auto: bool = False,
        auto_s: float = 1.5,
        snap: Callable[[str], None] | None = None,
        timeout_s: float = 3600.0,
        on_flip: Callable[[], None] | None = None,
    ) -> Action:
        """Show the screen until a choice (auto: for ``auto_s``, then the view's auto action).

        ``on_flip`` is called after every flip (the session's health check: it may raise
        :class:`~calibration.procedure.StopSession` while the operator looks at the results).
        """
        event.clearEvents()
        mouse = event.Mouse(win=self.win, visible=True)
        was_down = False
        t0 = time.monotonic()
        first = True
        while True:
            self.draw()
            if first and snap is not None:
                snap("results")
            first = False
            self.win.flip()
            if on_flip is not None:
                on_flip()
            if auto and time.monotonic() - t0 >= auto_s:
                return self.view.auto_action or Action("accept")
            if time.monotonic() - t0 > timeout_s:
                return Action("abort")
            for key, mods in event.getKeys(modifiers=True):
                act = self.handle_key(key, mods)
                if act is not None:
                    return act
            down = bool(mouse.getPressed()[0])
            if down and not was_down:
                self.handle_click(tuple(mouse.getPos()))
            was_down = down
