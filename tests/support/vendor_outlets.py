"""LSL gaze outlets built the way the vendors' LSL apps build theirs (for the layout tests).

    python tests/support/vendor_outlets.py PREFIX [--seconds 30]

Publishes, until killed, one outlet per layout, each with the name, type, channel format,
source_id pattern, ``desc`` and channel meta-data of the app's published source:

- ``app-tobiipro``: labstreaminglayer/App-TobiiPro, mainwindow.cpp (name "Tobii", type
  "Eyetracker" as in that source, 6 float32 channels left_x/left_y/left_pupil/right_x/right_y/
  right_pupil, ScreenX/ScreenY in "screencoords", pupils typed "pupilsize", desc/acquisition
  manufacturer TobiiPro, application TobiiProApp; source_id "Tobiiat_" + address);
- ``app-eyelink``: labstreaminglayer/App-EyeLink, eyelink.py (name "EyeLink", type "Gaze", 10
  double64 channels typed "eyetracking", gaze in display pixels, pupil areas, 0 when an eye is
  missing; source_id "eyelink-" + host);
- ``pupil-capture``: labstreaminglayer/App-PupilLabs pupil_capture_lsl_relay channel.py and
  outlet.py (name "pupil_capture", type "Gaze", confidence, norm_pos_x/y in the world camera,
  3-D gaze point, eye centres, gaze normals, pupil diameters; desc pupil_lsl_relay_version);
- ``pupil-companion``: pupil-labs/lsl-relay pl_companion_lsl_relay/outlets.py with the gaze
  channels of App-PupilLabs pi_gaze_relay.py (name PREFIX_Gaze, type "Gaze", x/y ScreenX/Y in
  scene-camera pixels, desc/acquisition manufacturer "Pupil Labs", model "Neon").

- ``xdf``: any app following the XDF gaze meta-data recommendation (sccn/xdf wiki "Gaze
  Meta-Data": channel label, eye, type ScreenX/ScreenY/Diameter, unit normalized/mm);
- ``gazeread``: gazeread's own ``GazeOutlet`` (acquisition/lsl_outlets.py) fed from a ring
  buffer, as a recording gazeread publishes it.

Each sample: left eye at (0.25, 0.40) of the screen, right eye at (0.27, 0.42), pupils 3.5 and
3.6 mm (the EyeLink outlet: the same points in pixels of a 1024 x 640 screen, pupil areas 1500
and 1600). Prints ``ready`` once all outlets exist.
"""

from __future__ import annotations

import argparse
import socket
import time

import pylsl

SCREEN = (1024, 640)
LEFT, RIGHT = (0.25, 0.40), (0.27, 0.42)


def _channels(info: pylsl.StreamInfo, rows: list[dict[str, str]]) -> None:
    node = info.desc().append_child("channels")
    for row in rows:
        c = node.append_child("channel")
        for k, v in row.items():
            c.append_child_value(k, v)


def tobii(prefix: str) -> tuple[pylsl.StreamOutlet, list[float]]:
    info = pylsl.StreamInfo("Tobii", "Eyetracker", 6, 600, pylsl.cf_float32, f"Tobiiat_{prefix}")
    acq = info.desc().append_child("acquisition")
    for k, v in (("manufacturer", "TobiiPro"), ("model", "TODO"), ("application", "TobiiProApp"),
                 ("precision", "24")):  # fmt: skip
        acq.append_child_value(k, v)
    rows = []
    for eye in ("left", "right"):
        rows += [
            {"label": f"{eye}_x", "eye": eye, "type": "ScreenX", "unit": "screencoords"},
            {"label": f"{eye}_y", "eye": eye, "type": "ScreenY", "unit": "screencoords"},
            {"label": f"{eye}_pupil", "eye": eye, "type": "pupilsize"},
        ]
    _channels(info, rows)
    return pylsl.StreamOutlet(info), [*LEFT, 3.5, *RIGHT, 3.6]


def eyelink(prefix: str) -> tuple[pylsl.StreamOutlet, list[float]]:
    info = pylsl.StreamInfo(
        "EyeLink", "Gaze", 10, 500, "double64", f"eyelink-{prefix}-{socket.gethostname()}"
    )
    labels = ["leftEyeX", "leftEyeY", "rightEyeX", "rightEyeY", "leftPupilArea", "rightPupilArea",
              "pixelsPerDegreeX", "pixelsPerDegreeY", "eyelink_timestamp", "LSL_timestamp"]  # fmt: skip
    _channels(info, [{"label": lab, "type": "eyetracking"} for lab in labels])
    w, h = SCREEN
    return pylsl.StreamOutlet(info), [
        LEFT[0] * w,
        LEFT[1] * h,
        RIGHT[0] * w,
        RIGHT[1] * h,
        1500.0,
        1600.0,
        35.0,
        35.0,
        0.0,
        0.0,
    ]


