"""The Inbox dock: new photos from the inbox folders, sorted into regions, accepted in one click.

Scanning and matching run on the work pool; accepting and dismissing are library writes on the
write pool. A QFileSystemWatcher on the inbox folders triggers a rescan (debounced, since a sync
tool writes many files at once); the panel also rescans when the library changes and on demand.
``install_inbox(window)`` puts the dock, its menu and the reminders into a main window.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QFileSystemWatcher,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skintrack.library import Library, inbox_store
from skintrack.progress import CancelToken
from skintrack.services import formatting, inbox
from skintrack.services.checkin import ImportReport
from skintrack.services.inbox import InboxItem
from skintrack.ui.image_convert import rgb_to_qimage
from skintrack.ui.task_outcome import CANCELLED, on_outcome
from skintrack.ui.tasks import Pool, TaskHandle, run_task

THUMB = 96
RESCAN_DELAY_MS = 1500  # a sync tool writes a burst of files; scan once it has settled


@dataclass(frozen=True)
class ScanResult:
    items: list[InboxItem]
    thumbs: dict[Path, np.ndarray]


def _scan_job(lib: Library) -> Any:
    def job(token: CancelToken) -> Any:
        from skintrack.core import images

        items = yield from inbox.scan(lib, token=token)
        thumbs: dict[Path, np.ndarray] = {}
        for item in items:
            token.raise_if_cancelled()
            if item.error is None:
                # a thumbnail is decoration; without one the row still shows the file name
                with contextlib.suppress(Exception):
                    thumbs[item.path] = images.thumbnail(item.path, size=THUMB)
        return ScanResult(items, thumbs)

    return job


class InboxModel(QAbstractListModel):
    """Inbox items, sure ones first, each with its thumbnail and a one-line proposal."""

    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[InboxItem] = []
        self._icons: dict[Path, QIcon] = {}

    def set_result(self, result: ScanResult) -> None:
        self.beginResetModel()
        self._items = sorted(
            result.items, key=lambda it: (not it.sure, it.match is None or it.match.proposed is None)
        )
        self._icons = {p: QIcon(QPixmap.fromImage(rgb_to_qimage(rgb))) for p, rgb in result.thumbs.items()}
        self.endResetModel()

    def remove_paths(self, paths: set[Path]) -> None:
        rows = [i for i, it in enumerate(self._items) if it.path in paths]
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._items[row]
            self.endRemoveRows()

    @property
    def items(self) -> list[InboxItem]:
        return list(self._items)

    def sure_items(self) -> list[InboxItem]:
        return [it for it in self._items if it.sure]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def item(self, row: int) -> InboxItem:
        return self._items[row]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{it.path.name}\n{describe(it)}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(it.path) or _placeholder_icon()
        if role == Qt.ItemDataRole.ToolTipRole:
            when = "date unknown" if it.taken_at is None else formatting.day_time(it.taken_at)
            source = " (from the photo)" if it.taken_at_source == "exif" else " (file date)"
            return f"{it.path}\nTaken {when}{source if it.taken_at else ''}\n{describe(it)}"
        if role == Qt.ItemDataRole.ForegroundRole and not it.sure:
            return QColor(Qt.GlobalColor.darkYellow) if it.match and it.match.proposed else None
        if role == self.ItemRole:
            return it
        return None


def describe(it: InboxItem) -> str:
    """One line about an item's proposal, as the list shows it."""
    if it.error:
        return f"Cannot read: {it.error}"
    m = it.match
    if m is None or m.proposed is None:
        names = " or ".join(c.name for c in (m.candidates if m else [])[:2])
        return "No matching region" + (f" (closest: {names})" if names else "")
    if m.sure:
        return f"✓ {m.proposed.name} ({m.confidence:.0%})"
    return f"? {m.proposed.name} ({m.confidence:.0%}), please check"


_PLACEHOLDER: QIcon | None = None


def _placeholder_icon() -> QIcon:
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        pm = QPixmap(THUMB, THUMB * 3 // 4)
        pm.fill(QColor(128, 128, 128, 60))
        p = QPainter(pm)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "?")
        p.end()
        _PLACEHOLDER = QIcon(pm)
    return _PLACEHOLDER


