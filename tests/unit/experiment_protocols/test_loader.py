from __future__ import annotations

from pathlib import Path

import pytest

from experiment_protocols.loader import (
    ProtocolFileError,
    builtin_protocol_names,
    load_protocol,
    parse_protocol,
)
from experiment_protocols.model import AuthenticityForm, DiagnosticForm

GOOD = Path(__file__).resolve().parents[3] / "experiment_protocols" / "builtin" / "gazeval.toml"


def test_builtins_load_by_name() -> None:
    assert builtin_protocol_names() == ("demo", "gazeval")
    g = load_protocol("gazeval")
    p = g.protocol
    assert p.study == "gazeval" and len(g.sha256) == 64
    assert [b.name for b in p.blocks] == ["diagnostic", "authenticity"]
    d = p.conditions["diagnostic"].form
    a = p.conditions["authenticity"].form
    assert isinstance(d, DiagnosticForm) and d.no_finding == "No finding" and d.free_text
    assert isinstance(a, AuthenticityForm) and a.confidence_scale == (1, 2, 3, 4, 5)
    demo = load_protocol("demo").protocol
    assert demo.conditions["diagnostic"].form.confidence_scale == (1, 3, 5, 7, 9)


def test_file_path_loads(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(GOOD.read_text())
    lp = load_protocol(f)
    assert lp.source == str(f.resolve()) and lp.protocol.name == "mine"


def _err(text: str) -> ProtocolFileError:
    with pytest.raises(ProtocolFileError) as ei:
        parse_protocol(text, source="x.toml")
    return ei.value


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("iti_s = 0.5", "iti_s = -2", "timing.iti_s", "must be a number >= 0"),
        ("points = 9", "points = 7", "calibration.points", "5, 9 or 13"),
        (
            'block_order = "counterbalanced"',
            'block_order = "random"',
            "randomisation.block_order",
            "'counterbalanced' or 'fixed'",
        ),
        (
            'confidence_scale = [1, 2, 3, 4, 5]\nconfidence_low = "not',
            'confidence_scale = [3, 1]\nconfidence_low = "not',
            "conditions.diagnostic.confidence_scale",
            "strictly increasing",
        ),
        (
            'kind = "authenticity"',
            'kind = "turing"',
            "conditions.authenticity.kind",
            "'diagnostic' or 'authenticity'",
        ),
        (
            'conditions = ["authenticity"]',
            'conditions = ["authentic"]',
            "blocks[1].conditions",
            "not defined",
        ),
        ("end_on_click = true", "end_on_clik = true", "timing.end_on_clik", "unknown key"),
        (
            'pre_trial = "drift_check"',
            'pre_trial = "dot"',
            "timing.pre_trial",
            "'drift_check', 'fixation_cross' or 'none'",
        ),
    ],
    ids=[
        "negative-iti",
        "points",
        "block-order",
        "scale-order",
        "kind",
        "block-condition",
        "typo-key",
        "pre-trial",
    ],
)
def test_errors_name_file_line_and_field(old: str, new: str, field: str, words: str) -> None:
    text = GOOD.read_text()
    assert old in text
    bad = text.replace(old, new, 1)
    e = _err(bad)
    msg = str(e)
    assert msg.startswith("x.toml, line ")
    assert f"(field {field!r})" in msg and words in msg
    line = bad.splitlines()[e.line - 1]  # type: ignore[operator]
    key = field.rsplit(".", 1)[-1].split("[")[0]
    assert key in line or line.startswith("[")


def test_toml_syntax_error_has_line() -> None:
    e = _err('[study]\nname = "a"\n[timing\n')
    assert e.line == 3 and "not valid TOML" in str(e)


def test_missing_sections() -> None:
    assert "define at least one condition" in str(_err('[study]\nname = "a"\n'))
    e = _err('[study]\nname = "a"\n[conditions.d]\nkind = "diagnostic"\ninstructions = "x"\n')
    assert "define at least one block" in str(e)
    assert "needs a name" in str(_err('[study]\n[conditions.d]\nkind="diagnostic"\n'))
    assert "unknown section" in str(_err('[studdy]\nname = "a"\n'))


