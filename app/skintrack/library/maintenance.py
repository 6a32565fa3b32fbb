"""Settings and the integrity checks' access to the library's files and rows."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skintrack.core.fsutil import remove_stale_temps
from skintrack.library.base import LibraryCore
from skintrack.library.models import CheckReport
from skintrack.library.rows import plain
from skintrack.library.store import OriginalStore


class SettingsRecords(LibraryCore):
    """Library-wide settings as JSON values by key."""

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_setting(self, key: str, value: Any) -> None:
        text = json.dumps(plain(value))
        with self._write() as conn:
            conn.execute(
                "INSERT INTO setting (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text),
            )


class IntegrityRecords(LibraryCore):
    """What ``check`` and repairs need: stored rows as they are, the store, the write lock."""

    def check(self, repair: bool = False) -> CheckReport:
        """Compare originals on disk with the rows: orphans, missing, altered (re-hashed), temp files.

        Temp files of processes that are gone are always removed (they hold nothing a row needs).
        ``repair`` moves orphans to ``originals/lost+found/``; no original is ever deleted, and
        missing or altered originals stay reported. See ``skintrack.library.integrity``.
        """
        from skintrack.library.integrity import check_library

        return check_library(self, repair=repair)

    @property
    def store(self) -> OriginalStore:
        return self._store

    def photo_rows(self) -> list[sqlite3.Row]:
        """Every photo row as stored (also rows whose values no longer validate)."""
        with self._read() as conn:
            return conn.execute("SELECT * FROM photo ORDER BY id").fetchall()

    def quick_check(self) -> str:
        with self._read() as conn:
            return str(conn.execute("PRAGMA quick_check").fetchone()[0])

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[sqlite3.Connection]:
        """Hold the database write lock (no import can commit meanwhile), e.g. to move orphans."""
        with self._write() as conn:
            yield conn

    def clean_stale_temps(self) -> list[Path]:
        """Remove temp files of interrupted writes whose process is gone (library folder, originals,
        cache); returns what was removed. Temp files of running processes stay."""
        removed = remove_stale_temps(self.root)
        for folder in (self.originals_dir, self.cache_dir):
            for dirpath, _dirnames, _filenames in os.walk(folder):
                removed.extend(remove_stale_temps(Path(dirpath)))
        return removed
