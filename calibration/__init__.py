"""gazeread: calibration, validation, data-quality metrics and drift checks.

The pure parts are re-exported here; the PsychoPy screens are imported from their modules
(``calibration.calibration_screen.run_calibration``, ``calibration.drift_screen.
run_drift_check``) so that importing this package never loads PsychoPy.
"""

from calibration.drift import DriftChecker, DriftResult, DriftSettings, drift_loop
from calibration.geometry import (
    ScreenGeometry,
    angular_distance_deg,
    deg_to_px_offset,
    eye_distance_mm,
    norm_to_px,
    px_per_degree,
    px_to_deg,
    px_to_norm,
    with_eye_distance,
)
from calibration.history import CalibrationHistory, CalibrationRecord
from calibration.metrics import (
    PointValidation,
    QualityGate,
    ValidationSummary,
    accuracy_deg,
    data_loss_pct,
    grade,
    rms_s2s_deg,
    sd_deg,
    summarise,
)
from calibration.native import NativeCalibrator
from calibration.procedure import (
    Action,
    CalibrationOutcome,
    CalibrationProcedure,
    CalibrationSettings,
)
from calibration.software import BinocularCorrection, CalibrationFitError, SoftwareCalibration
from calibration.targets import TargetTiming, calibration_points, validation_points

__all__ = [
    "Action",
    "BinocularCorrection",
    "CalibrationFitError",
    "CalibrationHistory",
    "CalibrationOutcome",
    "CalibrationProcedure",
    "CalibrationRecord",
    "CalibrationSettings",
    "DriftChecker",
    "DriftResult",
    "DriftSettings",
    "NativeCalibrator",
    "PointValidation",
    "QualityGate",
    "ScreenGeometry",
    "SoftwareCalibration",
    "TargetTiming",
    "ValidationSummary",
    "accuracy_deg",
    "angular_distance_deg",
    "calibration_points",
    "data_loss_pct",
    "deg_to_px_offset",
    "drift_loop",
    "eye_distance_mm",
    "grade",
    "norm_to_px",
    "px_per_degree",
    "px_to_deg",
    "px_to_norm",
    "rms_s2s_deg",
    "sd_deg",
    "summarise",
    "validation_points",
    "with_eye_distance",
]
