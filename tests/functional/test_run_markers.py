"""Markers reach the store and a real LSL inlet with the same (flip) timestamp."""

from __future__ import annotations

import json
import time
from pathlib import Path

from acquisition.geometry import ScreenGeometry
from sessions.run.pipeline import Pipeline
from sessions.store import SessionStore


def test_marker_goes_to_store_and_lsl_with_its_own_time(tmp_path: Path) -> None:
    import pylsl

    store = SessionStore.create(tmp_path, "s", "P1", 1)
    sid = f"gazeread-test-markers-{time.monotonic_ns()}"
    pipe = Pipeline(
        "simulated",
        store,
        ScreenGeometry(),
        source_id=sid,
        lsl=True,
        tracker_options={"rate_hz": 120.0},
    )
    try:
        streams = pylsl.resolve_byprop("source_id", f"{sid}-markers", 1, 5.0)
        assert streams, "the Markers outlet was not found on the loopback network"
        inlet = pylsl.StreamInlet(streams[0])
        inlet.open_stream(5.0)
        t_flip = pylsl.local_clock() - 0.25  # a flip a quarter second ago
        pipe.marker(t_flip, "image_onset", 3, image_id="x", layout={"scale": 0.5})
        sample, ts = inlet.pull_sample(timeout=5.0)
        assert sample is not None
        payload = json.loads(sample[0])
        assert payload == {
            "event": "image_onset",
            "trial": 3,
            "image_id": "x",
            "layout": {"scale": 0.5},
        }
        assert abs(ts - t_flip) < 1e-6
        ev = store.events("image_onset")[0]
        assert ev["t"] == t_flip and ev["trial_id"] == 3 and ev["data"]["image_id"] == "x"
        info = streams[0]
        assert info.type() == "Markers"
    finally:
        pipe.stop()
        store.close()
