"""Inbox folders, dismissed inbox photos and reminder state, kept in the library database.

Functions take an open ``Library`` and use its transactions, so they share its locking and error
handling. Folder paths are stored absolute and resolved (one folder, one row).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from skintrack.errors import UsageError
from skintrack.library.db import Library, dt_from_text, dt_to_text, now


@dataclass(frozen=True)
class InboxFolder:
    path: Path
    added_at: datetime


@dataclass(frozen=True)
class ReminderState:
    """What the user said about a region's reminder: snoozed until a time, or this due date skipped."""

    region_id: int
    snoozed_until: datetime | None = None
    skipped_due: date | None = None
    notified_due: date | None = None


def _norm(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().resolve()


# ---------------------------------------------------------------- folders
def add_folder(lib: Library, path: str | os.PathLike[str]) -> InboxFolder:
    """Remember a folder to watch; it must exist. Adding the same folder twice is a no-op."""
    folder = _norm(path)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder" if folder.exists() else f"no such folder: {folder}")
    with lib._write() as conn:
        conn.execute(
            "INSERT INTO inbox_folder (path, added_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
            (str(folder), dt_to_text(now())),
        )
    return next(f for f in list_folders(lib) if f.path == folder)


def remove_folder(lib: Library, path: str | os.PathLike[str]) -> None:
    """Stop watching a folder (its files are not touched)."""
    folder = _norm(path)
    with lib._write() as conn:
        cur = conn.execute("DELETE FROM inbox_folder WHERE path = ?", (str(folder),))
        if cur.rowcount == 0:
            cur = conn.execute("DELETE FROM inbox_folder WHERE path = ?", (str(Path(path).expanduser()),))
    if cur.rowcount == 0:
        raise UsageError(f"{folder} is not an inbox folder (see `skintrack inbox folders`)")


def list_folders(lib: Library) -> list[InboxFolder]:
    with lib._read() as conn:
        rows = conn.execute("SELECT path, added_at FROM inbox_folder ORDER BY path").fetchall()
    return [InboxFolder(Path(row["path"]), dt_from_text(row["added_at"])) for row in rows]


# ---------------------------------------------------------------- dismissed photos and known hashes
def dismiss(lib: Library, sha256: str, path: str | os.PathLike[str]) -> None:
    """Never show these bytes in the inbox again (the file itself stays where it is)."""
    with lib._write() as conn:
        conn.execute(
            "INSERT INTO inbox_dismissed (sha256, path, dismissed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING",
            (sha256, str(path), dt_to_text(now())),
        )


def undismiss_all(lib: Library) -> int:
    """Show every dismissed photo again; returns how many were dismissed."""
    with lib._write() as conn:
        return conn.execute("DELETE FROM inbox_dismissed").rowcount


def dismissed_hashes(lib: Library) -> set[str]:
    with lib._read() as conn:
        return {row[0] for row in conn.execute("SELECT sha256 FROM inbox_dismissed")}


def library_hashes(lib: Library) -> set[str]:
    """Content hashes of every photo in the library, trashed ones included."""
    with lib._read() as conn:
        return {row[0] for row in conn.execute("SELECT DISTINCT sha256 FROM photo")}


# ---------------------------------------------------------------- reminders
def reminder_states(lib: Library) -> dict[int, ReminderState]:
    with lib._read() as conn:
        rows = conn.execute("SELECT * FROM reminder_state").fetchall()
    return {
        row["region_id"]: ReminderState(
            row["region_id"],
            None if row["snoozed_until"] is None else dt_from_text(row["snoozed_until"]),
            None if row["skipped_due"] is None else date.fromisoformat(row["skipped_due"]),
            None if row["notified_due"] is None else date.fromisoformat(row["notified_due"]),
        )
        for row in rows
    }


def save_reminder_state(lib: Library, state: ReminderState) -> None:
    lib.region(state.region_id)  # UsageError for an unknown region
    with lib._write() as conn:
        conn.execute(
            "INSERT INTO reminder_state (region_id, snoozed_until, skipped_due, notified_due)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (region_id) DO UPDATE SET"
            " snoozed_until = excluded.snoozed_until, skipped_due = excluded.skipped_due,"
            " notified_due = excluded.notified_due",
            (
                state.region_id,
                None if state.snoozed_until is None else dt_to_text(state.snoozed_until),
                None if state.skipped_due is None else state.skipped_due.isoformat(),
                None if state.notified_due is None else state.notified_due.isoformat(),
            ),
        )
