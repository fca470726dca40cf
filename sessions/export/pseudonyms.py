"""Pseudonymous participant labels for exports (``gazeread export --pseudonymise``).

Participants become ``01``, ``02``, ... (``sub-01`` in every export's folder and file names,
tables and sidecars) in the order of their labels. The key that maps them back is a CSV written
*beside* the export folder, never inside it, readable by its owner only. An existing key file is
read first and extended, so that a participant keeps its pseudonym across exports.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["default_key_path", "load_key", "pseudonym_map", "write_key"]

_FIELDS = ("participant", "pseudonym")


def default_key_path(out: Path) -> Path:
    """``<out>-pseudonym-key.csv`` beside the export folder ``out``."""
    out = Path(out).absolute()
    return out.parent / f"{out.name}-pseudonym-key.csv"


def load_key(path: Path) -> dict[str, str]:
    """Participant label -> pseudonym from a key file (empty when there is none)."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and set(_FIELDS) - set(rows[0]):
        raise ValueError(f"{path} is not a pseudonym key (columns {list(_FIELDS)} expected)")
    return {r["participant"]: r["pseudonym"].removeprefix("sub-") for r in rows}


def pseudonym_map(labels: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Each label's pseudonym (``01``, ``02``, ...), keeping those already in ``known``."""
    out = dict(known or {})
    used = set(out.values())
    width = max(2, len(str(len(set(labels) | set(out)))))
    n = 0
    for label in sorted(set(labels)):
        if label in out:
            continue
        while True:
            n += 1
            cand = f"{n:0{width}d}"
            if cand not in used:
                break
        out[label] = cand
        used.add(cand)
    return out


def write_key(path: Path, mapping: dict[str, str], out: Path) -> Path:
    """Write the key (owner-only) beside ``out``; refuse a path inside the export folder."""
    path = Path(path).absolute()
    if path.is_relative_to(Path(out).absolute()):
        raise ValueError(
            f"the pseudonym key {path} would be inside the export folder {out}: the export must "
            "never include it; choose a --key outside it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(_FIELDS)
        for label, pseud in sorted(mapping.items(), key=lambda kv: kv[1]):
            wr.writerow((label, f"sub-{pseud}"))
    os.replace(tmp, path)
    return path
