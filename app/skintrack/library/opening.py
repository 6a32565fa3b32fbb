"""Opening a library folder safely: what state its database is in, and what may happen then.

A missing, empty or new database beside stored photos means the library is damaged, never that
it is fresh: the photos would otherwise be listed as orphans of an empty library. Files the
library creates are owner-only; the library carries a random id so a write-ahead log from
another library can be told apart (see ``skintrack.library.wal``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

from skintrack.core.fsutil import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from skintrack.errors import LibraryError
from skintrack.library.store import OriginalStore

DB_NAME = "skintrack.sqlite3"


class DatabaseUnreadableError(LibraryError):
    """The database file exists but SQLite cannot read or upgrade it."""


class DamagedLibraryError(LibraryError):
    """The database is missing, empty or new although originals/ holds photos."""


DatabaseState = str  # "missing", "empty" (0 bytes) or "present"


def database_state(db_path: Path) -> DatabaseState:
    try:
        size = db_path.stat().st_size
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise LibraryError(f"cannot read the library database {db_path}: {exc.strerror}") from exc
    return "empty" if size == 0 else "present"


def refuse_unusable(
    root: Path, state: DatabaseState, store: OriginalStore, *, create: bool, recover: bool
) -> None:
    """Raise unless a missing/empty/new database may become a fresh library here."""
    what = {"missing": "is missing", "empty": "is empty (0 bytes)", "new": "holds no tables"}[state]
    if store.has_files() and not recover:
        raise DamagedLibraryError(
            f"the library {root} is damaged: its database {DB_NAME} {what} but originals/ holds "
            "photos. Nothing was changed. Restore the latest backup (`skintrack restore FILE.zip "
            f"--library {root} --force`) or re-create rows for the photos with "
            f"`skintrack check --rebuild --library {root}`"
        )
    if not create and not recover:
        raise LibraryError(
            f"no Skintrack library in {root} (the database {DB_NAME} {what}); create one with "
            "`skintrack region add NAME`"
        )


def set_aside_stray_wal(db_path: Path, *, recover: bool) -> None:
    """A write-ahead log without its database must not be replayed into a new one."""
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        if wal.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    if not recover:
        raise DamagedLibraryError(
            f"the library {db_path.parent} is damaged: {wal.name} is there without its database. "
            "Nothing was changed. Restore a backup, or run `skintrack check --rebuild` (it keeps "
            f"{wal.name} aside)"
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for suffix in ("-wal", "-shm"):
        source = db_path.with_name(db_path.name + suffix)
        if source.exists():
            os.replace(source, db_path.with_name(f"{db_path.name}{suffix}.stray-{stamp}"))


LIBRARY_ID_KEY = "library_id"


def stamp_identity(conn: sqlite3.Connection) -> None:
    """Give the library a random id once (lets a foreign write-ahead log be told apart)."""
    if conn.execute("SELECT 1 FROM setting WHERE key = ?", (LIBRARY_ID_KEY,)).fetchone():
        return
    conn.execute(
        "INSERT OR IGNORE INTO setting (key, value) VALUES (?, ?)",
        (LIBRARY_ID_KEY, json.dumps(uuid.uuid4().hex)),
    )


def tighten(*folders: Path) -> None:
    """Owner-only library folders, also for libraries made before they were created that way."""
    for folder in folders:
        with contextlib.suppress(OSError):
            if folder.stat().st_mode & 0o077:
                os.chmod(folder, PRIVATE_DIR_MODE)


def make_private(db_path: Path) -> None:
    """Owner-only database (SQLite gives its -wal and -shm files the database's mode)."""
    for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        try:
            if path.exists() and (path.stat().st_mode & 0o077):
                os.chmod(path, PRIVATE_FILE_MODE)
        except OSError:
            continue  # not ours to change (e.g. a read-only copy): the data stays usable
