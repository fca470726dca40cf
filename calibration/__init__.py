"""gazeread: calibration."""
