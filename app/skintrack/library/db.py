"""The photo library: one SQLite database (WAL, foreign keys) plus content-addressed originals.

``Library`` is the one facade over the record kinds, each in its own module: regions
(``regions``), photos and import (``photos``), check-ins and repeat noise (``checkins``),
alignments and measurements (``analysis_rows``), the journal (``journal``), settings and
integrity (``maintenance``); connection and transactions live in ``base``, value conversion and
row mapping in ``rows``.

Thread and process safety: one connection per ``Library`` object, guarded by a lock so GUI
workers may share it; several processes may open the same library at once and are serialised by
SQLite's own locking (``BEGIN IMMEDIATE`` for every write, a busy timeout, then a clear
LibraryError instead of a hang).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from skintrack.core.fsutil import make_private_dir
from skintrack.errors import LibraryError
from skintrack.library import lock, schema, swap
from skintrack.library.analysis_rows import AnalysisRecords, alignment_from_row, measurement_from_row
from skintrack.library.base import LibraryCore, is_lock_error
from skintrack.library.checkins import CheckinRecords
from skintrack.library.journal import JournalRecords, journal_from_row
from skintrack.library.maintenance import IntegrityRecords, SettingsRecords
from skintrack.library.opening import (
    DB_NAME,
    DatabaseUnreadableError,
    database_state,
    make_private,
    refuse_unusable,
    set_aside_stray_wal,
    stamp_identity,
    tighten,
)
from skintrack.library.photos import (
    THUMB_SIZE,
    PhotoRecords,
    PreparedImport,
    display_name,
    photo_from_row,
    prepare_import,
)
from skintrack.library.regions import RegionRecords, region_from_row
from skintrack.library.rows import (
    UNSET,
    check_user_date,
    dt_from_text,
    dt_to_text,
    now,
    record_from_row,
    sort_key,
    stored_dt,
)
from skintrack.library.store import OriginalStore
from skintrack.library.wal import check_wal, unregister_open

__all__ = [
    "DB_NAME",
    "DEFAULT_TIMEOUT_S",
    "THUMB_SIZE",
    "UNSET",
    "DatabaseUnreadableError",
    "Library",
    "PreparedImport",
    "alignment_from_row",
    "check_user_date",
    "display_name",
    "dt_from_text",
    "dt_to_text",
    "journal_from_row",
    "measurement_from_row",
    "now",
    "photo_from_row",
    "prepare_import",
    "record_from_row",
    "region_from_row",
    "sort_key",
    "stored_dt",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0


class Library(
    RegionRecords,
    PhotoRecords,
    CheckinRecords,
    AnalysisRecords,
    JournalRecords,
    SettingsRecords,
    IntegrityRecords,
    LibraryCore,
):
    """An open library folder. Use ``Library.open(root)``, ideally as a context manager."""

    # ------------------------------------------------------------ open / close
    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        create: bool = True,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        recover: bool = False,
    ) -> Library:
        """Open (and create or upgrade) the library in ``root``.

        ``create=False`` (every read command) never creates anything: a missing, empty or new
        database is an error. A library whose database is missing, empty or new while
        ``originals/`` holds photos is damaged and is never treated as a fresh one, unless
        ``recover`` (``check --rebuild``) asks for a new database to re-create rows into.
        ``timeout`` is how long to wait for another process holding the write lock before
        giving up with a LibraryError.
        """
        root = Path(root).expanduser()
        swap.prepare_open(root)
        db_path = root / DB_NAME
        store = OriginalStore(root / "originals")
        state = database_state(db_path)
        if state != "present":
            refuse_unusable(root, state, store, create=create, recover=recover)
            set_aside_stray_wal(db_path, recover=recover)
            if root.exists() and not root.is_dir():
                raise LibraryError(f"{root} is not a folder")
            try:
                make_private_dir(root, parents=True)
            except OSError as exc:
                raise LibraryError(f"cannot create the library folder {root}: {exc.strerror}") from exc
        else:
            check_wal(db_path)
        try:
            conn = _connect(db_path, timeout)
        except sqlite3.OperationalError as exc:
            if is_lock_error(exc):
                raise LibraryError(f"the library {root} is locked by another process; try again") from exc
            raise DatabaseUnreadableError(f"cannot open the library database {db_path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnreadableError(f"cannot open the library database {db_path}: {exc}") from exc
        try:
            if state == "present" and schema.is_new(conn):
                refuse_unusable(root, "new", store, create=create, recover=recover)
            schema.migrate(conn, db_path)
        except sqlite3.OperationalError as exc:
            conn.close()
            if is_lock_error(exc):
                raise LibraryError(f"the library {root} is locked by another process; try again") from exc
            raise DatabaseUnreadableError(f"cannot upgrade the library database {db_path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseUnreadableError(f"the library database {db_path} is damaged: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        if create or recover:
            with contextlib.suppress(sqlite3.OperationalError):  # busy/read-only: stamped next time
                stamp_identity(conn)
        make_private(db_path)
        try:
            make_private_dir(root / "originals")
            make_private_dir(root / "cache")
            tighten(root, root / "originals", root / "cache")
        except OSError as exc:
            conn.close()
            raise LibraryError(f"cannot create the library folders in {root}: {exc.strerror}") from exc
        try:
            use_lock = lock.acquire(root)
        except BaseException:
            conn.close()
            raise
        library = cls(root, conn, timeout)
        library._use_lock = use_lock
        return library

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                unregister_open(self.db_path)
            if self._use_lock is not None:
                self._use_lock.release()
                self._use_lock = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return schema.user_version(conn)


def _connect(db_path: Path, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("SQLite refused WAL mode for %s (got %s)", db_path, mode)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
