"""Acquisition threads pinned to one CPU (acquisition.affinity)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from acquisition import affinity
from acquisition.affinity import ENV_VAR, acquisition_cpu, acquisition_thread, allowed_cpus
from acquisition.ring_buffer import RingBuffer
from acquisition.trackers import create_tracker

linux_only = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="thread affinity needs sched_setaffinity (Linux)"
)


def test_off_means_not_pinned() -> None:
    for value in ("off", "OFF", " none "):
        assert acquisition_cpu({ENV_VAR: value}) is None


@linux_only
def test_auto_picks_the_last_allowed_cpu_or_none_with_one() -> None:
    cpus = allowed_cpus()
    expected = cpus[-1] if len(cpus) > 1 else None
    assert acquisition_cpu({}) == expected
    assert acquisition_cpu({ENV_VAR: "auto"}) == expected


@linux_only
def test_explicit_cpu_accepted() -> None:
    cpu = allowed_cpus()[0]
    assert acquisition_cpu({ENV_VAR: str(cpu)}) == cpu


@linux_only
@pytest.mark.parametrize("value", ["fast", "1.5", "99999"])
def test_bad_value_names_the_variable_and_the_choices(value: str) -> None:
    with pytest.raises(ValueError, match=ENV_VAR) as err:
        acquisition_cpu({ENV_VAR: value})
    assert repr(value) in str(err.value)
    assert str(allowed_cpus()) in str(err.value)


def test_no_affinity_support_means_not_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    assert acquisition_cpu({ENV_VAR: "auto"}) is None
    assert affinity.pin_current_thread(0) is False


def _inside(role: str = "reader") -> tuple[set[int], int]:
    seen: list[tuple[set[int], int]] = []
    th = acquisition_thread(
        lambda: seen.append((os.sched_getaffinity(0), os.sched_getscheduler(0))),
        "test-acq",
        role,  # type: ignore[arg-type]
    )
    th.start()
    th.join(5.0)
    return seen[0]


def _mask_inside() -> set[int]:
    return _inside()[0]


@linux_only
def test_readers_run_batch_and_producers_normal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "auto")
    assert _inside("reader")[1] == os.SCHED_BATCH
    assert _inside("producer")[1] == os.SCHED_OTHER
    monkeypatch.setenv(ENV_VAR, "off")
    assert _inside("reader")[1] == os.SCHED_OTHER


def test_role_is_checked() -> None:
    with pytest.raises(ValueError, match="role"):
        acquisition_thread(lambda: None, "x", "writer")  # type: ignore[arg-type]


@linux_only
def test_acquisition_thread_runs_on_the_chosen_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = allowed_cpus()[0]
    monkeypatch.setenv(ENV_VAR, str(cpu))
    assert _mask_inside() == {cpu}
    # the caller's own mask is untouched
    assert os.sched_getaffinity(0) == set(allowed_cpus())


@linux_only
def test_off_leaves_the_thread_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "off")
    assert _mask_inside() == set(allowed_cpus())


@linux_only
def test_refused_pinning_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(pid: int, mask: object) -> None:
        raise PermissionError("cpuset")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    assert affinity.pin_current_thread(0) is False


@linux_only
def test_bad_setting_fails_tracker_start_with_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "fast")
    tracker = create_tracker("simulated", RingBuffer(1024), rate_hz=300, seed=1)
    with pytest.raises(ValueError, match=ENV_VAR):
        tracker.start()
    assert not [t for t in threading.enumerate() if t.name.startswith("gazeread-simulated")]


@linux_only
def test_pinned_tracker_still_delivers_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(allowed_cpus()[-1]))
    buf = RingBuffer(1 << 14)
    reader = buf.reader("r")
    tracker = create_tracker("simulated", buf, rate_hz=1000, seed=3)
    tracker.start()
    got: list[np.ndarray] = []
    while sum(len(c) for c in got) < 300:
        assert reader.wait(2.0)
        got.append(reader.consume().samples)
    tracker.stop()
    t = np.concatenate(got)["device_ts"]
    assert np.all(np.diff(t) > 0)


def test_cpu_lists_parse_as_linux_writes_them() -> None:
    assert affinity.parse_cpu_list("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11]
    assert affinity.parse_cpu_list("5") == [5]
    with pytest.raises(ValueError):
        affinity.parse_cpu_list("3-1")


def test_auto_prefers_the_highest_performance_core(tmp_path: Path) -> None:
    perf = tmp_path / "cpus"
    perf.write_text("0-7\n")  # an Intel hybrid CPU: 0-7 performance, 8-15 efficiency cores
    assert affinity.auto_cpu(list(range(16)), str(perf)) == 7
    # a process restricted to efficiency cores still gets one of its own CPUs
    assert affinity.auto_cpu([9, 10], str(perf)) == 10
    # no core types: the highest-numbered CPU; one CPU: no pinning
    assert affinity.auto_cpu([0, 1, 2, 3], str(tmp_path / "missing")) == 3
    assert affinity.auto_cpu([2], str(perf)) is None
    perf.write_text("garbage")
    assert affinity.auto_cpu([0, 1], str(perf)) == 1
