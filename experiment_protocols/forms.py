"""Response forms as plain Python: what was answered, the form's state, and where its targets are.

The PsychoPy screen (:mod:`experiment_protocols.forms_screen`) only draws a :class:`FormState`
and forwards clicks and keys to it; everything that decides (what a click hits, which choices
exclude each other, when the form may be submitted) lives here and is tested without a display.

Coordinates of targets are screen pixels, origin top-left, y down (as everywhere in gazeread).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from experiment_protocols.model import AUTHENTICITY_CHOICES, AuthenticityForm, DiagnosticForm

__all__ = [
    "FormState",
    "Rect",
    "Response",
    "Target",
    "layout_form",
]


@dataclasses.dataclass(frozen=True)
class Response:
    """A submitted answer (one row of the store's ``responses`` table)."""

    condition: str
    kind: str
    findings: tuple[str, ...] = ()
    authenticity: str | None = None
    confidence: int | None = None
    free_text: str = ""
    t_response: float = float("nan")
    rt_s: float = float("nan")

    def to_store(self) -> dict[str, Any]:
        """Keyword arguments of ``SessionStore.add_response`` (besides trial, condition, t)."""
        return {
            "findings": ";".join(self.findings) if self.kind == "diagnostic" else None,
            "authenticity": self.authenticity,
            "confidence": self.confidence,
            "free_text": self.free_text or None,
            "rt_s": self.rt_s,
            "answer_json": {
                "kind": self.kind,
                "findings": list(self.findings),
                "authenticity": self.authenticity,
                "confidence": self.confidence,
                "free_text": self.free_text,
            },
        }


@dataclasses.dataclass(frozen=True)
class Rect:
    """Axis-aligned rectangle in screen px (x0, y0 top-left; x1, y1 bottom-right)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        """True when (x, y) is inside."""
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    @property
    def centre(self) -> tuple[float, float]:
        """Centre (px)."""
        return ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) px."""
        return (self.x1 - self.x0, self.y1 - self.y0)


@dataclasses.dataclass(frozen=True)
class Target:
    """A clickable thing on a form: ``group`` is 'finding', 'choice', 'confidence' or 'submit'."""

    group: str
    value: str | int
    label: str
    rect: Rect
    key: str = ""  # keyboard shortcut (PsychoPy key name), '' for none


class FormState:
    """The editable state of one response form.

    Diagnostic: findings toggle; choosing the no-finding label clears the others and choosing
    another finding clears no-finding. Authenticity: one of real/synthetic. Both: one
    confidence value. :attr:`complete` says whether it may be submitted.
    """

    def __init__(self, condition: str, form: DiagnosticForm | AuthenticityForm) -> None:
        self.condition = condition
        self.form = form
        self.findings: list[str] = []
        self.choice: str | None = None
        self.confidence: int | None = None
        self.free_text = ""
        self.text_focus = False
        self.submitted = False

    @property
    def kind(self) -> str:
        """'diagnostic' or 'authenticity'."""
        return self.form.kind

    # ------------------------------------------------------------------ edits
    def toggle_finding(self, label: str) -> None:
        """Select or unselect a finding (diagnostic forms)."""
        if not isinstance(self.form, DiagnosticForm):
            raise ValueError(f"condition {self.condition!r} has no findings to select")
        if label not in self.form.all_labels:
            raise ValueError(f"unknown finding {label!r}; offered: {list(self.form.all_labels)}")
        if label in self.findings:
            self.findings.remove(label)
        elif label == self.form.no_finding:
            self.findings = [label]
        else:
            if self.form.no_finding in self.findings:
                self.findings.remove(self.form.no_finding)
            self.findings.append(label)
        # Keep the order of the form, whatever the click order.
        self.findings.sort(key=self.form.all_labels.index)

    def choose(self, value: str) -> None:
        """Pick real or synthetic (authenticity forms)."""
        if not isinstance(self.form, AuthenticityForm):
            raise ValueError(f"condition {self.condition!r} has no real/synthetic choice")
        if value not in AUTHENTICITY_CHOICES:
            raise ValueError(f"authenticity must be one of {AUTHENTICITY_CHOICES}, got {value!r}")
        self.choice = value

    def set_confidence(self, value: int) -> None:
        """Pick a confidence from the form's scale."""
        if value not in self.form.confidence_scale:
            raise ValueError(
                f"confidence {value!r} is not on the scale {list(self.form.confidence_scale)}"
            )
        self.confidence = int(value)

    def type_key(self, key: str) -> None:
        """Edit the free text with one key (PsychoPy key names: letters, 'space', 'backspace')."""
        if not (isinstance(self.form, DiagnosticForm) and self.form.free_text):
            return
        if key == "backspace":
            self.free_text = self.free_text[:-1]
        elif key == "space":
            self.free_text += " "
        elif len(key) == 1 and len(self.free_text) < 500:
            self.free_text += key

    def press(self, key: str, targets: list[Target]) -> bool:
        """Apply a key press; returns True when it submitted the form.

        While the free-text field has the focus, keys type into it ('tab' leaves it); otherwise
        a target's shortcut activates it.
        """
        if self.text_focus:
            if key in ("tab", "return"):
                self.text_focus = False
            else:
                self.type_key(key)
            return False
        for t in targets:
            if t.key and t.key == key:
                return self.activate(t)
        return False

    def click(self, x: float, y: float, targets: list[Target]) -> bool:
        """Apply a click at screen px (x, y); returns True when it submitted the form."""
        for t in targets:
            if t.rect.contains(x, y):
                return self.activate(t)
        self.text_focus = False
        return False

    # ------------------------------------------------------------------ status
    @property
    def missing(self) -> list[str]:
        """What is still needed before submitting (plain words, shown on screen)."""
        out = []
        if self.kind == "diagnostic" and not self.findings:
            out.append("select at least one finding (or 'No finding')")
        if self.kind == "authenticity" and self.choice is None:
            out.append("choose REAL or SYNTHETIC")
        if self.confidence is None:
            out.append("choose a confidence")
        return out

    @property
    def complete(self) -> bool:
        """True when the form may be submitted."""
        return not self.missing

    def activate(self, target: Target) -> bool:
        """Apply a click/key on ``target``; returns True when it submitted the form."""
        self.text_focus = target.group == "text" and not self.text_focus
        if target.group == "finding":
            self.toggle_finding(str(target.value))
        elif target.group == "choice":
            self.choose(str(target.value))
        elif target.group == "confidence":
            self.set_confidence(int(target.value))
        elif target.group == "submit" and self.complete:
            self.submitted = True
            return True
        return False

    def response(self, t_response: float, onset: float) -> Response:
        """The submitted answer (the form must be complete)."""
        if not self.complete:
            raise ValueError(f"the form is not complete: {'; '.join(self.missing)}")
        return Response(
            condition=self.condition,
            kind=self.kind,
            findings=tuple(self.findings),
            authenticity=self.choice,
            confidence=self.confidence,
            free_text=self.free_text.strip(),
            t_response=t_response,
            rt_s=t_response - onset,
        )


def layout_form(
    form: DiagnosticForm | AuthenticityForm, screen_w: int, screen_h: int
) -> list[Target]:
    """Place the form's targets on a ``screen_w`` x ``screen_h`` screen.

    Targets are large (at least ~6 % of the screen height, i.e. > 1.5 deg at usual reading
    distances) so they can be hit with a mouse without leaning in. Keyboard shortcuts: digits
    for findings (1..9, 0), R/S for real/synthetic, F1.. style confidence keys are avoided:
    confidence uses the scale values when they are single digits, else letters a, b, c, ...
    (on the diagnostic form, whose digits are the findings', each confidence button shows its
    letter beside its value, e.g. "5  (C)").
    """
    targets: list[Target] = []
    cx = screen_w / 2.0
    unit = screen_h / 100.0  # 1 % of the screen height
    bh = max(6.2 * unit, 40.0)  # button height
    gap = 1.4 * unit
    if isinstance(form, DiagnosticForm):
        labels = form.all_labels
        cols = 2 if len(labels) > 5 else 1
        rows = -(-len(labels) // cols)
        bw = min(screen_w * 0.36, 46.0 * unit)
        top = 15.0 * unit
        total_w = cols * bw + (cols - 1) * 2 * gap
        keys = [*"1234567890", *"qwertyuiop"]
        for i, label in enumerate(labels):
            c, r = (i // rows, i % rows)
            x0 = cx - total_w / 2 + c * (bw + 2 * gap)
            y0 = top + r * (bh + gap)
            targets.append(
                Target(
                    "finding",
                    label,
                    label,
                    Rect(x0, y0, x0 + bw, y0 + bh),
                    keys[i] if i < len(keys) else "",
                )
            )
        conf_top = top + rows * (bh + gap) + 6.0 * unit
        if form.free_text:
            tw = total_w
            targets.append(
                Target(
                    "text",
                    "text",
                    "Comments (optional): click here, type, Tab to finish",
                    Rect(
                        cx - tw / 2, conf_top - 3.0 * unit, cx + tw / 2, conf_top - 3.0 * unit + bh
                    ),
                    "",
                )
            )
            conf_top += bh + 5.0 * unit
    else:
        bw = min(screen_w * 0.24, 36.0 * unit)
        top = 24.0 * unit
        for i, (value, key) in enumerate(zip(AUTHENTICITY_CHOICES, ("r", "s"), strict=True)):
            x0 = cx - gap - bw if i == 0 else cx + gap
            targets.append(
                Target("choice", value, value.upper(), Rect(x0, top, x0 + bw, top + 1.6 * bh), key)
            )
        conf_top = top + 1.6 * bh + 12.0 * unit
    scale = form.confidence_scale
    cw = min(11.0 * unit, (screen_w * 0.8) / len(scale) - gap)
    total = len(scale) * cw + (len(scale) - 1) * gap
    letters = "abcdefghijklm"
    for i, v in enumerate(scale):
        x0 = cx - total / 2 + i * (cw + gap)
        key = (
            str(v) if len(scale) <= 9 and 0 <= v <= 9 and isinstance(form, AuthenticityForm) else ""
        )
        label = str(v)
        if isinstance(form, DiagnosticForm):
            key = letters[i] if i < len(letters) else ""  # digits are taken by the findings
            if key:  # the button says its key: A..E for a 1/3/5/7/9 scale is no riddle
                label = f"{v}  ({key.upper()})"
        targets.append(
            Target("confidence", v, label, Rect(x0, conf_top, x0 + cw, conf_top + bh), key)
        )
    sw = min(30.0 * unit, screen_w * 0.3)
    sy = min(conf_top + bh + 10.0 * unit, screen_h - bh - 2.4 * unit)
    targets.append(
        Target(
            "submit", "submit", "Continue", Rect(cx - sw / 2, sy, cx + sw / 2, sy + bh), "return"
        )
    )
    return targets
