"""Help ▸ Taking good photos, Keyboard shortcuts (generated from the actions) and Where is my
library (with Show in folder)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skintrack.ui import actions

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

PHOTO_GUIDE = (
    (
        "Same light",
        "Take every photo in the same place and at the same time of day, with the same lamp "
        "or window light. Avoid direct sunlight and mixed light (a lamp plus a window).",
    ),
    (
        "Same distance and angle",
        "Hold the phone as far away and as straight as for the first photo; "
        "the ghost overlay in the camera shows the first photo to line up with.",
    ),
    (
        "Calibration card in frame",
        "Keep the printed calibration card flat beside the skin, fully in "
        "the picture and in the same light. It corrects colour and gives true sizes in mm².",
    ),
    (
        "No flash, no glare",
        "Turn the flash off. Shiny spots (glare) hide the skin colour: tilt the "
        "phone slightly or move the light until they are gone.",
    ),
    ("Sharp and steady", "Tap to focus on the skin, hold still, and retake a blurred photo."),
    (
        "Relaxed skin",
        "Keep the arm, hand or face relaxed in the same pose: stretched or pressed "
        "skin changes colour for a while.",
    ),
)


def _dialog(parent: QWidget, name: str, title: str) -> tuple[QDialog, QVBoxLayout]:
    dlg = QDialog(parent)
    dlg.setObjectName(name)
    dlg.setWindowTitle(title)
    lay = QVBoxLayout(dlg)
    return dlg, lay


def _close_buttons(dlg: QDialog, lay: QVBoxLayout) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
    buttons.rejected.connect(dlg.reject)
    lay.addWidget(buttons)
    return buttons


def photo_guide_dialog(parent: QWidget) -> QDialog:
    dlg, lay = _dialog(parent, "photoGuideDialog", "Taking good photos")
    rows = "".join(f"<li><b>{html.escape(t)}.</b> {html.escape(text)}</li>" for t, text in PHOTO_GUIDE)
    label = QLabel(
        "<p>Skintrack measures small colour changes, so every photo should be taken the same way. "
        f"The same conditions matter more than a good camera.</p><ul>{rows}</ul>",
        dlg,
    )
    label.setObjectName("photoGuideText")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    lay.addWidget(label)
    _close_buttons(dlg, lay)
    dlg.setMinimumWidth(520)
    return dlg


def shortcut_rows(by_name: dict[str, QAction]) -> list[tuple[str, str]]:
    """(command, shortcut) for every action that has one, in the order they are declared."""
    rows = []
    for spec in actions.ACTIONS:
        act = by_name.get(spec.key)
        if act is None or act.shortcut().isEmpty():
            continue
        rows.append((spec.text.rstrip("…"), act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
    return rows


def shortcuts_dialog(parent: QWidget, by_name: dict[str, QAction]) -> QDialog:
    dlg, lay = _dialog(parent, "shortcutsDialog", "Keyboard shortcuts")
    rows = shortcut_rows(by_name)
    table = QTableWidget(len(rows), 2, dlg)
    table.setObjectName("shortcutsTable")
    table.setHorizontalHeaderLabels(["Command", "Shortcut"])
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    for r, (command, keys) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(command))
        table.setItem(r, 1, QTableWidgetItem(keys))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    lay.addWidget(table)
    _close_buttons(dlg, lay)
    dlg.resize(440, 520)
    return dlg


def library_location_dialog(parent: QWidget, root: Path | None, open_url: Callable[[QUrl], bool]) -> QDialog:
    dlg, lay = _dialog(parent, "libraryLocationDialog", "Where is my library?")
    if root is None:
        text = "No library is open. Library ▸ Open library… opens or creates one."
    else:
        text = (
            f"Your library is the folder<br><b>{html.escape(str(root))}</b><br><br>"
            "It holds the database and your original photos (in <i>originals/</i>), unchanged. "
            "Back it up with Library ▸ Back up…; move it only while Skintrack is closed, then open "
            "it from its new place (Library ▸ Open library…)."
        )
    label = QLabel(text, dlg)
    label.setObjectName("libraryLocationText")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lay.addWidget(label)
    buttons = _close_buttons(dlg, lay)
    show = QPushButton("Show in folder", dlg)
    show.setObjectName("showLibraryFolder")
    show.setEnabled(root is not None)
    if root is not None:
        show.clicked.connect(lambda: open_url(QUrl.fromLocalFile(str(root))))
    buttons.addButton(show, QDialogButtonBox.ButtonRole.ActionRole)
    dlg.setMinimumWidth(480)
    return dlg


class HelpMenu(QObject):
    """The window's Help commands; each dialog is kept until it closes."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def _show(self, dlg: QDialog) -> QDialog:
        self.window.windows.keep(dlg)
        dlg.show()
        return dlg

    def photo_guide(self) -> QDialog:
        return self._show(photo_guide_dialog(self.window))

    def shortcuts(self) -> QDialog:
        return self._show(shortcuts_dialog(self.window, self.window.actions_by_name))

    def library_location(self) -> QDialog:
        root = self.window.lib.root if self.window.lib is not None else None
        return self._show(library_location_dialog(self.window, root, self.window.open_url))