def test_bad_study_name_and_no_finding_clash() -> None:
    text = GOOD.read_text()
    assert "field 'study.name'" in str(_err(text.replace('name = "gazeval"', 'name = "my study"')))
    e = _err(text.replace('no_finding = "No finding"', 'no_finding = "Edema"'))
    assert "field 'conditions.diagnostic.no_finding'" in str(e)


def test_unknown_name_lists_builtins(tmp_path: Path) -> None:
    with pytest.raises(ProtocolFileError, match="built-in protocols: demo, gazeval"):
        load_protocol(tmp_path / "nope.toml")


def test_demo_without_xvfb_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sessions.run.display as display

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(display.shutil, "which", lambda name: None)
    monkeypatch.setattr(display.sys, "platform", "linux")
    with pytest.raises(RuntimeError, match="apt-get install xvfb"):
        display.virtual_display((1280, 800))


def test_every_problem_of_a_protocol_is_reported_at_once() -> None:
    from experiment_protocols.loader import ProtocolErrors, parse_protocol
    from tests.support.session_files import SMALL_PROTOCOL

    text = (
        SMALL_PROTOCOL.replace("iti_s = 0.1", "iti_s = -1").replace(
            'kind = "authenticity"', 'kind = "authentcity"'
        )
        + "\n[display]\nmargin_px = -5\n"
    )
    with pytest.raises(ProtocolErrors) as info:
        parse_protocol(text, source="p.toml")
    msg = str(info.value)
    assert msg.startswith("3 problems in the protocol p.toml:")
    assert "timing.iti_s" in msg and "conditions.authenticity.kind" in msg and "margin_px" in msg
    lines = text.splitlines()
    iti = next(i for i, s in enumerate(lines, 1) if s.startswith("iti_s"))
    assert f"p.toml, line {iti} (field 'timing.iti_s')" in msg


def test_fixations_section_chooses_the_detector(tmp_path: Path) -> None:
    base = GOOD.read_text()
    p = parse_protocol(
        base + '\n[fixations]\ndetector = "adaptive"\nparams = { min_radius_deg = 0.4 }\n'
    )
    assert p.fixations.detector == "adaptive" and p.fixations.params == {"min_radius_deg": 0.4}
    assert parse_protocol(base).fixations.detector == "auto"
    for extra, field, words in (
        ('detector = "velocity"', "fixations.detector", "valid: auto, adaptive, ivt, idt"),
        ("params = { min_radius_deg = 0.4 }", "fixations.params", "need a named detector"),
        ('detector = "ivt"\nparams = { radius = 1 }', "fixations.params", "unknown IVTParams"),
    ):
        with pytest.raises(ProtocolFileError) as err:
            parse_protocol(base + f"\n[fixations]\n{extra}\n", source="study.toml")
        assert err.value.field == field and words in str(err.value)


def test_the_session_records_its_fixation_detector(tmp_path: Path) -> None:
    from acquisition.geometry import ScreenGeometry
    from sessions.run.pipeline import Pipeline
    from sessions.store import SessionReader, SessionStore

    store = SessionStore.create(tmp_path, "s", "P1", 1, settings_json={"tracker": "simulated"})
    pipe = Pipeline(
        "simulated", store, ScreenGeometry(), source_id="gazeread-test-detector", lsl=False,
        tracker_options={"rate_hz": 300.0, "profile": "tobii"},
    )  # fmt: skip
    assert pipe.detector_choice.method == "adaptive"
    store.close()
    with SessionReader.open(tmp_path / "s" / "sub-P1" / "ses-1") as r:
        det = r.fixation_detector()
        assert r.session_info()["settings_json"]["tracker"] == "simulated"  # kept beside it
    assert det is not None and det["method"] == "adaptive" and "measured noise" in det["reason"]
    assert det["params"]["min_radius_deg"] == 0.5
