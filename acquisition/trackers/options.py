"""Checking a tracker's options before anything is started: names, types, one line each.

``gazeread run --tracker-option rte=600`` must be refused before a session folder exists, with
the nearest valid option named. :func:`check_tracker_options` reads the backend's constructor
(its keyword parameters and their annotations) and returns every problem at once; building the
tracker (which finds an LSL stream or a Tobii device and checks values and ranges) is the next
step of preflight.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from acquisition.trackers import tracker_class

__all__ = ["check_tracker_options", "tracker_option_names"]

#: Constructor parameters that are wiring, not options a user sets.
_INTERNAL = frozenset({"self", "buffer", "clock", "params", "screen"})


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    cls = tracker_class(name)
    sig = inspect.signature(cls.__init__)
    return {
        p.name: p
        for p in sig.parameters.values()
        if p.name not in _INTERNAL
        and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def tracker_option_names(name: str) -> list[str]:
    """The options ``--tracker-option KEY=VALUE`` accepts for backend ``name``."""
    return sorted(_parameters(name))


def _accepted(annotation: Any) -> tuple[type, ...] | None:
    """Python types a value may have for ``annotation``; None when it cannot be judged."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            acc = _accepted(arg)
            if acc is None:
                return None
            out.extend(acc)
        return tuple(out)
    if annotation is type(None):
        return (type(None),)
    if annotation is float:
        return (float, int)
    if annotation in (int, str, bool):
        return (annotation,)
    return None  # mappings, tuples, classes: the constructor checks them


def _type_words(acc: tuple[type, ...]) -> str:
    names = {float: "a number", int: "a whole number", str: "text", bool: "true or false"}
    words = [names[t] for t in acc if t in names and not (t is int and float in acc)]
    return " or ".join(dict.fromkeys(words)) or "another type"


def check_tracker_options(name: str, options: Mapping[str, Any]) -> list[str]:
    """Every problem of ``options`` for backend ``name``, one line each (empty: all fine).

    Unknown keys are named with the nearest valid one; values whose type does not fit the
    option (``rate_hz=abc``) are named with what the option takes. An unknown backend raises
    :class:`~acquisition.trackers.TrackerError`.
    """
    params = _parameters(name)
    cls = tracker_class(name)
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that cannot be resolved here: names are still checked
        hints = {}
    problems = []
    for key, value in options.items():
        if key not in params:
            near = difflib.get_close_matches(key, list(params), n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(
                f"--tracker-option {key}={value}: the {name} tracker has no option {key!r}{hint}; "
                f"its options: {', '.join(sorted(params))}"
            )
            continue
        acc = _accepted(hints.get(key)) if key in hints else None
        if acc is None:
            continue
        ok = isinstance(value, acc) and not (isinstance(value, bool) and bool not in acc)
        if not ok:
            problems.append(
                f"--tracker-option {key}={value}: {name}'s {key} takes {_type_words(acc)}, "
                f"got {value!r}"
            )
    return problems
