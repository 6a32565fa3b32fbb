"""Journal: doses, sun exposure, medication and notes in a table with add, edit and delete.

Shown as markers on the trend chart so a change can be lined up with what happened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from PySide6.QtCore import (
    QAbstractTableModel,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.library import Library
from skintrack.library.models import JOURNAL_KINDS, JournalEntry
from skintrack.ui import icons
from skintrack.ui.tasks import Job, Pool, run_task

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Date", "Kind", "Substance", "Amount", "Notes")


class JournalValues(TypedDict):
    """One entry as the form holds it: the keyword arguments of ``add_journal``/``update_journal``."""

    at: datetime
    kind: str
    substance: str
    amount: float | None
    unit: str
    notes: str


KIND_TITLES = {"dose": "Dose", "sun": "Sun exposure", "medication": "Medication", "note": "Note"}
EntryRole = int(Qt.ItemDataRole.UserRole) + 1


class JournalTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[JournalEntry] = []

    def set_entries(self, entries: list[JournalEntry]) -> None:
        self.beginResetModel()
        self._rows = sorted(entries, key=lambda e: (e.at.timestamp(), e.id), reverse=True)
        self.endResetModel()

    def entry(self, row: int) -> JournalEntry:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        e = self._rows[index.row()]
        if role == EntryRole:
            return e
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        col = index.column()
        if col == 0:
            return formatting.day_time(e.at)
        if col == 1:
            return KIND_TITLES.get(e.kind, e.kind)
        if col == 2:
            return e.substance
        if col == 3:
            return "" if e.amount is None else f"{e.amount:g} {e.unit}".strip()
        return e.notes


class JournalEntryDialog(QDialog):
    """Add or edit one entry."""

    def __init__(self, entry: JournalEntry | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journalEntryDialog")
        self.setWindowTitle("Edit journal entry" if entry else "New journal entry")
        form = QFormLayout(self)
        self.when = QDateTimeEdit(self)
        self.when.setObjectName("entryDate")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        at = entry.at if entry else datetime.now().replace(second=0, microsecond=0)
        self.when.setDateTime(QDateTime(at.date(), at.time()))
        form.addRow("When", self.when)
        self.kind = QComboBox(self)
        self.kind.setObjectName("entryKind")
        for k in JOURNAL_KINDS:
            self.kind.addItem(KIND_TITLES.get(k, k), k)
        if entry:
            self.kind.setCurrentIndex(JOURNAL_KINDS.index(entry.kind))
        form.addRow("Kind", self.kind)
        self.substance = QLineEdit(entry.substance if entry else "", self)
        self.substance.setObjectName("entrySubstance")
        self.substance.setPlaceholderText("e.g. kratom, sunscreen SPF 50")
        form.addRow("Substance", self.substance)
        row = QHBoxLayout()
        self.amount = QDoubleSpinBox(self)
        self.amount.setObjectName("entryAmount")
        self.amount.setRange(0.0, 1e6)
        self.amount.setDecimals(2)
        self.amount.setSpecialValueText("—")  # 0 means no amount
        self.amount.setValue(entry.amount if entry and entry.amount is not None else 0.0)
        self.unit = QLineEdit(entry.unit if entry else "", self)
        self.unit.setObjectName("entryUnit")
        self.unit.setPlaceholderText("unit (g, mg, min…)")
        row.addWidget(self.amount)
        row.addWidget(self.unit)
        form.addRow("Amount", row)
        self.notes = QLineEdit(entry.notes if entry else "", self)
        self.notes.setObjectName("entryNotes")
        form.addRow("Notes", self.notes)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form.addRow(buttons)

    def values(self) -> JournalValues:
        qdt = self.when.dateTime()
        at = datetime(
            qdt.date().year(), qdt.date().month(), qdt.date().day(), qdt.time().hour(), qdt.time().minute()
        )
        amount = self.amount.value()
        return {
            "at": at,
            "kind": str(self.kind.currentData()),
            "substance": self.substance.text().strip(),
            "amount": amount if amount > 0 else None,
            "unit": self.unit.text().strip(),
            "notes": self.notes.text().strip(),
        }


class JournalDialog(QDialog):
    """The journal table; writes are tiny single-row SQLite transactions (done directly)."""

    changed = Signal()

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journalDialog")
        self.setWindowTitle("Journal")
        self.library = library
        lay = QVBoxLayout(self)
        self.model = JournalTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("journalTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.edit_selected)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        delete_key = QAction(self.table)
        delete_key.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete_key.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.triggered.connect(self.delete_selected)
        self.table.addAction(delete_key)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton(icons.icon("add"), "Add…", self)
        self.add_button.setObjectName("journalAdd")
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.setObjectName("journalEdit")
        self.delete_button = QPushButton(icons.icon("trash"), "Delete", self)
        self.delete_button.setObjectName("journalDelete")
        self.add_button.clicked.connect(self.add_entry)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        row.addWidget(self.add_button)
        row.addWidget(self.edit_button)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.resize(720, 420)
        self.reload()
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    # hooks tests replace to answer the sub-dialogs
    def _run_entry_dialog(self, entry: JournalEntry | None) -> JournalValues | None:
        dlg = JournalEntryDialog(entry, self)
        try:
            return dlg.values() if dlg.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dlg.deleteLater()

    def _confirm_delete(self, entry: JournalEntry) -> bool:
        answer = QMessageBox.question(
            self, "Delete entry", f"Delete the journal entry of {formatting.day(entry.at)}?"
        )
        return answer == QMessageBox.StandardButton.Yes

    def reload(self) -> None:
        self.model.set_entries(self.library.list_journal())
        for col in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(col)
        self._update_buttons()

    def selected(self) -> JournalEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.entry(rows[0].row()) if rows else None

    @Slot()
    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _select_id(self, entry_id: int) -> None:
        for r in range(self.model.rowCount()):
            if self.model.entry(r).id == entry_id:
                self.table.selectRow(r)
                return

    def context_menu(self, pos: QPoint) -> QMenu | None:
        """The menu for the entry under ``pos`` (viewport coordinates), which becomes the selection."""
        index = self.table.indexAt(pos)
        if not index.isValid():
            return None
        self.table.selectRow(index.row())
        entry = self.model.entry(index.row())
        menu = QMenu(self)
        menu.setObjectName("journalContextMenu")
        menu.addAction("Edit…", self.edit_selected).setObjectName("journalMenuEdit")
        duplicate = menu.addAction("Duplicate to today", self.duplicate_selected)
        duplicate.setObjectName("journalMenuDuplicate")
        duplicate.setToolTip(f"A copy of this {KIND_TITLES.get(entry.kind, entry.kind).lower()} dated today")
        menu.addSeparator()
        menu.addAction(icons.icon("trash"), "Delete…", self.delete_selected).setObjectName(
            "journalMenuDelete"
        )
        return menu

    @Slot(QPoint)
    def _show_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(pos)
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))
            menu.deleteLater()

    @Slot()
    def duplicate_selected(self) -> None:
        """The same entry again today, at the same time of day (a daily dose logged in one click)."""
        entry = self.selected()
        if entry is None:
            return
        at = datetime.combine(date.today(), entry.at.time(), tzinfo=entry.at.tzinfo)
        now = datetime.now(entry.at.tzinfo)
        if at > now:  # later today than now: log it as now, never in the future
            at = now.replace(second=0, microsecond=0)
        lib = self.library
        values = JournalValues(
            at=at,
            kind=entry.kind,
            substance=entry.substance,
            amount=entry.amount,
            unit=entry.unit,
            notes=entry.notes,
        )
        self._write(lambda _t: lib.add_journal(**values), "duplicate journal entry")

    @Slot()
    def add_entry(self) -> None:
        values = self._run_entry_dialog(None)
        if values is None:
            return
        lib = self.library
        self._write(lambda _t: lib.add_journal(**values), "add journal entry")

    @Slot()
    def edit_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        values = self._run_entry_dialog(entry)
        if values is None:
            return
        lib, entry_id = self.library, entry.id
        self._write(lambda _t: lib.update_journal(entry_id, **values), "edit journal entry")

    @Slot()
    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None or not self._confirm_delete(entry):
            return
        lib, entry_id = self.library, entry.id
        self._write(lambda _t: lib.delete_journal(entry_id), "delete journal entry")

    def _write(self, job: Job, name: str) -> None:
        """A journal write in the write pool; the table shows the result once it is stored."""
        run_task(job, on_result=self._written, on_error=self._write_failed, pool=Pool.WRITE, name=name)

    def _written(self, entry: JournalEntry | None) -> None:
        self.reload()
        if entry is not None:
            self._select_id(entry.id)
        self.changed.emit()

    def _write_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Journal", f"The journal was not changed: {message}")
