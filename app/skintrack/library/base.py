"""The connection and transactions every kind of library record shares.

One connection per library object, guarded by a lock so GUI workers may share it; every write is
one ``BEGIN IMMEDIATE`` transaction, and a busy database becomes a clear LibraryError.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skintrack.errors import LibraryError, UsageError
from skintrack.library import lock
from skintrack.library.opening import DB_NAME
from skintrack.library.store import OriginalStore
from skintrack.library.thumbnails import ThumbnailCache
from skintrack.library.wal import register_open


def is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class LibraryCore:
    """Connection, lock and transactions; the record kinds build on it (see ``db.Library``)."""

    def __init__(self, root: Path, conn: sqlite3.Connection, timeout: float) -> None:
        self.root = root
        self.db_path = root / DB_NAME
        self.originals_dir = root / "originals"
        self.cache_dir = root / "cache"
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._store = OriginalStore(self.originals_dir)
        self._thumbs = ThumbnailCache(self.cache_dir)
        register_open(self.db_path)
        self._use_lock: lock.LibraryLock | None = None  # shared: no restore swaps it while open

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise LibraryError("the library is closed")
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                if is_lock_error(exc):
                    raise self._locked_error() from exc
                raise
            except sqlite3.DatabaseError as exc:
                if type(exc) is sqlite3.DatabaseError:  # "malformed", "not a database"...
                    raise LibraryError(f"the library database {self.db_path} is damaged: {exc}") from exc
                raise

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; takes the database write lock up front (BEGIN IMMEDIATE)."""
        with self._read() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if is_lock_error(exc):
                    raise self._locked_error() from exc
                raise
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def data_version(self) -> tuple[int, int]:
        """Changes whenever the database may have changed: rows written through this connection
        (``total_changes``) or a commit by any other connection or process (``data_version``).

        Readers key caches on it, so a cached read is never older than the last write.
        """
        with self._read() as conn:
            other = int(conn.execute("PRAGMA data_version").fetchone()[0])
            return conn.total_changes, other

    def _locked_error(self) -> LibraryError:
        return LibraryError(
            f"the library {self.root} stayed locked by another process for more than "
            f"{self.timeout:g} s; close the other Skintrack window or command and try again"
        )

    def _update(self, table: str, row_id: int, fields: dict[str, Any]) -> None:
        if not fields:
            with self._read() as conn:
                found = conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone()
        else:
            assignments = ", ".join(f"{key} = ?" for key in fields)
            with self._write() as conn:
                cur = conn.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = ?", (*fields.values(), row_id)
                )
                found = cur.rowcount > 0
        if not found:
            raise UsageError(f"no {table} with id {row_id}")
