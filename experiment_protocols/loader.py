"""Load protocols from TOML, by built-in name or by file, with errors naming file, line and field.

A protocol file looks like ``experiment_protocols/builtin/gazeval.toml`` (documented in
``docs/protocols.md``). Unknown keys are errors (a misspelt key would otherwise be silently
ignored), and every error says which file, which line and which field, and what would be valid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from experiment_protocols.model import (
    AuthenticityForm,
    Block,
    Breaks,
    Condition,
    DiagnosticForm,
    Display,
    FixationSettings,
    Privacy,
    Protocol,
    ProtocolError,
    Randomisation,
    Recalibration,
    Timing,
    TrackerSettings,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 lane
    import tomli as tomllib

__all__ = [
    "LoadedProtocol",
    "ProtocolErrors",
    "ProtocolFileError",
    "builtin_protocol_names",
    "load_protocol",
    "parse_protocol",
]


class ProtocolFileError(ProtocolError):
    """A protocol file is invalid; the message names the file, line and field."""

    def __init__(
        self, message: str, *, source: str, line: int | None = None, field: str | None = None
    ) -> None:
        where = source if line is None else f"{source}, line {line}"
        what = f" (field {field!r})" if field else ""
        super().__init__(f"{where}{what}: {message}", field)
        self.source = source
        self.line = line


@dataclasses.dataclass(frozen=True)
class LoadedProtocol:
    """A protocol with where it came from (stored with the session)."""

    protocol: Protocol
    source: str
    text: str
    sha256: str


def builtin_protocol_names() -> tuple[str, ...]:
    """Names usable with ``--protocol NAME``."""
    files = resources.files("experiment_protocols").joinpath("builtin")
    return tuple(sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml")))


def load_protocol(name_or_path: str | Path) -> LoadedProtocol:
    """Load a built-in protocol by name (``gazeval``, ``demo``) or a TOML file by path.

    A built-in name always means the built-in protocol, even when a file or folder of that
    name is in the current folder (``gazeread demo`` makes a ``demo`` study folder there); a
    file is named like a path (``./demo``, ``demo.toml``, ``protocols/demo``).

    Raises
    ------
    ProtocolFileError
        The file is missing, is not TOML, or describes an invalid protocol.
    """
    text_name = str(name_or_path)
    if text_name in builtin_protocol_names():
        res = (
            resources.files("experiment_protocols")
            .joinpath("builtin")
            .joinpath(f"{text_name}.toml")
        )
        text = res.read_text(encoding="utf-8")
        source = f"builtin protocol {text_name!r}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProtocolFileError(
                "no such protocol file and no built-in protocol of that name; built-in "
                f"protocols: {', '.join(builtin_protocol_names())}",
                source=str(path),
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProtocolFileError(f"cannot read the file: {exc}", source=str(path)) from exc
        source = str(path.resolve())
    protocol = parse_protocol(text, source=source, default_name=Path(text_name).stem)
    return LoadedProtocol(protocol, source, text, hashlib.sha256(text.encode()).hexdigest())


# ---------------------------------------------------------------------------- line finding
def _line_of(text: str, dotted: str) -> int | None:
    """Best-effort line number of the TOML key ``dotted`` (e.g. ``timing.iti_s``, ``blocks[1].x``)."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", dotted)
    if not parts:
        return None
    lines = text.splitlines()
    # Locate the table that holds the last key, then the key inside it.
    table: list[str] = []
    index: int | None = None
    for p in parts[:-1]:
        if p.startswith("["):
            index = int(p[1:-1])
        else:
            table.append(p)
    key = parts[-1]
    if key.startswith("["):  # an array element: point at the table itself
        index = int(key[1:-1])
        key = ""
    header = ".".join(table)
    start = 0
    if header:
        found = _table_line(lines, header, index)
        if found is None:
            return None
        if not key:
            return found + 1
        start = found + 1
    pat = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start, len(lines)):
        if i > start and header and lines[i].strip().startswith("["):
            break
        if pat.match(lines[i]):
            return i + 1
    return (start if header else None) or None


def _table_line(lines: list[str], header: str, index: int | None) -> int | None:
    """Index of the line ``[header]`` (or the ``index``-th ``[[header]]``), None if absent."""
    count = -1
    for i, line in enumerate(lines):
        if line.strip() in (f"[{header}]", f"[[{header}]]"):
            count += 1
            if index is None or count == index:
                return i
    return None


# ---------------------------------------------------------------------------- parsing
_SECTIONS = {
    "study",
    "timing",
    "calibration",
    "breaks",
    "randomisation",
    "display",
    "privacy",
    "tracker",
    "fixations",
    "conditions",
    "blocks",
}


class ProtocolErrors(ProtocolFileError):
    """Several problems in one protocol file, all reported at once (``errors`` lists them)."""

    def __init__(self, errors: list[ProtocolFileError], source: str) -> None:
        self.errors = list(errors)
        ProtocolError.__init__(
            self,
            f"{len(errors)} problems in the protocol {source}:\n"
            + "\n".join(f"  - {e}" for e in errors),
            errors[0].field,
        )
        self.source = source
        self.line = errors[0].line


