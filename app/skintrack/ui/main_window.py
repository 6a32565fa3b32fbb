"""The main window: regions sidebar, check-in timeline, details panel, menus, toolbar, shortcuts.

The window never does image work on the GUI thread: listing is a couple of SQLite queries,
thumbnails and previews come from ``run_task(kind="thumbs")``, analysis from
``run_task(kind="work")`` with progress and a cancel button in the status bar. Dialogs owned by
other modules (check-in, compare, region editor, export) are imported lazily and guarded: when
one is missing the action explains that instead of failing.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skintrack import APP_NAME
from skintrack.core.images import SUPPORTED_SUFFIXES
from skintrack.library import Library, Photo
from skintrack.progress import CancelToken, Progress
from skintrack.ui import icons, theme
from skintrack.ui.about import AboutDialog
from skintrack.ui.app import fix_signal_emit_refcount
from skintrack.ui.delegates import PhotoDelegate, RegionDelegate
from skintrack.ui.details_panel import DetailsPanel
from skintrack.ui.empty_state import EmptyState
from skintrack.ui.journal_dialog import JournalDialog
from skintrack.ui.models import PhotoListModel, PhotoRole, RegionListModel, RegionRole
from skintrack.ui.preferences import (
    PreferencesDialog,
    WindowState,
    load_analysis_settings,
    load_preferences,
    save_analysis_settings,
    save_preferences,
)
from skintrack.ui.tasks import TaskHandle, run_task
from skintrack.ui.thumbnails import ThumbnailLoader

fix_signal_emit_refcount()  # PySide6 6.12: every Python emit() loses a reference to True

log = logging.getLogger(__name__)


def optional_class(module: str, name: str) -> type | None:
    """A class from another helper's module, or None while that module does not exist yet."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        log.info("%s not available: %s", module, exc)
        return None
    return getattr(mod, name, None)


def image_files(urls: list[QUrl]) -> list[Path]:
    """Local image files among dropped URLs (folders and other files are ignored)."""
    out = []
    for url in urls:
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                out.append(path)
    return out


class NewRegionDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newRegionDialog")
        self.setWindowTitle("Add a region")
        form = QFormLayout(self)
        intro = QLabel("A region is one patch of skin you photograph again and again.", self)
        intro.setWordWrap(True)
        form.addRow(intro)
        self.name = QLineEdit(self)
        self.name.setObjectName("regionName")
        self.name.setPlaceholderText("e.g. Left forearm")
        form.addRow("Name", self.name)
        self.body_site = QLineEdit(self)
        self.body_site.setObjectName("regionBodySite")
        self.body_site.setPlaceholderText("e.g. forearm, inner side, left")
        form.addRow("Body site", self.body_site)
        self.interval = QSpinBox(self)
        self.interval.setObjectName("regionInterval")
        self.interval.setRange(0, 365)
        self.interval.setValue(28)
        self.interval.setSpecialValueText("no reminder")
        self.interval.setSuffix(" days")
        form.addRow("Check in every", self.interval)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)
        self.name.textChanged.connect(lambda t: ok.setEnabled(bool(t.strip())))
        form.addRow(self.buttons)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text().strip(),
            "body_site": self.body_site.text().strip(),
            "interval_days": self.interval.value() or None,
        }


