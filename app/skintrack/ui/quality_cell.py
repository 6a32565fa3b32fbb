"""A photo's capture quality as a compact cell: the check-in dialog's file list, keep or drop.

:func:`attach_quality` puts a :class:`QualityCell` in a table row and assesses the file (against
the region's reference photo) in a worker. The cell shows the overall status with the main
problem, the full advice in its tooltip, and a "Drop" button for a photo that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableWidget, QWidget

from skintrack.core.quality import CHECK_LABELS, QualityReport, QualityThresholds
from skintrack.library import Library
from skintrack.library.quality_store import load_quality
from skintrack.progress import CancelToken
from skintrack.ui.live_quality import start_detached
from skintrack.ui.quality_badges import STATUS_COLOURS, STATUS_SYMBOLS
from skintrack.ui.tasks import TaskHandle

SUMMARY = {"pass": "Good", "warn": "Usable", "fail": "Poor"}
QUALITY_WIDTH = 210  # px: room for "✕ Poor: highlights, sharpness" on two lines and "Drop"


def summary_text(report: QualityReport) -> str:
    """One line: "✓ Good", "! Usable: glare", "✕ Poor: highlights, sharpness"."""
    head = f"{STATUS_SYMBOLS[report.overall]} {SUMMARY[report.overall]}"
    names = [
        CHECK_LABELS.get(c.name, c.name).lower() for c in report.problems() if c.status == report.overall
    ]
    return f"{head}: {', '.join(names[:2])}" if names else head


def tooltip_text(report: QualityReport) -> str:
    lines = [f"{CHECK_LABELS.get(c.name, c.name)}: {c.status}. {c.advice}" for c in report.checks.values()]
    return "\n".join(lines)


class QualityCell(QWidget):
    """Shows one photo's quality; ``dropRequested`` asks the dialog to remove the photo."""

    dropRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qualityCell")
        self.label = QLabel("Checking…", self)
        self.label.setWordWrap(True)
        self.drop_button = QPushButton("Drop", self)
        self.drop_button.setObjectName("dropPhoto")
        self.drop_button.setToolTip("Remove this photo from the check-in")
        self.drop_button.hide()
        self.drop_button.clicked.connect(self.dropRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.label, 1, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.drop_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.report: QualityReport | None = None

    @Slot(object)
    def show_report(self, report: QualityReport) -> None:
        self.report = report
        self.label.setText(summary_text(report))
        self.label.setStyleSheet(f"color: {STATUS_COLOURS[report.overall].name()}; font-weight: 600;")
        self.setToolTip(tooltip_text(report))
        self.drop_button.setVisible(report.overall == "fail")

    @Slot(str, str)
    def show_error(self, message: str, _traceback: str = "") -> None:
        self.label.setText("Not checked")
        self.setToolTip(f"The capture quality could not be checked: {message}")


def attach_quality(
    table: QTableWidget,
    row: int,
    column: int,
    path: Path,
    reference: Path | None,
    on_drop: Callable[[], None],
    thresholds: QualityThresholds | None = None,
) -> tuple[QualityCell, TaskHandle]:
    """Put a QualityCell at (row, column) and assess ``path`` in a worker; returns (cell, task)."""
    cell = QualityCell(table)
    table.setCellWidget(row, column, cell)
    cell.dropRequested.connect(on_drop)

    def job(_t: CancelToken) -> QualityReport:
        from skintrack.services.quality import assess_file

        return assess_file(path, reference, thresholds)

    handle = start_detached(job, "checkin-quality", on_result=cell.show_report, on_error=cell.show_error)
    return cell, handle


def show_stored_quality(label: QLabel, lib: Library | None, photo_id: int | None) -> None:
    """Fill a details-panel label with a library photo's stored capture quality."""
    stored = None if photo_id is None or lib is None else load_quality(lib, photo_id)
    if stored is None:
        label.setText("–" if photo_id is None else "not checked")
        label.setToolTip("" if photo_id is None else "This photo was imported before capture checks existed.")
        label.setStyleSheet("")
        return
    label.setText(summary_text(stored.report))
    label.setStyleSheet(f"color: {STATUS_COLOURS[stored.overall].name()}; font-weight: 600;")
    label.setToolTip(tooltip_text(stored.report))
