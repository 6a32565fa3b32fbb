"""Journal dialog: table model, add, edit and delete through the buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt

from skintrack.ui.journal_dialog import JournalDialog, JournalEntryDialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "does not support propagateSizeHints", "does not support raise", "does not support grabbing"
    ),
]


@pytest.fixture
def dialog(qtbot: Any, make_library: Any) -> JournalDialog:
    lib = make_library({})
    lib.add_journal(datetime(2026, 1, 3, 8, 0), "dose", substance="kratom", amount=4, unit="g")
    lib.add_journal(datetime(2026, 2, 1, 12, 0), "sun", notes="beach")
    dlg = JournalDialog(lib)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_table_model(qtmodeltester: Any, dialog: JournalDialog) -> None:
    qtmodeltester.check(dialog.model, force_py=True)
    assert dialog.model.rowCount() == 2
    assert dialog.model.index(0, 1).data() == "Sun exposure"  # newest first
    assert dialog.model.index(1, 3).data() == "4 g"
    assert not dialog.edit_button.isEnabled()


def test_add_entry(qtbot: Any, dialog: JournalDialog) -> None:
    def answer(entry: Any) -> dict[str, Any]:
        form = JournalEntryDialog(entry, dialog)
        form.kind.setCurrentIndex(form.kind.findData("medication"))
        qtbot.keyClicks(form.substance, "minocycline")
        form.amount.setValue(100)
        qtbot.keyClicks(form.unit, "mg")
        values = form.values()
        form.deleteLater()
        return values

    dialog._run_entry_dialog = answer
    changed: list[int] = []
    dialog.changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(dialog.changed, timeout=5000):  # written in the write pool
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    entries = dialog.library.list_journal()
    assert len(entries) == 3
    new = next(e for e in entries if e.kind == "medication")
    assert (new.substance, new.amount, new.unit) == ("minocycline", 100.0, "mg")
    assert dialog.selected() is not None and dialog.selected().id == new.id
    assert changed == [1]


def test_edit_and_delete(qtbot: Any, dialog: JournalDialog) -> None:
    dialog.table.selectRow(1)  # the kratom dose
    assert dialog.edit_button.isEnabled()

    def answer(entry: Any) -> dict[str, Any]:
        form = JournalEntryDialog(entry, dialog)
        assert form.substance.text() == "kratom"
        form.amount.setValue(6)
        form.notes.setText("evening")
        values = form.values()
        form.deleteLater()
        return values

    dialog._run_entry_dialog = answer
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.mouseClick(dialog.edit_button, Qt.MouseButton.LeftButton)
    dose = next(e for e in dialog.library.list_journal() if e.kind == "dose")
    assert (dose.amount, dose.notes, dose.at) == (6.0, "evening", datetime(2026, 1, 3, 8, 0))

    dialog._confirm_delete = lambda entry: False
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert len(dialog.library.list_journal()) == 2
    dialog._confirm_delete = lambda entry: True
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert [e.kind for e in dialog.library.list_journal()] == ["sun"]
    assert dialog.model.rowCount() == 1


def test_entry_dialog_no_amount(qtbot: Any) -> None:
    form = JournalEntryDialog(None)
    qtbot.addWidget(form)
    assert form.values()["amount"] is None
    assert form.values()["kind"] == "dose"


def _row_pos(dialog: JournalDialog, row: int) -> Any:
    return dialog.table.visualRect(dialog.model.index(row, 1)).center()


def test_right_click_menu_on_an_entry(qtbot: Any, dialog: JournalDialog) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMenu

    seen: list[list[str]] = []

    def pick_duplicate() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick_duplicate)  # not open yet
            return
        seen.append([a.text() for a in menu.actions() if not a.isSeparator()])
        action = next(a for a in menu.actions() if a.text() == "Duplicate to today")
        menu.close()
        action.trigger()

    QTimer.singleShot(0, pick_duplicate)
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.table.customContextMenuRequested.emit(_row_pos(dialog, 1))  # what a right-click sends
    assert seen and seen[0] == ["Edit…", "Duplicate to today", "Delete…"]
    doses = [e for e in dialog.library.list_journal() if e.kind == "dose"]
    assert len(doses) == 2
    copy = max(doses, key=lambda e: e.id)
    assert copy.at.date() == datetime.now().date()
    assert (copy.substance, copy.amount, copy.unit) == ("kratom", 4.0, "g")
    assert dialog.selected() is not None and dialog.selected().id == copy.id


def test_context_menu_edit_and_delete(qtbot: Any, dialog: JournalDialog) -> None:
    assert dialog.context_menu(dialog.table.viewport().rect().bottomRight()) is None  # no entry there
    menu = dialog.context_menu(_row_pos(dialog, 0))
    assert menu is not None and dialog.selected().kind == "sun"  # the clicked entry is selected
    actions = {a.objectName(): a for a in menu.actions()}
    edited: list[Any] = []
    dialog._run_entry_dialog = lambda entry: edited.append(entry) or None
    actions["journalMenuEdit"].trigger()
    assert [e.kind for e in edited] == ["sun"]
    asked: list[Any] = []
    dialog._confirm_delete = lambda entry: asked.append(entry) or True
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        actions["journalMenuDelete"].trigger()
    assert [e.kind for e in asked] == ["sun"]
    assert [e.kind for e in dialog.library.list_journal()] == ["dose"]
    menu.deleteLater()