class DateDialog(QDialog):
    """Correct when a check-in was taken (the time zone of the original date is kept)."""

    def __init__(self, when: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dateDialog")
        self.setWindowTitle("Change date")
        self.original = when
        form = QFormLayout(self)
        self.edit = QDateTimeEdit(QDateTime(when.date(), when.time().replace(microsecond=0)), self)
        self.edit.setObjectName("dateEdit")
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        form.addRow("Taken on", self.edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def value(self) -> datetime:
        d, t = self.edit.date(), self.edit.time()
        return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=self.original.tzinfo)


class TrashDialog(QDialog):
    """Trashed check-ins of a region; restore the checked ones."""

    def __init__(self, photos: list[Photo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trashDialog")
        self.setWindowTitle("Restore from trash")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Check-ins in the trash. Tick the ones to restore.", self))
        self.list = QListWidget(self)
        self.list.setObjectName("trashList")
        for p in photos:
            item = QListWidgetItem(f"{p.taken_at:%d %b %Y %H:%M}  ·  {p.original_name}", self.list)
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
        lay.addWidget(self.list)
        self.buttons = QDialogButtonBox(self)
        self.buttons.addButton("Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def checked_ids(self) -> list[int]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return out


class TaskStatus(QWidget):
    """Progress bar + cancel button for one long job in the status bar."""

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


class MainWindow(QMainWindow):
    libraryChanged = Signal(object)  # Path
    analysisFinished = Signal(str)  # "succeeded" | "failed" | "cancelled"

    def __init__(self, library: Library | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.lib: Library | None = None
        self.thumbs: ThumbnailLoader | None = None
        self.window_state = WindowState()
        self.prefs = load_preferences()
        self.threshold_L = 3.0
        self.analysis_task: TaskHandle | None = None
        self.demo_task: TaskHandle | None = None
        self._tasks: set[TaskHandle] = set()
        self.children_windows: list[QWidget] = []
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests replace it
        self._restoring = False
        self._owns_library = False

        self.region_model = RegionListModel(None, self)
        self.photo_model = PhotoListModel(None, self)
        self._build_ui()
        self._build_actions()
        self.set_library(library)
        self.restore_window_state()

    # ================================================================= UI
    def _build_ui(self) -> None:
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.empty_state = EmptyState(self.stack)
        self.empty_state.addRegionRequested.connect(self.add_region)
        self.empty_state.demoRequested.connect(self.open_demo)
        self.stack.addWidget(self.empty_state)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.stack)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        side = QWidget(self.splitter)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 6, 0, 6)
        title = QLabel("Regions", side)
        title.setObjectName("sidebarTitle")
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        self.add_region_button = QToolButton(side)
        self.add_region_button.setObjectName("sidebarAddRegion")
        self.add_region_button.setToolTip("Add a region")
        self.add_region_button.setAutoRaise(True)
        self.add_region_button.clicked.connect(self.add_region)
        head.addWidget(self.add_region_button)
        sl.addLayout(head)
        self.region_view = QListView(side)
        self.region_view.setObjectName("regionList")
        self.region_view.setModel(self.region_model)
        self.region_view.setItemDelegate(RegionDelegate(self.region_view))
        self.region_view.setUniformItemSizes(True)
        self.region_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.region_view.setMouseTracking(True)
        self.region_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.region_view.selectionModel().currentChanged.connect(self._region_changed)
        sl.addWidget(self.region_view)
        side.setMinimumWidth(200)

        middle = QWidget(self.splitter)
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 6, 0, 6)
        self.timeline_title = QLabel("", middle)
        self.timeline_title.setObjectName("timelineTitle")
        tf = self.timeline_title.font()
        tf.setBold(True)
        tf.setPointSizeF(tf.pointSizeF() * 1.2)
        self.timeline_title.setFont(tf)
        self.timeline_title.setContentsMargins(6, 0, 0, 0)
        ml.addWidget(self.timeline_title)
        self.timeline_hint = QLabel("", middle)
        self.timeline_hint.setObjectName("timelineHint")
        self.timeline_hint.setContentsMargins(6, 0, 0, 0)
        self.timeline_hint.setWordWrap(True)
        ml.addWidget(self.timeline_hint)
        self.timeline = QListView(middle)
        self.timeline.setObjectName("timeline")
        self.timeline.setViewMode(QListView.ViewMode.IconMode)
        self.timeline.setFlow(QListView.Flow.LeftToRight)
        self.timeline.setWrapping(True)
        self.timeline.setResizeMode(QListView.ResizeMode.Adjust)
        self.timeline.setMovement(QListView.Movement.Static)
        self.timeline.setUniformItemSizes(True)
        self.timeline.setSpacing(4)
        self.timeline.setMouseTracking(True)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.timeline.setDragEnabled(False)
        self.photo_delegate = PhotoDelegate(self.timeline)
        self.timeline.setItemDelegate(self.photo_delegate)
        self.timeline.setModel(self.photo_model)
        self.timeline.selectionModel().currentChanged.connect(self._photo_changed)
        self.timeline.doubleClicked.connect(lambda _i: self.compare())
        ml.addWidget(self.timeline)

        self.details = DetailsPanel(None, self.splitter)
        self.details.notesSaveRequested.connect(self.save_notes)
        self.details.photoActivated.connect(self.select_photo)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([240, 580, 580])
        self.stack.addWidget(self.splitter)

        self.task_status = TaskStatus(self)
        self.statusBar().addPermanentWidget(self.task_status)
        self.resize(1280, 800)

    def _action(
        self,
        key: str,
        text: str,
        slot: Callable[[], Any],
        *,
        icon: str | None = None,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        act = QAction(text, self)
        act.setObjectName(f"action_{key}")
        if icon:
            act.setData(icon)
            act.setIcon(icons.icon(icon))
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.triggered.connect(lambda _checked=False: slot())
        self.addAction(act)  # shortcuts work even with the menu bar hidden (full screen)
        self.actions_by_name[key] = act
        return act

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        a = self._action
        a(
            "new_checkin",
            "New check-in…",
            self.new_checkin,
            icon="camera",
            shortcut="Ctrl+N",
            tip="Add photos of this region (files, drag and drop or camera)",
        )
        a("add_region", "Add region…", self.add_region, icon="add", shortcut="Ctrl+Shift+N")
        a(
            "compare",
            "Compare…",
            self.compare,
            icon="compare",
            shortcut="Ctrl+K",
            tip="Compare the selected check-in with the reference",
        )
        a("trash", "Move to trash", self.trash_photo, icon="trash", shortcut=QKeySequence.StandardKey.Delete)
        a("restore", "Restore from trash…", self.restore_from_trash, icon="restore")
        a("next", "Next check-in", self.next_photo, icon="next", shortcut="Right")
        a("previous", "Previous check-in", self.previous_photo, icon="previous", shortcut="Left")
        a("fullscreen", "Full screen", self.toggle_fullscreen, icon="fullscreen", shortcut="F11")
        self.actions_by_name["fullscreen"].setCheckable(True)
        a(
            "edit_region",
            "Edit region…",
            self.edit_region,
            icon="region",
            shortcut="Ctrl+E",
            tip="Name, interval, reference, watched area and control patch",
        )
        a(
            "analyse",
            "Analyse region",
            self.analyse_region,
            icon="analyse",
            shortcut="Ctrl+R",
            tip="Align and measure every check-in against the reference",
        )
        a(
            "reanalyse",
            "Re-analyse region from scratch",
            lambda: self.analyse_region(force=True),
            icon="refresh",
            tip="Measure every check-in again (after changing thresholds or areas)",
        )
        a("set_reference", "Set as reference", self.set_reference, icon="reference")
        a(
            "edit_date",
            "Change date…",
            self.edit_date,
            shortcut="Ctrl+D",
            tip="Correct the date of this check-in",
        )
        a("reveal", "Reveal original", self.reveal_original, icon="folder")
        a("export", "Export…", self.export, icon="export", shortcut="Ctrl+Shift+E")
        a("backup", "Back up…", self.backup, icon="backup")
        a("journal", "Journal…", self.open_journal, icon="journal", shortcut="Ctrl+J")
        a(
            "preferences",
            "Preferences…",
            self.open_preferences,
            icon="settings",
            shortcut=QKeySequence.StandardKey.Preferences,
        )
        a("about", "About Skintrack", self.open_about, icon="info")
        a("open_library", "Open library…", self.choose_library, icon="folder", shortcut="Ctrl+O")
        a("demo", "Open the demo library", self.open_demo)
        a("refresh", "Refresh", self.reload, icon="refresh", shortcut=QKeySequence.StandardKey.Refresh)
        a("quit", "Quit", self.close, shortcut=QKeySequence.StandardKey.Quit)
        act = self.actions_by_name
        if not act["preferences"].shortcut().toString():
            act["preferences"].setShortcut(QKeySequence("Ctrl+,"))

        mb = self.menuBar()
        m = mb.addMenu("&Library")
        for k in ("open_library", "demo", None, "backup", "export", None, "quit"):
            m.addSeparator() if k is None else m.addAction(act[k])
        m = mb.addMenu("&Region")
        for k in (
            "add_region",
            "edit_region",
            "analyse",
            "reanalyse",
            None,
            "new_checkin",
            "compare",
            None,
            "restore",
        ):
            m.addSeparator() if k is None else m.addAction(act[k])
        m = mb.addMenu("&Check-in")
        for k in ("previous", "next", None, "edit_date", "set_reference", "reveal", None, "trash"):
            m.addSeparator() if k is None else m.addAction(act[k])
        m = mb.addMenu("&View")
        for k in ("fullscreen", "refresh"):
            m.addAction(act[k])
        m = mb.addMenu("&Tools")
        for k in ("journal", "preferences"):
            m.addAction(act[k])
        m = mb.addMenu("&Help")
        m.addAction(act["about"])

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for k in (
            "new_checkin",
            "compare",
            "analyse",
            None,
            "previous",
            "next",
            None,
            "edit_region",
            "journal",
            "export",
        ):
            if k is None:
                tb.addSeparator()
            else:
                tb.addAction(act[k])
        self.toolbar = tb
        for k in ("previous", "next", "fullscreen"):
            w = tb.widgetForAction(act[k])
            if w is not None and hasattr(w, "setToolButtonStyle"):
                w.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        """Re-render SVG icons in the palette's text colour (after a theme change)."""
        for act in self.actions_by_name.values():
            name = act.data()
            if name:
                act.setIcon(icons.icon(str(name)))
        self.add_region_button.setIcon(icons.icon("add"))
        self.empty_state.refresh_icons()

    # ================================================================= library
    def set_library(self, lib: Library | None, *, owned: bool = False) -> None:
        """Show ``lib`` (None: empty window). ``owned``: close it when replaced or at exit."""
        self._cancel_tasks()
        old, old_owned = self.lib, self._owns_library
        if self.thumbs is not None:
            self.thumbs.cancel_all()
            self.thumbs.deleteLater()
        self.lib = lib
        self._owns_library = owned
        self.thumbs = ThumbnailLoader(lib, parent=self) if lib is not None else None
        self.region_model.thumbs = self.thumbs
        self.photo_model.thumbs = self.thumbs
        if self.thumbs is not None:
            self.thumbs.ready.connect(self.region_model._thumb_ready)
            self.thumbs.ready.connect(self.photo_model._thumb_ready)
        self.details.library = lib
        chart = self.details.chart
        if hasattr(chart, "library"):
            chart.library = lib
        self.details.region_id = -1  # force a chart refresh
        if lib is not None:
            self.threshold_L = load_analysis_settings(lib).threshold_L
        self.photo_delegate.threshold_L = self.threshold_L
        self.photo_model.threshold_L = self.threshold_L
        self.details.threshold_L = self.threshold_L
        title = APP_NAME if lib is None else f"{APP_NAME} — {lib.root.name}"
        self.setWindowTitle(title)
        self.reload()
        if old is not None and old is not lib and old_owned:
            old.close()
        if lib is not None:
            self.libraryChanged.emit(lib.root)

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
        if current is None:
            current = self.window_state.load_int("last_region")
        regions = self.lib.list_regions() if self.lib is not None else []
        self.region_model.set_regions(regions)
        self.stack.setCurrentWidget(self.splitter if regions else self.empty_state)
        self.empty_state.demo_button.setEnabled(self.demo_task is None)
        row = self.region_model.row_of(current)
        if row < 0 and regions:
            row = 0
        if row >= 0:
            self.region_view.setCurrentIndex(self.region_model.index(row))
        else:
            self._show_region(None)
        self._update_actions()

    def current_region_id(self) -> int | None:
        idx = self.region_view.currentIndex()
        return int(idx.data(RegionRole.RegionId)) if idx.isValid() else None

    def current_photo(self) -> Photo | None:
        idx = self.timeline.currentIndex()
        return idx.data(PhotoRole.Photo) if idx.isValid() else None

    @Slot(QModelIndex, QModelIndex)
    def _region_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        region_id = int(current.data(RegionRole.RegionId)) if current.isValid() else None
        self._show_region(region_id)
        if region_id is not None and not self._restoring:
            self.window_state.save_value("last_region", region_id)

    def _show_region(self, region_id: int | None, select_photo: int | None = None) -> None:
        if self.lib is None or region_id is None:
            self.photo_model.clear()
            self.timeline_title.setText("")
            self.timeline_hint.setText("")
            self.details.set_region(None)
            self.details.show_photo(None)
            self._update_actions()
            return
        keep = select_photo
        if keep is None and self.photo_model.photos() and self.details.region_id == region_id:
            cur = self.current_photo()
            keep = cur.id if cur is not None else None
        region = self.lib.region(region_id)
        photos = self.lib.list_photos(region_id)
        measurements = self.lib.measurements_for_region(region_id)
        ref_id = region.reference_photo_id or (photos[0].id if photos else None)  # as the analysis does
        self.photo_model.set_photos(photos, measurements, ref_id)
        self.timeline_title.setText(region.name)
        self.timeline_hint.setText(self._region_hint(region, photos, measurements))
        self.details.set_region(region_id)
        row = self.photo_model.row_of(keep)
        if row < 0 and photos:
            row = len(photos) - 1  # latest check-in
        if row >= 0:
            idx = self.photo_model.index(row)
            self.timeline.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.timeline.scrollTo(idx)
        else:
            self.details.show_photo(None)
        self._update_actions()

    def _region_hint(self, region: Any, photos: list[Photo], measurements: list[Any]) -> str:
        if not photos:
            return "No check-ins yet. Press Ctrl+N or drop photos here to add the first one."
        parts = [f"{len(photos)} check-in{'s' if len(photos) != 1 else ''}"]
        if region.body_site:
            parts.insert(0, region.body_site)
        ref_id = region.reference_photo_id or photos[0].id
        analysed = sum(1 for m in measurements if m.reference_id == ref_id)
        if len(photos) > 1:
            missing = len(photos) - 1 - analysed
            if missing > 0:
                parts.append(f"{missing} not analysed (Ctrl+R)")
        if region.interval_days:
            parts.append(f"every {region.interval_days} days")
        return "  ·  ".join(parts)

    @Slot(QModelIndex, QModelIndex)
    def _photo_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.details.show_photo(None)
        else:
            photo = current.data(PhotoRole.Photo)
            metrics = current.data(PhotoRole.Measurement)
            is_ref = bool(current.data(PhotoRole.IsReference))
            alignment = None
            if metrics is None and not is_ref and self.lib is not None and self.photo_model.reference_id:
                alignment = self.lib.alignment(photo.id, self.photo_model.reference_id)  # one indexed row
            self.details.show_photo(photo, metrics, is_reference=is_ref, alignment=alignment)
        self._update_actions()

    def _update_actions(self) -> None:
        has_lib = self.lib is not None
        region = self.current_region_id() is not None
        photo = self.current_photo() is not None
        row = self.timeline.currentIndex().row()
        n = self.photo_model.rowCount()
        act = self.actions_by_name
        for k in ("edit_region", "restore", "export"):
            act[k].setEnabled(region)
        act["new_checkin"].setEnabled(has_lib)  # the check-in dialog can create the region
        act["analyse"].setEnabled(region and n > 1 and self.analysis_task is None)
        act["reanalyse"].setEnabled(region and n > 1 and self.analysis_task is None)
        act["compare"].setEnabled(region and n > 1)
        for k in ("trash", "set_reference", "reveal", "edit_date"):
            act[k].setEnabled(photo)
        act["next"].setEnabled(photo and row < n - 1)
        act["previous"].setEnabled(photo and row > 0)
        for k in ("journal", "backup", "add_region", "refresh"):
            act[k].setEnabled(has_lib)

    def show_check_in(self, photo_id: int) -> None:
        """Select a (new) check-in, switching to its region first."""
        if self.lib is None:
            return
        try:
            photo = self.lib.photo(photo_id)
        except Exception:  # deleted meanwhile: nothing to show
            return
        self.reload()
        row = self.region_model.row_of(photo.region_id)
        if row >= 0 and row != self.region_view.currentIndex().row():
            self.region_view.setCurrentIndex(self.region_model.index(row))
        self.select_photo(photo.id)

    @Slot(int)
    def select_photo(self, photo_id: int) -> None:
        row = self.photo_model.row_of(photo_id)
        if row >= 0:
            idx = self.photo_model.index(row)
            self.timeline.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.timeline.scrollTo(idx)

    # ================================================================= messages (hooks for tests)
    def show_message(self, title: str, text: str, *, warning: bool = False) -> None:
        box = QMessageBox.warning if warning else QMessageBox.information
        box(self, title, text)

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def missing_feature(self, what: str) -> None:
        self.show_message(what, f"{what} is not available in this build yet.")

    def _keep_window(self, w: QWidget) -> QWidget:
        """Keep a reference to a non-modal child window until it is destroyed (a plain widget from
        another module is made a top-level window rather than drawn inside this one)."""
        if not w.isWindow():
            w.setWindowFlag(Qt.WindowType.Window, True)
        self.children_windows.append(w)
        w.destroyed.connect(
            lambda *_a, w=w: self.children_windows.remove(w) if w in self.children_windows else None
        )
        return w

    def _run_dialog(self, dlg: QDialog) -> int:
        """Modal run of one of our own dialogs; tests replace this to answer it."""
        try:
            return dlg.exec()
        finally:
            dlg.deleteLater()

    # ================================================================= actions
    def new_checkin(self, files: list[Path] | None = None) -> QWidget | None:
        if self.lib is None:
            return None
        cls = optional_class("skintrack.ui.checkin_dialog", "CheckInDialog")
        if cls is None:
            self.missing_feature("The check-in dialog")
            return None
        kwargs = {"files": [str(f) for f in files]} if files else {}
        dlg = cls(self.lib, self.current_region_id(), self, **kwargs)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if hasattr(dlg, "finished"):
            dlg.finished.connect(lambda *_a: self.reload())
        for sig_name in ("imported", "checkinsChanged", "analysed"):
            sig = getattr(dlg, sig_name, None)
            if sig is not None and hasattr(sig, "connect"):
                sig.connect(lambda *_a: self.reload())
        checked_in = getattr(dlg, "checkedIn", None)
        if checked_in is not None and hasattr(checked_in, "connect"):
            checked_in.connect(lambda ids: self.show_check_in(ids[-1]) if ids else None)
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def compare(self) -> QWidget | None:
        region_id = self.current_region_id()
        if self.lib is None or region_id is None or self.photo_model.rowCount() < 2:
            return None
        cls = optional_class("skintrack.ui.compare", "CompareWindow")
        if cls is None:
            self.missing_feature("The compare view")
            return None
        photos = self.photo_model.photos()
        ref = self.photo_model.reference_id or photos[0].id
        cur = self.current_photo()
        b = cur.id if cur is not None and cur.id != ref else photos[-1].id
        if b == ref:
            b = photos[0].id if photos[0].id != ref else photos[1].id
        win = cls(self.lib, region_id, ref, b, self)
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._keep_window(win)
        win.show()
        return win

    def trash_photo(self) -> None:
        photo = self.current_photo()
        if self.lib is None or photo is None:
            return
        row = self.timeline.currentIndex().row()
        self.lib.trash_photo(photo.id)
        self.statusBar().showMessage(f"Moved the check-in of {photo.taken_at:%d %b %Y} to the trash", 5000)
        n = self.photo_model.rowCount() - 1
        self.reload_region(select_row=min(row, n - 1))

    def reload_region(self, select_row: int | None = None, select_photo: int | None = None) -> None:
        """Re-read the sidebar and the current region's timeline (after a change)."""
        region_id = self.current_region_id()
        if select_row is not None and 0 <= select_row < self.photo_model.rowCount():
            ids = [p.id for p in self.photo_model.photos()]
            cur = self.current_photo()
            candidates = [i for i in ids if cur is None or i != cur.id]
            select_photo = select_photo or (
                candidates[min(select_row, len(candidates) - 1)] if candidates else None
            )
        self._restoring = True
        try:
            regions = self.lib.list_regions() if self.lib is not None else []
            self.region_view.selectionModel().blockSignals(True)
            self.region_model.set_regions(regions)
            row = self.region_model.row_of(region_id)
            if row >= 0:
                self.region_view.setCurrentIndex(self.region_model.index(row))
            self.region_view.selectionModel().blockSignals(False)
            self._show_region(region_id if row >= 0 else None, select_photo=select_photo)
            self.details.refresh_chart_soon()  # measurements or the reference may have changed
        finally:
            self._restoring = False
        self.stack.setCurrentWidget(self.splitter if regions else self.empty_state)

    def restore_from_trash(self) -> None:
        region_id = self.current_region_id()
        if self.lib is None or region_id is None:
            return
        trashed = self.lib.list_photos(region_id, trash_only=True)
        if not trashed:
            self.show_message("Trash", "The trash of this region is empty.")
            return
        dlg = TrashDialog(trashed, self)
        ids = dlg.checked_ids() if self._run_dialog(dlg) == QDialog.DialogCode.Accepted else []
        for pid in ids:
            self.lib.restore_photo(pid)
        if ids:
            self.reload_region(select_photo=ids[-1])

    def next_photo(self) -> None:
        self._step(1)

    def previous_photo(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        n = self.photo_model.rowCount()
        if n == 0:
            return
        row = self.timeline.currentIndex().row()
        new = max(0, min(n - 1, (n - 1 if row < 0 else row + delta)))
        idx = self.photo_model.index(new)
        self.timeline.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.timeline.scrollTo(idx)

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.actions_by_name["fullscreen"].setChecked(self.isFullScreen())

    def edit_region(self) -> QWidget | None:
        region_id = self.current_region_id()
        if self.lib is None or region_id is None:
            return None
        cls = optional_class("skintrack.ui.region_editor", "RegionEditor")
        if cls is None:
            self.missing_feature("The region editor")
            return None
        dlg = cls(self.lib, region_id, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if hasattr(dlg, "finished"):
            dlg.finished.connect(lambda *_a: self.reload_region())
        for sig_name in ("regionChanged", "areasChanged", "saved"):
            sig = getattr(dlg, sig_name, None)
            if sig is not None and hasattr(sig, "connect"):
                sig.connect(lambda *_a: self.reload_region())
        wants_analysis = getattr(dlg, "analysisRequested", None)
        if wants_analysis is not None and hasattr(wants_analysis, "connect"):
            wants_analysis.connect(self._analyse_requested)
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def add_region(self) -> None:
        if self.lib is None:
            return
        dlg = NewRegionDialog(self)
        values = dlg.values() if self._run_dialog(dlg) == QDialog.DialogCode.Accepted else None
        if not values:
            return
        try:
            region = self.lib.add_region(**values)
        except Exception as exc:
            self.show_message("Add a region", str(exc), warning=True)
            return
        self.reload()
        row = self.region_model.row_of(region.id)
        if row >= 0:
            self.region_view.setCurrentIndex(self.region_model.index(row))

    def set_reference(self) -> None:
        photo = self.current_photo()
        region_id = self.current_region_id()
        if self.lib is None or photo is None or region_id is None:
            return
        self.lib.set_reference(region_id, photo.id)
        self.statusBar().showMessage(
            f"The check-in of {photo.taken_at:%d %b %Y} is now the reference; analyse the region to measure "
            "the others against it.",
            8000,
        )
        self.reload_region(select_photo=photo.id)

    def edit_date(self) -> None:
        photo = self.current_photo()
        if self.lib is None or photo is None:
            return
        dlg = DateDialog(photo.taken_at, self)
        if self._run_dialog(dlg) != QDialog.DialogCode.Accepted:
            return
        self.lib.update_photo(photo.id, taken_at=dlg.value())
        self.statusBar().showMessage("Date changed; the timeline is re-sorted.", 5000)
        self.reload_region(select_photo=photo.id)

    def reveal_original(self) -> bool:
        photo = self.current_photo()
        if self.lib is None or photo is None:
            return False
        path = self.lib.original_path(photo)
        return bool(self.open_url(QUrl.fromLocalFile(str(path.parent))))

    # ---------------------------------------------------------------- analysis
    def analyse_region(self, force: bool = False) -> TaskHandle | None:
        region_id = self.current_region_id()
        if self.lib is None or region_id is None or self.analysis_task is not None:
            return None
        try:
            from skintrack.services.analysis import analyze_region
        except ImportError:
            self.missing_feature("Analysis")
            return None
        lib = self.lib

        def job(token: CancelToken) -> Any:
            return analyze_region(lib, region_id, token=token, force=force)

        return self._start_analysis(job, "Analysing…")

    def _analyse_requested(self, region_id: int | None = None) -> None:
        """The region editor changed the reference or the areas: measure again (in the background)."""
        if region_id is not None and region_id != self.current_region_id():
            row = self.region_model.row_of(region_id)
            if row < 0:
                return
            self.region_view.setCurrentIndex(self.region_model.index(row))
        self.reload_region()
        self.analyse_region()

    def _start_analysis(self, job: Callable[[CancelToken], Any], text: str) -> TaskHandle:
        handle = run_task(job, name="analyse", kind="work", parent=self)
        self.analysis_task = handle
        self._tasks.add(handle)
        if handle.done:  # SyncPool ran it already
            self._analysis_done(handle)
            return handle
        self.task_status.track(handle, text)
        handle.finished.connect(lambda h=handle: self._analysis_done(h))
        self._update_actions()
        return handle

    def _analysis_done(self, handle: TaskHandle) -> None:
        self._tasks.discard(handle)
        if self.analysis_task is handle:
            self.analysis_task = None
        if handle.error is not None:
            outcome = "failed"
            self.show_message("Analysis failed", handle.error, warning=True)
        elif handle.token.cancelled and handle.result is None:
            outcome = "cancelled"
            self.statusBar().showMessage("Analysis cancelled; finished check-ins are kept.", 5000)
        else:
            outcome = "succeeded"
            r = handle.result
            if r is not None and hasattr(r, "analysed"):
                failed = getattr(r, "failed", [])
                nf = len(failed) if hasattr(failed, "__len__") else int(failed or 0)
                na = len(r.analysed) if hasattr(r.analysed, "__len__") else int(r.analysed or 0)
                msg = f"Analysed {na} check-in{'s' if na != 1 else ''}"
                self.statusBar().showMessage(msg + (f", {nf} could not be aligned" if nf else ""), 8000)
        handle.deleteLater()
        if self.lib is not None:
            self.reload_region()
        self._update_actions()
        self.analysisFinished.emit(outcome)

    # ---------------------------------------------------------------- other dialogs
    def export(self) -> QWidget | None:
        region_id = self.current_region_id()
        if self.lib is None or region_id is None:
            return None
        cls = optional_class("skintrack.ui.export_dialog", "ExportDialog")
        if cls is None:
            self.missing_feature("Export")
            return None
        dlg = cls(self.lib, region_id, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def _backup_function(self) -> Callable[..., Any] | None:
        for module in ("skintrack.services.backup", "skintrack.export.backup"):
            try:
                mod = importlib.import_module(module)
            except ImportError:
                continue
            for name in ("backup_library", "create_backup", "write_backup", "backup"):
                fn = getattr(mod, name, None)
                if callable(fn):
                    return fn
        return None

    def _ask_backup_path(self) -> str:
        name = f"skintrack-backup-{__import__('datetime').date.today():%Y-%m-%d}.zip"
        path, _ = QFileDialog.getSaveFileName(
            self, "Back up the library", str(Path.home() / name), "Zip (*.zip)"
        )
        return path

    def backup(self) -> TaskHandle | None:
        if self.lib is None:
            return None
        fn = self._backup_function()
        if fn is None:
            self.missing_feature("Back up")
            return None
        out = self._ask_backup_path()
        if not out:
            return None
        lib = self.lib

        def job(token: CancelToken) -> Any:
            return fn(lib, Path(out), token=token, force=True)  # the save dialog confirmed a replace

        handle = run_task(job, name="backup", kind="work", parent=self)
        self._tasks.add(handle)

        def done(h: TaskHandle = handle) -> None:
            self._tasks.discard(h)
            if h.error:
                self.show_message("Back up failed", h.error, warning=True)
            elif not h.token.cancelled:
                self.statusBar().showMessage(f"Backed up to {out}", 8000)
            h.deleteLater()

        if handle.done:
            done()
        else:
            self.task_status.track(handle, "Backing up…")
            handle.finished.connect(done)
        return handle

    def open_journal(self) -> JournalDialog | None:
        if self.lib is None:
            return None
        dlg = JournalDialog(self.lib, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.changed.connect(self.details.refresh_chart_soon)
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def open_about(self) -> AboutDialog:
        dlg = AboutDialog(self.lib.root if self.lib else None, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def open_preferences(self) -> PreferencesDialog:
        analysis = load_analysis_settings(self.lib) if self.lib is not None else None
        dlg = PreferencesDialog(load_preferences(), analysis, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda d=dlg: self.apply_preferences(d))
        self._keep_window(dlg)
        dlg.show()
        return dlg

    def apply_preferences(self, dlg: PreferencesDialog) -> None:
        old = self.prefs
        new = dlg.preferences()
        save_preferences(new)
        self.prefs = new
        if new.theme != theme.current() or new.theme != old.theme:
            theme.apply(new.theme)
            self.refresh_icons()
        if self.lib is not None and dlg.analysis_box.isEnabled():
            settings = dlg.analysis_settings()
            if save_analysis_settings(self.lib, settings):
                self.threshold_L = settings.threshold_L
                self.photo_delegate.threshold_L = settings.threshold_L
                self.details.threshold_L = settings.threshold_L
                self.statusBar().showMessage("Measurement settings changed: analyse the regions again.", 8000)
                self.reload_region()
        if new.library_dir and (self.lib is None or Path(new.library_dir) != self.lib.root):
            self.open_library(Path(new.library_dir))

    def choose_library(self) -> None:
        start = str(self.lib.root) if self.lib else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open or create a library", start)
        if folder:
            self.open_library(Path(folder))

    # ---------------------------------------------------------------- demo
    def demo_dir(self) -> Path:
        import platformdirs

        return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "demo-library"

    def open_demo(self, root: Path | None = None) -> TaskHandle | None:
        """Open the demo library, building it first (in a worker, with a progress dialog)."""
        from skintrack.library import DB_NAME

        root = root or self.demo_dir()
        if (root / DB_NAME).exists() and (root / "demo-truth" / "truth.json").exists():
            self.open_library(root)
            return None
        if root.exists() and any(root.iterdir()):
            if root == self.demo_dir():  # our cache folder, left half-built by an interrupted build
                shutil.rmtree(root, ignore_errors=True)
            else:
                root.parent.mkdir(parents=True, exist_ok=True)
                root = Path(tempfile.mkdtemp(prefix="demo-library-", dir=root.parent))
        try:
            from skintrack.demo.build import build_demo_library
        except ImportError:
            self.missing_feature("The demo library")
            return None
        import importlib.util

        analyse = importlib.util.find_spec("skintrack.services.analysis") is not None

        def job(token: CancelToken) -> Any:
            return build_demo_library(root, token, analyse=analyse)

        handle = run_task(job, name="demo", kind="work", parent=self)
        self.demo_task = handle
        self._tasks.add(handle)
        if handle.done:
            self._demo_done(handle, root, None)
            return handle
        progress = QProgressDialog("Building the demo library…", "Cancel", 0, 0, self)
        progress.setObjectName("demoProgress")
        progress.setWindowTitle("Demo library")
        # not modal: a modal QProgressDialog.setValue() processes events (re-entrancy)
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(handle.cancel)

        def on_progress(p: Progress) -> None:
            progress.setMaximum(max(1, p.total))
            progress.setValue(min(p.done, p.total))
            if p.message:
                progress.setLabelText(p.message)

        handle.progress.connect(on_progress)
        handle.finished.connect(lambda: self._demo_done(handle, root, progress))
        progress.show()
        self.demo_progress = progress
        self.empty_state.demo_button.setEnabled(False)
        return handle

    def _demo_done(self, handle: TaskHandle, root: Path, progress: QProgressDialog | None) -> None:
        self._tasks.discard(handle)
        self.demo_task = None
        if progress is not None:
            progress.canceled.disconnect()
            progress.close()
            progress.deleteLater()
            self.demo_progress = None
        self.empty_state.demo_button.setEnabled(True)
        if handle.error:
            self.show_message(
                "Demo library", f"The demo library could not be built: {handle.error}", warning=True
            )
        if handle.result is not None and handle.error is None:
            self.open_library(root)
        else:  # failed or cancelled: remove what this build created (never a user's folder)
            shutil.rmtree(root, ignore_errors=True)
        handle.deleteLater()

    # ================================================================= notes
    @Slot(int, str)
    def save_notes(self, photo_id: int, notes: str) -> None:
        lib = self.lib
        if lib is None:
            return

        def job(_token: CancelToken) -> Photo:
            return lib.update_photo(photo_id, notes=notes)

        handle = run_task(job, name="notes", kind="write", parent=self)

        def done(h: TaskHandle = handle) -> None:
            if h.error:
                self.show_message("Notes not saved", h.error, warning=True)
            elif isinstance(h.result, Photo):
                self.photo_model.update_photo(h.result)
                if self.details.photo is not None and self.details.photo.id == h.result.id:
                    self.details.photo = h.result
                self.statusBar().showMessage("Notes saved", 3000)
            h.deleteLater()

        if handle.done:
            done()
        else:
            handle.finished.connect(done)

    # ================================================================= drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if self.lib is not None and md.hasUrls() and image_files(md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction() if event.mimeData().hasUrls() else event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = image_files(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        if not files or self.lib is None:
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, self, lambda: self.new_checkin(files=files))

    # ================================================================= state
    def restore_window_state(self) -> None:
        geo = self.window_state.load_bytes("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.window_state.load_bytes("state")
        if state is not None:
            self.restoreState(state)
        self._splitters_restored = False

    def _restore_splitters(self) -> None:
        """Splitter sizes only stick once the window has its restored size (first show)."""
        self._splitters_restored = True
        sizes = self.window_state.load_int_list("splitter")
        if sizes and len(sizes) == self.splitter.count():
            self.splitter.setSizes(sizes)
        dsizes = self.window_state.load_int_list("details_splitter")
        if dsizes and len(dsizes) == self.details.splitter.count():
            self.details.splitter.setSizes(dsizes)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._splitters_restored:
            self._splitters_restored = True
            QTimer.singleShot(0, self, self._restore_splitters)  # after the first layout pass

    def save_window_state(self) -> None:
        ws = self.window_state
        ws.save_bytes("geometry", self.saveGeometry())
        ws.save_bytes("state", self.saveState())
        ws.save_value("splitter", self.splitter.sizes())
        ws.save_value("details_splitter", self.details.splitter.sizes())
        rid = self.current_region_id()
        if rid is not None:
            ws.save_value("last_region", rid)
        ws.sync()

    def _cancel_tasks(self) -> None:
        for h in list(self._tasks):
            h.cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        self._cancel_tasks()
        for w in list(self.children_windows):
            w.close()
        if self.thumbs is not None:
            self.thumbs.cancel_all()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Close the library if we opened it (after the pools are drained)."""
        if self._owns_library and self.lib is not None:
            self.lib.close()
        self.lib = None
