"""Access to the Tobii Pro SDK (``tobii_research``).

Import it, explain why it cannot be imported, search for trackers with a timeout, and name a
tracker in one line.

The SDK is imported only when asked for, so importing this module never fails.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Any

from acquisition.trackers.base import TrackerError

__all__ = ["describe_eyetracker", "find_all", "load_sdk", "sdk_unavailable_reason"]


def sdk_unavailable_reason() -> str | None:
    """Why ``tobii_research`` cannot be imported here, or None when it can."""
    try:
        import tobii_research  # noqa: F401
    except (ImportError, OSError) as exc:
        impl = sys.implementation.name
        ver = ".".join(str(v) for v in sys.version_info[:3])
        pretty = "CPython" if impl == "cpython" else impl
        if sys.version_info[:2] != (3, 10) or impl != "cpython":
            return (
                f"tobii-research is published for CPython 3.10 only; this is {pretty} {ver}: "
                "create a 3.10 venv and pip install 'gazeread[tobii]'"
            )
        return (
            f"tobii_research cannot be imported in this Python {ver} ({sys.executable}): {exc}; "
            "install it with: pip install 'gazeread[tobii]'"
        )
    return None


def load_sdk() -> ModuleType:
    """The ``tobii_research`` module; TrackerError saying why when it cannot be imported."""
    reason = sdk_unavailable_reason()
    if reason is not None:
        raise TrackerError(f"tobii: {reason}")
    import tobii_research

    return tobii_research


def describe_eyetracker(et: Any) -> str:
    """One line naming a tracker: model, serial, address, firmware, name."""
    return (
        f"{et.model} serial {et.serial_number} at {et.address} "
        f"(firmware {et.firmware_version}, name {et.device_name!r})"
    )


def find_all(tr: ModuleType, timeout: float) -> tuple[Any, ...]:
    """``tr.find_all_eyetrackers()`` with a finite timeout (it has none of its own)."""
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 s, got {timeout!r}")
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["found"] = tuple(tr.find_all_eyetrackers())
        except Exception as exc:
            box["error"] = exc

    th = threading.Thread(target=run, name="tobii-find-all", daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise TrackerError(
            f"tobii: searching for eye trackers took longer than {timeout:g} s; "
            "check the network and try again with a longer timeout"
        )
    if "error" in box:
        raise TrackerError(f"tobii: find_all_eyetrackers failed: {box['error']}") from box["error"]
    found: tuple[Any, ...] = box["found"]
    return found
