"""Where a session's data came from: software, machine, device, screen, protocol and stimuli.

:func:`collect_provenance` returns the columns of the store's ``session`` table, ready for
``SessionStore.create(..., **collect_provenance(...))`` or ``store.update_session(**...)``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["PROVENANCE_PACKAGES", "collect_provenance", "file_text_and_sha256", "package_versions"]

#: Packages whose versions are stored with every session.
PROVENANCE_PACKAGES: tuple[str, ...] = (
    "gazeread", "numpy", "scipy", "pandas", "pillow", "pydicom", "pylsl", "psychopy",
    "pyqt6", "numba", "tobii-research", "pymovements",
)  # fmt: skip


def package_versions(names: tuple[str, ...] = PROVENANCE_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None when it is not installed)."""
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = None
    return out


def file_text_and_sha256(path: str | os.PathLike[str]) -> tuple[str, str]:
    """A text file's content (UTF-8, undecodable bytes replaced) and the SHA-256 of its bytes."""
    data = Path(path).read_bytes()
    return data.decode("utf-8", errors="replace"), hashlib.sha256(data).hexdigest()


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return dict(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(f"expected a dict or an object with to_dict(), got {type(obj).__name__}")


def collect_provenance(
    *,
    tracker_info: Any = None,
    screen: Any = None,
    protocol_path: str | os.PathLike[str] | None = None,
    manifest_path: str | os.PathLike[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Gather provenance as ``session``-table columns.

    Parameters
    ----------
    tracker_info : TrackerInfo or dict, optional
        The device (backend, model, serial, firmware, SDK version, rate) -> ``tracker_json``.
    screen : ScreenGeometry or dict, optional
        Screen size in px and mm, eye distance -> ``screen_json``.
    protocol_path, manifest_path : path, optional
        Stored as text with their SHA-256 (``protocol_text``/``protocol_sha256``,
        ``manifest_path``/``manifest_text``/``manifest_sha256``) and name.
    extra : dict, optional
        Merged into ``provenance_json``.

    Returns
    -------
    dict
        Keys among ``provenance_json`` (python, implementation, executable, OS, machine,
        host, packages, argv), ``tracker_json``, ``screen_json``, ``protocol_name``,
        ``protocol_text``, ``protocol_sha256``, ``manifest_path``, ``manifest_text``,
        ``manifest_sha256``.
    """
    prov: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.platform(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "host": socket.gethostname(),
        "argv": list(sys.argv),
        "packages": package_versions(),
    }
    if extra:
        prov.update(extra)
    out: dict[str, Any] = {"provenance_json": prov}
    tr = _as_dict(tracker_info)
    if tr is not None:
        out["tracker_json"] = tr
    sc = _as_dict(screen)
    if sc is not None:
        out["screen_json"] = sc
    if protocol_path is not None:
        text, sha = file_text_and_sha256(protocol_path)
        out.update(protocol_name=Path(protocol_path).name, protocol_text=text, protocol_sha256=sha)
    if manifest_path is not None:
        text, sha = file_text_and_sha256(manifest_path)
        out.update(
            manifest_path=str(Path(manifest_path).resolve()),
            manifest_text=text,
            manifest_sha256=sha,
        )
    return out
