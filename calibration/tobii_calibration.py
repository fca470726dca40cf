"""The Tobii device calibration behind the :class:`~calibration.native.NativeCalibrator` interface.

:class:`TobiiCalibrator` drives ``tobii_research.ScreenBasedCalibration``: enter calibration
mode, collect each point (retrying a failed collection), discard and redo chosen points,
compute and apply (keeping the per-point samples of the result), and leave. After leaving it
asks the device for its gaze output frequency again, because some models change it during
calibration; a changed rate is set back to the rate in force before, and a ``rate_changed``
event says what happened (an ``error`` event when it could not be restored).

SDK exceptions (connection lost, invalid operation) become :class:`TrackerError` with a message
naming the device and the step, so the calibration screen can show it instead of crashing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from acquisition.trackers.base import TrackerError

if TYPE_CHECKING:
    from acquisition.trackers.tobii import TobiiTracker

__all__ = ["TobiiCalibrator", "calibration_result_to_dict"]


def calibration_result_to_dict(result: Any, tr: Any) -> dict[str, Any]:
    """Convert a ``tobii_research.CalibrationResult`` to the NativeCalibrator result dict.

    Parameters
    ----------
    result : tobii_research.CalibrationResult
        What ``ScreenBasedCalibration.compute_and_apply()`` returned.
    tr : module
        ``tobii_research`` (for its status and validity constants).

    Returns
    -------
    dict
        ``{"status": "success"|"failure", "sdk_status": str, "points": [{"x", "y",
        "samples": [{"left": [x, y, valid], "right": [x, y, valid]}, ...]}, ...]}`` where
        ``valid`` is True when the SDK marked the sample ``VALIDITY_VALID_AND_USED``; each
        sample also keeps the SDK validity strings under ``left_validity``/``right_validity``.
    """
    status = str(result.status)
    ok = status in (
        tr.CALIBRATION_STATUS_SUCCESS,
        tr.CALIBRATION_STATUS_SUCCESS_LEFT_EYE,
        tr.CALIBRATION_STATUS_SUCCESS_RIGHT_EYE,
    )
    points: list[dict[str, Any]] = []
    for p in result.calibration_points:
        px, py = p.position_on_display_area
        samples = []
        for s in p.calibration_samples:
            entry: dict[str, Any] = {}
            for eye, data in (("left", s.left_eye), ("right", s.right_eye)):
                x, y = data.position_on_display_area
                valid = data.validity == tr.VALIDITY_VALID_AND_USED
                entry[eye] = [float(x), float(y), bool(valid)]
                entry[f"{eye}_validity"] = str(data.validity)
            samples.append(entry)
        points.append({"x": float(px), "y": float(py), "samples": samples})
    return {"status": "success" if ok else "failure", "sdk_status": status, "points": points}


class TobiiCalibrator:
    """A NativeCalibrator on top of ``tobii_research.ScreenBasedCalibration``.

    Parameters
    ----------
    tracker : TobiiTracker
        The tracker to calibrate (its device, event queue and sample flags are used).
    retries : int
        Extra ``collect_data`` attempts at a point after a failed one (default 2).
    restore_rate : bool
        Set the gaze output frequency back when calibration changed it (default True).
    """

    def __init__(self, tracker: TobiiTracker, *, retries: int = 2, restore_rate: bool = True):
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries!r}")
        self.tracker = tracker
        self.retries = int(retries)
        self.restore_rate = restore_rate
        self._tr = tracker._tr
        self._calib: Any = None
        self._active = False
        self._rate_before: float | None = None
        #: Points collected successfully and the attempts each needed, in collection order.
        self.collected: dict[tuple[float, float], int] = {}
        #: collect_data calls made per point since :meth:`enter` (successful or not).
        self.attempts: dict[tuple[float, float], int] = {}
        #: What :meth:`leave` found about the rate: before/after/restored.
        self.rate_check: dict[str, Any] = {}
        #: The last compute_and_apply result.
        self.result: dict[str, Any] | None = None
        #: Why the last :meth:`leave` could not leave calibration mode (None when it could).
        self.leave_error: TrackerError | None = None

    @property
    def active(self) -> bool:
        """True between :meth:`enter` and :meth:`leave`."""
        return self._active

    def _who(self) -> str:
        return f"{self.tracker.info.model} {self.tracker.info.serial}"

    def _sdk(self, what: str, fn: Any, *args: float) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            raise TrackerError(
                f"tobii calibration: could not {what} on {self._who()}: "
                f"{type(exc).__name__}: {exc}; check the connection and recalibrate"
            ) from exc

    def enter(self) -> None:
        """Enter calibration mode (remembering the rate asked of the device, to restore it)."""
        if self._active:
            return
        self._rate_before = self.tracker.requested_rate_hz
        if self._calib is None:
            self._calib = self._sdk(
                "create a ScreenBasedCalibration", self.tracker.make_screen_based_calibration
            )
        self.tracker.set_calibrating(True)  # before: entering may already change the rate
        try:
            self._sdk("enter calibration mode", self._calib.enter_calibration_mode)
        except TrackerError:
            self.tracker.set_calibrating(False)
            raise
        self._active = True
        self.collected.clear()
        self.attempts.clear()
        self.result = None

    def _point(self, x: float, y: float) -> tuple[float, float]:
        if not self._active:
            raise TrackerError("tobii calibration: call enter() before collecting or discarding")
        fx, fy = float(x), float(y)
        if not (math.isfinite(fx) and math.isfinite(fy)):
            raise ValueError(f"calibration point must be finite, got ({x!r}, {y!r})")
        return fx, fy

    def collect(self, x: float, y: float) -> bool:
        """Collect data at (x, y) (normalised, origin top-left), retrying on failure.

        Returns True when a collection succeeded within ``1 + retries`` attempts.
        """
        pt = self._point(x, y)
        for attempt in range(1, self.retries + 2):
            status = self._sdk(
                f"collect data at ({pt[0]:.3f}, {pt[1]:.3f})", self._calib.collect_data, *pt
            )
            self.attempts[pt] = self.attempts.get(pt, 0) + 1
            if status == self._tr.CALIBRATION_STATUS_SUCCESS:
                self.collected[pt] = attempt
                return True
        return False

    def discard(self, x: float, y: float) -> None:
        """Discard the data collected at (x, y) so the point can be collected again."""
        pt = self._point(x, y)
        self._sdk(f"discard data at ({pt[0]:.3f}, {pt[1]:.3f})", self._calib.discard_data, *pt)
        self.collected.pop(pt, None)

    def redo(self, x: float, y: float) -> bool:
        """Discard then collect (x, y) again."""
        self.discard(x, y)
        return self.collect(x, y)

    def compute_and_apply(self) -> dict[str, Any]:
        """Compute the calibration from the collected points and apply it on the device."""
        if not self._active:
            raise TrackerError("tobii calibration: call enter() before compute_and_apply()")
        raw = self._sdk("compute and apply the calibration", self._calib.compute_and_apply)
        out = calibration_result_to_dict(raw, self._tr)
        out["n_points_collected"] = len(self.collected)
        self.result = out
        return out

    def leave(self) -> None:
        """Leave calibration mode, then re-check (and restore) the gaze output frequency.

        Never raises (it is called in ``finally`` blocks, also after the device was lost): a
        failure is kept in :attr:`leave_error` and posted as an ``error`` event.
        """
        if not self._active:
            return
        self.leave_error = None
        try:
            self._sdk("leave calibration mode", self._calib.leave_calibration_mode)
        except TrackerError as exc:
            self.leave_error = exc
            self.tracker.post_event("error", str(exc))
        finally:
            self._active = False
            self.tracker.set_calibrating(False)
        self._check_rate()

    def _check_rate(self) -> None:
        before = self._rate_before
        try:
            after = self.tracker.read_rate()
        except TrackerError as exc:
            self.rate_check = {"before_hz": before, "after_hz": None, "error": str(exc)}
            self.tracker.post_event("error", f"after calibration: {exc}")
            return
        self.rate_check = {"before_hz": before, "after_hz": after, "restored": False}
        if before is None or abs(after - before) < 1e-6:
            return
        msg = f"tobii: {self._who()} changed its rate from {before:g} to {after:g} Hz during calibration"
        if not self.restore_rate:
            self.tracker.post_event(
                "rate_changed", msg + "; left as is", old_hz=before, new_hz=after
            )
            return
        try:
            self.tracker.set_rate(before)
            now = self.tracker.read_rate()
        except TrackerError as exc:
            self.rate_check["error"] = str(exc)
            self.tracker.post_event(
                "error",
                msg + f"; restoring {before:g} Hz failed: {exc}",
                old_hz=before,
                new_hz=after,
            )
            return
        self.rate_check.update(restored=abs(now - before) < 1e-6, after_restore_hz=now)
        self.tracker.post_event(
            "rate_changed", msg + f"; restored to {now:g} Hz", old_hz=after, new_hz=now
        )

    def __enter__(self) -> TobiiCalibrator:
        self.enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()