class InboxPanel(QWidget):
    """List of inbox photos with Accept / Dismiss, candidate regions for unsure ones, and Rescan."""

    scanFinished = Signal(int)  # number of items
    accepted = Signal(int)  # number of photos imported
    libraryTouched = Signal()  # photos were imported: the main window should reload
    foldersChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inboxPanel")
        self.lib: Library | None = None
        self.scan_task: TaskHandle | None = None
        self._tasks: set[TaskHandle] = set()
        self._rescan_again = False
        self.model = InboxModel(self)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._folder_changed)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(RESCAN_DELAY_MS)
        self.debounce.timeout.connect(self.rescan)

        self.status = QLabel("No inbox folder yet.", self)
        self.status.setWordWrap(True)
        self.accept_all = QPushButton("Accept sorted photos", self)
        self.accept_all.setObjectName("acceptSorted")
        self.accept_all.clicked.connect(self.accept_sure)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.setUniformItemSizes(True)
        self.view.setWordWrap(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)

        self.choice_label = QLabel(self)
        self.choice_label.setWordWrap(True)
        self.candidate_buttons: list[QPushButton] = []
        cand_row = QHBoxLayout()
        for _ in range(2):
            b = QPushButton(self)
            b.setVisible(False)
            b.clicked.connect(self._accept_candidate)
            self.candidate_buttons.append(b)
            cand_row.addWidget(b)
        self.region_box = QComboBox(self)
        self.region_box.setObjectName("inboxRegion")
        self.accept_one = QPushButton("Accept into", self)
        self.accept_one.clicked.connect(self._accept_into_chosen)
        one_row = QHBoxLayout()
        one_row.addWidget(self.accept_one)
        one_row.addWidget(self.region_box, 1)

        self.dismiss_button = QPushButton("Dismiss", self)
        self.dismiss_button.setToolTip(
            "Never show the selected photos here again (the files stay where they are)"
        )
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.rescan_button = QPushButton("Rescan", self)
        self.rescan_button.clicked.connect(self.rescan)
        bottom = QHBoxLayout()
        bottom.addWidget(self.dismiss_button)
        bottom.addStretch(1)
        bottom.addWidget(self.add_folder_button)
        bottom.addWidget(self.rescan_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.status)
        layout.addWidget(self.accept_all)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.choice_label)
        layout.addLayout(cand_row)
        layout.addLayout(one_row)
        layout.addLayout(bottom)
        self._update_controls()

    # -------------------------------------------------------------- library and folders
    def set_library(self, lib: Library | None) -> None:
        if self.scan_task is not None:
            self.scan_task.cancel()
            self.scan_task = None  # its outcome is ignored (see _scan_done)
        self.lib = lib
        self.model.set_result(ScanResult([], {}))
        self._watch()
        self._fill_regions()
        self.rescan()

    def folders(self) -> list[Path]:
        return [] if self.lib is None else [f.path for f in inbox_store.list_folders(self.lib)]

    def _watch(self) -> None:
        old = self.watcher.directories()
        if old:
            self.watcher.removePaths(old)
        dirs: list[str] = []
        for folder in self.folders():
            if folder.is_dir():
                dirs.append(str(folder))
                dirs += [str(p) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")][:50]
        if dirs:
            self.watcher.addPaths(dirs)

    def add_folder(self, path: Path) -> None:
        if self.lib is None:
            return
        inbox_store.add_folder(self.lib, path)
        self._watch()
        self.foldersChanged.emit()
        self.rescan()

    @Slot()
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Choose an inbox folder (e.g. the phone's synced camera folder)"
        )
        if path:
            self.add_folder(Path(path))

    @Slot(str)
    def _folder_changed(self, _path: str) -> None:
        self.debounce.start()

    def _fill_regions(self) -> None:
        self.region_box.clear()
        if self.lib is None:
            return
        for summary in self.lib.list_regions():
            self.region_box.addItem(summary.region.name, summary.region.id)

    # -------------------------------------------------------------- scanning
    @Slot()
    def rescan(self) -> TaskHandle | None:
        """Scan the inbox folders in a worker; a request during a scan runs once it ends."""
        if self.lib is None:
            return None
        if self.scan_task is not None and not self.scan_task.done:
            self._rescan_again = True
            return self.scan_task
        self._rescan_again = False
        if not self.folders():
            self.status.setText("No inbox folder yet: add your phone's synced camera folder.")
            self.scanFinished.emit(0)
            return None
        self.status.setText("Looking for new photos…")
        handle = run_task(_scan_job(self.lib), name="inbox-scan", pool=Pool.WORK, parent=self)
        handle.progress.connect(lambda p: self.status.setText(f"Sorting new photos… {p.done}/{p.total}"))
        on_outcome(handle, lambda result, error, h=handle: self._scan_done(h, result, error))
        self.scan_task = handle
        return handle

    def _scan_done(self, handle: TaskHandle, result: ScanResult | None, error: str | None) -> None:
        if handle is not self.scan_task:
            return  # a scan of a library that was replaced meanwhile
        self.scan_task = None
        if result is not None:
            self.model.set_result(result)
        self._fill_regions()
        self._update_controls()
        if error is not None and error != CANCELLED:
            self.status.setText(f"The inbox scan failed: {error}")
        self.scanFinished.emit(self.model.rowCount())
        if self._rescan_again:
            self.rescan()

    # -------------------------------------------------------------- accepting and dismissing
    def selected_items(self) -> list[InboxItem]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.item(r) for r in rows]

    @Slot()
    def accept_sure(self) -> TaskHandle | None:
        items = self.model.sure_items()
        if not items or self.lib is None:
            return None
        lib = self.lib
        return self._write(lambda _t: inbox.accept_sure(lib, items), {it.path for it in items})

    def accept_into(self, items: list[InboxItem], region_id: int) -> TaskHandle | None:
        if not items or self.lib is None:
            return None
        lib = self.lib

        def job(_token: CancelToken) -> Any:
            report = None
            for it in items:
                one = inbox.accept(lib, it.path, region_id)
                if report is None:
                    report = one
                else:
                    report.imported += one.imported
                    report.errors += one.errors
                    report.duplicates += one.duplicates
            return report

        return self._write(job, {it.path for it in items})

    @Slot()
    def _accept_candidate(self) -> None:
        button = self.sender()
        region_id = button.property("regionId") if isinstance(button, QPushButton) else None
        if region_id is not None:
            self.accept_into(self.selected_items(), int(region_id))

    @Slot()
    def _accept_into_chosen(self) -> None:
        region_id = self.region_box.currentData()
        if region_id is not None:
            self.accept_into(self.selected_items(), int(region_id))

    @Slot()
    def dismiss_selected(self) -> TaskHandle | None:
        items = self.selected_items()
        if not items or self.lib is None:
            return None
        lib = self.lib

        def job(_token: CancelToken) -> Any:
            for it in items:
                inbox.dismiss(lib, it)
            return None

        return self._write(job, {it.path for it in items}, imported=False)

    def _write(self, job: Any, paths: set[Path], imported: bool = True) -> TaskHandle:
        handle = run_task(job, name="inbox-write", pool=Pool.WRITE, parent=self)
        self._tasks.add(handle)
        self.setEnabled(False)

        def done(report: ImportReport | None, error: str | None, h: TaskHandle = handle) -> None:
            self._tasks.discard(h)
            self.setEnabled(True)
            if error is not None:
                self.status.setText(f"Could not finish: {error}")
                self._update_controls()
                return
            failed = {p for p, _why in report.errors} if report is not None and imported else set()
            self.model.remove_paths(paths - failed)
            if imported and report is not None:
                n = len(report.imported)
                note = f" {len(failed)} could not be imported." if failed else ""
                self.status.setText(f"Copied {n} photo(s) into the library.{note}")
                self.accepted.emit(n)
                self.libraryTouched.emit()
            self._update_controls()

        on_outcome(handle, done)
        return handle

    # -------------------------------------------------------------- controls
    @Slot()
    def _selection_changed(self) -> None:
        self._update_controls()

    def _update_controls(self) -> None:
        n_sure = len(self.model.sure_items())
        total = self.model.rowCount()
        self.accept_all.setText(f"Accept {n_sure} sorted photo{'s' if n_sure != 1 else ''}")
        self.accept_all.setEnabled(n_sure > 0)
        if self.scan_task is None and self.lib is not None and self.folders():
            self.status.setText(
                f"{total} new photo{'s' if total != 1 else ''} in the inbox"
                + (f", {n_sure} sorted." if total else ".")
            )
        selected = self.selected_items() if self.view.selectionModel() else []
        one = selected[0] if len(selected) == 1 else None
        for b in self.candidate_buttons:
            b.setVisible(False)
        if one is not None and not one.sure and one.match is not None and one.match.candidates:
            self.choice_label.setText("Which region is it? Best candidates:")
            for b, cand in zip(self.candidate_buttons, one.match.candidates[:2], strict=False):
                b.setText(f"{cand.name}  ({cand.confidence:.0%})")
                b.setProperty("regionId", cand.region_id)
                b.setVisible(True)
        elif one is not None and one.sure and one.match and one.match.proposed:
            self.choice_label.setText(f"Sorted into {one.match.proposed.name}.")
        else:
            self.choice_label.setText("" if not selected else f"{len(selected)} photos selected.")
        self.accept_one.setEnabled(bool(selected) and self.region_box.count() > 0)
        self.dismiss_button.setEnabled(bool(selected))

    def shutdown(self) -> None:
        if self.scan_task is not None:
            self.scan_task.cancel()
        self.debounce.stop()


