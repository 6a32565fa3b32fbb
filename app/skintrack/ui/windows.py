"""The windows the main window opens: check-in, compare, region editor, export, journal, about,
preferences; each is kept until it closes and closed with the main window.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QWidget

from skintrack.ui import theme
from skintrack.ui.about import AboutDialog
from skintrack.ui.checkin_dialog import CheckInDialog
from skintrack.ui.compare import CompareWindow
from skintrack.ui.export_dialog import ExportDialog
from skintrack.ui.journal_dialog import JournalDialog
from skintrack.ui.preferences import (
    PreferencesDialog,
    load_analysis_settings,
    load_preferences,
    save_analysis_settings,
    save_preferences,
)
from skintrack.ui.region_editor import RegionEditor

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


class ChildWindows(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.children: list[QWidget] = []

    def keep(self, w: QWidget) -> QWidget:
        """Keep a reference to a non-modal child window until it is destroyed."""
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.children.append(w)
        w.destroyed.connect(lambda *_a, w=w: self.children.remove(w) if w in self.children else None)
        return w

    def new_checkin(self, files: list[Path] | None = None) -> CheckInDialog | None:
        if self.window.lib is None:
            return None
        dlg = CheckInDialog(
            self.window.lib, self.window.current_region_id(), self.window, files=[str(f) for f in files or []]
        )
        dlg.finished.connect(lambda _code: self.window.reload())
        dlg.checkinsChanged.connect(self.window.reload)
        dlg.checkedIn.connect(self.window.checked_in)
        self.keep(dlg)
        dlg.show()
        return dlg

    def compare(self) -> CompareWindow | None:
        region_id = self.window.current_region_id()
        if self.window.lib is None or region_id is None or self.window.photo_model.rowCount() < 2:
            return None
        photos = self.window.photo_model.photos()
        ref = self.window.photo_model.reference_id or photos[0].id
        cur = self.window.current_photo()
        b = cur.id if cur is not None and cur.id != ref else photos[-1].id
        if b == ref:
            b = photos[0].id if photos[0].id != ref else photos[1].id
        win = CompareWindow(self.window.lib, region_id, ref, b, self.window)
        self.keep(win)
        win.show()
        return win

    def edit_region(self) -> RegionEditor | None:
        region_id = self.window.current_region_id()
        if self.window.lib is None or region_id is None:
            return None
        dlg = RegionEditor(self.window.lib, region_id, self.window)
        dlg.finished.connect(lambda _code: self.window.reload_region())
        dlg.regionChanged.connect(lambda _rid: self.window.reload_region())
        dlg.analysisRequested.connect(self.window._analyse_requested)
        self.keep(dlg)
        dlg.show()
        return dlg

    def export(self) -> ExportDialog | None:
        region_id = self.window.current_region_id()
        if self.window.lib is None or region_id is None:
            return None
        dlg = ExportDialog(self.window.lib, region_id, self.window)
        self.keep(dlg)
        dlg.show()
        return dlg

    def open_journal(self) -> JournalDialog | None:
        if self.window.lib is None:
            return None
        dlg = JournalDialog(self.window.lib, self.window)
        dlg.changed.connect(self.window.details.refresh_chart_soon)
        self.keep(dlg)
        dlg.show()
        return dlg

    def open_about(self) -> AboutDialog:
        dlg = AboutDialog(self.window.lib.root if self.window.lib else None, self.window)
        self.keep(dlg)
        dlg.show()
        return dlg

    def open_preferences(self) -> PreferencesDialog:
        analysis = load_analysis_settings(self.window.lib) if self.window.lib is not None else None
        dlg = PreferencesDialog(load_preferences(), analysis, self.window)
        dlg.accepted.connect(lambda d=dlg: self.apply_preferences(d))
        self.keep(dlg)
        dlg.show()
        return dlg

    def apply_preferences(self, dlg: PreferencesDialog) -> None:
        old = self.window.prefs
        new = dlg.preferences()
        save_preferences(new)
        self.window.prefs = new
        if new.theme != theme.current() or new.theme != old.theme:
            theme.apply(new.theme)
            self.window.refresh_icons()
        if self.window.lib is not None and dlg.analysis_box.isEnabled():
            lib, settings = self.window.lib, dlg.analysis_settings()

            def saved(changed: bool) -> None:
                if changed:
                    self.window.threshold_L = settings.threshold_L
                    self.window.view.set_threshold(settings.threshold_L)
                    self.window.statusBar().showMessage(
                        "Measurement settings changed: analyse the regions again.", 8000
                    )
                    self.window.reload_region()

            self.window.session.write(
                lambda _t: save_analysis_settings(lib, settings),
                on_result=saved,
                on_error=lambda msg: self.window.show_message(
                    "Preferences", f"Not saved: {msg}", warning=True
                ),
                name="settings",
            )
        if new.library_dir and (self.window.lib is None or Path(new.library_dir) != self.window.lib.root):
            self.window.open_library(Path(new.library_dir))

    def choose_library(self) -> None:
        start = str(self.window.lib.root) if self.window.lib else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self.window, "Open or create a library", start)
        if folder:
            self.window.open_library(Path(folder))
