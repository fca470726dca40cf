"""`gazeread run` refuses bad protocols, manifests and trackers in preflight, before any window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sessions.cli import main
from tests.support.session_files import write_small_protocol, write_small_stimuli


@pytest.fixture
def no_window(monkeypatch: Any) -> None:
    """Fail loudly if anything tries to open the stimulus window."""
    import experiment_protocols.presenter_screen as ps

    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("a window was opened although preflight should have failed")

    monkeypatch.setattr(ps.Presenter, "__init__", boom)
    monkeypatch.setenv("DISPLAY", ":0")


def _run(tmp_path: Path, capsys: Any, **over: str) -> tuple[int, str]:
    args = {
        "--protocol": "demo",
        "--tracker": "simulated",
        "--participant": "P01",
        "--out": str(tmp_path / "out"),
    }
    args.update(over)
    if "--stimuli" not in args:
        args["--stimuli"] = str(write_small_stimuli(tmp_path / "stim"))
    argv = ["run", *[x for kv in args.items() for x in kv], "--windowed", "--no-lsl"]
    code = main(argv)
    return code, capsys.readouterr().err


def test_unknown_protocol_name(tmp_path: Any, capsys: Any, no_window: Any) -> None:
    code, err = _run(tmp_path, capsys, **{"--protocol": "gazevl"})
    assert code == 2
    assert "gazevl" in err and "built-in protocols: demo, gazeval" in err
    assert not (tmp_path / "out" / "demo").exists()


def test_bad_protocol_file_names_line_and_field(tmp_path: Any, capsys: Any, no_window: Any) -> None:
    bad = write_small_protocol(tmp_path / "p")
    text = bad.read_text().replace("iti_s = 0.1", "iti_s = -1")
    bad.write_text(text)
    code, err = _run(tmp_path, capsys, **{"--protocol": str(bad)})
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("iti_s"))
    assert code == 2
    assert f"{bad.resolve()}, line {line} (field 'timing.iti_s')" in err
    assert "iti_s must be a number >= 0" in err


def test_bad_manifest_lists_every_problem(tmp_path: Any, capsys: Any, no_window: Any) -> None:
    manifest = write_small_stimuli(tmp_path / "stim")
    (tmp_path / "stim" / "img1.png").unlink()
    text = manifest.read_text().replace("synthetic", "fake", 1)
    manifest.write_text(text)
    code, err = _run(tmp_path, capsys, **{"--stimuli": str(manifest)})
    assert code == 2
    assert "img1.png" in err and "fake" in err


def test_unknown_tracker_and_all_problems_at_once(
    tmp_path: Any, capsys: Any, no_window: Any
) -> None:
    code, err = _run(tmp_path, capsys, **{"--tracker": "tobi", "--protocol": "nope"})
    assert code == 2
    assert "preflight found 2 problems" in err
    assert "unknown tracker 'tobi'" in err and "simulated" in err
    assert "nope" in err


def test_existing_session_needs_resume_and_resume_needs_a_session(
    tmp_path: Any, capsys: Any, no_window: Any
) -> None:
    from sessions.store import SessionStore

    SessionStore.create(tmp_path / "out", "demo", "P01", 1).close()
    code, err = _run(tmp_path, capsys)
    assert code == 2 and "--resume" in err and "--session 2" in err
    code = main(
        ["run", "--protocol", "demo", "--stimuli", str(write_small_stimuli(tmp_path / "s2")), "--tracker",
         "simulated", "--participant", "P09", "--out", str(tmp_path / "out"), "--resume", "--no-lsl"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "there is no session" in err


def test_no_display_is_a_preflight_problem(
    tmp_path: Any, capsys: Any, no_window: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, err = _run(tmp_path, capsys)
    assert code == 2 and "no display" in err and "xvfb" in err.lower()


def test_bad_screen_option(tmp_path: Any, capsys: Any, no_window: Any) -> None:
    code, err = _run(tmp_path, capsys, **{"--screen": "big"})
    assert code == 2 and "--screen must look like 1920x1080" in err


def test_tracker_options_are_typed() -> None:
    import argparse

    from sessions.commands.run import parse_options

    assert parse_options(["name=MyGaze", "rate_hz=300", "timeout=1.5", "recover=false"]) == {
        "name": "MyGaze",
        "rate_hz": 300,
        "timeout": 1.5,
        "recover": False,
    }
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        parse_options(["oops"])


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--tracker-option", "rte=600"], ["has no option 'rte'", "did you mean 'rate_hz'?"]),
        (["--tracker-option", "rate_hz=abc"], ["rate_hz takes a number", "'abc'"]),
        (["--rate", "7"], ["sampling rate 7", "supported rates"]),
        (
            ["--tracker", "lsl", "--tracker-option", "name=NoSuchGaze9",
             "--tracker-option", "resolve_timeout=0.5"],
            ["no stream matching", "NoSuchGaze9"],
        ),
    ],
    ids=["mistyped-key", "bad-value", "bad-rate", "lsl-without-stream"],
)  # fmt: skip
def test_bad_tracker_input_is_refused_before_a_folder_exists(
    tmp_path: Any, capsys: Any, no_window: Any, extra: list[str], needles: list[str]
) -> None:
    args = {"--protocol": "demo", "--tracker": "simulated", "--participant": "P01",
            "--out": str(tmp_path / "out"), "--stimuli": str(write_small_stimuli(tmp_path / "stim"))}  # fmt: skip
    flat = [x for kv in args.items() for x in kv]
    if "--tracker" in extra:
        i = flat.index("--tracker")
        del flat[i : i + 2]
    code = main(["run", *flat, *extra, "--windowed", "--no-lsl"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "TypeError" not in err
    for n in needles:
        assert n in err, err
    assert not (tmp_path / "out" / "demo").exists()  # nothing was created
    # corrected, the same command then passes preflight (no session was left behind)
    from sessions.run.preflight import preflight

    pre = preflight(protocol="demo", manifest=args["--stimuli"], tracker="simulated",
                    participant="P01", session=1, out=tmp_path / "out", resume=False)  # fmt: skip
    assert pre.n_trials > 0
