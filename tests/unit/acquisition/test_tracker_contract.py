"""The contract every tracker backend keeps, run against every backend that can run here.

How a backend joins (the fixture hook)
--------------------------------------
Each name in :data:`BACKENDS` is served by a pytest fixture called ``contract_<name>`` that
takes the ``contract_buffer`` fixture (a fresh :class:`RingBuffer`) and yields a
:class:`ContractBackend`: the tracker (built, not started) writing into that buffer, the rate
it was set to, and ``make_gap()``, a callable that, while the tracker runs, makes at least
three consecutive samples go missing *in the tracker's own timestamps* (as a real device
dropping samples would). The fixture may live in this file or in any ``conftest.py`` on the
path (e.g. ``tests/unit/acquisition/conftest.py``); it must clean up after itself. A backend
whose fixture is missing, or whose fixture calls ``pytest.skip(reason)``, shows up as skipped
with that reason, never silently absent.

- ``simulated`` (SIM): always runs.
- ``lsl`` (LSL): a real pylsl outlet on loopback with a unique source_id, fed at 250 Hz by a
  thread; the gap skips pushes.
- ``tobii`` (TOBII): add ``contract_tobii`` with the fake ``EyeTracker`` that calls the gaze
  callback from another thread (skips where ``tobii_research`` is not importable).
- ``replay`` (STORE): a synthetic recorded session streamed live again; its recording has
  4 samples missing every 100, so waiting replays a gap.
- ``mouse``: the real X11 pointer (the display pytest-xvfb provides) polled at 250 Hz; the gap
  is a pointer read that stalls for 60 ms, as a busy X server would (skipped, saying why,
  without a display or python-xlib).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from acquisition.clock import session_clock
from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SAMPLE_DTYPE, SampleFlag
from acquisition.trackers import Tracker, TrackerError, tracker_class
from tests.support.lsl_outlets import PacedPusher, make_outlet, unique_id

#: Backends the contract runs against; each needs a ``contract_<name>`` fixture.
BACKENDS = ("simulated", "lsl", "tobii", "replay", "mouse")


@dataclasses.dataclass
class ContractBackend:
    """What a ``contract_<name>`` fixture yields."""

    tracker: Tracker
    rate: float
    make_gap: Callable[[], None]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def contract_buffer() -> RingBuffer:
    return RingBuffer(1 << 16)


@pytest.fixture
def contract_simulated(contract_buffer: RingBuffer) -> Iterator[ContractBackend]:
    cls = tracker_class("simulated")
    tr = cls(contract_buffer, rate_hz=250.0, seed=3, dropout_prob=0.0)  # type: ignore[call-arg]

    def gap() -> None:
        tr.disconnect()  # type: ignore[attr-defined]
        time.sleep(0.05)
        tr.reconnect()  # type: ignore[attr-defined]

    yield ContractBackend(tr, 250.0, gap)
    tr.stop()


@pytest.fixture
def contract_lsl(contract_buffer: RingBuffer) -> Iterator[ContractBackend]:
    cls = tracker_class("lsl")
    sid = unique_id("contract")
    outlet = make_outlet(sid, rate=250.0)
    with PacedPusher(outlet, 250.0) as pusher:
        tr = cls(contract_buffer, source_id=sid, resolve_timeout=3.0)  # type: ignore[call-arg]
        yield ContractBackend(tr, 250.0, lambda: pusher.skip_next(6))
        tr.stop()


# --- TOBII's addition (owner: TOBII): the tobii backend on the fake EyeTracker -------------
@pytest.fixture
def contract_tobii(contract_buffer: RingBuffer) -> Iterator[ContractBackend]:
    pytest.importorskip("tobii_research", reason=tracker_class("tobii").is_available().reason)
    from acquisition.trackers._tobii_fake import FakeEyeTracker, make_fake_tracker

    fake = FakeEyeTracker()
    tr = make_fake_tracker(contract_buffer, eyetracker=fake)
    yield ContractBackend(tr, 1200.0, lambda: fake.simulate_buffer_overflow(6))
    tr.stop()
    fake.unsubscribe_from("eyetracker_gaze_data")
    assert fake.error is None


# --- end of TOBII's addition ----------------------------------------------------------------


@pytest.fixture
def contract_mouse(contract_buffer: RingBuffer) -> Iterator[ContractBackend]:
    cls = tracker_class("mouse")
    avail = cls.is_available()
    if not avail.ok:
        pytest.skip(f"mouse backend unavailable: {avail.reason}")
    tr = cls(contract_buffer, rate_hz=250.0)  # type: ignore[call-arg]
    pointer = tr.source  # type: ignore[attr-defined]
    stall = threading.Event()

    class StallingPointer:
        def __call__(self) -> tuple[float, float] | None:
            if stall.is_set():
                stall.clear()
                time.sleep(0.06)
            return pointer()

        def close(self) -> None:
            pointer.close()

    tr.source = StallingPointer()  # type: ignore[attr-defined]
    yield ContractBackend(tr, 250.0, stall.set)
    tr.stop()


@pytest.fixture
def contract_replay(
    contract_buffer: RingBuffer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContractBackend]:
    """A recorded session (4 samples dropped every 100) streamed live again at 250 Hz."""
    from sessions.store import recorded_session
    from tests.support.synthetic_session import write_synthetic_session

    folder = write_synthetic_session(
        tmp_path_factory.mktemp("replay"),
        n_trials=2,
        trial_s=4.0,
        rate_hz=250.0,
        drop_every=100,
        drop_run=4,
        batch_s=1.0,
    )
    source = recorded_session(folder)  # the sessions layer opens it, the tracker reads it
    tr = tracker_class("replay")(contract_buffer, session=source)  # type: ignore[call-arg]
    # The recording drops 4 samples every 0.4 s: waiting half a second replays one such gap.
    yield ContractBackend(tr, 250.0, lambda: time.sleep(0.45))
    tr.stop()
    source.close()


@pytest.fixture(
    # The tobii case carries the `tobii` marker so the CPython 3.10 lane (-m tobii) selects it.
    params=[pytest.param(n, marks=pytest.mark.tobii) if n == "tobii" else n for n in BACKENDS]
)
def backend(request: pytest.FixtureRequest) -> ContractBackend:
    name = request.param
    try:
        value: ContractBackend = request.getfixturevalue(f"contract_{name}")
    except pytest.FixtureLookupError:
        try:
            why = tracker_class(name).is_available().reason
        except (ImportError, TrackerError) as exc:
            why = f"backend module cannot be imported: {exc}"
        pytest.skip(f"{name}: no contract_{name} fixture yet (see the top of this file); {why}")
    return value


def collect(reader, n: int, timeout: float = 10.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Consume until at least n samples arrived (or the timeout)."""
    parts = []
    got = 0
    end = time.monotonic() + timeout
    while got < n and time.monotonic() < end:
        if reader.wait(0.1):
            c = reader.consume()
            assert c.lost == 0
            parts.append(c.samples)
            got += len(c.samples)
    assert got >= n, f"only {got} of {n} samples within {timeout} s"
    return np.concatenate(parts)


