"""The main window's long library jobs, followed in the status bar: building the demo, analysing
every region in the background, backing up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from skintrack.export.backup import BackupReport, backup_library
from skintrack.progress import Progress
from skintrack.services import demo
from skintrack.ui.tasks import Pool, TaskHandle

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


class RegionQueue(QObject):
    """Analyses regions one after another through the session's per-region queue, followed in
    the status bar; ``finished`` once every region is done (or the queue was cancelled)."""

    finished = Signal()

    def __init__(self, win: MainWindow, regions: list[tuple[int, str]], title: str) -> None:
        super().__init__(win)
        self.win = win
        self.pending = list(regions)
        self.total = len(regions)
        self.title = title
        self.current: int | None = None
        self.running = True
        win.session.analysisFinished.connect(self._over)

    def start(self) -> None:
        self._next()

    def cancel(self) -> None:
        self.pending.clear()
        handle = self.win.session.analysis_task(self.current) if self.current is not None else None
        if handle is not None:
            handle.cancel()
        else:
            self._stop()

    def _next(self) -> None:
        if not self.pending:
            self._stop()
            return
        region_id, name = self.pending.pop(0)
        self.current = region_id
        number = self.total - len(self.pending)
        handle = self.win.session.analyse(region_id)
        if handle is not None and handle.running:
            self.win.task_status.track(handle, f"{self.title}: {name} ({number} of {self.total})…")
        elif handle is None and not self.win.session.analysing(region_id):
            self._next()  # no library any more: nothing to wait for

    def _over(self, region_id: int, outcome: str, _detail: object) -> None:
        if not self.running or region_id != self.current:
            return
        if outcome == "cancelled":
            self.pending.clear()
        self._next()

    def _stop(self) -> None:
        if not self.running:
            return
        self.running = False
        self.current = None
        self.win.session.analysisFinished.disconnect(self._over)
        self.finished.emit()


def analyse_in_background(win: MainWindow, title: str) -> RegionQueue | None:
    """Analyse every region of the open library, one after another, without blocking the window."""
    if win.lib is None:
        return None
    regions = [(s.region.id, s.region.name) for s in win.lib.list_regions()]
    queue = RegionQueue(win, regions, title)
    queue.start()
    return queue


def build_demo(win: MainWindow, root: Path) -> TaskHandle | None:
    """Build the demo library into ``root`` in a worker (progress in the status bar), open it as
    soon as its photos are stored, then analyse it in the background.

    Returns the running build (None when it has already finished: a synchronous pool).
    """

    def on_error(message: str) -> None:
        win.show_message("Demo library", f"The demo library could not be built: {message}", warning=True)

    def on_finished() -> None:
        win.demo_task = None
        win.empty_state.demo_button.setEnabled(True)
        win.empty_state.set_busy("")

    def on_progress(p: Progress) -> None:
        win.empty_state.set_busy(p.message or "Building the demo library…")

    handle = win.session.run(
        lambda token: demo.ensure_demo_library(root, token, analyse=False),
        on_progress=on_progress,
        on_result=win.open_analysed_demo,
        on_error=on_error,
        on_finished=on_finished,
        pool=Pool.WORK,
        name="demo",
    )
    if not handle.running:
        return None
    win.task_status.track(handle, "Building the demo library…")
    win.empty_state.demo_button.setEnabled(False)
    win.empty_state.set_busy("Building the demo library…")
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
