"""The main window's commands that change the library: add a region, trash, restore, set the
reference, change a date, save notes.

Each write runs in the session's write pool (SQLite may wait on its busy timeout; the GUI thread
never does) and the view shows the result once it is stored. Moving to the trash, changing the
reference and changing a date are pushed, once stored, on the window's ``undo_stack`` (Edit ▸
Undo/Redo); undoing and redoing them write through the same pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QDialog, QMenu

from skintrack.core import formatting
from skintrack.library import Library, Photo
from skintrack.library.models import Region
from skintrack.ui.dialogs import DateDialog, NewRegionDialog, TrashDialog

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


Write = Callable[[], Any]  # runs in the write pool


class StoredEdit(QUndoCommand):
    """An edit already stored in ``lib``; undo and redo write again through the write pool.

    ``region_id`` and ``photo_id`` say what to show afterwards; ``photo_after_undo`` /
    ``photo_after_redo`` pick the check-in to select (None: keep the selection)."""

    def __init__(
        self,
        edits: LibraryEdits,
        text: str,
        lib: Library,
        *,
        undo: Write,
        redo: Write,
        region_id: int,
        photo_after_undo: int | None,
        photo_after_redo: int | None,
    ) -> None:
        super().__init__(text)
        self.edits, self.lib = edits, lib
        self._undo, self._redo = undo, redo
        self.region_id = region_id
        self.photo_after_undo, self.photo_after_redo = photo_after_undo, photo_after_redo
        self._stored = True  # pushed once the first write is stored: the push must not repeat it

    def redo(self) -> None:
        if self._stored:
            self._stored = False
            return
        self.edits.replay(self, self._redo, "Redo", self.photo_after_redo)

    def undo(self) -> None:
        self.edits.replay(self, self._undo, "Undo", self.photo_after_undo)


class LibraryEdits(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(50)
        window.libraryChanged.connect(lambda _root: self.undo_stack.clear())

    def build_edit_menu(self) -> QMenu:
        """Edit ▸ Undo/Redo named after the command ("Undo Move to trash"), second in the menu bar."""
        win = self.window
        undo = self.undo_stack.createUndoAction(win, "Undo")
        undo.setObjectName("action_undo")
        undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        redo = self.undo_stack.createRedoAction(win, "Redo")
        redo.setObjectName("action_redo")
        keys = [
            QKeySequence(QKeySequence.StandardKey.Redo),
            QKeySequence("Ctrl+Shift+Z"),
            QKeySequence("Ctrl+Y"),
        ]
        redo.setShortcuts([k for i, k in enumerate(keys) if not k.isEmpty() and k not in keys[:i]])
        menu = QMenu("&Edit", win)
        menu.setObjectName("editMenu")
        menu.addAction(undo)
        menu.addAction(redo)
        bar = win.menuBar()
        existing = bar.actions()
        bar.insertMenu(existing[1], menu) if len(existing) > 1 else bar.addMenu(menu)
        win.addAction(undo)  # shortcuts work with the menu bar hidden (full screen)
        win.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        return menu

    def replay(self, command: StoredEdit, job: Write, verb: str, photo_id: int | None) -> None:
        """Undo or redo one stored edit in the write pool, then show its region."""
        win = self.window
        if win.lib is not command.lib:  # another library is open: the edit is not this one's
            QTimer.singleShot(0, self.undo_stack.clear)  # not while the stack runs this command
            return
        what = f"{verb} {command.text().lower()}"

        def done(_result: object) -> None:
            self._say(f"{what}: done")
            self._show(command.region_id, photo_id)

        def failed(message: str) -> None:
            self.undo_stack.clear()  # the library and the history no longer agree
            win.show_message(what.capitalize(), f"Could not {what.lower()}: {message}", warning=True)
            win.reload_region()

        win.session.write(lambda _t: job(), on_result=done, on_error=failed, name=what)

    def _show(self, region_id: int, photo_id: int | None) -> None:
        win = self.window
        if win.current_region_id() != region_id:
            win.reload()
            win.view.select_region(region_id)
        win.reload_region(select_photo=photo_id)

    def _push(self, text: str, lib: Library, **kwargs: Any) -> None:
        self.undo_stack.push(StoredEdit(self, text, lib, **kwargs))

    def _failed(self, title: str) -> Callable[[str], None]:
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
            self._say(f"Moved the check-in of {formatting.day(photo.taken_at)} to the trash (Ctrl+Z undoes)")
            self._push(
                "Move to trash",
                lib,
                undo=lambda: lib.restore_photo(photo.id),
                redo=lambda: lib.trash_photo(photo.id),
                region_id=photo.region_id,
                photo_after_undo=photo.id,
                photo_after_redo=None,
            )
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
        before = lib.region(region_id).reference_photo_id

        def done(_region: Region) -> None:
            self._say(
                f"The check-in of {formatting.day(photo.taken_at)} is now the reference; analyse the region "
                "to measure the others against it.",
                8000,
            )
            if before != photo.id:
                self._push(
                    "Set as reference",
                    lib,
                    undo=lambda: lib.set_reference(region_id, before),
                    redo=lambda: lib.set_reference(region_id, photo.id),
                    region_id=region_id,
                    photo_after_undo=before,
                    photo_after_redo=photo.id,
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
            if when != photo.taken_at:
                self._push(
                    "Change date",
                    lib,
                    undo=lambda: lib.update_photo(
                        photo.id, taken_at=photo.taken_at, taken_at_source=photo.taken_at_source
                    ),
                    redo=lambda: lib.update_photo(photo.id, taken_at=when),
                    region_id=photo.region_id,
                    photo_after_undo=photo.id,
                    photo_after_redo=photo.id,
                )
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