def install_inbox(window: QMainWindow) -> InboxPanel:
    """Add the Inbox dock, an "Inbox" menu (receive from phone, due list, reminder settings) and
    the reminder notifications to the main window; follows its ``libraryChanged`` signal."""
    from skintrack.ui.reminders_ui import install_reminders

    panel = InboxPanel(window)
    dock = QDockWidget("Inbox", window)
    dock.setObjectName("inboxDock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    menu = window.menuBar().addMenu("&Inbox")
    menu.addAction(dock.toggleViewAction())
    rescan = QAction("Rescan inbox folders", window)
    rescan.setShortcut("F6")
    rescan.triggered.connect(panel.rescan)
    menu.addAction(rescan)
    add = QAction("Add inbox folder…", window)
    add.triggered.connect(panel.choose_folder)
    menu.addAction(add)
    receive = QAction("Receive from phone…", window)
    receive.triggered.connect(lambda: open_receive_dialog(window, panel))
    menu.addAction(receive)
    menu.addSeparator()
    install_reminders(window, menu)

    window.resizeDocks([dock], [300], Qt.Orientation.Horizontal)

    def on_library(_root: object = None) -> None:
        panel.set_library(getattr(window, "lib", None))
        if not panel.folders():  # nothing to show until the user picks a folder or receives photos
            dock.hide()

    def show_dock() -> None:
        dock.show()
        dock.raise_()

    def on_imported() -> None:
        reload = getattr(window, "reload", None)
        if callable(reload):
            reload()

    if hasattr(window, "libraryChanged"):
        window.libraryChanged.connect(on_library)
    panel.libraryTouched.connect(on_imported)
    panel.foldersChanged.connect(show_dock)
    window.inbox_panel = panel  # type: ignore[attr-defined]
    window.inbox_dock = dock  # type: ignore[attr-defined]
    on_library()
    return panel


def open_receive_dialog(window: QWidget, panel: InboxPanel) -> QWidget | None:
    """Show the QR dialog; received photos land in the library's "received" inbox folder."""
    from skintrack.ui.receive_dialog import ReceiveDialog

    if panel.lib is None:
        return None
    folder = inbox.received_folder(panel.lib)
    panel._watch()
    panel.foldersChanged.emit()
    dlg = ReceiveDialog(folder, window)
    dlg.photosReceived.connect(lambda _n: panel.rescan())
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    dlg.start()
    return dlg
