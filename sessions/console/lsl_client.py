"""Find a running session's LSL streams and feed :class:`~sessions.console.live.LiveState`.

Two named threads, both with finite timeouts and a clean :meth:`LslClient.stop`:

- ``console-resolve`` looks for ``Gaze``, ``Markers`` and ``Fixations`` streams (optionally only
  those whose name or source_id contains ``source``) whenever one is missing or has gone quiet,
  opens inlets (with LSL clock synchronisation) and hands them over;
- ``console-pull`` drains every inlet (an inlet hands back its oldest data first: a live view
  must take everything) and notices lost streams, so a session that restarts is picked up again.

The console only ever opens inlets: nothing it does, or fails to do, reaches the recording.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import queue
import threading
import time
from typing import Any

from sessions.console.live import LiveState

__all__ = [
    "STREAM_TYPES",
    "LiveSession",
    "LslClient",
    "choose_stream",
    "find_sessions",
]

STREAM_TYPES = ("Gaze", "Markers", "Fixations")


@dataclasses.dataclass(frozen=True)
class StreamRef:
    """What the client needs to know of a resolved stream (picklable, no pylsl objects)."""

    type: str
    name: str
    source_id: str
    uid: str
    created_at: float


def choose_stream(candidates: list[StreamRef], prefer_prefix: str | None) -> StreamRef | None:
    """The stream to follow: the same session's (shared source-id prefix) else the newest."""
    if not candidates:
        return None
    if prefer_prefix:
        same = [c for c in candidates if c.source_id.startswith(prefer_prefix)]
        if same:
            candidates = same
    return max(candidates, key=lambda c: c.created_at)


@dataclasses.dataclass(frozen=True)
class LiveSession:
    """A gazeread session publishing on the network: ``gazeread console --source <uid>``."""

    uid: str
    host: str
    rate_hz: float
    created_at: float

    def describe(self, now: float) -> str:
        """One line for a list: uid, host, rate and how long it has been running."""
        return f"{self.uid}  on {self.host}, {self.rate_hz:g} Hz, started {now - self.created_at:.0f} s ago"


def find_sessions(timeout_s: float = 2.0) -> list[LiveSession]:
    """Gazeread sessions whose Gaze stream can be found now, newest first.

    A session's streams have source ids ``gazeread-<uid>-gaze`` (and ``-markers``,
    ``-fixations``); streams of other programs are not sessions and are left out.
    """
    import pylsl

    out = {}
    for info in pylsl.resolve_byprop("type", "Gaze", 0, timeout_s):
        sid = info.source_id()
        if not (sid.startswith("gazeread-") and sid.endswith("-gaze")):
            continue
        uid = sid[len("gazeread-") : -len("-gaze")]
        out[uid] = LiveSession(uid, info.hostname(), info.nominal_srate(), info.created_at())
    return sorted(out.values(), key=lambda s: s.created_at, reverse=True)


def _prefix(source_id: str) -> str:
    for suffix in ("-gaze", "-markers", "-fixations"):
        if source_id.endswith(suffix):
            return source_id[: -len(suffix)]
    return source_id


