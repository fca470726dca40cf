from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from experiment_protocols.forms import FormState, layout_form
from experiment_protocols.loader import load_protocol
from experiment_protocols.schedule import PlannedTrial
from experiment_protocols.simulated_reader import SimulatedReader, scan_points
from stimuli.layout import fit_image


def _trial(i: int, auth: str = "real", findings: tuple[str, ...] = ()) -> PlannedTrial:
    return PlannedTrial(i, "b", 0, "c", f"img{i}", f"/img{i}.png", auth, findings)


class FakeTracker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def set_attention(
        self, points: Any = None, saliency: Any = None, rect: Any = None, weights: Any = None
    ) -> None:
        self.calls.append(("attention", (np.asarray(points), rect, np.asarray(weights))))

    def set_target(self, x: float | None, y: float | None = None) -> None:
        self.calls.append(("target", (x, y)))


def test_scan_points_cover_the_anatomy_on_the_image() -> None:
    layout = fit_image((2000, 2500), (1920, 1080), margin_px=20)
    pts = scan_points(layout)
    x0, y0, x1, y1 = layout.screen_rect
    sx, sy = pts[:, 0] * 1920, pts[:, 1] * 1080
    assert ((sx > x0) & (sx < x1) & (sy > y0) & (sy < y1)).all()
    assert np.isclose(pts[:, 2].sum(), 1.0)
    # both lungs, both costophrenic angles (low, lateral), the heart (left of midline on image right)
    assert (sx < 1920 / 2).sum() >= 5 and (sx > 1920 / 2).sum() >= 5
    assert (sy > y0 + 0.7 * (y1 - y0)).sum() >= 2


def test_reader_drives_the_tracker() -> None:
    tr = FakeTracker()
    layout = fit_image((1000, 1000), (1280, 800))
    SimulatedReader().look_at_image(tr, layout, _trial(0))
    assert tr.calls[0] == ("target", (None, None))
    kind, (pts, rect, w) = tr.calls[1]
    assert kind == "attention" and pts.shape == (14, 2) and len(w) == 14
    assert rect[0] == pytest.approx(layout.screen_rect[0] / 1280)


def test_accuracy_is_configurable_and_deterministic() -> None:
    auth = load_protocol("gazeval").protocol.conditions["authenticity"].form
    trials = [_trial(i, "real" if i % 2 else "synthetic") for i in range(400)]
    for acc in (0.0, 0.5, 0.9, 1.0):
        r = SimulatedReader(seed=3, accuracy=acc)
        answers = [r.answer(t, auth) for t in trials]
        rate = np.mean(
            [a.authenticity == t.authenticity for a, t in zip(answers, trials, strict=True)]
        )
        assert abs(rate - acc) < 0.08
        assert answers == [SimulatedReader(seed=3, accuracy=acc).answer(t, auth) for t in trials]
        assert all(a.confidence in auth.confidence_scale for a in answers)


def test_diagnostic_answers_use_form_labels() -> None:
    diag = load_protocol("demo").protocol.conditions["diagnostic"].form
    r = SimulatedReader(accuracy=1.0, false_positive_rate=0.0)
    assert r.answer(_trial(1, findings=("effusion", "nodule")), diag).findings == (
        "Nodule/Mass",
        "Pleural effusion",
    )
    assert r.answer(_trial(2), diag).findings == ("No finding",)
    assert r.answer(_trial(3, findings=("cardiomegaly",)), diag).findings == ("Cardiomegaly",)


def test_clicks_fill_a_complete_form_and_times_are_in_range() -> None:
    diag = load_protocol("gazeval").protocol.conditions["diagnostic"].form
    r = SimulatedReader(seed=1, viewing_s=(1.0, 2.0), response_s=(0.5, 0.6))
    t = _trial(5, findings=("Edema",))
    state = FormState("diagnostic", diag)
    targets = layout_form(diag, 1920, 1080)
    clicks = r.clicks(r.answer(t, diag), state, targets)
    assert clicks[-1].group == "submit"
    submitted = [state.click(*c.rect.centre, targets) for c in clicks]
    assert submitted[-1] and state.complete
    assert 1.0 <= r.viewing_time(t) <= 2.0 and 0.5 <= r.response_time(t) <= 0.6
    with pytest.raises(ValueError):
        SimulatedReader(accuracy=1.5)
