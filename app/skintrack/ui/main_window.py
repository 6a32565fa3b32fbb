"""The main window: lays out the library view, the empty state and the task footer, and wires them.

Actions, menus and the toolbar are declared in :mod:`skintrack.ui.actions`; what is shown and
selected lives in :mod:`skintrack.ui.library_view`; the commands that change the library in
:mod:`skintrack.ui.editing`; the windows it opens in :mod:`skintrack.ui.windows`; the library and
the per-region analysis queue in :class:`skintrack.ui.session.Session`; geometry in
:mod:`skintrack.ui.window_state`. Nothing slow runs on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QPoint, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from skintrack import APP_NAME
from skintrack.core import formatting
from skintrack.errors import SkintrackError
from skintrack.library import Library, Photo
from skintrack.library.models import Region
from skintrack.library.settings import defaults
from skintrack.services import demo
from skintrack.services.analysis import AnalysisReport
from skintrack.ui import actions, area_prompt, context_menus, icons, library_tasks
from skintrack.ui.checkin_files import image_paths
from skintrack.ui.editing import LibraryEdits
from skintrack.ui.empty_state import EmptyState
from skintrack.ui.help_dialogs import HelpMenu
from skintrack.ui.library_menu import LibraryMaintenance
from skintrack.ui.library_view import LibraryView
from skintrack.ui.preferences import (
    WindowState,
    load_analysis_settings,
    load_preferences,
)
from skintrack.ui.region_commands import RegionCommands
from skintrack.ui.session import Session
from skintrack.ui.startup_gc import freeze_startup_objects
from skintrack.ui.task_footer import TaskFooter
from skintrack.ui.tasks import TaskHandle
from skintrack.ui.thumbnails import ThumbnailLoader
from skintrack.ui.window_state import WindowStateKeeper
from skintrack.ui.windows import ChildWindows

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    libraryChanged = Signal(object)  # Path
    analysisFinished = Signal(str)  # "succeeded" | "failed" | "cancelled"
    backgroundAnalysisFinished = Signal()  # every region queued by open_analysed_demo is done

    def __init__(self, library: Library | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.lib: Library | None = None
        self.thumbs: ThumbnailLoader | None = None
        self.prefs = load_preferences()
        self.threshold_L = defaults().threshold_L
        self.session = Session(None, self)
        self.session.analysisFinished.connect(self._analysis_over)
        self.session.analysisStarted.connect(self._analysis_started)
        self.analysis_task: TaskHandle | None = None
        self.demo_task: TaskHandle | None = None
        self.background_analysis: library_tasks.RegionQueue | None = None
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests replace it
        self._owns_library = False
        self.edits = LibraryEdits(self)
        self.region_commands = RegionCommands(self)
        self.maintenance = LibraryMaintenance(self)
        self.help = HelpMenu(self)
        self.windows = ChildWindows(self)
        self.children_windows = self.windows.children
        self._build_ui()
        self.actions_by_name = actions.build_actions(self)
        self.toolbar = actions.build_menus_and_toolbar(self, self.actions_by_name)
        self.edits.build_edit_menu()
        context_menus.install(self)
        self.refresh_icons()
        self.window_state = WindowStateKeeper(
            self,
            {"splitter": self.splitter, "details_splitter": self.details.splitter},
            WindowState(),
            default_sizes={"splitter": self.view.use_default_sizes},
        )
        self.set_library(library)
        self.window_state.restore()

    # ================================================================= UI
    def _build_ui(self) -> None:
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.empty_state = EmptyState(self.stack)
        self.empty_state.addRegionRequested.connect(self.edits.add_region)
        self.empty_state.demoRequested.connect(self.open_demo)
        self.stack.addWidget(self.empty_state)

        self.view = LibraryView(self.stack)
        self.view.is_analysing = self.session.analysing
        self.view.changed.connect(self._update_actions)
        self.view.regionPicked.connect(lambda rid: self.window_state.remember_region(rid))
        self.view.compareRequested.connect(self.windows.compare)
        self.view.addRegionRequested.connect(self.edits.add_region)
        self.view.details.notesSaveRequested.connect(self.edits.save_notes)
        self.view.details.manualAlignRequested.connect(self.align_by_hand)
        self.splitter, self.details = self.view, self.view.details
        self.region_model, self.photo_model = self.view.region_model, self.view.photo_model
        self.region_view, self.timeline, self.photo_delegate = (
            self.view.region_view,
            self.view.timeline,
            self.view.photo_delegate,
        )
        self.timeline_title, self.timeline_hint = self.view.timeline_title, self.view.timeline_hint
        self.add_region_button = self.view.add_region_button
        self.stack.addWidget(self.view)

        self.task_status = TaskFooter(self)
        self.statusBar().addPermanentWidget(self.task_status)
        self.resize(1280, 800)

    def refresh_icons(self) -> None:
        """Re-render SVG icons in the palette's text colour (after a theme change)."""
        actions.refresh_icons(self.actions_by_name)
        self.add_region_button.setIcon(icons.icon("add"))
        self.empty_state.refresh_icons()

    # ================================================================= library
    def set_library(self, lib: Library | None, *, owned: bool = False) -> None:
        """Show ``lib`` (None: empty window). ``owned``: close it when replaced or at exit."""
        queue, self.background_analysis = self.background_analysis, None
        if queue is not None:
            queue.cancel()
        self.session.cancel_all()
        old, old_owned = self.lib, self._owns_library
        if self.thumbs is not None:
            self.thumbs.cancel_all()
            self.thumbs.deleteLater()
        self.lib = lib
        self.session.library = lib
        self._owns_library = owned
        self.thumbs = ThumbnailLoader(lib, parent=self) if lib is not None else None
        if lib is not None:
            self.threshold_L = load_analysis_settings(lib).threshold_L
        self.view.set_library(lib, self.thumbs, self.threshold_L)
        title = APP_NAME if lib is None else f"{APP_NAME} — {lib.root.name}"
        self.setWindowTitle(title)
        self.reload()
        if old is not None and old is not lib and old_owned:
            old.close()
        if lib is not None:
            self.libraryChanged.emit(lib.root)
            self.maintenance.check_on_open()

    def open_library(self, path: Path) -> bool:
        try:
            lib = Library.open(path)
        except Exception as exc:
            self.show_message(
                "Cannot open library", f"Cannot open the library in {path}:\n{exc}", warning=True
            )
            return False
        self.set_library(lib, owned=True)
        return True

    def close_library(self) -> None:
        self.set_library(None)

    def reload(self) -> None:
        """Re-read regions (and the selected region's check-ins), keeping the selection."""
        current = self.current_region_id()
        regions = self.view.list_regions()
        self.stack.setCurrentWidget(self.view if regions else self.empty_state)
        self.empty_state.demo_button.setEnabled(self.demo_task is None)
        self.view.show_regions(regions, current if current is not None else self.window_state.last_region())
        self._update_actions()

    def reload_region(
        self, select_row: int | None = None, select_photo: int | None = None, *, chart: bool = True
    ) -> None:
        """Show the current region again after a change (the sidebar too)."""
        regions = self.view.reload_region(select_row, select_photo, chart=chart)
        self.stack.setCurrentWidget(self.view if regions else self.empty_state)

    def current_region_id(self) -> int | None:
        return self.view.current_region_id()

    def current_photo(self) -> Photo | None:
        return self.view.current_photo()

    def select_photo(self, photo_id: int) -> None:
        self.view.select_photo(photo_id)

    def _update_actions(self) -> None:
        region = self.view.current_region()
        photo = self.current_photo()
        actions.update_enabled(
            self.actions_by_name,
            library=self.lib is not None,
            region=region is not None,
            photo_row=self.timeline.currentIndex().row() if photo is not None else None,
            photos=self.photo_model.rowCount(),
            analysing=self.analysis_task is not None,
            archived=region is not None and region.archived,
            not_aligned=photo is not None and photo.id in self.photo_delegate.not_aligned,
        )

    def checked_in(self, photo_ids: list[int]) -> None:
        """A check-in was saved: show it, then (once per region) ask to mark the areas."""
        if not photo_ids or self.lib is None:
            return
        self.show_check_in(photo_ids[-1])
        try:
            region_id = self.lib.photo(photo_ids[-1]).region_id
        except SkintrackError:
            return
        QTimer.singleShot(0, self, lambda: area_prompt.after_checkin(self, region_id))

    def ask_mark_areas(self, region: Region, answered: Callable[[bool], None]) -> None:
        """Ask (without blocking) whether to mark the watched area and control patch now; tests
        replace this."""
        area_prompt.ask(self, region, answered)

    def popup_menu(self, menu: QMenu, pos: QPoint) -> None:
        """Show a context menu (tests replace this to read it)."""
        try:
            menu.exec(pos)
        finally:
            menu.deleteLater()

    def toggle_archived(self) -> None:
        self.view.show_archived = self.actions_by_name["show_archived"].isChecked()
        self.reload()

    def align_by_hand(self, photo_id: int | None = None) -> None:
        """Open the compare window on the check-in and the reference, with manual alignment."""
        if photo_id is not None:
            self.select_photo(photo_id)
        win = self.windows.compare()
        if win is not None:
            win.open_manual_alignment()

    def show_check_in(self, photo_id: int) -> None:
        """Select a (new) check-in, switching to its region first."""
        if self.lib is None:
            return
        try:
            photo = self.lib.photo(photo_id)
        except SkintrackError:  # deleted meanwhile: nothing to show
            return
        self.reload()
        self.view.select_region(photo.region_id)
        self.select_photo(photo.id)

    # ================================================================= messages (hooks for tests)
    def show_message(self, title: str, text: str, *, warning: bool = False) -> None:
        box = QMessageBox.warning if warning else QMessageBox.information
        box(self, title, text)

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def _run_dialog(self, dlg: QDialog) -> int:
        """Modal run of one of our own dialogs; tests replace this to answer it."""
        try:
            return dlg.exec()
        finally:
            dlg.deleteLater()

    # ================================================================= actions
    def next_photo(self) -> None:
        self.view.step(1)

    def previous_photo(self) -> None:
        self.view.step(-1)

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.actions_by_name["fullscreen"].setChecked(self.isFullScreen())

    # ---------------------------------------------------------------- analysis
    def analyse_region(self, force: bool = False) -> TaskHandle | None:
        """Analyse the current region in the background (None when it is already running)."""
        region_id = self.current_region_id()
        if self.lib is None or region_id is None or self.session.analysing(region_id):
            return None
        handle = self.session.analyse(region_id, force=force)
        if handle is not None and handle.running:
            self.analysis_task = handle
            self.task_status.track(handle, "Analysing…")
        self._update_actions()
        return handle

    def reanalyse_region(self) -> TaskHandle | None:
        return self.analyse_region(force=True)

    def _analyse_requested(self, region_id: int) -> None:
        """The region editor changed the reference or the areas: measure again (in the background)."""
        if region_id != self.current_region_id() and not self.view.select_region(region_id):
            return
        self.reload_region()
        self.analyse_region()

    def _analysis_started(self, region_id: int, _handle: TaskHandle) -> None:
        if self.lib is not None and region_id == self.current_region_id():
            self.reload_region(chart=False)  # "being analysed…" instead of "not analysed"

    def _analysis_over(self, _region_id: int, outcome: str, detail: AnalysisReport | str | None) -> None:
        self.analysis_task = None
        if outcome == "failed":
            self.show_message("Analysis failed", str(detail), warning=True)
        elif outcome == "cancelled":
            self.statusBar().showMessage("Analysis cancelled; finished check-ins are kept.", 5000)
        elif isinstance(detail, AnalysisReport):
            n, nf = detail.analysed, detail.failed
            msg = f"Analysed {n} check-in{'s' if n != 1 else ''}"
            self.statusBar().showMessage(msg + (f", {nf} could not be aligned" if nf else ""), 8000)
        if self.lib is not None:
            self.reload_region()
        self._update_actions()
        self.analysisFinished.emit(outcome)

    def demo_dir(self) -> Path:
        return demo.demo_dir()

    def open_demo(self, root: Path | None = None) -> TaskHandle | None:
        """Open the demo library, building it first in a worker; its analysis runs afterwards in
        the background (what is already measured is skipped)."""
        root = root or self.demo_dir()
        if demo.demo_is_ready(root):
            self.open_analysed_demo(root)
            return None
        self.demo_task = library_tasks.build_demo(self, root)
        return self.demo_task

    def open_analysed_demo(self, root: Path) -> None:
        """Show the demo library at once and measure its regions in the background."""
        if not self.open_library(root):
            return
        queue = library_tasks.analyse_in_background(self, "Analysing the demo")
        self.background_analysis = queue
        if queue is not None and queue.running:
            queue.finished.connect(lambda: self._background_analysis_over(queue))
        else:
            self._background_analysis_over(queue)

    def _background_analysis_over(self, queue: library_tasks.RegionQueue | None) -> None:
        if queue is not self.background_analysis:
            return
        self.background_analysis = None
        self.statusBar().showMessage("The demo library is analysed.", 8000)
        self.backgroundAnalysisFinished.emit()

    def _ask_backup_path(self) -> str:
        name = f"skintrack-backup-{formatting.day(date.today())}.zip"
        path, _ = QFileDialog.getSaveFileName(
            self, "Back up the library", str(Path.home() / name), "Zip (*.zip)"
        )
        return path

    def backup(self) -> TaskHandle | None:
        """File ▸ Back up…: a zip of the database and originals, made in a worker."""
        out = self._ask_backup_path() if self.lib is not None else ""
        return library_tasks.back_up(self, Path(out)) if out else None

    # ================================================================= drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.lib is not None and image_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction() if event.mimeData().hasUrls() else event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = image_paths(event.mimeData())
        if not files or self.lib is None:
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, self, lambda: self.windows.new_checkin(files=files))

    # ================================================================= state
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.window_state.shown()
        QTimer.singleShot(0, self, freeze_startup_objects)  # once the first show has settled

    def save_window_state(self) -> None:
        self.window_state.save(self.current_region_id())

    def closeEvent(self, event: QCloseEvent) -> None:
        for w in list(self.children_windows):
            if not w.close():  # a child with unsaved changes the user keeps editing
                event.ignore()
                return
        self.save_window_state()
        self.session.cancel_all()
        if self.thumbs is not None:
            self.thumbs.cancel_all()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Close the library if we opened it (after the pools are drained)."""
        if self._owns_library and self.lib is not None:
            self.lib.close()
        self.lib = None
