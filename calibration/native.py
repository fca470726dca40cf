"""The interface of a tracker's own calibration (Tobii ``ScreenBasedCalibration``).

A tracker with ``has_native_calibration = True`` returns a :class:`NativeCalibrator` from
``tracker.native_calibrator()``; the calibration procedure drives it (enter, collect per
point, discard and redo chosen points, compute and apply, leave) and keeps the per-point
samples of the result. The Tobii adapter lives in ``calibration/tobii_calibration.py``.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

__all__ = ["NativeCalibrator", "native_point_offsets", "native_result_ok"]


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