class _Ctx:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.errors: list[ProtocolFileError] = []

    def collect(self, build: Any, default: Any) -> Any:
        """``build()``, or ``default`` after noting its error (all are reported together)."""
        try:
            return build()
        except ProtocolFileError as exc:
            self.errors.append(exc)
            return default

    def raise_errors(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ProtocolErrors(self.errors, self.source)

    def fail(self, message: str, field: str) -> ProtocolFileError:
        return ProtocolFileError(
            message, source=self.source, line=_line_of(self.text, field), field=field
        )

    def table(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"must be a table ([{key}]), got {value!r}", f"{where}{key}")
        return dict(value)

    def build(self, cls: type, data: dict[str, Any], where: str, **extra: Any) -> Any:
        """Build dataclass ``cls`` from ``data``, converting lists to tuples, naming bad keys."""
        fields = (
            {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
        )
        unknown = sorted(set(data) - set(fields) - {"kind"})
        if unknown:
            raise self.fail(
                f"unknown key(s) {unknown}; valid keys here: {sorted(k for k in fields if k != 'kind')}",
                f"{where}{unknown[0]}",
            )
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "kind"}
        kwargs.update(extra)
        try:
            return cls(**kwargs)
        except ProtocolError as exc:
            field = f"{where}{exc.field}" if exc.field else where.rstrip(".")
            raise self.fail(str(exc), field) from None
        except TypeError as exc:
            raise self.fail(str(exc), where.rstrip(".")) from None


def parse_protocol(text: str, *, source: str = "<protocol>", default_name: str = "") -> Protocol:
    """Parse protocol TOML text; errors name ``source``, the line and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ProtocolFileError(
            f"not valid TOML: {exc}", source=source, line=int(m.group(1)) if m else None
        ) from None
    ctx = _Ctx(text, source)
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise ctx.fail(
            f"unknown section(s) {unknown}; valid sections: {sorted(_SECTIONS)}", unknown[0]
        )
    study = _study(ctx, data)
    conditions = _conditions(ctx, data)
    blocks = _blocks(ctx, data)
    settings = _settings(ctx, data)
    ctx.raise_errors()  # every problem found so far, at once
    try:
        return Protocol(
            name=str(study.get("protocol", default_name or study["name"])),
            study=str(study["name"]),
            description=str(study.get("description", "")),
            welcome=str(study.get("welcome", Protocol.__dataclass_fields__["welcome"].default)),
            conditions=conditions,
            blocks=tuple(blocks),
            **settings,
        )
    except ProtocolFileError:
        raise
    except ProtocolError as exc:
        raise ctx.fail(str(exc), exc.field or "study") from None


def _study(ctx: _Ctx, data: dict[str, Any]) -> dict[str, Any]:
    study = ctx.table(data, "study", "")
    bad = sorted(set(study) - {"name", "protocol", "description", "welcome"})
    if bad:
        raise ctx.fail(
            f"unknown key(s) {bad}; valid keys: description, name, protocol, welcome",
            f"study.{bad[0]}",
        )
    if "name" not in study:
        raise ctx.fail('the study needs a name (name = "my-study")', "study")
    return study


_FORMS: dict[str, type] = {"diagnostic": DiagnosticForm, "authenticity": AuthenticityForm}


def _conditions(ctx: _Ctx, data: dict[str, Any]) -> dict[str, Condition]:
    conditions: dict[str, Condition] = {}
    cond_tables = ctx.table(data, "conditions", "")
    if not cond_tables:
        raise ctx.fail(
            'define at least one condition, e.g. [conditions.diagnostic] with kind = "diagnostic"',
            "conditions",
        )
    for cname, ctable in cond_tables.items():
        where = f"conditions.{cname}."
        if not isinstance(ctable, dict):
            raise ctx.fail(f"must be a table, got {ctable!r}", where.rstrip("."))
        ctable = dict(ctable)
        kind = ctable.get("kind")
        instructions = ctable.pop("instructions", "")
        form_cls = _FORMS.get(kind) if isinstance(kind, str) else None
        if form_cls is None:
            ctx.errors.append(
                ctx.fail(
                    f"kind must be 'diagnostic' or 'authenticity', got {kind!r}", f"{where}kind"
                )
            )
            continue
        form = ctx.collect(lambda c=form_cls, t=ctable, w=where: ctx.build(c, t, w), None)
        if form is None:
            continue
        try:
            conditions[cname] = Condition(cname, str(instructions), form)
        except ProtocolError as exc:
            ctx.errors.append(ctx.fail(str(exc), f"{where}{exc.field or 'name'}"))
    return conditions


def _blocks(ctx: _Ctx, data: dict[str, Any]) -> list[Block]:
    raw_blocks = data.get("blocks", [])
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise ctx.fail(
            "define at least one block: [[blocks]] with name and conditions = [...]", "blocks"
        )
    blocks = []
    for i, b in enumerate(raw_blocks):
        where = f"blocks[{i}]."
        if not isinstance(b, dict):
            raise ctx.fail(f"must be a table, got {b!r}", f"blocks[{i}]")
        b = dict(b)
        if "condition" in b and "conditions" not in b:
            b["conditions"] = [b.pop("condition")]
        b.setdefault("name", f"block{i + 1}")
        block = ctx.collect(lambda b=b, w=where: ctx.build(Block, b, w), None)
        if block is not None:
            blocks.append(block)
    return blocks


def _tuple_background(table: dict[str, Any]) -> None:
    if "background" in table and isinstance(table["background"], list):
        table["background"] = tuple(table["background"])


def _settings(ctx: _Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """The settings sections, each its defaults where it has an error (noted in ``ctx``)."""

    def section(cls: type, key: str, fix: Any = None) -> Any:
        def build() -> Any:
            table = ctx.table(data, key, "")
            if fix is not None:
                fix(table)
            return ctx.build(cls, table, f"{key}.")

        return ctx.collect(build, cls())

    return {
        "timing": section(Timing, "timing"),
        "recalibration": section(Recalibration, "calibration"),
        "breaks": section(Breaks, "breaks"),
        "randomisation": section(Randomisation, "randomisation"),
        "display": section(Display, "display", _tuple_background),
        "privacy": section(Privacy, "privacy"),
        "tracker": section(TrackerSettings, "tracker"),
        "fixations": section(FixationSettings, "fixations"),
    }