# ----------------------------------------------------------------------------- the contract
def test_is_available_explains(backend: ContractBackend) -> None:
    avail = type(backend.tracker).is_available()
    assert isinstance(avail.ok, bool)
    assert isinstance(avail.reason, str) and avail.reason.strip(), "say what is there or missing"


def test_start_stop_idempotent(backend: ContractBackend, contract_buffer: RingBuffer) -> None:
    tr = backend.tracker
    r = contract_buffer.reader("contract")
    tr.stop()
    assert not tr.running
    tr.start()
    tr.start()
    assert tr.running
    collect(r, 5)
    tr.stop()
    tr.stop()
    assert not tr.running
    n = contract_buffer.total_pushed
    time.sleep(0.1)
    assert contract_buffer.total_pushed == n, "samples were pushed after stop()"


def test_samples_typed_monotonic_and_on_the_session_clock(
    backend: ContractBackend, contract_buffer: RingBuffer
) -> None:
    r = contract_buffer.reader("contract")
    backend.tracker.start()
    s = collect(r, 60)
    now = session_clock()
    backend.tracker.stop()
    assert s.dtype == SAMPLE_DTYPE
    assert np.all(np.diff(s["t"]) > 0), "t must increase"
    assert np.all(np.diff(s["device_ts"]) > 0), "device_ts must increase"
    assert now - 30.0 < s["t"][0] and s["t"][-1] <= now + 0.01, "t is session-clock time"
    for eye in ("left", "right"):
        valid = s[f"{eye}_valid"] == 1
        assert np.all(np.isnan(s[f"{eye}_x"][~valid])), "invalid gaze must be NaN"
        assert np.all(np.isfinite(s[f"{eye}_x"][valid]))


