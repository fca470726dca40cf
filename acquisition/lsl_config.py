"""liblsl's configuration for this process: who can find our streams, and how much it logs.

liblsl reads its configuration once, from the file named by ``LSLAPICFG``, the first time a
stream is created or resolved. :func:`configure_liblsl` writes such a file (readable by its
owner only) and points ``LSLAPICFG`` at it, so it must run before any outlet, inlet or resolve
in the process.

Scopes (``[privacy] lsl_scope`` in a protocol, ``--lsl-scope`` on the command line):

``network``
    liblsl's defaults: any computer on the lab network finds the streams (what LabRecorder on
    another computer needs).
``local``
    Discovery on this computer only: liblsl answers resolve queries on the loopback address
    only (``[multicast] ResolveScope = machine``, ``ListenAddress = 127.0.0.1``), IPv6 off,
    no known peers. Another computer's ``gazeread console`` or LabRecorder does not see the
    streams. liblsl still opens its data ports (16572-16604) on every interface: block them
    in the firewall where a peer that knows the address must not connect (docs/privacy.md).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["LSL_SCOPES", "LslConfigError", "configure_liblsl", "liblsl_config_text"]

LSL_SCOPES = ("network", "local")


class LslConfigError(ValueError):
    """The liblsl configuration asked for cannot be set up; the message says how to fix it."""


def liblsl_config_text(scope: str, quiet: bool = False) -> str:
    """The ``lsl_api.cfg`` text for ``scope`` (``network`` or ``local``)."""
    if scope not in LSL_SCOPES:
        raise LslConfigError(f"LSL scope must be one of {list(LSL_SCOPES)}, got {scope!r}")
    parts = []
    if scope == "local":
        parts.append("[ports]\nIPv6 = disable\n")
        parts.append("[multicast]\nResolveScope = machine\nListenAddress = 127.0.0.1\n")
        parts.append("[lab]\nKnownPeers = {}\n")
    if quiet:
        parts.append("[log]\nlevel = -2\n")
    return "\n".join(parts)


def configure_liblsl(scope: str = "network", quiet: bool = False) -> Path | None:
    """Set liblsl's configuration for this process; returns the file written (None: defaults).

    A user's own ``LSLAPICFG`` is kept for ``network`` (and ``quiet`` then changes nothing);
    with ``local`` it is refused, since two configurations cannot both apply: put the local
    settings (see :func:`liblsl_config_text`) into that file, or unset ``LSLAPICFG``.
    """
    text = liblsl_config_text(scope, quiet)
    own = os.environ.get("LSLAPICFG")
    if own and not own.startswith(str(Path(tempfile.gettempdir()) / "gazeread-lsl-")):
        if scope == "local":
            raise LslConfigError(
                f"LSL scope 'local' writes its own liblsl configuration, but LSLAPICFG={own} is "
                "set: unset LSLAPICFG, or add to that file: [multicast] ResolveScope = machine, "
                "ListenAddress = 127.0.0.1 and [ports] IPv6 = disable, then use --lsl-scope network"
            )
        return None
    if not text:
        return None
    folder = Path(tempfile.gettempdir()) / f"gazeread-lsl-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = folder.lstat()
        if folder.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise OSError(f"{folder} is not a private folder of this user")
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="gazeread-lsl-"))
    path = folder / f"{scope}{'-quiet' if quiet else ''}.cfg"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    os.environ["LSLAPICFG"] = str(path)
    return path
