"""The Inbox dock: new photos from the inbox folders, sorted into regions, accepted in one click.

Scanning and matching run on the work pool; accepting and dismissing are library writes on the
write pool. A QFileSystemWatcher on the inbox folders triggers a rescan (debounced, since a sync
tool writes many files at once); the panel also rescans when the library changes and on demand.
``install_inbox(window)`` puts the dock, its menu and the reminders into a main window.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QFileSystemWatcher,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skintrack.library import Library, inbox_store
from skintrack.progress import CancelToken
from skintrack.services import inbox
from skintrack.services.checkin import ImportReport
from skintrack.services.inbox import InboxItem
from skintrack.ui.inbox_model import THUMB, InboxModel, ScanResult, scan_job
from skintrack.ui.tasks import Job, Pool, TaskHandle, run_task

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

RESCAN_DELAY_MS = 1500  # a sync tool writes a burst of files; scan once it has settled


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
        self._scan_serial = 0  # a scan's outcome counts only while it is the latest scan
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
            self.scan_task = None
        self._scan_serial += 1  # the cancelled scan's outcome is ignored (see _scan_done)
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
        if self.scanning:
            self._rescan_again = True
            return self.scan_task
        self._rescan_again = False
        if not self.folders():
            self.status.setText("No inbox folder yet: add your phone's synced camera folder.")
            self.scanFinished.emit(0)
            return None
        self.status.setText("Looking for new photos…")
        self._scan_serial += 1
        serial = self._scan_serial
        self.scan_task = run_task(
            scan_job(self.lib),
            on_progress=lambda p: self.status.setText(f"Sorting new photos… {p.done}/{p.total}"),
            on_result=lambda result: self._scan_done(serial, result, None),
            on_error=lambda message: self._scan_done(serial, None, message or "failed"),
            on_cancel=lambda: self._scan_done(serial, None, None),
            name="inbox-scan",
            pool=Pool.WORK,
            parent=self,
        )
        return self.scan_task

    @property
    def scanning(self) -> bool:
        return self.scan_task is not None and not self.scan_task.done

    def _scan_done(self, serial: int, result: ScanResult | None, error: str | None) -> None:
        """A scan ended (``error`` None when it was cancelled or succeeded)."""
        if serial != self._scan_serial:
            return  # a scan of a library that was replaced meanwhile
        self.scan_task = None
        if result is not None:
            self.model.set_result(result)
        self._fill_regions()
        self._update_controls()
        if error is not None:
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

        paths = [it.path for it in items]
        return self._write(lambda _t: inbox.accept_into(lib, paths, region_id), set(paths))

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

        def job(_token: CancelToken) -> None:
            for it in items:
                inbox.dismiss(lib, it)

        return self._write(job, {it.path for it in items}, imported=False)

    def _write(self, job: Job, paths: set[Path], imported: bool = True) -> TaskHandle:
        self.setEnabled(False)

        def done(report: ImportReport | None, error: str | None) -> None:
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

        return run_task(
            job,
            on_result=lambda report: done(report, None),
            on_error=lambda message: done(None, message or "failed"),
            on_cancel=lambda: done(None, "cancelled"),
            name="inbox-write",
            pool=Pool.WRITE,
            parent=self,
        )

    # -------------------------------------------------------------- controls
    @Slot()
    def _selection_changed(self) -> None:
        self._update_controls()

    def _update_controls(self) -> None:
        n_sure = len(self.model.sure_items())
        total = self.model.rowCount()
        self.accept_all.setText(f"Accept {n_sure} sorted photo{'s' if n_sure != 1 else ''}")
        self.accept_all.setEnabled(n_sure > 0)
        if not self.scanning and self.lib is not None and self.folders():
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


def install_inbox(window: MainWindow) -> InboxPanel:
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
        panel.set_library(window.lib)
        if not panel.folders():  # nothing to show until the user picks a folder or receives photos
            dock.hide()

    def show_dock() -> None:
        dock.show()
        dock.raise_()

    window.libraryChanged.connect(on_library)
    panel.libraryTouched.connect(window.reload)
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
