"""The shared parts of :class:`acquisition.trackers.base.Tracker`: offsets and its thread."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest

from acquisition.clock import ClockOffset
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers.base import Availability, Tracker, TrackerError


class ThreadTracker(Tracker):
    """A minimal backend whose thread runs ``body`` until stopped."""

    name: ClassVar[str] = "dummy"

    def __init__(self, body: Any = None) -> None:
        super().__init__(RingBuffer(16))
        self.body = body
        self.stop_evt = threading.Event()
        self.cleaned = 0

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True, "always")

    def supported_rates(self) -> list[float]:
        return [100.0]

    def _start(self) -> None:
        self.stop_evt.clear()
        self._start_thread(self._run, "gazeread-dummy", what="worker thread")

    def _stop(self) -> None:
        self.stop_evt.set()
        self._join_thread(2.0, cleanup=self._cleanup)

    def _cleanup(self) -> None:
        self.cleaned += 1

    def _run(self) -> None:
        if self.body is not None:
            self.body(self)
        self.stop_evt.wait(5.0)


def test_offset_recorded_while_draining_is_not_lost() -> None:
    """The tracker thread is paused inside record_offset, holding the container it stores into.

    The former list swap handed that list out while the append still went into it: the offset
    was lost. A queue keeps it for the next drain. (The pause used to be an opcode trace on the
    call; CPython 3.12.1 does not deliver opcode events enabled from a call event, so the
    container's store pauses instead.)
    """
    tr = ThreadTracker()
    at_call, go_on = threading.Event(), threading.Event()
    real = tr._offsets

    class PausingContainer:
        """The tracker's own queue, whose store pauses first (the producer holds it then)."""

        def put(self, item: Any) -> None:
            at_call.set()
            go_on.wait(5.0)
            real.put(item)

        def get_nowait(self) -> Any:
            return real.get_nowait()

    tr._offsets = PausingContainer()  # type: ignore[assignment]
    th = threading.Thread(
        target=lambda: tr.record_offset("dev", ClockOffset(1.0, 2.0, 0.0)),
        name="test-offset-producer",
        daemon=True,
    )
    th.start()
    assert at_call.wait(5.0)
    first = tr.drain_offsets()
    go_on.set()
    th.join(5.0)
    second = tr.drain_offsets()
    assert first + second == [("dev", ClockOffset(1.0, 2.0, 0.0))]


def test_offsets_drained_in_order_once() -> None:
    tr = ThreadTracker()
    for k in range(5):
        tr.record_offset("s", ClockOffset(float(k), 0.0, 0.0))
    assert [o.t_session for _, o in tr.drain_offsets()] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert tr.drain_offsets() == []


def test_thread_is_named_daemon_and_stops() -> None:
    seen: list[threading.Thread] = []
    tr = ThreadTracker(lambda t: seen.append(threading.current_thread()))
    tr.start()
    tr.stop()
    assert seen[0].name == "gazeread-dummy" and seen[0].daemon
    assert not seen[0].is_alive() and tr.cleaned == 1 and tr.error is None


def test_thread_exception_is_posted_stored_and_raised_by_stop() -> None:
    def boom(t: ThreadTracker) -> None:
        raise ValueError("device said no")

    tr = ThreadTracker(boom)
    tr.start()
    th = tr._thread
    assert th is not None
    th.join(5.0)
    assert isinstance(tr.error, ValueError)
    events = tr.drain_events()
    assert [e.kind for e in events] == ["error"]
    assert (
        "dummy worker thread failed" in events[0].message and "device said no" in events[0].message
    )
    with pytest.raises(TrackerError, match=r"dummy: worker thread failed: ValueError") as ei:
        tr.stop()
    assert isinstance(ei.value.__cause__, ValueError)
    assert tr.cleaned == 1, "the device is closed before the error is raised"
    assert tr.error is None
    tr.body = None
    tr.start()  # a new start begins clean
    tr.stop()


def test_thread_that_does_not_stop_is_reported() -> None:
    release = threading.Event()
    tr = ThreadTracker(lambda t: release.wait(10.0))
    tr.start()
    tr.stop_evt.set()
    with pytest.raises(TrackerError, match=r"dummy: worker thread did not stop within 0.1 s"):
        tr._join_thread(0.1)
    release.set()
    tr._join_thread(5.0)
