"""Edit ▸ Undo/Redo in the main window: moving to the trash, changing the reference and a date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def press(win: Any, k: Qt.Key, mods: Qt.KeyboardModifier = CTRL) -> None:
    win.timeline.setFocus()
    QTest.keyClick(win.timeline, k, mods)


def edit_menu(win: Any) -> Any:
    menus = [a.menu() for a in win.menuBar().actions() if a.menu() is not None]
    return next(m for m in menus if m.objectName() == "editMenu")


def test_edit_menu_undoes_and_redoes_move_to_trash(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    titles = [a.text() for a in win.menuBar().actions()]
    assert titles[1] == "&Edit"
    menu = edit_menu(win)
    undo, redo = win.edits.undo_action, win.edits.redo_action
    assert menu.actions() == [undo, redo] and not undo.isEnabled()
    middle = win.photo_model.photo(1)
    win.select_photo(middle.id)
    win.actions_by_name["trash"].trigger()
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 2, timeout=5000)
    assert undo.isEnabled() and undo.text() == "Undo Move to trash"
    press(win, Qt.Key.Key_Z)
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 3, timeout=5000)
    assert not win.lib.photo(middle.id).in_trash and win.current_photo().id == middle.id
    assert redo.text() == "Redo Move to trash"
    press(win, Qt.Key.Key_Z, CTRL_SHIFT)
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 2, timeout=5000)
    assert win.lib.photo(middle.id).in_trash
    press(win, Qt.Key.Key_Z)
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 3, timeout=5000)
    press(win, Qt.Key.Key_Y)  # Ctrl+Y redoes as well
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 2, timeout=5000)


def test_undo_reference_change(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    rid = win.current_region_id()
    first_ref = win.lib.region(rid).reference_photo_id
    last = win.photo_model.photo(2)
    win.select_photo(last.id)
    win.actions_by_name["set_reference"].trigger()
    qtbot.waitUntil(lambda: win.lib.region(rid).reference_photo_id == last.id, timeout=5000)
    qtbot.waitUntil(lambda: win.edits.undo_action.isEnabled(), timeout=5000)
    assert win.edits.undo_action.text() == "Undo Set as reference"
    win.edits.undo_action.trigger()
    qtbot.waitUntil(lambda: win.lib.region(rid).reference_photo_id == first_ref, timeout=5000)
    qtbot.waitUntil(
        lambda: win.current_photo() is not None and win.current_photo().id == first_ref, timeout=5000
    )
    win.edits.redo_action.trigger()
    qtbot.waitUntil(lambda: win.lib.region(rid).reference_photo_id == last.id, timeout=5000)


def test_undo_date_change_restores_date_and_source(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2})
    photo = win.photo_model.photo(0)
    win.select_photo(photo.id)
    new = photo.taken_at + timedelta(days=3, hours=2)

    def answer(dlg: QDialog) -> int:
        dlg.edit.setDateTime(QDateTime(new.date(), new.time()))
        return QDialog.DialogCode.Accepted

    win._run_dialog = answer
    win.actions_by_name["edit_date"].trigger()
    qtbot.waitUntil(lambda: win.lib.photo(photo.id).taken_at.replace(tzinfo=None) == new.replace(tzinfo=None))
    qtbot.waitUntil(lambda: win.edits.undo_action.isEnabled(), timeout=5000)
    assert win.lib.photo(photo.id).taken_at_source == "user"
    assert win.edits.undo_action.text() == "Undo Change date"
    press(win, Qt.Key.Key_Z)
    qtbot.waitUntil(lambda: win.lib.photo(photo.id).taken_at == photo.taken_at, timeout=5000)
    assert win.lib.photo(photo.id).taken_at_source == photo.taken_at_source
    assert win.current_photo().id == photo.id


def test_undo_after_switching_region_shows_the_edited_region(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2, "Leg": 2})
    arm = win.current_region_id()
    photo = win.current_photo()
    win.actions_by_name["trash"].trigger()
    qtbot.waitUntil(lambda: win.lib.photo(photo.id).in_trash, timeout=5000)
    qtbot.waitUntil(lambda: win.edits.undo_action.isEnabled(), timeout=5000)
    other = next(r.region.id for r in win.lib.list_regions() if r.region.id != arm)
    win.view.select_region(other)
    assert win.current_region_id() == other
    win.edits.undo_action.trigger()
    qtbot.waitUntil(lambda: not win.lib.photo(photo.id).in_trash, timeout=5000)
    qtbot.waitUntil(lambda: win.current_region_id() == arm, timeout=5000)
    assert win.current_photo().id == photo.id


def test_opening_another_library_forgets_the_history(qtbot: Any, main_window: Any, make_library: Any) -> None:
    win = main_window({"Arm": 2})
    win.actions_by_name["trash"].trigger()
    qtbot.waitUntil(lambda: win.edits.undo_action.isEnabled(), timeout=5000)
    win.set_library(make_library({"Other": 1}, name="other"))
    assert not win.edits.undo_action.isEnabled() and win.edits.undo_stack.count() == 0


def test_a_failed_undo_says_so_and_forgets_the_history(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    photo = win.current_photo()
    win.actions_by_name["trash"].trigger()
    qtbot.waitUntil(lambda: win.edits.undo_action.isEnabled(), timeout=5000)
    win.lib.empty_trash()  # the photo is gone for good: its trashing cannot be undone
    win.messages.clear()
    win.edits.undo_action.trigger()
    qtbot.waitUntil(lambda: bool(win.messages), timeout=5000)
    title, text = win.messages[0]
    assert title == "Undo move to trash" and "Could not undo move to trash" in text
    assert win.edits.undo_stack.count() == 0 and not win.edits.redo_action.isEnabled()
    assert photo.id not in [p.id for p in win.photo_model.photos()]
