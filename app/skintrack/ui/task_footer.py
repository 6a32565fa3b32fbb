"""The task-status footer: what runs, how far it is, and a way to cancel it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from skintrack.progress import Progress
from skintrack.ui.tasks import TaskHandle


class TaskFooter(QWidget):
    """Label, progress bar and cancel button that follow one running task, hidden otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("taskProgress")
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setObjectName("taskCancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self.handle: TaskHandle | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def track(self, handle: TaskHandle, text: str) -> None:
        """Follow ``handle`` until it finishes (nothing to show when it has already)."""
        if not handle.running:
            return
        self.handle = handle
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        handle.progress.connect(self._progress)
        handle.finished.connect(self._finished)
        self.show()

    @Slot(object)
    def _progress(self, p: Progress) -> None:
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)
        if p.message:
            self.bar.setToolTip(p.message)

    @Slot()
    def _cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")

    @Slot()
    def _finished(self) -> None:
        self.handle = None
        self.hide()
