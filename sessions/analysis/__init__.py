"""The study's findings from its sessions (``gazeread analyze``; docs/analysis.md).

Decisions, calibration, agreement between readers, gaze and pupil, readers against models.
"""
