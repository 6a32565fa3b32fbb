"""The journal: doses, sun exposure, medication and notes, dated."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from skintrack.errors import UsageError
from skintrack.library.base import LibraryCore
from skintrack.library.models import JOURNAL_KINDS, JournalEntry
from skintrack.library.rows import (
    UNSET,
    as_datetime,
    check_user_date,
    dt_to_text,
    now,
    record_from_row,
    sort_key,
    stored_dt,
)


def journal_from_row(row: sqlite3.Row) -> JournalEntry:
    return record_from_row(JournalEntry, row, {"at": stored_dt})


class JournalRecords(LibraryCore):
    """Adding, listing, editing and deleting journal entries."""

    def add_journal(
        self,
        at: datetime | date,
        kind: str,
        substance: str = "",
        amount: float | None = None,
        unit: str = "",
        notes: str = "",
    ) -> JournalEntry:
        at_dt = as_datetime(at)
        check_user_date(at_dt)
        _check_kind(kind)
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO journal (at, at_sort, kind, substance, amount, unit, notes, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dt_to_text(at_dt),
                    sort_key(at_dt),
                    kind,
                    substance,
                    None if amount is None else float(amount),
                    unit,
                    notes,
                    dt_to_text(now()),
                ),
            )
            entry_id = cur.lastrowid
        assert entry_id is not None
        return self.journal_entry(entry_id)

    def journal_entry(self, entry_id: int) -> JournalEntry:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM journal WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise UsageError(f"no journal entry with id {entry_id}")
        return journal_from_row(row)

    def list_journal(
        self, start: date | datetime | None = None, end: date | datetime | None = None
    ) -> list[JournalEntry]:
        """Entries oldest first; ``start``/``end`` are inclusive (a date covers its whole day)."""
        sql = "SELECT * FROM journal WHERE 1 = 1"
        params: list[Any] = []
        if start is not None:
            sql += " AND at_sort >= ?"
            params.append(sort_key(as_datetime(start)))
        if end is not None:
            sql += " AND at_sort <= ?"
            params.append(sort_key(as_datetime(end, end_of_day=True)))
        sql += " ORDER BY at_sort, id"
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [journal_from_row(row) for row in rows]

    def update_journal(
        self,
        entry_id: int,
        *,
        at: datetime | date = UNSET,
        kind: str = UNSET,
        substance: str = UNSET,
        amount: float | None = UNSET,
        unit: str = UNSET,
        notes: str = UNSET,
    ) -> JournalEntry:
        fields: dict[str, Any] = {}
        if at is not UNSET:
            at_dt = as_datetime(at)
            check_user_date(at_dt)
            fields.update(at=dt_to_text(at_dt), at_sort=sort_key(at_dt))
        if kind is not UNSET:
            _check_kind(kind)
            fields["kind"] = kind
        if substance is not UNSET:
            fields["substance"] = substance
        if amount is not UNSET:
            fields["amount"] = None if amount is None else float(amount)
        if unit is not UNSET:
            fields["unit"] = unit
        if notes is not UNSET:
            fields["notes"] = notes
        self._update("journal", entry_id, fields)
        return self.journal_entry(entry_id)

    def delete_journal(self, entry_id: int) -> None:
        with self._write() as conn:
            cur = conn.execute("DELETE FROM journal WHERE id = ?", (entry_id,))
            if cur.rowcount == 0:
                raise UsageError(f"no journal entry with id {entry_id}")


def _check_kind(kind: str) -> None:
    if kind not in JOURNAL_KINDS:
        raise UsageError(f"journal kind must be one of {', '.join(JOURNAL_KINDS)}, not {kind!r}")
