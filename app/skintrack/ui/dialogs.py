"""Small modal dialogs: add a region, change a check-in's date, restore from trash, discard unsaved work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.library import Photo


def save_and_cancel_buttons(
    parent: QWidget, save_text: str, on_save: Callable[[], object], on_cancel: Callable[[], object]
) -> tuple[QPushButton, QPushButton]:
    """The editing dialogs' Save (default) and Cancel buttons, named for tests and connected."""
    save = QPushButton(save_text, parent)
    save.setObjectName("save")
    save.setDefault(True)
    save.clicked.connect(on_save)
    cancel = QPushButton("Cancel", parent)
    cancel.setObjectName("cancel")
    cancel.clicked.connect(on_cancel)
    return save, cancel


def ask_to_discard(
    parent: QWidget, title: str, text: str, object_name: str, *, informative: str = "", keep: str = ""
) -> bool:
    """Modal Discard / Cancel question (Cancel is the default, ``keep`` renames it); True to discard."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName(object_name)
    if informative:
        box.setInformativeText(informative)
    if keep:
        box.button(QMessageBox.StandardButton.Cancel).setText(keep)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Discard


class NewRegion(NamedTuple):
    name: str
    body_site: str
    interval_days: int | None


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

    def values(self) -> NewRegion:
        return NewRegion(
            self.name.text().strip(), self.body_site.text().strip(), self.interval.value() or None
        )


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
            item = QListWidgetItem(f"{formatting.day_time(p.taken_at)}  ·  {p.original_name}", self.list)
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