def pupil_capture(prefix: str) -> tuple[pylsl.StreamOutlet, list[float]]:
    rows = [{"label": "confidence", "eye": "both", "type": "Confidence", "unit": "normalized"}]
    rows += [{"label": f"norm_pos_{a}", "eye": "both", "type": f"Screen{a.upper()}",
              "unit": "normalized", "coordinate_system": "world"} for a in "xy"]  # fmt: skip
    rows += [{"label": f"gaze_point_3d_{a}", "eye": "both", "type": f"Direction{a.upper()}",
              "unit": "mm", "coordinate_system": "world"} for a in "xyz"]  # fmt: skip
    for kind in ("eye_center{}_3d_{}", "gaze_normal{}_{}"):
        rows += [{"label": kind.format(e, a), "eye": ("right", "left")[e],
                  "type": f"Position{a.upper()}", "unit": "mm", "coordinate_system": "world"}
                 for e in range(2) for a in "xyz"]  # fmt: skip
    rows += [{"label": f"diameter{e}_2d", "eye": ("right", "left")[e], "type": "Diameter",
              "unit": "pixels", "coordinate_system": f"eye{e}"} for e in range(2)]  # fmt: skip
    rows += [{"label": f"diameter{e}_3d", "eye": ("right", "left")[e], "type": "Diameter",
              "unit": "mm", "coordinate_system": f"eye{e}"} for e in range(2)]  # fmt: skip
    info = pylsl.StreamInfo("pupil_capture", "Gaze", len(rows), pylsl.IRREGULAR_RATE,
                            pylsl.cf_double64, f"{prefix}-pupil-capture")  # fmt: skip
    info.desc().append_child_value("pupil_lsl_relay_version", "2.1.0")
    _channels(info, rows)
    return pylsl.StreamOutlet(info), [0.9] + [0.5] * (len(rows) - 1)


def pupil_companion(prefix: str) -> tuple[pylsl.StreamOutlet, list[float]]:
    rows = [
        {"label": "x", "eye": "both", "type": "ScreenX", "unit": "pixels", "coordinate_system": "world"},
        {"label": "y", "eye": "both", "type": "ScreenY", "unit": "pixels", "coordinate_system": "world"},
        {"label": "pi_timestamp", "eye": "both", "type": "PupilInvisibleTimestamp", "unit": "seconds"},
    ]  # fmt: skip
    info = pylsl.StreamInfo(f"{prefix}_Gaze", "Gaze", len(rows), pylsl.IRREGULAR_RATE,
                            pylsl.cf_double64, f"{prefix}-neon_Gaze")  # fmt: skip
    acq = info.desc().append_child("acquisition")
    for k, v in (("manufacturer", "Pupil Labs"), ("model", "Neon"), ("serial_number", "NEON-1"),
                 ("pl_companion_lsl_relay_version", "1.2.0")):  # fmt: skip
        acq.append_child_value(k, v)
    _channels(info, rows)
    return pylsl.StreamOutlet(info), [800.0, 600.0, 0.0]


def xdf(prefix: str) -> tuple[pylsl.StreamOutlet, list[float]]:
    rows = []
    for eye in ("left", "right"):
        rows += [
            {"label": f"{eye}X", "eye": eye, "type": "ScreenX", "unit": "normalized"},
            {"label": f"{eye}Y", "eye": eye, "type": "ScreenY", "unit": "normalized"},
            {"label": f"{eye}Pupil", "eye": eye, "type": "Diameter", "unit": "mm"},
        ]
    info = pylsl.StreamInfo("GenericGaze", "Gaze", 6, 250, pylsl.cf_float32, f"{prefix}-xdf")
    _channels(info, rows)
    return pylsl.StreamOutlet(info), [*LEFT, 3.5, *RIGHT, 3.6]


class _GazereadFeed:
    """gazeread's own Gaze outlet, fed 250 samples a second from a ring buffer."""

    def __init__(self, prefix: str) -> None:
        from acquisition.lsl_outlets import GazeOutlet
        from acquisition.ring_buffer import RingBuffer

        self.buffer = RingBuffer(1 << 14)
        self.outlet = GazeOutlet(
            self.buffer.reader("lsl"), 250.0, f"gazeread-{prefix}-gaze",
            tracker={"backend": "simulated", "model": "simulated viewer", "serial": "SIM-1"},
            screen={"width_px": SCREEN[0], "height_px": SCREEN[1]},
        )  # fmt: skip
        self.outlet.start()

    def push(self, now: float) -> None:
        from acquisition.samples import empty_samples

        row = empty_samples(1)
        row["t"] = now
        row["left_x"], row["left_y"] = LEFT
        row["right_x"], row["right_y"] = RIGHT
        row["left_valid"] = row["right_valid"] = True
        row["left_pupil"], row["right_pupil"] = 3.5, 3.6
        self.buffer.push_many(row)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix")
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args()
    outlets = [f(a.prefix) for f in (tobii, eyelink, pupil_capture, pupil_companion, xdf)]
    own = _GazereadFeed(a.prefix)
    print("ready", flush=True)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        now = pylsl.local_clock()
        for out, values in outlets:
            out.push_sample(values, now)
        own.push(now)
        time.sleep(1 / 250)


if __name__ == "__main__":
    main()
