"""An LSL gaze outlet that goes away for a while, as a tracker's app does when its cable slips.

    python tests/support/lsl_outage_outlet.py SOURCE_ID --before 3 --outage 1.0 --after 4

Publishes 6 channels with XDF gaze meta-data at 250 Hz (as lsl_testing.make_outlet), stops
(the outlet is destroyed) for ``--outage`` seconds, then publishes again with the same
source_id, as a restarted app would. Prints ``up``, ``down`` and ``up`` with the LSL time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pylsl

CHANNELS = [
    ("left_x", "left", "ScreenX", "normalized"), ("left_y", "left", "ScreenY", "normalized"),
    ("right_x", "right", "ScreenX", "normalized"), ("right_y", "right", "ScreenY", "normalized"),
    ("left_pupil", "left", "Diameter", "mm"), ("right_pupil", "right", "Diameter", "mm"),
]  # fmt: skip


def outlet(source_id: str, rate: float) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo("OutageGaze", "Gaze", 6, rate, pylsl.cf_double64, source_id)
    node = info.desc().append_child("channels")
    for label, eye, typ, unit in CHANNELS:
        c = node.append_child("channel")
        for k, v in (("label", label), ("eye", eye), ("type", typ), ("unit", unit)):
            c.append_child_value(k, v)
    return pylsl.StreamOutlet(info)


def publish(out: pylsl.StreamOutlet, seconds: float, rate: float) -> None:
    t0 = pylsl.local_clock()
    n = 0
    while True:
        now = pylsl.local_clock()
        if now - t0 >= seconds:
            return
        due = int((now - t0) * rate)
        while n < due:
            out.push_sample(np.array([0.5, 0.5, 0.5, 0.5, 3.0, 3.0]), t0 + n / rate)
            n += 1
        time.sleep(0.004)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source_id")
    ap.add_argument("--before", type=float, default=3.0)
    ap.add_argument("--outage", type=float, default=1.0)
    ap.add_argument("--after", type=float, default=4.0)
    ap.add_argument("--rate", type=float, default=250.0)
    a = ap.parse_args()
    out = outlet(a.source_id, a.rate)
    print("up", pylsl.local_clock(), flush=True)
    publish(out, a.before, a.rate)
    del out
    print("down", pylsl.local_clock(), flush=True)
    time.sleep(a.outage)
    out = outlet(a.source_id, a.rate)
    print("up", pylsl.local_clock(), flush=True)
    publish(out, a.after, a.rate)


if __name__ == "__main__":
    main()
