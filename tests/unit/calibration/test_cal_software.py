"""Software calibration: exact recovery of known distortions, errors, serialisation, per-eye use."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from acquisition.ring_buffer import RingBuffer
from acquisition.samples import SampleFlag, empty_samples
from calibration.software import (
    BinocularCorrection,
    CalibrationFitError,
    SoftwareCalibration,
    fit_binocular,
    fit_calibration,
    resolve_model,
)
from calibration.targets import calibration_points
from tests.support.calibration_fakes import FakeClock, FakeTracker, apply_error


def test_affine_recovers_an_affine_error_exactly() -> None:
    t = calibration_points(5)
    gx, gy = apply_error(
        t[:, 0], t[:, 1], {"offset": (0.04, -0.03), "gain": (1.1, 0.9), "rotation_deg": 3}
    )
    cal = fit_calibration(np.c_[gx, gy], t, "affine")
    assert cal.model == "affine" and cal.n_points == 5
    assert cal.rms_residual == pytest.approx(0.0, abs=1e-12)
    # any other point of the screen is corrected too
    px, py = apply_error(
        np.array([0.2, 0.7]),
        np.array([0.8, 0.35]),
        {"offset": (0.04, -0.03), "gain": (1.1, 0.9), "rotation_deg": 3},
    )
    cx, cy = cal(px, py)
    np.testing.assert_allclose(cx, [0.2, 0.7], atol=1e-12)
    np.testing.assert_allclose(cy, [0.8, 0.35], atol=1e-12)


def test_poly2_recovers_a_quadratic_distortion_exactly() -> None:
    t = calibration_points(9)
    u, v = t[:, 0] - 0.5, t[:, 1] - 0.5
    # raw gaze such that target = quadratic(raw): build raw from a known poly2 inverse map
    coef_x = (0.5, 1.0, 0.05, 0.1, -0.2, 0.05)
    coef_y = (0.5, 0.02, 0.95, -0.05, 0.1, 0.15)
    cal_true = SoftwareCalibration("poly2", coef_x, coef_y)
    raw = np.c_[t[:, 0] + 0.01 * u * u, t[:, 1] - 0.02 * v]
    tx, ty = cal_true(raw[:, 0], raw[:, 1])
    cal = fit_calibration(raw, np.c_[tx, ty], "auto")
    assert cal.model == "poly2"
    np.testing.assert_allclose(cal.coef_x, coef_x, atol=1e-10)
    np.testing.assert_allclose(cal.coef_y, coef_y, atol=1e-10)


def test_model_choice() -> None:
    assert resolve_model("auto", 5) == "affine"
    assert resolve_model("auto", 9) == "poly2"
    assert resolve_model("auto", 13) == "poly2"
    with pytest.raises(ValueError, match="'cubic'"):
        resolve_model("cubic", 9)


def test_too_few_points_and_collinear_points_are_explained() -> None:
    t = calibration_points(5)
    g = t.copy()
    g[2:] = np.nan
    with pytest.raises(CalibrationFitError, match=r"needs gaze at >= 3 points, only 2"):
        fit_calibration(g, t, "affine")
    with pytest.raises(CalibrationFitError, match=">= 9 points"):
        fit_calibration(t, t, "poly2")
    line = np.c_[np.linspace(0.1, 0.9, 5), np.full(5, 0.5)]
    with pytest.raises(CalibrationFitError, match="does not span the screen"):
        fit_calibration(line, t, "affine")


def test_nan_passes_through_and_identity() -> None:
    ident = SoftwareCalibration.identity("poly2")
    x, y = ident(np.array([0.3, np.nan]), np.array([0.6, 0.2]))
    assert x[0] == pytest.approx(0.3) and y[0] == pytest.approx(0.6) and math.isnan(x[1])


def test_serialisation_round_trip() -> None:
    t = calibration_points(9)
    cal = fit_calibration(t + 0.01, t)
    d = cal.to_dict()
    json.dumps(d, allow_nan=False)
    assert SoftwareCalibration.from_dict(d) == cal
    with pytest.raises(ValueError, match="coefficients"):
        SoftwareCalibration("affine", (1.0,), (1.0,))
    with pytest.raises(ValueError, match="not a software calibration"):
        SoftwareCalibration.from_dict({"model": "affine"})
    b = BinocularCorrection(cal, None)
    assert BinocularCorrection.from_dict(json.loads(json.dumps(b.to_dict()))) == b
    assert b.model == "software-poly2"


def test_binocular_fit_skips_an_eye_without_data_and_says_so() -> None:
    t = calibration_points(5)
    corr, notes = fit_binocular(t, {"left": t + 0.02, "right": np.full_like(t, np.nan)})
    assert corr.right is None and corr.left is not None
    assert notes and notes[0].startswith("right eye:")
    assert corr.for_eye("right") is corr.left  # the other eye's fit is better than none
    with pytest.raises(CalibrationFitError, match=r"left eye: .*right eye"):
        fit_binocular(t, {"left": np.full_like(t, np.nan), "right": np.full_like(t, np.nan)})


def test_tracker_applies_each_eye_its_own_correction_and_it_can_be_removed() -> None:
    t = calibration_points(5)
    corr, _ = fit_binocular(
        t, {"left": t + np.array([0.05, 0.0]), "right": t - np.array([0.0, 0.03])}, "affine"
    )
    buf = RingBuffer(64)
    tr = FakeTracker(buf, FakeClock())
    tr.set_correction(corr)
    rows = empty_samples(1)
    rows["left_x"], rows["left_y"], rows["right_x"], rows["right_y"] = 0.45, 0.4, 0.4, 0.37
    tr._emit(rows)
    got = buf.latest()
    assert got is not None
    assert (got["left_x"], got["left_y"]) == pytest.approx((0.40, 0.40))
    assert (got["right_x"], got["right_y"]) == pytest.approx((0.40, 0.40))
    assert got["flags"] & SampleFlag.SOFTWARE_CALIBRATED
    tr.set_correction(None)
    rows = empty_samples(1)
    rows["left_x"] = 0.45
    tr._emit(rows)
    got = buf.latest()
    assert (
        got is not None
        and got["left_x"] == 0.45
        and not got["flags"] & SampleFlag.SOFTWARE_CALIBRATED
    )