class LslClient:
    """Connects to a session's streams and keeps :attr:`state` up to date.

    Parameters
    ----------
    state : LiveState
    source : str, optional
        Follow only streams whose name or source_id contains this text.
    stale_s : float
        A stream silent this long is looked for again (a restarted session has new outlets).
    """

    def __init__(
        self,
        state: LiveState,
        *,
        source: str | None = None,
        stale_s: float = 3.0,
        resolve_every_s: float = 1.0,
    ) -> None:
        self.state = state
        self.source = source
        self.stale_s = stale_s
        self.resolve_every_s = resolve_every_s
        self._stop = threading.Event()
        self._handover: queue.Queue[tuple[str, StreamRef, Any, dict[str, Any]]] = queue.Queue()
        self._inlets: dict[str, tuple[StreamRef, Any]] = {}
        self._last_data: dict[str, float] = {}
        self._refs: dict[str, StreamRef | None] = dict.fromkeys(STREAM_TYPES)
        self._lock = threading.Lock()
        self.error: BaseException | None = None
        self._threads = [
            threading.Thread(
                target=self._guard(self._resolve_loop), name="console-resolve", daemon=True
            ),
            threading.Thread(target=self._guard(self._pull_loop), name="console-pull", daemon=True),
        ]

    def _guard(self, fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # surfaced by stop() and shown by the window
                self.error = exc
                self._stop.set()

        return run

    def start(self) -> LslClient:
        """Start both threads."""
        for th in self._threads:
            th.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the threads (each within ``timeout`` s) and close the inlets."""
        self._stop.set()
        for th in self._threads:
            if th.is_alive():
                th.join(timeout)
        with self._lock:
            for _, inlet in self._inlets.values():
                with contextlib.suppress(Exception):  # closing a dead inlet: nothing to do
                    inlet.close_stream()
            self._inlets.clear()

    @property
    def connected(self) -> dict[str, str | None]:
        """Stream type -> name of the stream followed (None when none)."""
        with self._lock:
            return {k: (v.name if v else None) for k, v in self._refs.items()}

    # ------------------------------------------------------------------ resolving
    def _wanted(self, now: float) -> list[str]:
        with self._lock:
            out = []
            for kind in STREAM_TYPES:
                if kind not in self._inlets or (
                    kind == "Gaze" and now - self._last_data.get(kind, now) > self.stale_s
                ):
                    out.append(kind)
            return out

    def _resolve_loop(self) -> None:
        import pylsl

        while not self._stop.is_set():
            now = time.monotonic()
            wanted = self._wanted(now)
            if wanted:
                infos = pylsl.resolve_bypred(
                    " or ".join(f"type='{k}'" for k in STREAM_TYPES), 0, 0.5
                )
                refs: dict[str, list[tuple[StreamRef, Any]]] = {k: [] for k in STREAM_TYPES}
                for info in infos:
                    ref = StreamRef(
                        info.type(), info.name(), info.source_id(), info.uid(), info.created_at()
                    )
                    if ref.type not in refs:
                        continue
                    if (
                        self.source
                        and self.source not in ref.name
                        and self.source not in ref.source_id
                    ):
                        continue
                    refs[ref.type].append((ref, info))
                with self._lock:
                    prefer = next((_prefix(r.source_id) for r in self._refs.values() if r), None)
                for kind in wanted:
                    chosen = choose_stream([r for r, _ in refs[kind]], prefer)
                    if chosen is None:
                        continue
                    with self._lock:
                        current = self._refs.get(kind)
                    if current is not None and current.uid == chosen.uid and kind in self._inlets:
                        continue  # quiet but still the newest: keep it
                    info = next(i for r, i in refs[kind] if r.uid == chosen.uid)
                    inlet = pylsl.StreamInlet(
                        info, max_buflen=30, recover=False, processing_flags=pylsl.proc_clocksync
                    )
                    try:
                        inlet.open_stream(timeout=2.0)
                        full = inlet.info(timeout=2.0)
                    except Exception:
                        continue
                    self._handover.put((kind, chosen, inlet, _describe(full)))
                    prefer = prefer or _prefix(chosen.source_id)
            self._stop.wait(self.resolve_every_s)

    # ------------------------------------------------------------------ pulling
    def _adopt(self) -> None:
        while True:
            try:
                kind, ref, inlet, desc = self._handover.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                old = self._inlets.pop(kind, None)
                self._inlets[kind] = (ref, inlet)
                self._refs[kind] = ref
                self._last_data[kind] = time.monotonic()
            if old is not None:
                with contextlib.suppress(Exception):  # the old stream is gone already
                    old[1].close_stream()
            self.state.set_connected(
                kind,
                ref.name,
                nominal_rate=desc.get("rate"),
                labels=desc.get("labels"),
                types=desc.get("types"),
                eyes=desc.get("eyes"),
                screen=desc.get("screen"),
            )

    def _drop(self, kind: str) -> None:
        with self._lock:
            self._inlets.pop(kind, None)
            self._refs[kind] = None
        self.state.set_connected(kind, None)

    def _pull_loop(self) -> None:
        from pylsl.util import LostError

        from acquisition.fixations.lsl_stream import event_from_sample

        while not self._stop.is_set():
            self._adopt()
            with self._lock:
                inlets = list(self._inlets.items())
            got = False
            for kind, (_ref, inlet) in inlets:
                try:
                    data, ts = inlet.pull_chunk(timeout=0.0, max_samples=8192)
                except LostError:
                    self._drop(kind)
                    continue
                if not ts:
                    continue
                got = True
                with self._lock:
                    self._last_data[kind] = time.monotonic()
                if kind == "Gaze":
                    self.state.ingest_gaze(ts, data)
                elif kind == "Markers":
                    for t, row in zip(ts, data, strict=True):
                        self.state.ingest_marker(float(t), str(row[0]))
                else:
                    for row in data:
                        try:
                            ev = event_from_sample(row)
                        except ValueError:
                            continue
                        self.state.ingest_fixation(
                            ev.kind, ev.fixation_id, ev.x_px, ev.y_px, ev.duration_ms
                        )
            if not got:
                self._stop.wait(0.01)


def _describe(info: Any) -> dict[str, Any]:
    """Nominal rate, channel labels and the screen size (Gaze or Fixations) from a StreamInfo."""
    out: dict[str, Any] = {"rate": info.nominal_srate()}
    labels, types, eyes = [], [], []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty():
        labels.append(ch.child_value("label"))
        types.append(ch.child_value("type"))
        eyes.append(ch.child_value("eye"))
        ch = ch.next_sibling()
    out.update(labels=labels, types=types, eyes=eyes)
    scr = info.desc().child("screen")  # the Fixations stream's
    if scr.empty():
        scr = info.desc().child("setup").child("screen")  # the Gaze stream's (XDF setup)
    if not scr.empty():
        try:
            w, h = float(scr.child_value("width_px")), float(scr.child_value("height_px"))
            if math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0:
                out["screen"] = (int(w), int(h))
        except ValueError:
            pass
    return out
