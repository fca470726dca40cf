"""gazeread: calibration, validation, data-quality metrics and drift checks.

The pure parts are re-exported here; the PsychoPy screens are imported from their modules
(``calibration.calibration_screen.run_calibration``, ``calibration.drift_screen.
run_drift_check``) so that importing this package never loads PsychoPy.
"""

from calibration.drift import DriftChecker, DriftResult, DriftSettings, drift_loop
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
    "SoftwareCalibration",
    "TargetTiming",
    "ValidationSummary",
    "accuracy_deg",
    "calibration_points",
    "data_loss_pct",
    "drift_loop",
    "grade",
    "rms_s2s_deg",
    "sd_deg",
    "summarise",
    "validation_points",
]
