from __future__ import annotations

import math

import pytest

from experiment_protocols.forms import FormState, layout_form
from experiment_protocols.model import AuthenticityForm, DiagnosticForm


def test_no_finding_is_exclusive() -> None:
    s = FormState("diagnostic", DiagnosticForm())
    s.toggle_finding("Edema")
    s.toggle_finding("Cardiomegaly")
    assert s.findings == ["Cardiomegaly", "Edema"]  # form order, not click order
    s.toggle_finding("No finding")
    assert s.findings == ["No finding"]
    s.toggle_finding("Edema")
    assert s.findings == ["Edema"]
    s.toggle_finding("Edema")
    assert s.findings == []
    with pytest.raises(ValueError, match="unknown finding"):
        s.toggle_finding("Fracture")


def test_completion_and_response() -> None:
    s = FormState("diagnostic", DiagnosticForm(confidence_scale=(1, 3, 5, 7, 9)))
    assert not s.complete and len(s.missing) == 2
    s.toggle_finding("Edema")
    with pytest.raises(ValueError, match="not on the scale"):
        s.set_confidence(4)
    s.set_confidence(7)
    assert s.complete
    r = s.response(t_response=12.5, onset=10.0)
    assert r.findings == ("Edema",) and r.confidence == 7 and math.isclose(r.rt_s, 2.5)
    kw = r.to_store()
    assert kw["findings"] == "Edema" and kw["authenticity"] is None


def test_authenticity_form_and_keys() -> None:
    form = AuthenticityForm()
    s = FormState("authenticity", form)
    targets = layout_form(form, 1920, 1080)
    assert not s.press("return", targets)  # incomplete: submit does nothing
    s.press("s", targets)
    s.press("4", targets)
    assert s.choice == "synthetic" and s.confidence == 4
    assert s.press("return", targets)
    assert s.response(1.0, 0.0).to_store()["authenticity"] == "synthetic"
    with pytest.raises(ValueError):
        s.toggle_finding("Edema")


def test_clicks_hit_targets_and_free_text() -> None:
    form = DiagnosticForm()
    s = FormState("diagnostic", form)
    targets = layout_form(form, 1280, 800)
    by = {(t.group, t.value): t for t in targets}
    s.click(*by[("finding", "Pneumothorax")].rect.centre, targets)
    s.click(*by[("text", "text")].rect.centre, targets)
    assert s.text_focus
    for k in ["s", "m", "a", "l", "l", "space", "x", "backspace"]:
        s.press(k, targets)
    s.press("tab", targets)
    assert s.free_text == "small " and not s.text_focus
    s.press("c", targets)  # 3rd confidence value by letter
    assert s.confidence == 3
    assert s.click(*by[("submit", "submit")].rect.centre, targets)
    assert s.response(1, 0).free_text == "small"


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080), (2560, 1440), (1024, 768)])
@pytest.mark.parametrize(
    "form",
    [
        DiagnosticForm(),
        AuthenticityForm(),
        DiagnosticForm(free_text=False, confidence_scale=(1, 3, 5, 7, 9)),
    ],
    ids=["diag", "auth", "diag-reflacx"],
)
def test_layout_targets_are_large_inside_and_disjoint(
    size: tuple[int, int], form: DiagnosticForm | AuthenticityForm
) -> None:
    w, h = size
    targets = layout_form(form, w, h)
    for t in targets:
        r = t.rect
        assert 0 <= r.x0 < r.x1 <= w and 0 <= r.y0 < r.y1 <= h, t
        assert r.y1 - r.y0 >= 40
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            overlap = (
                a.rect.x0 < b.rect.x1
                and b.rect.x0 < a.rect.x1
                and a.rect.y0 < b.rect.y1
                and b.rect.y0 < a.rect.y1
            )
            assert not overlap, (a.label, b.label)
    keys = [t.key for t in targets if t.key]
    assert len(keys) == len(set(keys))


def test_diagnostic_confidence_buttons_show_their_keys() -> None:
    from experiment_protocols.forms import layout_form
    from experiment_protocols.model import DiagnosticForm

    form = DiagnosticForm(confidence_scale=(1, 3, 5, 7, 9))
    conf = [t for t in layout_form(form, 1920, 1080) if t.group == "confidence"]
    assert [(t.value, t.key, t.label) for t in conf][:2] == [(1, "a", "1  (A)"), (3, "b", "3  (B)")]
