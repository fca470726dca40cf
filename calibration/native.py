"""The interface of a tracker's own calibration (Tobii ``ScreenBasedCalibration``).

:data:`NATIVE_CALIBRATORS` says which tracker backends have a calibration of their own and
builds its adapter; :func:`native_calibrator_for` is what the calibration procedure asks. The
procedure drives the adapter (enter, collect per point, discard and redo chosen points,
compute and apply, leave) and keeps the per-point samples of the result. The Tobii adapter
lives in ``calibration/tobii_calibration.py``. The table lives here, in calibration, so that
no tracker imports calibration (acquisition is the lower layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from acquisition.trackers.base import Tracker

__all__ = [
    "NATIVE_CALIBRATORS",
    "NativeCalibrator",
    "native_calibrator_for",
    "native_point_offsets",
    "native_result_ok",
]


@runtime_checkable
class NativeCalibrator(Protocol):
    """A device calibration session. Coordinates are normalised display coordinates."""

    def enter(self) -> None:
        """Enter calibration mode."""

    def collect(self, x: float, y: float) -> bool:
        """Collect data while the participant looks at (x, y); True on success."""

    def discard(self, x: float, y: float) -> None:
        """Discard the data collected at (x, y), to collect it again."""

    def compute_and_apply(self) -> dict[str, Any]:
        """Compute and apply the calibration.

        Returns ``{"status": "success"|"failure", "points": [{"x", "y", "samples":
        [{"left": [x, y, valid], "right": [x, y, valid]}, ...]}, ...]}``.
        """

    def leave(self) -> None:
        """Leave calibration mode (always called, also after a failure)."""


def _tobii(tracker: Tracker) -> NativeCalibrator:
    from calibration.tobii_calibration import TobiiCalibrator  # imports the SDK adapter

    return TobiiCalibrator(tracker)  # type: ignore[arg-type]


#: The device calibration of each tracker backend (``Tracker.name``) that has one.
NATIVE_CALIBRATORS: dict[str, Callable[[Tracker], NativeCalibrator]] = {"tobii": _tobii}


def native_calibrator_for(tracker: Tracker) -> NativeCalibrator | None:
    """The tracker's own calibration, or None where gazeread calibrates in software."""
    make = NATIVE_CALIBRATORS.get(tracker.name)
    return make(tracker) if make is not None else None


def native_result_ok(result: dict[str, Any]) -> bool:
    """True when a :meth:`NativeCalibrator.compute_and_apply` result says success."""
    return str(result.get("status", "")).lower() == "success"


def native_point_offsets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per point of a native result: target, mean gaze per eye (normalised) and valid count.

    Malformed entries are skipped rather than raising: the result is shown and stored as
    information, the calibration itself is already applied by the device.
    """
    out: list[dict[str, Any]] = []
    for p in result.get("points", []) or []:
        try:
            tx, ty = float(p["x"]), float(p["y"])
        except (KeyError, TypeError, ValueError):
            continue
        row: dict[str, Any] = {"x": tx, "y": ty}
        for eye in ("left", "right"):
            xs, ys = [], []
            for s in p.get("samples", []) or []:
                v = s.get(eye) if isinstance(s, dict) else None
                if v is None or len(v) < 3 or not v[2]:
                    continue
                try:
                    xs.append(float(v[0]))
                    ys.append(float(v[1]))
                except (TypeError, ValueError):
                    continue
            n = len(xs)
            row[eye] = {
                "n_valid": n,
                "mean_x": sum(xs) / n if n else math.nan,
                "mean_y": sum(ys) / n if n else math.nan,
            }
        out.append(row)
    return out
