"""Tables in the terminal, drawn by ``rich``: one look for every command that prints one.

Plain text (no colour, no box characters, one line a row however long) when the output is not
a terminal, so scripts and logs read the same columns; on a terminal long cells wrap.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

__all__ = ["Column", "render_table"]

#: ``(header, justify)``; justify is ``"left"`` or ``"right"``.
Column = tuple[str, str]


def render_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    indent: int = 2,
    header: bool = True,
    file: TextIO | None = None,
) -> str:
    """The table as text, for ``file`` (default stdout: colour and box only on a terminal)."""
    from rich import box
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table

    target = file if file is not None else sys.stdout
    tty = bool(getattr(target, "isatty", lambda: False)())
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD if tty else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold" if tty else "",
        show_header=header,
    )
    for name, justify in columns:  # off a terminal a row stays one line, for grep and scripts
        table.add_column(name, justify="right" if justify == "right" else "left", no_wrap=not tty)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    buf = io.StringIO()
    console = Console(
        file=buf, width=shutil.get_terminal_size((160, 40)).columns if tty else 100_000,
        force_terminal=tty, color_system="standard" if tty else None,
        highlight=False,
    )  # fmt: skip
    console.print(Padding(table, (0, 0, 0, indent)))
    return "\n".join(line.rstrip() for line in buf.getvalue().rstrip("\n").splitlines())
