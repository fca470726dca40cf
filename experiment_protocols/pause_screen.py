"""The operator's pause menu (Escape) and the readers' break screen.

Drawing only; the consequences of a choice are decided by
:class:`experiment_protocols.state_machine.SessionStateMachine`.
"""

from __future__ import annotations

from experiment_protocols.forms import Rect
from experiment_protocols.presenter_screen import Presenter

__all__ = ["PAUSE_CHOICES", "break_screen", "pause_menu"]

#: (choice, label, key)
PAUSE_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("resume", "Resume", "r"),
    ("recalibrate", "Recalibrate", "c"),
    ("end", "End and save", "e"),
)


def pause_menu(
    p: Presenter, detail: str = "", auto_choice: str | None = None, timeout_s: float = 3600.0
) -> str:
    """Show the pause menu until a choice; returns 'resume', 'recalibrate' or 'end'.

    ``auto_choice`` answers by itself after a moment (unattended runs); after ``timeout_s``
    with no answer the session is ended and saved.
    """
    w, h = p.size
    bw, bh, gap = w * 0.2, h * 0.09, w * 0.025
    total = 3 * bw + 2 * gap
    rects = {}
    stims = [
        p.text("Session paused", h * 0.2, 4.4, "text", bold=True),
        p.text("Recording continues. Choose what to do next.", h * 0.28, 2.6, "dim"),
    ]
    if detail:
        stims.append(p.text(detail, h * 0.34, 2.3, "dim"))
    for i, (choice, label, key) in enumerate(PAUSE_CHOICES):
        x0 = (w - total) / 2 + i * (bw + gap)
        r = Rect(x0, h * 0.45, x0 + bw, h * 0.45 + bh)
        rects[choice] = r
        stims.append(p.rect(r.x0, r.y0, r.x1, r.y1, "button", "button_line", 2.0))
        t = p.text(f"{label}  [{key.upper()}]", r.centre[1], 3.0, "text", bold=True)
        t.pos = p.px(*r.centre)
        stims.append(t)
    stims.append(p.text("Everything answered so far is saved.", h * 0.7, 2.3, "dim"))
    was_visible = p.win.mouseVisible
    p.win.mouseVisible = True
    p.clear_input()
    t0 = p.flip_stims(stims)
    keys = {key: choice for choice, _, key in PAUSE_CHOICES}
    try:
        while True:
            t = p.flip_stims(stims)
            if auto_choice is not None and t - t0 > 0.8:
                return auto_choice
            if t - t0 > timeout_s:
                return "end"
            for ev in p.poll():
                if ev.kind == "key" and ev.key in keys:
                    return keys[ev.key]
                if ev.kind == "click":
                    for choice, r in rects.items():
                        if r.contains(ev.x, ev.y):
                            return choice
    finally:
        p.win.mouseVisible = was_visible


def break_screen(
    p: Presenter, reason: str, done: int, total: int, min_s: float = 0.0, auto: bool = False
) -> str:
    """A rest break; returns 'continue' or 'escape'."""
    body = f"{done} of {total} images read.\n\nRest your eyes. Continue when you are ready."
    if min_s > 0:
        body += f"\n(at least {min_s:.0f} s)"
    key, _ = p.show_text(
        "Break",
        body,
        "Press SPACE to continue",
        min_s=min_s,
        timeout_s=1.0 if auto else None,
    )
    return "escape" if key == "escape" else "continue"
