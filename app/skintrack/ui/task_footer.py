"""The task-status footer: what runs, how far it is, and (in the status bar) a way to cancel it.

One widget for the main window's status bar and for the check-in, region-editor and export
dialogs: :meth:`TaskFooter.track` follows a :class:`~skintrack.ui.tasks.TaskHandle` (progress
range, value and message) until it finishes; :meth:`TaskFooter.set_text` reports an outcome.
In the status bar it is hidden while nothing runs; in a dialog it stays, and the dialog's own
buttons cancel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from skintrack.progress import Progress
from skintrack.ui.tasks import TaskHandle

ERROR_STYLE = "color: #b00020;"


class TaskFooter(QWidget):
    def __init__(self, parent: QWidget | None = None, *, in_status_bar: bool = True) -> None:
        super().__init__(parent)
        self.in_status_bar = in_status_bar
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.label.setObjectName("taskStatus")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("taskProgress")
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setObjectName("taskCancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        lay.addWidget(self.label, 0 if in_status_bar else 1)
        lay.addWidget(self.bar, 0 if in_status_bar else 1)
        lay.addWidget(self.cancel_button)
        if in_status_bar:
            self.bar.setMaximumWidth(220)
            self.hide()
        else:
            self.label.setWordWrap(True)
            self.cancel_button.hide()  # the dialog's own Cancel button stops its task
        self.handle: TaskHandle | None = None
        self.cancel_button.clicked.connect(self._cancel)

    def track(self, handle: TaskHandle, text: str, *, steps: int = 0) -> None:
        """Follow ``handle`` until it finishes (nothing to show when it has already).

        ``steps`` sets the bar's range until the first progress report (0: busy indicator).
        """
        if not handle.running:
            return
        self.handle = handle
        self.set_text(text)
        self.bar.setRange(0, steps)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        handle.progress.connect(self._progress)
        handle.finished.connect(lambda h=handle: self._finished(h))
        self.show()

    def set_text(self, text: str, *, error: bool = False) -> None:
        self.label.setText(text)
        self.label.setStyleSheet(ERROR_STYLE if error else "")

    @Slot(object)
    def _progress(self, p: Progress) -> None:
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)
        if p.message:
            if self.in_status_bar:
                self.bar.setToolTip(p.message)
            else:
                self.set_text(p.message)

    @Slot()
    def _cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")

    def _finished(self, handle: TaskHandle) -> None:
        if handle is not self.handle:  # a task that followed it is shown now
            return
        self.handle = None
        if self.in_status_bar:
            self.hide()
