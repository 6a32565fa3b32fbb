"""Database schema as a list of forward migrations; the version lives in ``PRAGMA user_version``.

Rules: never edit a released migration, only append one. Each migration is a function that gets
a connection inside an open write transaction and must not commit. ``migrate`` applies the
missing ones one transaction at a time, so an interrupted upgrade leaves a consistent version.
Every version keeps a fixture library in ``tests/fixtures/libraries/`` that the tests upgrade.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from skintrack.errors import LibraryError

Migration = Callable[[sqlite3.Connection], None]


def _v1_base(conn: sqlite3.Connection) -> None:
    """Regions, photos, journal and settings: the library as first released."""
    statements = [
        """CREATE TABLE region (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
            body_site TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            interval_days INTEGER CHECK (interval_days IS NULL OR interval_days > 0),
            reference_photo_id INTEGER REFERENCES photo(id) ON DELETE SET NULL,
            watched_area TEXT,
            control_area TEXT,
            archived INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE photo (
            id INTEGER PRIMARY KEY,
            region_id INTEGER NOT NULL REFERENCES region(id),
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
            original_name TEXT NOT NULL,
            suffix TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            taken_at TEXT NOT NULL,
            taken_at_sort REAL NOT NULL,
            taken_at_source TEXT NOT NULL CHECK (taken_at_source IN ('exif', 'file', 'user', 'now')),
            imported_at TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            deleted_at TEXT,
            UNIQUE (region_id, sha256)
        )""",
        "CREATE INDEX photo_region_taken ON photo(region_id, taken_at_sort)",
        "CREATE INDEX photo_sha256 ON photo(sha256)",
        """CREATE TABLE journal (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            at_sort REAL NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('dose', 'sun', 'medication', 'note')),
            substance TEXT NOT NULL DEFAULT '',
            amount REAL,
            unit TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX journal_at ON journal(at_sort)",
        "CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
    for sql in statements:
        conn.execute(sql)


def _v2_analysis(conn: sqlite3.Connection) -> None:
    """Alignment and measurement results per (photo, reference) pair, added with the analysis."""
    statements = [
        """CREATE TABLE alignment (
            id INTEGER PRIMARY KEY,
            photo_id INTEGER NOT NULL REFERENCES photo(id) ON DELETE CASCADE,
            reference_id INTEGER NOT NULL REFERENCES photo(id) ON DELETE CASCADE,
            ok INTEGER NOT NULL,
            homography TEXT,
            quality REAL NOT NULL DEFAULT 0,
            method TEXT NOT NULL,
            inliers INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL DEFAULT '',
            manual_points TEXT,
            algorithm_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (photo_id, reference_id)
        )""",
        "CREATE INDEX alignment_reference ON alignment(reference_id)",
        """CREATE TABLE measurement (
            id INTEGER PRIMARY KEY,
            photo_id INTEGER NOT NULL REFERENCES photo(id) ON DELETE CASCADE,
            reference_id INTEGER NOT NULL REFERENCES photo(id) ON DELETE CASCADE,
            calibration TEXT NOT NULL,
            metrics TEXT NOT NULL,
            algorithm_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (photo_id, reference_id)
        )""",
        "CREATE INDEX measurement_reference ON measurement(reference_id)",
    ]
    for sql in statements:
        conn.execute(sql)


def _v3_photo_quality(conn: sqlite3.Connection) -> None:
    """Capture quality of each photo (one row per photo), computed at import."""
    conn.execute(
        """CREATE TABLE photo_quality (
            photo_id INTEGER PRIMARY KEY REFERENCES photo(id) ON DELETE CASCADE,
            reference_id INTEGER REFERENCES photo(id) ON DELETE SET NULL,
            overall TEXT NOT NULL CHECK (overall IN ('pass', 'warn', 'fail')),
            checks TEXT NOT NULL,
            thresholds TEXT NOT NULL,
            algorithm_version TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )


def _v4_inbox_and_reminders(conn: sqlite3.Connection) -> None:
    """Inbox folders, photos the user dismissed from the inbox, and per-region reminder state."""
    statements = [
        """CREATE TABLE inbox_folder (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE CHECK (length(path) > 0),
            added_at TEXT NOT NULL
        )""",
        """CREATE TABLE inbox_dismissed (
            sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
            path TEXT NOT NULL,
            dismissed_at TEXT NOT NULL
        )""",
        """CREATE TABLE reminder_state (
            region_id INTEGER PRIMARY KEY REFERENCES region(id) ON DELETE CASCADE,
            snoozed_until TEXT,
            skipped_due TEXT,
            notified_due TEXT
        )""",
    ]
    for sql in statements:
        conn.execute(sql)


def _v5_photo_date_note(conn: sqlite3.Connection) -> None:
    """Why a photo's own date (EXIF) was not used, e.g. a camera clock at 9999-12-31."""
    conn.execute("ALTER TABLE photo ADD COLUMN taken_at_note TEXT NOT NULL DEFAULT ''")


def _v6_checkins(conn: sqlite3.Connection) -> None:
    """Check-ins: the photos taken together on one occasion (a close-up and an overview, or repeat
    shots), and the repeat noise measured between a check-in's shots. Every existing photo becomes
    a check-in of its own, dated like the photo."""
    statements = [
        """CREATE TABLE checkin (
            id INTEGER PRIMARY KEY,
            region_id INTEGER NOT NULL REFERENCES region(id),
            taken_at TEXT NOT NULL,
            taken_at_sort REAL NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX checkin_region_taken ON checkin(region_id, taken_at_sort)",
        "ALTER TABLE photo ADD COLUMN checkin_id INTEGER REFERENCES checkin(id) ON DELETE SET NULL",
        "CREATE INDEX photo_checkin ON photo(checkin_id)",
        """INSERT INTO checkin (id, region_id, taken_at, taken_at_sort, note, created_at)
           SELECT id, region_id, taken_at, taken_at_sort, '', imported_at FROM photo""",
        "UPDATE photo SET checkin_id = id",
        """CREATE TABLE repeat_noise (
            checkin_id INTEGER PRIMARY KEY REFERENCES checkin(id) ON DELETE CASCADE,
            metrics TEXT NOT NULL,
            algorithm_version TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ]
    for sql in statements:
        conn.execute(sql)


MIGRATIONS: list[Migration] = [
    _v1_base,
    _v2_analysis,
    _v3_photo_quality,
    _v4_inbox_and_reminders,
    _v5_photo_date_note,
    _v6_checkins,
]
LATEST_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def is_new(conn: sqlite3.Connection) -> bool:
    """Version 0 and not a single table: a database nobody has set up yet."""
    if user_version(conn) != 0:
        return False
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def migrate(
    conn: sqlite3.Connection,
    db_path: Path | None = None,
    migrations: list[Migration] | None = None,
) -> int:
    """Bring the database up to the latest version; returns the version reached.

    Before upgrading a library that already holds data, a copy of the database is saved beside
    it (``skintrack.sqlite3.v<N>.bak``), so a failed or unwanted upgrade can be undone by hand.
    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    latest = len(migrations)
    current = user_version(conn)
    if current > latest:
        raise LibraryError(
            f"this library has schema version {current}, newer than this Skintrack understands "
            f"({latest}); please update Skintrack"
        )
    if current == latest:
        return current
    if current > 0 and db_path is not None:
        _backup(conn, db_path.with_name(f"{db_path.name}.v{current}.bak"))
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(conn)  # another process may have upgraded meanwhile
            if current >= latest:
                conn.execute("COMMIT")
                return current
            migrations[current](conn)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _backup(conn: sqlite3.Connection, target: Path) -> None:
    if target.exists():
        return
    dest = sqlite3.connect(target)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    with contextlib.suppress(OSError):
        os.chmod(target, 0o600)  # a copy of health data: owner-only like the database
