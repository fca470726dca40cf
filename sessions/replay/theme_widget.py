"""The dark theme shared by the replay window and the operator console."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

__all__ = ["STYLE_SHEET", "apply_dark_theme"]

STYLE_SHEET = """
QWidget { font-size: 10pt; }
QTableWidget { background: #1b1c20; alternate-background-color: #222329; gridline-color: #2c2e35;
               selection-background-color: #2f5d8a; selection-color: #ffffff; border: none; }
QHeaderView::section { background: #26272d; color: #c9ccd4; padding: 4px 6px; border: none;
                       border-right: 1px solid #33353d; font-weight: 600; }
QPushButton, QToolButton { background: #2b2d34; color: #e6e7ea; border: 1px solid #3a3d46;
                           border-radius: 4px; padding: 4px 10px; }
QPushButton:hover, QToolButton:hover { background: #353843; }
QPushButton:checked, QToolButton:checked { background: #2f5d8a; border-color: #4a7fb5; }
QComboBox, QDoubleSpinBox { background: #2b2d34; color: #e6e7ea; border: 1px solid #3a3d46;
                            border-radius: 4px; padding: 2px 6px; }
QCheckBox { color: #d6d8de; spacing: 5px; }
QStatusBar { background: #1b1c20; color: #a9adb7; }
QLabel#meterValue { font-size: 13pt; font-weight: 600; }
QLabel#sectionTitle { color: #8d929e; font-weight: 600; text-transform: uppercase; }
QGroupBox { border: 1px solid #33353d; border-radius: 6px; margin-top: 14px; padding-top: 6px;
            color: #aeb3bd; font-weight: 600; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QSplitter::handle { background: #2a2c33; }
"""


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and the style sheet above."""
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: (30, 31, 35),
        QPalette.ColorRole.WindowText: (230, 231, 235),
        QPalette.ColorRole.Base: (27, 28, 32),
        QPalette.ColorRole.AlternateBase: (34, 35, 41),
        QPalette.ColorRole.ToolTipBase: (40, 42, 48),
        QPalette.ColorRole.ToolTipText: (230, 231, 235),
        QPalette.ColorRole.Text: (230, 231, 235),
        QPalette.ColorRole.Button: (43, 45, 52),
        QPalette.ColorRole.ButtonText: (230, 231, 235),
        QPalette.ColorRole.Highlight: (47, 93, 138),
        QPalette.ColorRole.HighlightedText: (255, 255, 255),
        QPalette.ColorRole.PlaceholderText: (140, 144, 152),
    }
    for role, rgb in roles.items():
        pal.setColor(role, QColor(*rgb))
    app.setPalette(pal)
    app.setStyleSheet(STYLE_SHEET)