def test_rate_as_set(backend: ContractBackend, contract_buffer: RingBuffer) -> None:
    tr = backend.tracker
    assert tr.rate_hz == pytest.approx(backend.rate)
    assert any(abs(r - backend.rate) < 1e-6 for r in tr.supported_rates())
    r = contract_buffer.reader("contract")
    tr.start()
    s = collect(r, 80)
    tr.stop()
    period_us = 1e6 / backend.rate
    assert np.median(np.diff(s["device_ts"])) == pytest.approx(period_us, rel=0.05)
    assert np.median(np.diff(s["t"])) == pytest.approx(1.0 / backend.rate, rel=0.05)


def test_unsupported_rate_lists_supported(backend: ContractBackend) -> None:
    tr = backend.tracker
    with pytest.raises(TrackerError) as ei:
        tr.set_rate(7.77)
    msg = str(ei.value)
    assert "7.77" in msg
    for rate in tr.supported_rates():
        assert f"{rate:g}" in msg
    assert tr.rate_hz == pytest.approx(backend.rate), "a refused rate changes nothing"


def test_software_correction_applied(backend: ContractBackend, contract_buffer: RingBuffer) -> None:
    tr = backend.tracker
    tr.set_correction(lambda x, y: (x + 10.0, y - 10.0))
    assert tr.correction is not None
    r = contract_buffer.reader("contract")
    tr.start()
    s = collect(r, 40)
    tr.stop()
    assert np.all(s["flags"] & SampleFlag.SOFTWARE_CALIBRATED)
    valid = s["left_valid"] == 1
    assert valid.any()
    assert np.all(s["left_x"][valid] > 5.0) and np.all(s["left_y"][valid] < -5.0)


def test_gaps_flagged_counted_and_events_drained(
    backend: ContractBackend, contract_buffer: RingBuffer
) -> None:
    tr = backend.tracker
    r = contract_buffer.reader("contract")
    tr.start()
    collect(r, 20)
    tr.drain_events()
    backend.make_gap()
    s = collect(r, 60)
    tr.stop()
    flagged = np.nonzero(s["flags"] & SampleFlag.AFTER_GAP)[0]
    assert len(flagged) >= 1, "the first sample after the gap is flagged"
    events = tr.drain_events()
    dropped = [e for e in events if e.kind == "samples_dropped"]
    assert dropped, f"no samples_dropped event among {[e.kind for e in events]}"
    period_us = 1e6 / backend.rate
    gaps: np.ndarray = np.diff(s["device_ts"])[flagged[flagged > 0] - 1]
    expected = sum(round(g / period_us) - 1 for g in gaps)
    assert sum(e.data["count"] for e in dropped) >= max(3, expected)
    assert all(e.t > 0 for e in dropped)
    assert tr.drain_events() == [], "events are drained once"
