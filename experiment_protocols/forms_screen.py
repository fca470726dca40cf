"""The response forms on screen: large mouse targets with keyboard shortcuts, dark theme.

Drawing only: the form's logic (what a click does, when it may be submitted) is
:class:`experiment_protocols.forms.FormState`, and the positions come from
:func:`experiment_protocols.forms.layout_form`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from experiment_protocols.forms import FormState, Target, layout_form
from experiment_protocols.model import DiagnosticForm
from experiment_protocols.presenter_screen import Presenter

__all__ = ["FormOutcome", "FormScreen"]


@dataclasses.dataclass
class FormOutcome:
    """How the form ended: submitted (with its time) or interrupted by Escape."""

    submitted: bool
    t: float
    escaped: bool = False


class FormScreen:
    """One response form on a presenter's window."""

    def __init__(self, presenter: Presenter, state: FormState, title: str = "") -> None:
        self.p = presenter
        self.state = state
        w, h = presenter.size
        self.targets: list[Target] = layout_form(state.form, w, h)
        self.title = title or ("Findings" if state.kind == "diagnostic" else "Real or synthetic?")
        self._static = self._build_static()
        self._buttons = {id(t): self._build_button(t) for t in self.targets}

    # ------------------------------------------------------------------ building
    def _build_static(self) -> list[Any]:
        p, h = self.p, self.p.size[1]
        form = self.state.form
        out = [p.text(self.title, h * 0.06, 4.0, "text", bold=True)]
        if isinstance(form, DiagnosticForm):
            sub = "Select every finding you see (click, or press its key), then your confidence."
        else:
            sub = form.question
        out.append(p.text(sub, h * 0.115, 2.5, "dim"))
        conf = [t for t in self.targets if t.group == "confidence"]
        if conf:
            top = conf[0].rect.y0
            keys = [t.key for t in conf if t.key]
            label = "Confidence"
            if len(keys) == len(conf) and not keys[0].isdigit():
                label += f"   [keys {keys[0].upper()}-{keys[-1].upper()}]"
            out.append(p.text(label, top - h * 0.035, 2.6, "text"))
            low_x = conf[0].rect.centre[0]
            high_x = conf[-1].rect.centre[0]
            y = conf[0].rect.y1 + h * 0.03
            for x, label in ((low_x, form.confidence_low), (high_x, form.confidence_high)):
                s = p.text(label, y, 2.1, "dim", wrap_pct=30)
                s.pos = p.px(x, y)
                out.append(s)
        return out

    def _build_button(self, t: Target) -> dict[str, Any]:
        p, h = self.p, self.p.size[1]
        r = t.rect
        label_h = 3.2 if t.group == "choice" else 2.6
        label = t.label
        if t.key and t.group in ("finding", "choice"):
            label = f"{t.label}   [{t.key.upper()}]"
        txt = p.text(
            label,
            r.centre[1],
            label_h,
            "text",
            bold=t.group in ("choice", "submit"),
            wrap_pct=100 * (r.x1 - r.x0) / p.size[0] * 0.94,
        )
        txt.pos = p.px(*r.centre)
        if t.group == "text":
            txt.alignText = "left"
            txt.anchorHoriz = "left"
            txt.pos = p.px(r.x0 + 0.012 * h, r.centre[1])
        return {
            "box": p.rect(r.x0, r.y0, r.x1, r.y1, "button", "button_line", 2.0),
            "box_on": p.rect(r.x0, r.y0, r.x1, r.y1, "accent", "accent", 2.0),
            "text": txt,
        }

    # ------------------------------------------------------------------ drawing
    def _selected(self, t: Target) -> bool:
        s = self.state
        if t.group == "finding":
            return t.value in s.findings
        if t.group == "choice":
            return t.value == s.choice
        if t.group == "confidence":
            return t.value == s.confidence
        if t.group == "submit":
            return s.complete
        if t.group == "text":
            return s.text_focus
        return False

    def stims(self) -> list[Any]:
        """Everything to draw for the current state (in order)."""
        out = list(self._static)
        for t in self.targets:
            b = self._buttons[id(t)]
            on = self._selected(t)
            out.append(b["box_on"] if on and t.group != "text" else b["box"])
            txt = b["text"]
            if t.group == "text":
                shown = self.state.free_text + ("|" if self.state.text_focus else "")
                txt.text = shown if (shown or self.state.text_focus) else t.label
                txt.color = [215, 215, 215] if self.state.free_text else [140, 140, 140]
            elif t.group == "submit":
                txt.color = [255, 255, 255] if on else [140, 140, 140]
            else:
                txt.color = [255, 255, 255] if on else [215, 215, 215]
            out.append(txt)
        missing = self.state.missing
        if missing:
            sub = self.targets[-1].rect
            hint = self.p.text(
                "To continue: " + "; ".join(missing), sub.y0 - self.p.size[1] * 0.03, 2.1, "warning"
            )
            out.append(hint)
        return out

    # ------------------------------------------------------------------ loop
    def run(
        self,
        script: Sequence[tuple[float, Target]] = (),
        on_planned: Callable[[Target], None] | None = None,
        timeout_s: float | None = None,
    ) -> FormOutcome:
        """Show the form until submitted or Escape.

        ``script`` lists synthetic clicks as ``(seconds after the form appeared, target)``;
        ``on_planned(target)`` is called a little before each (to move a simulated gaze there).
        """
        p = self.p
        p.clear_input()
        t0 = p.flip_stims(self.stims())
        pending = sorted(script, key=lambda s: s[0])
        announced = -1
        while True:
            t = p.flip_stims(self.stims())
            if timeout_s is not None and t - t0 > timeout_s:
                return FormOutcome(False, t)
            if pending:
                if on_planned is not None and announced < 0:
                    on_planned(pending[0][1])
                    announced = 0
                if t - t0 >= pending[0][0]:
                    target = pending.pop(0)[1]
                    cx, cy = target.rect.centre
                    from experiment_protocols.presenter_screen import InputEvent

                    p.inject(InputEvent("click", x=cx, y=cy))
                    announced = -1
            for ev in p.poll():
                if ev.kind == "key" and ev.key == "escape":
                    return FormOutcome(False, t, escaped=True)
                done = False
                if ev.kind == "key":
                    done = self.state.press(ev.key, self.targets)
                elif ev.kind == "click":
                    done = self.state.click(ev.x, ev.y, self.targets)
                if done:
                    return FormOutcome(True, ev.t if ev.t == ev.t else t)
