"""The main window's long library jobs with their own progress: building the demo, backing up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

from skintrack.export.backup import BackupReport, backup_library
from skintrack.progress import Progress
from skintrack.services import demo
from skintrack.ui.tasks import Pool, TaskHandle

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


def build_demo(win: MainWindow, root: Path) -> TaskHandle | None:
    """Build the demo library into ``root`` with a cancellable progress dialog, then open it.

    Returns the running task (None when it has already finished: a synchronous pool).
    """
    progress = QProgressDialog("Building the demo library…", "Cancel", 0, 0, win)
    progress.setObjectName("demoProgress")
    progress.setWindowTitle("Demo library")
    # not modal: a modal QProgressDialog.setValue() processes events (re-entrancy)
    progress.setWindowModality(Qt.WindowModality.NonModal)
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.setAutoReset(False)

    def on_progress(p: Progress) -> None:
        progress.setMaximum(max(1, p.total))
        progress.setValue(min(p.done, p.total))
        if p.message:
            progress.setLabelText(p.message)

    def on_error(message: str) -> None:
        win.show_message("Demo library", f"The demo library could not be built: {message}", warning=True)

    def on_finished() -> None:
        win.demo_task = None
        progress.close()
        progress.deleteLater()
        win.empty_state.demo_button.setEnabled(True)

    handle = win.session.run(
        lambda token: demo.ensure_demo_library(root, token),
        on_progress=on_progress,
        on_result=win.open_library,
        on_error=on_error,
        on_finished=on_finished,
        pool=Pool.WORK,
        name="demo",
    )
    if not handle.running:
        return None
    progress.canceled.connect(handle.cancel)
    win.empty_state.demo_button.setEnabled(False)
    progress.show()
    return handle


def back_up(win: MainWindow, out: Path) -> TaskHandle | None:
    """Zip the database and the originals to ``out`` in a worker, followed in the task footer."""
    lib = win.lib
    if lib is None:
        return None

    def done(report: BackupReport) -> None:
        win.statusBar().showMessage(f"Backed up to {report.path}", 8000)

    handle = win.session.run(
        lambda token: backup_library(lib, out, token, force=True),  # the save dialog confirmed a replace
        on_result=done,
        on_error=lambda msg: win.show_message("Back up failed", msg, warning=True),
        pool=Pool.WORK,
        name="backup",
    )
    win.task_status.track(handle, "Backing up…")
    return handle
