"""The calibration and validation procedure, as a state machine with no display of its own.

It presents targets through a :class:`Display` (the PsychoPy screens, or a headless one in
tests and scripts), collects each target's samples from a ring-buffer reader over the dwell
window (skipping the first ``settle_s`` after the target arrives), fits a software
calibration (or drives the tracker's native one), validates on separate points, and loops on
the operator's choice: accept, redo selected points, recalibrate, or go back to an earlier
calibration. Every calibration and validation goes into a :class:`CalibrationHistory`.

Bad data never raises out of :meth:`CalibrationProcedure.run`: no samples, all-invalid
samples, a single eye, a tracker that stops mid-point all end as a message on the display and
in the log, and the operator decides what to do.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from acquisition.geometry import (
    ScreenGeometry,
    angular_distance_deg,
    norm_to_px,
    with_eye_distance,
)
from acquisition.ring_buffer import Reader
from acquisition.samples import SAMPLE_DTYPE
from acquisition.trackers.base import Tracker
from calibration._procedure_types import (
    Action,
    CalibrationOutcome,
    CalibrationSettings,
    Collected,
    Display,
    ResultsView,
    TargetHook,
    validation_verdict,
)
from calibration.history import CalibrationHistory, CalibrationRecord
from calibration.metrics import (
    EYES,
    PointValidation,
    median_gaze,
    point_quality,
    summarise,
    verdict_label,
)
from calibration.native import (
    NativeCalibrator,
    native_calibrator_for,
    native_point_offsets,
    native_result_ok,
)
from calibration.software import BinocularCorrection, CalibrationFitError, fit_binocular
from calibration.targets import (
    TargetTiming,
    calibration_points,
    order_points,
    target_state,
    validation_points,
)

__all__ = [
    "Action",
    "CalibrationOutcome",
    "CalibrationProcedure",
    "CalibrationSettings",
    "Display",
    "ResultsView",
    "StopSession",
    "TargetHook",
]

log = logging.getLogger(__name__)


class StopSession(RuntimeError):
    """Raised by a display hook to end the calibration and the session at once.

    The session's health check raises it (a tracker lost for longer than the outage limit):
    :meth:`CalibrationProcedure.run` restores the previous calibration and re-raises it,
    where any other error only ends the calibration.
    """


class CalibrationProcedure:
    """Calibrate, validate, redo points, keep the history.

    Parameters
    ----------
    tracker : Tracker
        The running tracker; software calibration goes through ``set_correction``, a native
        one through the adapter :func:`~calibration.native.native_calibrator_for` builds.
    reader : Reader
        A reader of the tracker's ring buffer (owned by the procedure).
    geometry : ScreenGeometry
        For the angles.
    settings : CalibrationSettings
    on_target : callable, optional
        ``on_target(x, y)`` at every target arrival (auto mode: the simulated eye follows).
    clock : callable, optional
        The clock of the samples' ``t`` (default ``tracker.clock``).
    history : CalibrationHistory, optional
        Continue an existing history (recalibration later in a session).
    """

    def __init__(
        self,
        tracker: Tracker,
        reader: Reader,
        geometry: ScreenGeometry,
        settings: CalibrationSettings | None = None,
        *,
        on_target: TargetHook | None = None,
        clock: Callable[[], float] | None = None,
        history: CalibrationHistory | None = None,
    ) -> None:
        self.tracker = tracker
        self.reader = reader
        self.geometry = geometry
        self.settings = settings = settings or CalibrationSettings()
        self.on_target = on_target
        self.clock = clock or tracker.clock
        self.history = history if history is not None else CalibrationHistory()
        self.cal_targets = calibration_points(settings.n_points, settings.custom_points)
        self.val_targets = validation_points(
            settings.n_validation_points,
            exclude=self.cal_targets,
            custom=settings.custom_validation_points,
        )
        self.native: NativeCalibrator | None = native_calibrator_for(tracker)
        self.method = "tobii" if self.native is not None else "software"
        self._previous_correction = tracker.correction
        self._raw: dict[int, Collected] = {}
        self._cal_info: list[dict[str, Any]] = []
        self._val: dict[int, PointValidation] = {}
        self._correction: BinocularCorrection | None = None
        self._calibration: CalibrationRecord | None = None
        self._validation: CalibrationRecord | None = None
        self._messages: list[str] = []
        self._pos: tuple[float, float] | None = None
        self._order_calls = 0

    # ------------------------------------------------------------------ helpers
    def _say(
        self, display: Display, text: str, *, error: bool = True, duration_s: float = 1.5
    ) -> None:
        (log.warning if error else log.info)("calibration: %s", text)
        self._messages.append(text)
        try:
            display.message(text, error=error, duration_s=duration_s)
        except StopSession:
            raise  # the session's health check ended it while the message showed
        except Exception:  # a broken display must not hide the message in the log
            log.exception("calibration: could not show message on the display")

    def _order(self, indices: Sequence[int]) -> list[int]:
        seed = None if self.settings.seed is None else self.settings.seed + self._order_calls
        self._order_calls += 1
        perm = order_points(len(indices), self.settings.randomise, seed)
        return [int(indices[i]) for i in perm]

    def _present(
        self, display: Display, target: Sequence[float], native_collect: bool
    ) -> Collected:
        """Animate to ``target``, dwell, and return the samples of the collection window."""
        timing: TargetTiming = self.settings.timing
        x, y = float(target[0]), float(target[1])
        start = self._pos
        t_start = self.clock()
        while True:
            st = target_state(self.clock() - t_start, start, (x, y), timing)
            if st.phase == "dwelling":
                break
            display.target_frame(st)
        self._pos = (x, y)
        self.reader.skip_to_latest()
        t_arrive = self.clock()
        if self.on_target is not None:
            self.on_target(x, y)
        t0 = t_arrive + timing.settle_s
        t1 = t0 + timing.collect_s
        chunks: list[np.ndarray] = []
        lost = 0
        native_ok: bool | None = None
        message = ""
        while self.clock() < t1:
            now = self.clock()
            display.target_frame(target_state(now - t_start, start, (x, y), timing))
            c = self.reader.consume()
            chunks.append(c.samples)
            lost += c.lost
            if native_collect and native_ok is None and now >= t0 and self.native is not None:
                try:
                    native_ok = bool(self.native.collect(x, y))
                except Exception as exc:  # the SDK may raise anything on a lost connection
                    native_ok = False
                    message = f"tracker failed to collect at ({x:.2f}, {y:.2f}): {exc}"
                    log.warning("calibration: %s", message)
        # Wait for samples stamped up to t1 (tracker latency), for a bounded time.
        deadline = self.clock() + timing.sample_timeout_s
        while self.clock() < deadline:
            last = chunks[-1] if chunks and len(chunks[-1]) else None
            if last is not None and last["t"][-1] >= t1:
                break
            display.target_frame(target_state(self.clock() - t_start, start, (x, y), timing))
            c = self.reader.consume()
            chunks.append(c.samples)
            lost += c.lost
        rows = np.concatenate(chunks) if chunks else np.zeros(0, SAMPLE_DTYPE)
        rows = rows[(rows["t"] >= t0) & (rows["t"] < t1)]
        if native_collect and native_ok is None and self.native is not None:
            native_ok = False
            message = message or "the tracker did not collect this point"
        if len(rows) == 0 and not message:
            message = (
                "no samples arrived from the tracker while the target was shown "
                "(disconnected or stopped?)"
            )
        elif lost and not message:
            message = f"{lost} samples were lost while reading this point"
        return Collected(rows, message, native_ok)

    # ------------------------------------------------------------------ calibration
    def calibrate(
        self, display: Display, indices: Sequence[int] | None = None
    ) -> CalibrationRecord | None:
        """Collect the calibration points (all, or redo ``indices``) and fit or compute.

        Returns the new calibration record, or None when it failed (the reason is shown and
        logged, and kept in :attr:`messages`).
        """
        self._messages = []
        redo = indices is not None
        idx = list(range(len(self.cal_targets))) if indices is None else sorted(set(indices))
        bad = [i for i in idx if not 0 <= i < len(self.cal_targets)]
        if bad:
            self._say(display, f"no calibration point(s) {[i + 1 for i in bad]}")
            return None
        if not redo:
            self._raw = {}
        if self.native is not None:
            return self._calibrate_native(display, idx, redo)
        # Software: collect raw gaze, so nothing may correct it meanwhile.
        self.tracker.set_correction(None)
        for i in self._order(idx):
            if display.aborted():
                self._restore_after_interruption()
                return None
            got = self._present(display, self.cal_targets[i], native_collect=False)
            self._raw[i] = got
            if got.message:
                self._say(display, f"calibration point {i + 1}: {got.message}", duration_s=0.5)
        return self._fit(display)

    def _restore_after_interruption(self) -> None:
        """Put back the calibration in force (the new one if fitted, else the previous)."""
        self.tracker.set_correction(self._correction or self._previous_correction)

    def _restore_previous(self) -> None:
        """Abort: put back what was in force before this procedure started."""
        self._correction = None
        self.tracker.set_correction(self._previous_correction)

    def _fit(self, display: Display) -> CalibrationRecord | None:
        targets = self.cal_targets
        n = len(targets)
        gaze = {e: np.full((n, 2), np.nan) for e in EYES}
        info: list[dict[str, Any]] = []
        for i in range(n):
            got = self._raw.get(i)
            row: dict[str, Any] = {"index": i, "target": targets[i].tolist(), "message": ""}
            for e in EYES:
                if got is not None:
                    gaze[e][i] = median_gaze(got.samples, e)
                row[f"{e}_raw"] = gaze[e][i].tolist()
            row["n_samples"] = 0 if got is None else len(got.samples)
            row["message"] = "" if got is None else got.message
            info.append(row)
        try:
            corr, notes = fit_binocular(targets, gaze, self.settings.model)
        except CalibrationFitError as exc:
            self._restore_after_interruption()
            self._cal_info = info
            self._say(display, f"calibration failed: {exc}", duration_s=2.0)
            return None
        for note in notes:
            self._say(display, note, duration_s=1.0)
        self._add_residuals(info, corr)
        self._cal_info = info
        self._correction = corr
        self.tracker.set_correction(corr)
        raw = [
            r[f"{e}_raw_offset_deg"]
            for r in info
            for e in EYES
            if r.get(f"{e}_raw_offset_deg") is not None
        ]
        rec = self.history.add(
            "calibration",
            corr.model,
            self.clock(),
            {
                "raw_accuracy_deg": float(np.mean(raw)) if raw else None,
                "correction": corr.to_dict(),
                "points": info,
                "notes": notes,
                "settings": self.settings.to_dict(),
                "geometry": self.geometry.to_dict(),
            },
        )
        self._calibration = rec
        self._val = {}
        log.info("calibration %d fitted (%s)", rec.id, rec.method)
        return rec

    def _add_residuals(self, info: list[dict[str, Any]], corr: BinocularCorrection) -> None:
        """Per point and eye: raw offset from the target, and what remains after the fit."""
        for row in info:
            tx, ty = norm_to_px(self.geometry, *row["target"])
            for e in EYES:
                rx, ry = row[f"{e}_raw"]
                if not (math.isfinite(rx) and math.isfinite(ry)):
                    row[f"{e}_residual_deg"] = None
                    row[f"{e}_raw_offset_deg"] = None
                    continue
                qx, qy = norm_to_px(self.geometry, rx, ry)
                row[f"{e}_raw_offset_deg"] = float(
                    angular_distance_deg(self.geometry, qx, qy, tx, ty)
                )
                cx, cy = corr.for_eye(e)(np.array([rx]), np.array([ry]))
                px, py = norm_to_px(self.geometry, cx[0], cy[0])
                row[f"{e}_residual_deg"] = float(
                    angular_distance_deg(self.geometry, px, py, tx, ty)
                )

    def _calibrate_native(
        self, display: Display, idx: list[int], redo: bool
    ) -> CalibrationRecord | None:
        nat = self.native
        if nat is None:
            return None
        try:
            nat.enter()
        except Exception as exc:
            self._say(display, f"the tracker refused to enter calibration mode: {exc}")
            return None
        result: dict[str, Any] = {}
        try:
            for i in self._order(idx):
                if display.aborted():
                    return None
                x, y = (float(v) for v in self.cal_targets[i])
                if redo:
                    nat.discard(x, y)
                got = self._present(display, self.cal_targets[i], native_collect=True)
                if not got.native_ok:  # one retry, as Titta does
                    got = self._present(display, self.cal_targets[i], native_collect=True)
                self._raw[i] = got
                if not got.native_ok:
                    self._say(display, f"calibration point {i + 1}: {got.message}", duration_s=0.5)
            result = nat.compute_and_apply()
        except Exception as exc:
            self._say(display, f"the tracker's calibration failed: {exc}")
            return None
        finally:
            try:
                nat.leave()
            except Exception as exc:
                self._say(display, f"the tracker did not leave calibration mode cleanly: {exc}")
        if not native_result_ok(result):
            self._say(
                display,
                f"the tracker could not compute a calibration ({result.get('status')!r}); redo the points or recalibrate",
            )
            return None
        self._cal_info = [
            {"index": i, "target": self.cal_targets[i].tolist(), **self._native_point(result, i)}
            for i in range(len(self.cal_targets))
        ]
        rec = self.history.add(
            "calibration",
            self.method,
            self.clock(),
            {
                "native_result": result,
                "points": self._cal_info,
                "settings": self.settings.to_dict(),
                "geometry": self.geometry.to_dict(),
            },
        )
        self._calibration = rec
        self._val = {}
        return rec

    def _native_point(self, result: dict[str, Any], i: int) -> dict[str, Any]:
        tx, ty = (float(v) for v in self.cal_targets[i])
        for p in native_point_offsets(result):
            if abs(p["x"] - tx) < 1e-6 and abs(p["y"] - ty) < 1e-6:
                out: dict[str, Any] = {"message": ""}
                txp, typ = norm_to_px(self.geometry, tx, ty)
                for e in EYES:
                    mx, my = p[e]["mean_x"], p[e]["mean_y"]
                    out[f"{e}_raw"] = [mx, my]
                    if math.isfinite(mx) and math.isfinite(my):
                        px, py = norm_to_px(self.geometry, mx, my)
                        d = angular_distance_deg(self.geometry, px, py, txp, typ)
                        out[f"{e}_residual_deg"] = float(d)
                    else:
                        out[f"{e}_residual_deg"] = None
                return out
        return {"message": "not in the tracker's result"}

    # ------------------------------------------------------------------ validation
    def validate(
        self, display: Display, indices: Sequence[int] | None = None
    ) -> CalibrationRecord | None:
        """Measure the validation points (all, or redo ``indices``) with the calibration in force."""
        if self._calibration is None:
            self._say(display, "nothing to validate: calibrate first")
            return None
        idx = list(range(len(self.val_targets))) if indices is None else sorted(set(indices))
        if indices is None:
            self._val = {}
        for i in self._order(idx):
            if display.aborted():
                return None
            got = self._present(display, self.val_targets[i], native_collect=False)
            t = tuple(float(v) for v in self.val_targets[i])
            geom = with_eye_distance(self.geometry, got.samples)  # the viewer's real distance
            eyes = {e: point_quality(geom, got.samples, t, e) for e in EYES}
            self._val[i] = PointValidation(i, (t[0], t[1]), eyes, got.message, geom.distance_mm)
            if got.message:
                self._say(display, f"validation point {i + 1}: {got.message}", duration_s=0.5)
        pts = [self._val[i] for i in sorted(self._val)]
        summary = summarise(pts, self.settings.gate)
        rec = self.history.add(
            "validation",
            self._calibration.method,
            self.clock(),
            {
                "points": [p.to_dict() for p in pts],
                "summary": summary.to_dict(),
                "gate": dataclasses.asdict(self.settings.gate),
            },
            accuracy_deg=summary.accuracy_deg,
            worst_deg=summary.worst_deg,
            passed=summary.passed,
            parent=self._calibration.id,
        )
        self._validation = rec
        log.info(
            "validation %d of calibration %d: %s", rec.id, self._calibration.id, summary.verdict
        )
        for m in summary.messages:
            log.info("validation %d: %s", rec.id, m)
        return rec

    # ------------------------------------------------------------------ choosing
    def select(self, calibration_id: int) -> CalibrationRecord:
        """Put an earlier calibration back in force (software: its coefficients)."""
        rec = self.history.get(calibration_id)
        if rec.kind != "calibration":
            raise ValueError(f"record {calibration_id} is a {rec.kind}, not a calibration")
        if rec.method.startswith("software"):
            corr = BinocularCorrection.from_dict(rec.result["correction"])
            self._correction = corr
            self.tracker.set_correction(corr)
        elif self.native is not None:
            apply = getattr(self.native, "apply_calibration_data", None)
            data = rec.result.get("calibration_data")
            if apply is None or data is None:
                raise ValueError(
                    "this tracker cannot re-apply an earlier calibration; recalibrate instead"
                )
            apply(data)
        self._calibration = rec
        self._cal_info = list(rec.result.get("points", []))
        self._validation = self.history.latest_validation(rec.id)
        self._val = {}
        if self._validation is not None:
            for d in self._validation.result.get("points", []):
                p = PointValidation.from_dict(d)
                self._val[p.index] = p
        return rec

    def results_view(self, auto_action: Action | None = None) -> ResultsView:
        """The data of the results screen for the current calibration/validation."""
        v = self._validation
        summary = None if v is None else v.result.get("summary")
        passed = bool(v is not None and v.passed)
        grade_ = "" if summary is None else str(summary.get("grade", ""))
        if v is None:
            verdict = "NOT VALIDATED" if self._calibration is not None else "CALIBRATION FAILED"
        else:
            verdict = verdict_label(passed, grade_)
        msgs = list(self._messages)
        if summary is not None:
            msgs += [m for m in summary.get("messages", []) if m not in msgs]
        hist = [
            (
                r.id,
                None if (val := self.history.latest_validation(r.id)) is None else val.accuracy_deg,
                bool(val is not None and val.passed),
            )
            for r in self.history.calibrations()
        ]
        return ResultsView(
            calibration_targets=self.cal_targets,
            calibration_points=self._cal_info,
            validation_targets=self.val_targets,
            validation=[self._val[i] for i in sorted(self._val)],
            summary=summary,
            verdict=verdict,
            passed=passed,
            grade=grade_,
            messages=msgs,
            calibration_id=None if self._calibration is None else self._calibration.id,
            history=hist,
            gate=dataclasses.asdict(self.settings.gate),
            auto_action=auto_action,
            validation_id=None if v is None else v.id,
        )

    # ------------------------------------------------------------------ the loop
    def run(self, display: Display, auto: bool = False, max_rounds: int = 50) -> CalibrationOutcome:
        """Calibrate, validate and loop on the operator's choices until accept or abort.

        Never raises for bad data or a failing tracker: the outcome says what happened.
        """
        try:
            return self._run(display, auto, max_rounds)
        except StopSession:
            self._restore_previous()
            raise
        except Exception as exc:  # last line of defence: report, never crash the session
            log.exception("calibration: unexpected error")
            self._restore_previous()
            text = f"calibration stopped by an unexpected error: {type(exc).__name__}: {exc}"
            try:
                display.message(text, error=True, duration_s=3.0)
            except Exception:
                log.exception("calibration: could not show the error on the display")
            return self._outcome(False, text)

    def _auto_action(self, attempts: int) -> Action:
        if self._validation is not None and self._validation.passed:
            return Action("accept")
        if attempts < self.settings.max_auto_attempts:
            return Action("recalibrate")
        return Action("abort")

    def _run(self, display: Display, auto: bool, max_rounds: int) -> CalibrationOutcome:
        attempts = 1
        action = Action("recalibrate")
        for _ in range(max_rounds):
            self._perform(display, action)
            if display.aborted():
                self._restore_previous()
                return self._outcome(False, "calibration aborted by the operator", aborted=True)
            auto_action = self._auto_action(attempts) if auto else None
            action = display.results(self.results_view(auto_action), auto)
            if auto and auto_action is not None:
                action = auto_action
            if action.kind == "accept":
                if self._calibration is None:
                    self._say(display, "there is no calibration to accept: recalibrate")
                    action = Action("none")
                    continue
                return self._accept(self._calibration)
            if action.kind == "abort":
                self._restore_previous()
                return self._outcome(False, "calibration ended without an accepted calibration")
            if action.kind == "recalibrate":
                attempts += 1
                self._pos = None
        self._restore_previous()
        return self._outcome(False, f"calibration gave up after {max_rounds} rounds")

    def _perform(self, display: Display, action: Action) -> None:
        """Carry out a recalibrate, redo or select chosen on the results screen."""
        if action.kind == "recalibrate" or (action.kind == "redo" and action.calibration_points):
            points = action.calibration_points if action.kind == "redo" else None
            if self.calibrate(display, points) is not None:
                self.validate(display)
        elif action.kind == "redo":
            if action.validation_points and self._calibration is not None:
                self.validate(display, action.validation_points)
        elif action.kind == "select" and action.record_id is not None:
            try:
                self.select(action.record_id)
            except (KeyError, ValueError) as exc:
                self._say(display, str(exc))

    def _accept(self, calibration: CalibrationRecord) -> CalibrationOutcome:
        self.history.select(calibration.id)
        v = self._validation
        ok = bool(v is not None and v.passed)
        verdict = "no validation" if v is None else validation_verdict(v)
        return self._outcome(True, f"calibration {calibration.id} accepted: {verdict}", ok)

    def _outcome(
        self, accepted: bool, message: str, passed: bool = False, *, aborted: bool = False
    ) -> CalibrationOutcome:
        log.info("calibration: %s", message)
        return CalibrationOutcome(
            accepted=accepted,
            passed=passed,
            message=message,
            calibration=self._calibration if accepted else None,
            validation=self._validation if accepted else None,
            history=self.history,
            aborted_by_operator=aborted,
        )
