"""Stimulus manifests: a CSV (PsychoPy "conditions file" style) listing the images of a study.

Columns (header row, any order; extra columns are kept in ``StimulusEntry.extra``):

=============== ======== ==============================================================
column          required meaning
=============== ======== ==============================================================
image_id        yes      unique name of the stimulus (used in trials, logs, exports)
path            yes      image file; relative paths are relative to the manifest's folder
authenticity    yes      ``real`` or ``synthetic``
generator       yes      the model that made a synthetic image (may be empty for real ones)
findings        yes      ground-truth labels separated by ``;`` (may be empty)
window_center   no       DICOM-style window override, in stored/modality units
window_width    no       (both or neither)
=============== ======== ==============================================================

:func:`load_manifest` checks everything and raises one :class:`ManifestError` listing every
problem with the manifest's file name and line, so a researcher fixes them in one pass.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stimuli.image import ImageLoadError
from stimuli.loading import load_image

__all__ = [
    "AUTHENTICITY_VALUES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ImageSummary",
    "Manifest",
    "ManifestCheck",
    "ManifestError",
    "ManifestProblem",
    "StimulusEntry",
    "check_manifest",
    "load_manifest",
    "write_manifest",
]

REQUIRED_COLUMNS = ("image_id", "path", "authenticity", "generator", "findings")
OPTIONAL_COLUMNS = ("window_center", "window_width")
AUTHENTICITY_VALUES = ("real", "synthetic")


@dataclasses.dataclass(frozen=True)
class StimulusEntry:
    """One row of a manifest.

    Attributes
    ----------
    image_id : str
    path : Path
        Absolute path of the image file.
    authenticity : {'real', 'synthetic'}
    generator : str
    findings : tuple of str
    window_center, window_width : float or None
        Window override (both or neither).
    line : int
        Line of the manifest the row ends on (1-based; the header is line 1).
    extra : dict
        Other columns of the row, as text.
    """

    image_id: str
    path: Path
    authenticity: str
    generator: str
    findings: tuple[str, ...]
    window_center: float | None
    window_width: float | None
    line: int
    extra: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def window(self) -> tuple[float, float] | None:
        """``(center, width)`` to pass to :func:`stimuli.loading.load_image`, or None."""
        if self.window_center is None or self.window_width is None:
            return None
        return (self.window_center, self.window_width)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (stored with the session's provenance)."""
        d = dataclasses.asdict(self)
        d["path"] = str(self.path)
        d["findings"] = list(self.findings)
        return d


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated manifest: entries in file order, plus the file's path and SHA-256."""

    path: Path
    entries: list[StimulusEntry]
    sha256: str = ""

    def __iter__(self) -> Iterator[StimulusEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def by_id(self, image_id: str) -> StimulusEntry:
        """The entry with this ``image_id`` (KeyError naming the manifest if absent)."""
        for e in self.entries:
            if e.image_id == image_id:
                return e
        raise KeyError(f"{self.path}: no image_id {image_id!r}")

    @property
    def ids(self) -> list[str]:
        """The image ids in file order."""
        return [e.image_id for e in self.entries]


@dataclasses.dataclass(frozen=True)
class ManifestProblem:
    """One problem: where (file, line, column) and what, with how to fix it."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        col = f" [{self.column}]" if self.column else ""
        return f"{where}{col}: {self.message}"


class ManifestError(ValueError):
    """A manifest has problems; ``problems`` lists every one of them."""

    def __init__(self, path: str | Path, problems: list[ManifestProblem]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{self.path}: {n} problem{'s' if n != 1 else ''} in the stimulus manifest"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclasses.dataclass(frozen=True)
class ImageSummary:
    """What checking found about one image (no pixels kept)."""

    image_id: str
    kind: str
    width: int
    height: int
    bit_depth: int
    photometric: str
    display: str
    pixel_spacing_mm: tuple[float, float] | None
    sha256: str


@dataclasses.dataclass(frozen=True)
class ManifestCheck:
    """Result of :func:`check_manifest`: entries, problems, warnings and per-image facts."""

    path: Path
    entries: list[StimulusEntry]
    problems: list[ManifestProblem]
    warnings: list[ManifestProblem]
    images: list[ImageSummary]
    sha256: str
    #: image id -> DICOM attributes that still identify a patient (names only, no values)
    identifying: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no problem (warnings allowed)."""
        return not self.problems

    def summary(self) -> dict[str, Any]:
        """Counts by authenticity, kind, size, bit depth, photometric, display and finding."""

        def count(values: list[Any]) -> dict[str, int]:
            return {
                str(k): v for k, v in sorted(Counter(values).items(), key=lambda kv: str(kv[0]))
            }

        return {
            "manifest": str(self.path),
            "sha256": self.sha256,
            "n_images": len(self.entries),
            "authenticity": count([e.authenticity for e in self.entries]),
            "generators": count([e.generator or "(none)" for e in self.entries]),
            "findings": count([f for e in self.entries for f in e.findings] or []),
            "kinds": count([i.kind for i in self.images]),
            "sizes": count([f"{i.width}x{i.height}" for i in self.images]),
            "bit_depths": count([i.bit_depth for i in self.images]),
            "photometric": count([i.photometric for i in self.images]),
            "display": count([i.display for i in self.images]),
            "with_pixel_spacing": sum(1 for i in self.images if i.pixel_spacing_mm),
            "window_overrides": sum(1 for e in self.entries if e.window is not None),
        }


def load_manifest(
    path: str | Path, *, check_images: bool = True, require_deidentified: bool = False
) -> Manifest:
    """Read and validate a manifest; raise :class:`ManifestError` listing every problem.

    Parameters
    ----------
    path : str or Path
        The CSV (``.tsv`` files are read tab-separated).
    check_images : bool
        Also decode every image (catches undecodable or non-image files before a session
        starts; costs one full load per image).
    require_deidentified : bool
        A DICOM whose header still identifies a patient is a problem, not a warning.

    Returns
    -------
    Manifest
    """
    result = check_manifest(
        path, check_images=check_images, require_deidentified=require_deidentified
    )
    if result.problems:
        raise ManifestError(result.path, result.problems)
    return Manifest(path=result.path, entries=result.entries, sha256=result.sha256)


def check_manifest(
    path: str | Path, *, check_images: bool = True, require_deidentified: bool = False
) -> ManifestCheck:
    """Validate a manifest and return everything found (never raises for content problems).

    Parameters
    ----------
    path : str or Path
        The manifest file.
    check_images : bool
        Decode every image that exists (see :func:`load_manifest`), and read every DICOM
        header for attributes that identify a patient
        (:mod:`stimuli.deidentification`; reported per file, all at once).
    require_deidentified : bool
        Report such a DICOM as a problem instead of a warning.

    Returns
    -------
    ManifestCheck
        ``entries`` holds the rows that had no problem of their own.
    """
    return _ManifestChecker(
        Path(path).expanduser().absolute(), check_images, require_deidentified
    ).run()


_Row = list[str]


class _ManifestChecker:
    """The checks of :func:`check_manifest`, one method each; problems are collected, never raised."""

    def __init__(self, mpath: Path, check_images: bool, require_deidentified: bool) -> None:
        self.mpath = mpath
        self.name = str(mpath)
        self.check_images = check_images
        self.require_deidentified = require_deidentified
        self.problems: list[ManifestProblem] = []
        self.warns: list[ManifestProblem] = []
        self.entries: list[StimulusEntry] = []
        self.images: list[ImageSummary] = []
        self.identifying: dict[str, list[str]] = {}
        self.col: dict[str, int] = {}
        self.window_cols: list[str] = []
        self.seen_ids: dict[str, int] = {}
        self.seen_paths: dict[Path, str] = {}
        self.seen_hashes: dict[str, str] = {}
        self.digest = ""

    def problem(self, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(ManifestProblem(self.name, line, column, message))

    def warn(self, line: int | None, column: str | None, message: str) -> None:
        self.warns.append(ManifestProblem(self.name, line, column, message))

    def result(self) -> ManifestCheck:
        return ManifestCheck(
            self.mpath, self.entries, self.problems, self.warns, self.images, self.digest,
            self.identifying,
        )  # fmt: skip

    # ------------------------------------------------------------------ the file and header
    def run(self) -> ManifestCheck:
        text = self._read()
        if text is None:
            return self.result()
        reader = csv.reader(
            text.splitlines(keepends=True),
            delimiter="\t" if self.mpath.suffix.lower() == ".tsv" else ",",
        )
        header = self._header(reader)
        if header is None:
            return self.result()
        for row in reader:
            if _is_content(row):
                self._row(row, reader.line_num, len(header))
        if not self.seen_ids and not self.problems:
            self.problem(None, None, "lists no images")
        return self.result()

    def _read(self) -> str | None:
        if not self.mpath.is_file():
            self.problem(
                None,
                None,
                "manifest file not found" if not self.mpath.exists() else "is not a file",
            )
            return None
        try:
            raw = self.mpath.read_bytes()
            text = raw.decode("utf-8-sig")
        except OSError as exc:
            self.problem(None, None, f"cannot be read ({exc.strerror or exc})")
            return None
        except UnicodeDecodeError as exc:
            self.problem(None, None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV")
            return None
        self.digest = hashlib.sha256(raw).hexdigest()
        return text

    def _header(self, reader: Any) -> list[str] | None:
        header = next(
            ([c.strip().lower() for c in row] for row in reader if _is_content(row)), None
        )
        if header is None:
            self.problem(
                None, None, "is empty: it needs a header row with " + ", ".join(REQUIRED_COLUMNS)
            )
            return None
        line = reader.line_num
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            self.problem(
                line,
                None,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (header is {', '.join(header)}; "
                f"required: {', '.join(REQUIRED_COLUMNS)})",
            )
        dup_cols = sorted(c for c, n in Counter(header).items() if n > 1 and c)
        if dup_cols:
            self.problem(
                line,
                None,
                f"column{'s' if len(dup_cols) > 1 else ''} {', '.join(dup_cols)} appear more than once",
            )
        self.col = {c: header.index(c) for c in header if c}
        self.window_cols = [c for c in OPTIONAL_COLUMNS if c in self.col]
        if len(self.window_cols) == 1:
            other = next(c for c in OPTIONAL_COLUMNS if c not in self.col)
            self.problem(
                line,
                None,
                f"has {self.window_cols[0]} but no {other}: give both window columns or neither",
            )
        return header

    # ------------------------------------------------------------------ one row
    def _get(self, row: _Row, c: str) -> str:
        i = self.col.get(c)
        return row[i].strip() if i is not None and i < len(row) else ""

    def _row(self, row: _Row, line: int, n_header: int) -> None:
        n_before = len(self.problems)
        if len(row) > n_header:
            self.problem(
                line,
                None,
                f"has {len(row)} fields but the header has {n_header} (an unquoted comma?)",
            )
        image_id = self._image_id(row, line)
        auth = self._authenticity(row, line)
        generator = self._get(row, "generator")
        if auth == "synthetic" and "generator" in self.col and not generator:
            self.problem(
                line,
                "generator",
                "is empty for a synthetic image: name the model that made it (e.g. 'RoentGen v1')",
            )
        findings = tuple(f.strip() for f in self._get(row, "findings").split(";") if f.strip())
        wc, ww = self._window(row, line)
        img_path = self._path(row, line)
        if img_path is not None and self.check_images and (ww is None or ww >= 1):
            window = (wc, ww) if wc is not None and ww is not None else None
            self._image(img_path, window, image_id, self._get(row, "path"), line)
        if img_path is not None:
            self.seen_paths.setdefault(img_path, image_id)
        if len(self.problems) == n_before and img_path is not None:
            extra = {
                c: self._get(row, c)
                for c in self.col
                if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
            }
            self.entries.append(
                StimulusEntry(image_id, img_path, auth, generator, findings, wc, ww, line, extra)
            )

    def _image_id(self, row: _Row, line: int) -> str:
        image_id = self._get(row, "image_id")
        if "image_id" not in self.col:
            return image_id
        if not image_id:
            self.problem(line, "image_id", "is empty: every image needs a unique id")
        elif image_id in self.seen_ids:
            self.problem(
                line,
                "image_id",
                f"{image_id!r} is already used on line {self.seen_ids[image_id]}; ids must be unique",
            )
        else:
            self.seen_ids[image_id] = line
        return image_id

    def _authenticity(self, row: _Row, line: int) -> str:
        auth = self._get(row, "authenticity").lower()
        if "authenticity" in self.col and auth not in AUTHENTICITY_VALUES:
            self.problem(
                line,
                "authenticity",
                f"{self._get(row, 'authenticity')!r} is not one of: {', '.join(AUTHENTICITY_VALUES)}",
            )
        return auth

    def _window(self, row: _Row, line: int) -> tuple[float | None, float | None]:
        window = [_number(self._get(row, c)) for c in OPTIONAL_COLUMNS]
        for c, (value, text) in zip(OPTIONAL_COLUMNS, window, strict=True):
            if text and value is None:
                self.problem(line, c, f"{text!r} is not a number")
        wc, ww = window[0][0], window[1][0]
        if len(self.window_cols) == 2 and bool(window[0][1]) != bool(window[1][1]):
            self.problem(
                line,
                "window_width" if ww is None else "window_center",
                "give both window_center and window_width, or neither",
            )
            wc = ww = None
        if ww is not None and ww < 1:
            self.problem(line, "window_width", f"{ww!r} must be >= 1")
        return wc, ww

    def _path(self, row: _Row, line: int) -> Path | None:
        rel = self._get(row, "path")
        if "path" not in self.col:
            return None
        if not rel:
            self.problem(
                line, "path", "is empty: give the image file, relative to the manifest's folder"
            )
            return None
        img_path = _resolve(self.mpath.parent, rel)
        if not img_path.exists():
            self.problem(line, "path", f"file not found: {rel} (looked for {img_path})")
            return None
        if not img_path.is_file():
            self.problem(line, "path", f"{rel} is not a file")
            return None
        if img_path in self.seen_paths:
            self.warn(line, "path", f"{rel} is also image {self.seen_paths[img_path]!r}")
        return img_path

    # ------------------------------------------------------------------ the image itself
    def _image(
        self,
        img_path: Path,
        window: tuple[float, float] | None,
        image_id: str,
        rel: str,
        line: int,
    ) -> None:
        try:
            img = load_image(img_path, window, warn=False)
        except ImageLoadError as exc:
            self.problem(
                line,
                "path",
                f"unreadable image: {exc.reason}" + (f" ({exc.fix})" if exc.fix else ""),
            )
            return
        for note in img.notes:
            self.warn(line, "path", note)
        if img.sha256 in self.seen_hashes and img_path not in self.seen_paths:
            self.warn(line, "path", f"same file content as image {self.seen_hashes[img.sha256]!r}")
        self.seen_hashes.setdefault(img.sha256, image_id)
        if img.kind == "dicom":
            self._deidentified(img_path, image_id, rel, line)
        self.images.append(
            ImageSummary(
                image_id, img.kind, img.width, img.height, img.bit_depth, img.photometric,
                img.display, img.pixel_spacing_mm, img.sha256,
            )
        )  # fmt: skip

    def _deidentified(self, img_path: Path, image_id: str, rel: str, line: int) -> None:
        ident = _identifying(img_path)
        if not ident:
            return
        self.identifying[image_id] = ident
        msg = (
            f"{rel}: DICOM attributes that identify a patient: "
            f"{', '.join(ident)} (values not shown). De-identify the file "
            "(DICOM PS3.15 basic profile: remove them or write dummy values) "
            "before showing it in a study"
        )
        if self.require_deidentified:
            self.problem(line, "path", msg + " ([privacy] require_deidentified)")
        else:
            self.warn(line, "path", msg)


def _is_content(row: _Row) -> bool:
    """A row with a value that is not a ``#`` comment."""
    return bool(row) and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")


def _resolve(folder: Path, rel: str) -> Path:
    """An image path relative to the manifest's folder (a path written on Windows works too)."""
    p = Path(rel).expanduser()
    img_path = (p if p.is_absolute() else folder / p).resolve()
    if not img_path.exists() and "\\" in rel:  # a manifest written on Windows
        alt = Path(rel.replace("\\", "/")).expanduser()
        alt_path = (alt if alt.is_absolute() else folder / alt).resolve()
        img_path = alt_path if alt_path.exists() else img_path
    return img_path


def _identifying(path: Path) -> list[str]:
    from stimuli.deidentification import identifying_attributes_of_file

    try:
        return identifying_attributes_of_file(path)
    except Exception:  # the image decoded: a header that cannot be re-read is not a leak
        return []


def write_manifest(path: str | Path, rows: list[dict[str, Any]]) -> Path:
    """Write a manifest CSV from dicts (``findings`` may be a list; paths as given).

    Parameters
    ----------
    path : str or Path
        Output file.
    rows : list of dict
        Keys are column names; the required and window columns come first.

    Returns
    -------
    Path
    """
    out = Path(path)
    extra = [k for r in rows for k in r if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    columns = list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) + list(dict.fromkeys(extra))
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            vals = []
            for c in columns:
                v = r.get(c, "")
                if c == "findings" and not isinstance(v, str):
                    v = ";".join(v)
                vals.append("" if v is None else str(v))
            w.writerow(vals)
    return out


def _number(text: str) -> tuple[float | None, str]:
    if not text:
        return None, ""
    try:
        v = float(text)
    except ValueError:
        return None, text
    return (v if math.isfinite(v) else None), text
