"""Manifests: valid files load; every problem of a bad one is reported at once with its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stimuli.manifest import ManifestError, check_manifest, load_manifest, write_manifest

HEADER = "image_id,path,authenticity,generator,findings,window_center,window_width\n"


@pytest.fixture
def folder(tmp_path: Path, cxr: Path) -> Path:
    (tmp_path / "img").mkdir()
    for name in ("nih_00000001_000.png", "nih_00027426_000.png", "cr_chest_monochrome1.dcm"):
        shutil.copy(cxr / name, tmp_path / "img" / name)
    (tmp_path / "img" / "notes.dcm").write_text("not a dicom")
    return tmp_path


def write(folder: Path, text: str, name: str = "manifest.csv") -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_manifest_loads_with_absolute_paths(folder: Path) -> None:
    p = write(folder, HEADER
              + "r1,img/nih_00000001_000.png,real,,No Finding,,\n"
              + "s1,img/nih_00027426_000.png,synthetic,RoentGen v1,Effusion; Cardiomegaly ;,,\n"
              + "d1,img/cr_chest_monochrome1.dcm,Real,,,128,200\n")  # fmt: skip
    m = load_manifest(p)
    assert m.ids == ["r1", "s1", "d1"]
    s1 = m.by_id("s1")
    assert s1.path == (folder / "img" / "nih_00027426_000.png").resolve() and s1.path.is_absolute()
    assert s1.findings == ("Effusion", "Cardiomegaly") and s1.generator == "RoentGen v1"
    assert s1.line == 3 and s1.window is None
    d1 = m.by_id("d1")
    assert d1.authenticity == "real" and d1.window == (128.0, 200.0) and d1.findings == ()
    assert len(m.sha256) == 64 and len(m) == 3
    with pytest.raises(KeyError, match="nope"):
        m.by_id("nope")


def test_every_problem_is_reported_at_once_with_lines(folder: Path) -> None:
    p = write(folder, HEADER
              + "a,img/nih_00000001_000.png,real,,,,\n"          # 2 ok
              + "a,img/nih_00027426_000.png,fake,,,,\n"          # 3 duplicate id + authenticity
              + "b,img/missing.png,real,,,,\n"                   # 4 missing file
              + "c,img/notes.dcm,real,,,,\n"                     # 5 unreadable image
              + "d,img/nih_00000001_000.png,synthetic,,,,\n"     # 6 synthetic without generator
              + ",img/nih_00000001_000.png,real,,,abc,\n"        # 7 no id, bad number, half a window
              + "e,,real,,,,\n"                                  # 8 no path
              + "f,img/nih_00027426_000.png,real,,,10,0\n")  # 9 width < 1  # fmt: skip
    with pytest.raises(ManifestError) as err:
        load_manifest(p)
    problems = err.value.problems
    where = {(q.line, q.column) for q in problems}
    assert (3, "image_id") in where and (3, "authenticity") in where
    assert (4, "path") in where and (5, "path") in where and (6, "generator") in where
    assert {
        (7, "image_id"),
        (7, "window_center"),
        (7, "window_width"),
        (8, "path"),
        (9, "window_width"),
    } <= where
    text = str(err.value)
    assert f"{p}:3 [image_id]: 'a' is already used on line 2" in text
    assert "'fake' is not one of: real, synthetic" in text
    assert "file not found: img/missing.png" in text
    assert "unreadable image" in text
    assert any(q.line == 5 and "not a readable DICOM" in q.message for q in problems)
    assert text.startswith(f"{p}: {len(problems)} problems")
    assert all(q.file == str(p) for q in problems)


def test_missing_columns_named_with_header_line(folder: Path) -> None:
    p = write(folder, "# a comment line\nimage_id,path,findings\nr1,img/nih_00000001_000.png,\n")
    result = check_manifest(p)
    assert not result.ok
    msg = str(result.problems[0])
    assert result.problems[0].line == 2
    assert "authenticity, generator" in msg and "required" in msg


def test_only_one_window_column(folder: Path) -> None:
    p = write(
        folder,
        "image_id,path,authenticity,generator,findings,window_center\nr,img/nih_00000001_000.png,real,,,40\n",
    )
    with pytest.raises(ManifestError, match="window_center but no window_width"):
        load_manifest(p)


def test_missing_and_empty_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest file not found"):
        load_manifest(tmp_path / "nope.csv")
    with pytest.raises(ManifestError, match="is empty"):
        load_manifest(write(tmp_path, "\n\n"))
    with pytest.raises(ManifestError, match="lists no images"):
        load_manifest(write(tmp_path, HEADER))
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(HEADER.encode() + "r,\xe9.png,real,,,,\n".encode("latin-1"))
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_manifest(bad)


def test_bom_tsv_extra_columns_and_comments(folder: Path) -> None:
    text = "\ufeff" + HEADER.replace(",", "\t").replace("\n", "\tdifficulty\n")
    text += (
        "# skipped\n\n"
        + "\t".join(["r1", "img/nih_00000001_000.png", "real", "", "", "", "", "hard"])
        + "\n"
    )
    m = load_manifest(write(folder, text, "stimuli.tsv"))
    assert m.entries[0].extra == {"difficulty": "hard"} and m.entries[0].line == 4


def test_check_images_false_skips_decoding(folder: Path) -> None:
    p = write(folder, HEADER + "c,img/notes.dcm,real,,,,\n")
    assert check_manifest(p, check_images=False).ok
    assert not check_manifest(p).ok


def test_duplicate_path_and_colour_image_are_warnings(folder: Path) -> None:
    from PIL import Image

    Image.open(folder / "img" / "nih_00000001_000.png").convert("RGB").save(
        folder / "img" / "rgb.png"
    )
    p = write(folder, HEADER
              + "a,img/nih_00000001_000.png,real,,,,\n"
              + "b,img/nih_00000001_000.png,real,,,,\n"
              + "c,img/rgb.png,real,,,,\n")  # fmt: skip
    result = check_manifest(p)
    assert result.ok
    msgs = [str(w) for w in result.warnings]
    assert any(":3 [path]" in w and "also image 'a'" in w for w in msgs)
    assert any(":4 [path]" in w and "converted to greyscale" in w for w in msgs)


def test_summary_counts(folder: Path) -> None:
    p = write(folder, HEADER
              + "a,img/nih_00000001_000.png,real,,Nodule,,\n"
              + "b,img/cr_chest_monochrome1.dcm,synthetic,RoentGen,Nodule;Effusion,,\n")  # fmt: skip
    s = check_manifest(p).summary()
    assert s["authenticity"] == {"real": 1, "synthetic": 1}
    assert s["sizes"] == {"1024x1024": 1, "512x512": 1}
    assert s["bit_depths"] == {"8": 2}
    assert s["kinds"] == {"dicom": 1, "png": 1}
    assert s["findings"] == {"Effusion": 1, "Nodule": 2}
    assert s["photometric"] == {"MONOCHROME1": 1, "MONOCHROME2": 1}
    assert s["with_pixel_spacing"] == 1


def test_write_manifest_round_trip(folder: Path) -> None:
    out = write_manifest(folder / "out.csv", [
        {"image_id": "x", "path": "img/nih_00000001_000.png", "authenticity": "real", "generator": "",
         "findings": ["A", "B"], "window_center": 40, "window_width": 400, "note": "n"},
    ])  # fmt: skip
    e = load_manifest(out).entries[0]
    assert e.findings == ("A", "B") and e.window == (40.0, 400.0) and e.extra == {"note": "n"}


def test_windows_separators_are_accepted(folder: Path) -> None:
    p = write(folder, HEADER + "w,img\\nih_00000001_000.png,real,,,,\n")
    assert load_manifest(p).entries[0].path == (folder / "img" / "nih_00000001_000.png").resolve()
