"""The main window's commands that change the library: add a region, trash, restore, set the
reference, change a date, save notes.

Each write runs in the session's write pool (SQLite may wait on its busy timeout; the GUI thread
never does) and the view shows the result once it is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtWidgets import QDialog

from skintrack.library import Photo
from skintrack.library.models import Region
from skintrack.services import formatting
from skintrack.ui.dialogs import DateDialog, NewRegionDialog, TrashDialog

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


class LibraryEdits(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def _failed(self, title: str) -> object:
        return lambda message: self.window.show_message(title, message, warning=True)

    def _say(self, text: str, ms: int = 5000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def add_region(self) -> None:
        win = self.window
        if win.lib is None:
            return
        dlg = NewRegionDialog(win)
        if win._run_dialog(dlg) != QDialog.DialogCode.Accepted:
            return
        lib, values = win.lib, dlg.values()

        def added(region: Region) -> None:
            win.reload()
            win.view.select_region(region.id)

        win.session.write(
            lambda _t: lib.add_region(
                values.name, body_site=values.body_site, interval_days=values.interval_days
            ),
            on_result=added,
            on_error=self._failed("Add a region"),
            name="add region",
        )

    def trash_photo(self) -> None:
        win = self.window
        photo = win.current_photo()
        if win.lib is None or photo is None:
            return
        row = win.timeline.currentIndex().row()
        lib = win.lib

        def trashed(_photo: Photo) -> None:
            self._say(f"Moved the check-in of {formatting.day(photo.taken_at)} to the trash")
            win.reload_region(select_row=min(row, win.photo_model.rowCount() - 2))

        win.session.write(
            lambda _t: lib.trash_photo(photo.id),
            on_result=trashed,
            on_error=self._failed("Trash"),
            name="trash",
        )

    def restore_from_trash(self) -> None:
        win = self.window
        region_id = win.current_region_id()
        if win.lib is None or region_id is None:
            return
        trashed = win.lib.list_photos(region_id, trash_only=True)
        if not trashed:
            win.show_message("Trash", "The trash of this region is empty.")
            return
        dlg = TrashDialog(trashed, win)
        ids = dlg.checked_ids() if win._run_dialog(dlg) == QDialog.DialogCode.Accepted else []
        if not ids:
            return
        lib = win.lib

        def restore(_t: object) -> None:
            for pid in ids:
                lib.restore_photo(pid)

        win.session.write(
            restore,
            on_result=lambda _r: win.reload_region(select_photo=ids[-1]),
            on_error=self._failed("Restore from trash"),
            name="restore",
        )

    def set_reference(self) -> None:
        win = self.window
        photo, region_id = win.current_photo(), win.current_region_id()
        if win.lib is None or photo is None or region_id is None:
            return
        lib = win.lib

        def done(_region: Region) -> None:
            self._say(
                f"The check-in of {formatting.day(photo.taken_at)} is now the reference; analyse the "
                "region to measure the others against it.",
                8000,
            )
            win.reload_region(select_photo=photo.id)

        win.session.write(
            lambda _t: lib.set_reference(region_id, photo.id),
            on_result=done,
            on_error=self._failed("Set as reference"),
            name="reference",
        )

    def edit_date(self) -> None:
        win = self.window
        photo = win.current_photo()
        if win.lib is None or photo is None:
            return
        dlg = DateDialog(photo.taken_at, win)
        if win._run_dialog(dlg) != QDialog.DialogCode.Accepted:
            return
        lib, when = win.lib, dlg.value()

        def done(_photo: Photo) -> None:
            self._say("Date changed; the timeline is re-sorted.")
            win.reload_region(select_photo=photo.id)

        win.session.write(
            lambda _t: lib.update_photo(photo.id, taken_at=when),
            on_result=done,
            on_error=self._failed("Change date"),
            name="date",
        )

    @Slot(int, str)
    def save_notes(self, photo_id: int, notes: str) -> None:
        win = self.window
        lib = win.lib
        if lib is None:
            return

        def saved(photo: Photo) -> None:
            win.photo_model.update_photo(photo)
            if win.details.photo is not None and win.details.photo.id == photo.id:
                win.details.photo = photo
            self._say("Notes saved", 3000)

        win.session.write(
            lambda _t: lib.update_photo(photo_id, notes=notes),
            on_result=saved,
            on_error=self._failed("Notes not saved"),
            name="notes",
        )

    def reveal_original(self) -> bool:
        win = self.window
        photo = win.current_photo()
        if win.lib is None or photo is None:
            return False
        path = win.lib.original_path(photo)
        return bool(win.open_url(QUrl.fromLocalFile(str(path.parent))))
