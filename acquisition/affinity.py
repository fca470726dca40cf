"""Acquisition threads share one CPU core, and readers do not preempt the tracker thread.

The tracker thread, the Tobii converter, the recorder, the fixation worker and the LSL outlets
hand every chunk of samples from one to the next, and with the GIL only one of them runs at a
time anyway. When they sit on different cores, each hand-off (a reader woken by a push, the
GIL passed back) is a cross-CPU wake-up: an inter-processor interrupt, which on a virtual
machine is a trip through the hypervisor. On one core it is a local run-queue switch. On the
2-vCPU VM used for ``docs/benchmarks.md``, pinning with the policy below cut the median
push-to-reader latency by a third, the acquisition path's CPU by a quarter and the cost of a
push by more than half (see the table there: ``--no-pin`` shows the difference). The PsychoPy
window, Qt and liblsl's own threads stay free to run elsewhere.

The reading threads (recorder, fixation worker, LSL outlet) also run under ``SCHED_BATCH``,
whose one effect that matters here is that a woken batch thread does not preempt the running
thread. Without it, every push switched to the woken reader at once, which found the GIL still
held by the tracker thread, blocked, and switched back: two context switches inside the push
that gained the reader nothing, since it can only run once the tracker thread lets go of the
GIL anyway. With it the reader runs when the tracker thread goes back to sleep, microseconds
later. The tracker threads themselves keep the normal policy so that they do preempt.

``GAZEREAD_ACQUISITION_CPU`` chooses: ``auto`` (default: the highest-numbered CPU this process
may use, a performance core on an Intel hybrid CPU, or no pinning when it may use only one),
``off`` (no pinning, no policy change), or a CPU number. Pinning or a policy that the system
refuses (a container's cpuset, no ``sched_setaffinity`` on this OS) is skipped, never an
error: it is a speed-up, not a requirement.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Literal

ENV_VAR = "GAZEREAD_ACQUISITION_CPU"
_OFF = ("off", "none", "no", "false")


def allowed_cpus() -> list[int]:
    """CPUs this process may run on (its main thread's mask), sorted; [] where unknown."""
    getaff = getattr(os, "sched_getaffinity", None)
    if getaff is None:
        return []
    try:
        return sorted(getaff(os.getpid()))
    except OSError:
        return []


#: Linux lists the performance cores of an Intel hybrid CPU here; the efficiency cores, often
#: the highest-numbered, are in ``/sys/devices/cpu_atom/cpus``.
PERFORMANCE_CORES_FILE = "/sys/devices/cpu_core/cpus"


def parse_cpu_list(text: str) -> list[int]:
    """CPUs of a Linux CPU list such as ``"0-3,8,10-11"``, sorted; ValueError if malformed."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi) if hi else int(lo)
        if b < a:
            raise ValueError(f"bad CPU range {part!r}")
        cpus.update(range(a, b + 1))
    return sorted(cpus)


def auto_cpu(cpus: list[int], performance_cores_file: str = PERFORMANCE_CORES_FILE) -> int | None:
    """The CPU ``auto`` picks among ``cpus``: the highest-numbered performance core.

    None with fewer than two CPUs (nothing to gain). On CPUs without core types (no
    ``performance_cores_file``, or one that lists none of ``cpus``), the highest-numbered CPU.
    """
    if len(cpus) < 2:
        return None
    try:
        with open(performance_cores_file, encoding="ascii") as f:
            perf = set(parse_cpu_list(f.read()))
    except (OSError, ValueError):
        perf = set()
    fast = [c for c in cpus if c in perf]
    return (fast or cpus)[-1]


def acquisition_cpu(env: Mapping[str, str] | None = None) -> int | None:
    """The CPU acquisition threads are pinned to, or None when they are not pinned.

    Raises ValueError naming :data:`ENV_VAR` when its value is not ``auto``, ``off`` or a CPU
    this process may use.
    """
    raw = (os.environ if env is None else env).get(ENV_VAR, "auto")
    value = raw.strip().lower()
    if value in _OFF:
        return None
    cpus = allowed_cpus()
    if not hasattr(os, "sched_setaffinity") or not cpus:
        return None
    if value in ("auto", ""):
        return auto_cpu(cpus)
    try:
        cpu = int(value)
    except ValueError:
        raise ValueError(
            f"{ENV_VAR}={raw!r} is not understood: use 'auto', 'off' or one of the CPUs this "
            f"process may use, {cpus}"
        ) from None
    if cpu not in cpus:
        raise ValueError(
            f"{ENV_VAR}={raw!r}: this process may only use CPUs {cpus}; choose one of them, "
            "'auto' or 'off'"
        )
    return cpu


def pin_current_thread(cpu: int | None) -> bool:
    """Restrict the calling thread to ``cpu``; True when done (False: None or refused)."""
    if cpu is None:
        return False
    setaff = getattr(os, "sched_setaffinity", None)
    if setaff is None:
        return False
    try:
        setaff(0, {cpu})  # pid 0 = the calling thread on Linux
    except OSError:
        return False
    return True


def tuning_enabled(env: Mapping[str, str] | None = None) -> bool:
    """False when :data:`ENV_VAR` is ``off``: no pinning and no scheduling-policy change."""
    raw = (os.environ if env is None else env).get(ENV_VAR, "auto")
    return raw.strip().lower() not in _OFF


def batch_current_thread() -> bool:
    """Put the calling thread under ``SCHED_BATCH`` (its wake-ups do not preempt); True if done."""
    setsched = getattr(os, "sched_setscheduler", None)
    policy = getattr(os, "SCHED_BATCH", None)
    if setsched is None or policy is None:
        return False
    try:
        setsched(0, policy, os.sched_param(0))
    except OSError:
        return False
    return True


def acquisition_thread(
    target: Callable[[], object], name: str, role: Literal["producer", "reader"]
) -> threading.Thread:
    """A daemon thread running ``target`` on the acquisition CPU.

    ``role`` is ``"producer"`` for a thread that pushes into the ring buffer (tracker,
    converter) and ``"reader"`` for one woken by pushes (recorder, detector, outlet), which
    runs under ``SCHED_BATCH``. The CPU is chosen here, in the caller's thread, so a bad
    :data:`ENV_VAR` fails the creation of the recorder, worker or outlet, or the ``start()``
    of the tracker, with its message rather than a dead thread.
    """
    if role not in ("producer", "reader"):
        raise ValueError(f"role must be 'producer' or 'reader', got {role!r}")
    cpu = acquisition_cpu()
    batch = role == "reader" and tuning_enabled()

    def run() -> None:
        pin_current_thread(cpu)
        if batch:
            batch_current_thread()
        target()

    return threading.Thread(target=run, name=name, daemon=True)
