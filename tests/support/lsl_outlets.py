"""Helpers for tests with real pylsl outlets on loopback (imported by the LSL test modules).

Every stream gets a unique source_id so that tests of several engineers running at once on the
same machine never pick up each other's streams.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import numpy as np
import pylsl

#: (label, eye, type, unit) of a typical binocular gaze stream with XDF gaze meta-data.
XDF_CHANNELS: list[tuple[str, str, str, str]] = [
    ("LX", "left", "ScreenX", "normalized"),
    ("LY", "left", "ScreenY", "normalized"),
    ("RX", "right", "ScreenX", "normalized"),
    ("RY", "right", "ScreenY", "normalized"),
    ("LP", "left", "Diameter", "mm"),
    ("RP", "right", "Diameter", "mm"),
]


def unique_id(prefix: str = "test") -> str:
    return f"gazeread-{prefix}-{uuid.uuid4().hex[:12]}"


def make_outlet(
    source_id: str,
    *,
    channels: list[tuple[str, str, str, str]] | None = None,
    rate: float = 250.0,
    name: str | None = None,
    type_: str = "Gaze",
    with_metadata: bool = True,
) -> pylsl.StreamOutlet:
    """An outlet whose channels carry XDF gaze meta-data (or only labels)."""
    chans = channels if channels is not None else XDF_CHANNELS
    info = pylsl.StreamInfo(
        name or source_id, type_, len(chans), rate, pylsl.cf_double64, source_id
    )
    if with_metadata:
        node = info.desc().append_child("channels")
        for label, eye, typ, unit in chans:
            c = node.append_child("channel")
            c.append_child_value("label", label)
            if eye:
                c.append_child_value("eye", eye)
            if typ:
                c.append_child_value("type", typ)
            if unit:
                c.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def sample_values(i: np.ndarray | int, n_ch: int = 6) -> np.ndarray:
    """Deterministic channel values of sample i: x = 0.1 + i/1e5, pupils 3 mm."""
    i = np.atleast_1d(np.asarray(i, dtype=np.float64))
    out = np.empty((len(i), n_ch))
    out[:, 0] = 0.1 + i * 1e-5
    out[:, 1] = 0.2 + i * 1e-5
    out[:, 2] = 0.3 + i * 1e-5
    out[:, 3] = 0.4 + i * 1e-5
    out[:, 4:] = 3.0
    return out


class PacedPusher:
    """Push samples into an outlet from a thread at ``rate``, timestamps ``t0 + i / rate``.

    ``skip`` is a set of sample indices never pushed (to make gaps in the tracker's clock).
    """

    def __init__(
        self, outlet: Any, rate: float, n_ch: int = 6, skip: set[int] | None = None
    ) -> None:
        self.outlet = outlet
        self.rate = rate
        self.n_ch = n_ch
        self.skip = skip or set()
        self.pushed = 0
        self._skip_from = 0
        self.t0 = pylsl.local_clock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-lsl-pusher", daemon=True)

    def skip_next(self, n: int) -> None:
        """Do not push the next ``n`` samples (a gap in the stream's own timestamps)."""
        self._skip_from = n

    def __enter__(self) -> PacedPusher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        i = 0
        start = time.perf_counter()
        while not self._stop.is_set():
            due = int((time.perf_counter() - start) * self.rate) + 1
            if self._skip_from and due > i:
                n, self._skip_from = self._skip_from, 0
                self.skip.update(range(i, i + n))
            idx = [k for k in range(i, due) if k not in self.skip]
            if idx:
                vals = sample_values(np.array(idx), self.n_ch)
                ts = [self.t0 + k / self.rate for k in idx]
                self.outlet.push_chunk(vals, ts)
                self.pushed += len(idx)
            i = due
            time.sleep(0.002)
