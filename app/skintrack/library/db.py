"""The photo library: one SQLite database (WAL, foreign keys) plus content-addressed originals.

Thread and process safety: one connection per ``Library`` object, guarded by a lock so GUI
workers may share it; several processes may open the same library at once and are serialised by
SQLite's own locking (``BEGIN IMMEDIATE`` for every write, a busy timeout, then a clear
LibraryError instead of a hang).

Crash safety of an import: validate and hash the file, copy it into ``originals/`` durably, and
only then commit its row. A kill at any moment leaves no row without its file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from skintrack.core.dates import add_days, date_problem
from skintrack.core.fsutil import (
    make_private_dir,
    remove_stale_temps,
    sha256_file,
)
from skintrack.errors import InvalidInputError, LibraryError, UsageError
from skintrack.library import lock, schema, swap
from skintrack.library.models import (
    JOURNAL_KINDS,
    TAKEN_AT_SOURCES,
    AlignmentRecord,
    CheckReport,
    ImportOutcome,
    JournalEntry,
    MeasurementRecord,
    Photo,
    Polygon,
    Region,
    RegionSummary,
)
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
from skintrack.library.store import ContentChangedError, InvalidOriginalNameError, OriginalStore
from skintrack.library.thumbnails import ThumbnailCache
from skintrack.library.wal import check_wal, register_open, unregister_open

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
THUMB_SIZE = 320  # the size the GUI timeline asks for; made during import
_MIN_PLAUSIBLE_MTIME = datetime(1990, 1, 1).timestamp()


class _Unset:
    """Marks "argument not given" where None is a meaningful value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# ---------------------------------------------------------------- datetimes as text
def dt_to_text(value: datetime) -> str:
    """ISO 8601, with the UTC offset when the datetime is aware."""
    return value.isoformat(timespec="seconds")


def dt_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


_EPOCH = datetime(1970, 1, 1)


def stored_dt(text: str | None, fallback: datetime | None = None) -> datetime:
    """A date read from a row; an unreadable or out-of-range one (written by another program or a
    crafted backup) becomes ``fallback`` so one bad row never makes the library unreadable."""
    try:
        value = dt_from_text(str(text))
    except (TypeError, ValueError):
        value = None
    if value is None or date_problem(value) is not None:
        return fallback if fallback is not None else _EPOCH
    return value


def check_user_date(value: datetime) -> None:
    """UsageError for dates outside the range Skintrack keeps (see ``skintrack.core.dates``)."""
    problem = date_problem(value)
    if problem is not None:
        raise UsageError(f"invalid date {value.isoformat()}: {problem}")


def _opt_dt(text: str | None) -> datetime | None:
    return None if text is None else dt_from_text(text)


def sort_key(value: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as local wall-clock time.

    Dates the platform cannot convert (far outside the accepted range) sort at the ends.
    """
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return float("-inf") if value.year < 1970 else float("inf")


def now() -> datetime:
    """Current local time with its offset."""
    return datetime.now().astimezone().replace(microsecond=0)


def _as_datetime(value: date | datetime, *, end_of_day: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value
    if end_of_day:
        return datetime.combine(value, datetime.max.time()).replace(microsecond=0)
    return datetime.combine(value, datetime.min.time())


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# ---------------------------------------------------------------- row mapping
def _region(row: sqlite3.Row) -> Region:
    return Region(
        id=row["id"],
        name=row["name"],
        body_site=row["body_site"],
        notes=row["notes"],
        interval_days=row["interval_days"],
        reference_photo_id=row["reference_photo_id"],
        watched_area=_load_json(row["watched_area"]),
        control_area=_load_json(row["control_area"]),
        archived=bool(row["archived"]),
        created_at=dt_from_text(row["created_at"]),
    )


def photo_from_row(row: sqlite3.Row) -> Photo:
    return Photo(
        id=row["id"],
        region_id=row["region_id"],
        sha256=row["sha256"],
        original_name=row["original_name"],
        suffix=row["suffix"],
        size_bytes=row["size_bytes"],
        width=row["width"],
        height=row["height"],
        taken_at=stored_dt(row["taken_at"], stored_dt(row["imported_at"])),
        taken_at_source=row["taken_at_source"],
        imported_at=stored_dt(row["imported_at"]),
        notes=row["notes"],
        deleted_at=_opt_dt(row["deleted_at"]),
        taken_at_note=row["taken_at_note"],
    )


def _journal(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        id=row["id"],
        at=stored_dt(row["at"]),
        kind=row["kind"],
        substance=row["substance"],
        amount=row["amount"],
        unit=row["unit"],
        notes=row["notes"],
    )


def _alignment(row: sqlite3.Row) -> AlignmentRecord:
    return AlignmentRecord(
        photo_id=row["photo_id"],
        reference_id=row["reference_id"],
        ok=bool(row["ok"]),
        homography=_load_json(row["homography"]),
        quality=row["quality"],
        method=row["method"],
        inliers=row["inliers"],
        message=row["message"],
        manual_points=_load_json(row["manual_points"]),
        algorithm_version=row["algorithm_version"],
        created_at=dt_from_text(row["created_at"]),
    )


def _measurement(row: sqlite3.Row) -> MeasurementRecord:
    return MeasurementRecord(
        photo_id=row["photo_id"],
        reference_id=row["reference_id"],
        calibration=row["calibration"],
        metrics=json.loads(row["metrics"]),
        algorithm_version=row["algorithm_version"],
        created_at=dt_from_text(row["created_at"]),
    )


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Library:
    """An open library folder. Use ``Library.open(root)``, ideally as a context manager."""

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
            if _is_lock_error(exc):
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
            if _is_lock_error(exc):
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

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise LibraryError("the library is closed")
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                if _is_lock_error(exc):
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
                if _is_lock_error(exc):
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

    def _locked_error(self) -> LibraryError:
        return LibraryError(
            f"the library {self.root} stayed locked by another process for more than "
            f"{self.timeout:g} s; close the other Skintrack window or command and try again"
        )

    # ------------------------------------------------------------ regions
    def add_region(
        self, name: str, body_site: str = "", interval_days: int | None = None, notes: str = ""
    ) -> Region:
        name = _clean_name(name)
        _check_interval(interval_days)
        try:
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO region (name, body_site, notes, interval_days, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, body_site, notes, interval_days, dt_to_text(now())),
                )
                region_id = cur.lastrowid
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"a region named {name!r} already exists") from exc
        assert region_id is not None
        return self.region(region_id)

    def region(self, region_id: int) -> Region:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM region WHERE id = ?", (region_id,)).fetchone()
        if row is None:
            raise UsageError(f"no region with id {region_id}")
        return _region(row)

    def region_by_name(self, name: str) -> Region:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM region WHERE name = ?", (" ".join(name.split()),)).fetchone()
        if row is None:
            raise UsageError(f"no region named {name!r} (see `skintrack region list --all`)")
        return _region(row)

    def list_regions(self, include_archived: bool = False) -> list[RegionSummary]:
        """Regions by name with photo count, last check-in and the overdue flag."""
        sql = """
            SELECT r.*, s.photo_count, s.max_sort,
                   (SELECT p.id FROM photo p WHERE p.region_id = r.id AND p.deleted_at IS NULL
                    ORDER BY p.taken_at_sort DESC, p.id DESC LIMIT 1) AS latest_id
            FROM region r
            LEFT JOIN (SELECT region_id, COUNT(*) AS photo_count, MAX(taken_at_sort) AS max_sort
                       FROM photo WHERE deleted_at IS NULL GROUP BY region_id) s ON s.region_id = r.id
        """
        if not include_archived:
            sql += " WHERE r.archived = 0"
        sql += " ORDER BY r.archived, r.name COLLATE NOCASE"
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
            latest = {}
            ids = [row["latest_id"] for row in rows if row["latest_id"] is not None]
            if ids:
                marks = ",".join("?" * len(ids))
                for prow in conn.execute(f"SELECT id, taken_at FROM photo WHERE id IN ({marks})", ids):
                    latest[prow["id"]] = stored_dt(prow["taken_at"])
        today = date.today()
        summaries = []
        for row in rows:
            region = _region(row)
            last = latest.get(row["latest_id"])
            next_due = None
            overdue = False
            if region.interval_days and last is not None:
                next_due = add_days(last.date(), region.interval_days)
                overdue = next_due is not None and today > next_due and not region.archived
            summaries.append(
                RegionSummary(
                    region=region,
                    photo_count=row["photo_count"] or 0,
                    last_taken_at=last,
                    latest_photo_id=row["latest_id"],
                    overdue=overdue,
                    next_due=next_due,
                )
            )
        return summaries

    def update_region(
        self,
        region_id: int,
        *,
        name: str = UNSET,
        body_site: str = UNSET,
        notes: str = UNSET,
        interval_days: int | None = UNSET,
    ) -> Region:
        fields: dict[str, Any] = {}
        if name is not UNSET:
            fields["name"] = _clean_name(name)
        if body_site is not UNSET:
            fields["body_site"] = body_site
        if notes is not UNSET:
            fields["notes"] = notes
        if interval_days is not UNSET:
            _check_interval(interval_days)
            fields["interval_days"] = interval_days
        try:
            self._update("region", region_id, fields)
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"a region named {fields.get('name')!r} already exists") from exc
        return self.region(region_id)

    def archive_region(self, region_id: int, archived: bool = True) -> Region:
        self._update("region", region_id, {"archived": int(archived)})
        return self.region(region_id)

    def set_reference(self, region_id: int, photo_id: int | None) -> Region:
        """Choose the photo every other photo of the region is aligned and compared to."""
        if photo_id is not None:
            photo = self.photo(photo_id)
            if photo.region_id != region_id:
                raise UsageError(f"photo {photo_id} does not belong to region {region_id}")
            if photo.in_trash:
                raise UsageError(f"photo {photo_id} is in the trash")
        self._update("region", region_id, {"reference_photo_id": photo_id})
        return self.region(region_id)

    def set_areas(
        self,
        region_id: int,
        watched: list[Polygon] | None = UNSET,
        control: list[Polygon] | None = UNSET,
    ) -> Region:
        """Store the watched area and/or the control patch (polygons in reference pixels)."""
        fields: dict[str, Any] = {}
        if watched is not UNSET:
            fields["watched_area"] = _json_or_none(_check_polygons(watched))
        if control is not UNSET:
            fields["control_area"] = _json_or_none(_check_polygons(control))
        self._update("region", region_id, fields)
        return self.region(region_id)

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

    # ------------------------------------------------------------ photos
    def import_file(
        self,
        region_id: int,
        path: str | os.PathLike[str],
        *,
        taken_at: datetime | None = None,
        notes: str = "",
        thumbnail: bool = True,
        prepared: PreparedImport | None = None,
    ) -> ImportOutcome:
        """Copy one photo into the region; all or nothing.

        Raises InvalidInputError (naming the file and the reason) for files that are missing,
        unreadable or not a supported image; nothing changes then. Same bytes already in the
        region -> ``ImportOutcome(existing, duplicate=True)`` and nothing is written.
        ``prepared`` is the result of ``prepare_import(path)`` when the caller already ran it
        (e.g. on another thread, overlapping with the previous file's copy).
        """
        region = self.region(region_id)
        if prepared is None:
            prepared = prepare_import(path)
        path, suffix, stat, meta, preview, sha = (
            prepared.path,
            prepared.suffix,
            prepared.stat,
            prepared.meta,
            prepared.preview,
            prepared.sha256,
        )

        existing = self._photo_by_sha(region.id, sha)
        if existing is not None:
            repaired = self._put_original(path, sha, suffix, stat.st_size)
            return ImportOutcome(existing, duplicate=True, repaired=repaired)

        when, source, date_note = _resolve_taken_at(
            taken_at, meta.taken_at, stat.st_mtime, getattr(meta, "taken_at_problem", None)
        )
        had_file = self._store.path_for(sha, suffix).exists()
        repaired = self._put_original(path, sha, suffix, stat.st_size)
        try:
            with self._write() as conn:
                # Re-check under the write lock: emptying the trash may have removed a shared file.
                dest = self._store.ensure_present(path, sha, suffix)
                if not dest.exists():  # pragma: no cover - ensure_present() guarantees it
                    raise LibraryError("an original vanished during import")
                cur = conn.execute(
                    """INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width,
                           height, taken_at, taken_at_sort, taken_at_source, imported_at, notes,
                           taken_at_note)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        region.id,
                        sha,
                        display_name(path),
                        suffix,
                        stat.st_size,
                        int(meta.width),
                        int(meta.height),
                        dt_to_text(when),
                        sort_key(when),
                        source,
                        dt_to_text(now()),
                        notes,
                        date_note or "",
                    ),
                )
                photo_id = cur.lastrowid
        except sqlite3.IntegrityError:  # another process imported the same bytes meanwhile
            existing = self._photo_by_sha(region.id, sha)
            if existing is None:
                raise
            return ImportOutcome(existing, duplicate=True)
        except ContentChangedError as exc:
            raise InvalidInputError(path, "the file changed while it was being imported") from exc
        except OSError as exc:
            raise InvalidInputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
        except sqlite3.OperationalError as exc:
            if not had_file:
                self._forget_unreferenced(sha, suffix)
            if _is_lock_error(exc):
                raise self._locked_error() from exc
            raise LibraryError(f"cannot save the photo in the library database: {exc}") from exc
        assert photo_id is not None
        photo = self.photo(photo_id)
        if thumbnail:
            try:
                self._thumbs.store(sha, THUMB_SIZE, preview)
            except OSError as exc:  # a thumbnail is a cache; the import stands
                log.warning("cannot cache the thumbnail of photo %s: %s", photo_id, exc.strerror)
        return ImportOutcome(photo, duplicate=False, repaired=repaired)

    def _put_original(self, path: Path, sha: str, suffix: str, size: int) -> bool:
        """Copy (or repair) the original; True when a damaged stored copy was replaced."""
        try:
            _dest, repaired = self._store.put(path, sha, suffix, size)
        except ContentChangedError as exc:
            raise InvalidInputError(path, "the file changed while it was being imported") from exc
        except FileNotFoundError as exc:
            raise InvalidInputError(path, "the file disappeared while it was being imported") from exc
        except OSError as exc:
            if exc.filename is not None and Path(exc.filename) == path:
                raise InvalidInputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
            raise LibraryError(f"cannot copy a photo into the library: {exc.strerror or exc}") from exc
        if repaired:
            log.warning("replaced a damaged original (%s...) with a verified copy", sha[:12])
        return repaired

    def _forget_unreferenced(self, sha: str, suffix: str) -> None:
        """After a failed commit, remove the file this import added unless a row uses it."""
        try:
            with self._read() as conn:
                used = conn.execute(
                    "SELECT 1 FROM photo WHERE sha256 = ? AND suffix = ? LIMIT 1", (sha, suffix)
                ).fetchone()
            if not used:
                self._store.remove(self._store.path_for(sha, suffix))
        except (sqlite3.Error, OSError, LibraryError):
            pass  # left as an orphan: `check --repair` moves it to lost+found, nothing is lost

    def _photo_by_sha(self, region_id: int, sha: str) -> Photo | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM photo WHERE region_id = ? AND sha256 = ?", (region_id, sha)
            ).fetchone()
        return None if row is None else photo_from_row(row)

    def photo(self, photo_id: int) -> Photo:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM photo WHERE id = ?", (photo_id,)).fetchone()
        if row is None:
            raise UsageError(f"no photo with id {photo_id}")
        return photo_from_row(row)

    def list_photos(
        self, region_id: int, include_deleted: bool = False, *, trash_only: bool = False
    ) -> list[Photo]:
        """The region's photos, oldest first; trashed ones only when asked."""
        sql = "SELECT * FROM photo WHERE region_id = ?"
        if trash_only:
            sql += " AND deleted_at IS NOT NULL"
        elif not include_deleted:
            sql += " AND deleted_at IS NULL"
        sql += " ORDER BY taken_at_sort, id"
        with self._read() as conn:
            rows = conn.execute(sql, (region_id,)).fetchall()
        return [photo_from_row(row) for row in rows]

    def list_trash(self) -> list[Photo]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM photo WHERE deleted_at IS NOT NULL ORDER BY deleted_at, id"
            ).fetchall()
        return [photo_from_row(row) for row in rows]

    def update_photo(
        self,
        photo_id: int,
        *,
        taken_at: datetime = UNSET,
        notes: str = UNSET,
        taken_at_source: str = "user",
    ) -> Photo:
        """Edit notes or the date taken (a new date is recorded as given by the user)."""
        fields: dict[str, Any] = {}
        if taken_at is not UNSET:
            check_user_date(taken_at)
            if taken_at_source not in TAKEN_AT_SOURCES:
                raise UsageError(f"unknown date source {taken_at_source!r}")
            fields.update(
                taken_at=dt_to_text(taken_at),
                taken_at_sort=sort_key(taken_at),
                taken_at_source=taken_at_source,
                taken_at_note="",
            )
        if notes is not UNSET:
            fields["notes"] = notes
        self._update("photo", photo_id, fields)
        return self.photo(photo_id)

    def trash_photo(self, photo_id: int) -> Photo:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE photo SET deleted_at = COALESCE(deleted_at, ?) WHERE id = ?",
                (dt_to_text(now()), photo_id),
            )
            if cur.rowcount == 0:
                raise UsageError(f"no photo with id {photo_id}")
        return self.photo(photo_id)

    def restore_photo(self, photo_id: int) -> Photo:
        self._update("photo", photo_id, {"deleted_at": None})
        return self.photo(photo_id)

    def empty_trash(self) -> list[Photo]:
        """Delete trashed photos for good: rows first, then originals nobody else references.

        A crash between the two steps leaves orphan files (reported and removed by ``check``),
        never a row without its file.
        """
        with self._write() as conn:
            rows = conn.execute("SELECT * FROM photo WHERE deleted_at IS NOT NULL").fetchall()
            removed = [photo_from_row(row) for row in rows]
            for photo in removed:  # every file to delete must lie inside originals/, or nothing goes
                try:
                    self.original_path(photo)
                except InvalidOriginalNameError as exc:
                    raise LibraryError(
                        f"photo {photo.id} in the trash has an invalid file name in the database "
                        f"({exc}); nothing was deleted. Run `skintrack check`"
                    ) from exc
            conn.execute("DELETE FROM photo WHERE deleted_at IS NOT NULL")
        for photo in removed:
            with self._write() as conn:  # holding the write lock: no import can reuse the file now
                still_used = conn.execute(
                    "SELECT 1 FROM photo WHERE sha256 = ? AND suffix = ? LIMIT 1",
                    (photo.sha256, photo.suffix),
                ).fetchone()
                if not still_used:
                    self._store.remove(self.original_path(photo))
            if not still_used:
                self._thumbs.remove_for(photo.sha256)
        return removed

    def original_path(self, photo: Photo) -> Path:
        return self._store.path_for(photo.sha256, photo.suffix)

    def thumbnail_path(self, photo: Photo, size: int = 320) -> Path:
        """Path of a cached JPEG thumbnail, generated first when missing (may take ~50 ms)."""
        return self._thumbs.ensure(self.original_path(photo), photo.sha256, size)

    # ------------------------------------------------------------ analysis rows
    def save_alignment(self, rec: AlignmentRecord) -> bool:
        """Store an alignment; False (and nothing stored) when it would replace a manual one."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT method FROM alignment WHERE photo_id = ? AND reference_id = ?",
                (rec.photo_id, rec.reference_id),
            ).fetchone()
            if row is not None and row["method"] == "manual" and rec.method != "manual":
                return False
            conn.execute(
                """INSERT INTO alignment (photo_id, reference_id, ok, homography, quality, method, inliers,
                       message, manual_points, algorithm_version, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (photo_id, reference_id) DO UPDATE SET ok = excluded.ok,
                       homography = excluded.homography, quality = excluded.quality,
                       method = excluded.method, inliers = excluded.inliers, message = excluded.message,
                       manual_points = excluded.manual_points,
                       algorithm_version = excluded.algorithm_version, created_at = excluded.created_at""",
                (
                    rec.photo_id,
                    rec.reference_id,
                    int(bool(rec.ok)),
                    _json_or_none(_plain_matrix(rec.homography)),
                    float(rec.quality),
                    rec.method,
                    int(rec.inliers),
                    rec.message,
                    _json_or_none(_plain(rec.manual_points)),
                    rec.algorithm_version,
                    dt_to_text(rec.created_at or now()),
                ),
            )
        return True

    def alignment(self, photo_id: int, reference_id: int) -> AlignmentRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM alignment WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            ).fetchone()
        return None if row is None else _alignment(row)

    def delete_alignment(self, photo_id: int, reference_id: int) -> None:
        """Forget an alignment (also a manual one), e.g. when the user resets it."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM alignment WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            )

    def save_measurement(self, rec: MeasurementRecord) -> None:
        with self._write() as conn:
            conn.execute(
                """INSERT INTO measurement (photo_id, reference_id, calibration, metrics, algorithm_version,
                       created_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (photo_id, reference_id) DO UPDATE SET calibration = excluded.calibration,
                       metrics = excluded.metrics, algorithm_version = excluded.algorithm_version,
                       created_at = excluded.created_at""",
                (
                    rec.photo_id,
                    rec.reference_id,
                    rec.calibration,
                    json.dumps(_plain(rec.metrics)),
                    rec.algorithm_version,
                    dt_to_text(rec.created_at or now()),
                ),
            )

    def measurement(self, photo_id: int, reference_id: int) -> MeasurementRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM measurement WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            ).fetchone()
        return None if row is None else _measurement(row)

    def measurements_for_region(self, region_id: int) -> list[MeasurementRecord]:
        """Every stored measurement of the region's photos (not trashed), oldest photo first."""
        with self._read() as conn:
            rows = conn.execute(
                """SELECT m.* FROM measurement m JOIN photo p ON p.id = m.photo_id
                   WHERE p.region_id = ? AND p.deleted_at IS NULL
                   ORDER BY p.taken_at_sort, p.id, m.reference_id""",
                (region_id,),
            ).fetchall()
        return [_measurement(row) for row in rows]

    # ------------------------------------------------------------ journal
    def add_journal(
        self,
        at: datetime | date,
        kind: str,
        substance: str = "",
        amount: float | None = None,
        unit: str = "",
        notes: str = "",
    ) -> JournalEntry:
        at_dt = _as_datetime(at)
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
        return _journal(row)

    def list_journal(
        self, start: date | datetime | None = None, end: date | datetime | None = None
    ) -> list[JournalEntry]:
        """Entries oldest first; ``start``/``end`` are inclusive (a date covers its whole day)."""
        sql = "SELECT * FROM journal WHERE 1 = 1"
        params: list[Any] = []
        if start is not None:
            sql += " AND at_sort >= ?"
            params.append(sort_key(_as_datetime(start)))
        if end is not None:
            sql += " AND at_sort <= ?"
            params.append(sort_key(_as_datetime(end, end_of_day=True)))
        sql += " ORDER BY at_sort, id"
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_journal(row) for row in rows]

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
            at_dt = _as_datetime(at)
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

    # ------------------------------------------------------------ settings
    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_setting(self, key: str, value: Any) -> None:
        text = json.dumps(_plain(value))
        with self._write() as conn:
            conn.execute(
                "INSERT INTO setting (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text),
            )

    # ------------------------------------------------------------ integrity
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


# ---------------------------------------------------------------- import preparation
@dataclass(frozen=True)
class PreparedImport:
    """Everything learned from a file before it touches the library (no database access)."""

    path: Path
    suffix: str
    stat: os.stat_result
    meta: Any  # skintrack.core.images.ImageMeta
    preview: Any  # uint8 RGB thumbnail, THUMB_SIZE
    sha256: str


def prepare_import(path: str | os.PathLike[str], *, suffix: str | None = None) -> PreparedImport:
    """Validate, decode a small preview and hash one file; raises InvalidInputError.

    Thread-safe and independent of any Library, so a check-in can prepare the next file while
    the current one is copied and committed.
    """
    from skintrack.core import images

    path = Path(path)
    suffix = path.suffix.lower() if suffix is None else suffix
    if not path.is_file():
        raise InvalidInputError(path, "no such file" if not path.exists() else "not a regular file")
    if suffix not in images.SUPPORTED_SUFFIXES:
        supported = ", ".join(images.SUPPORTED_SUFFIXES)
        raise InvalidInputError(path, f"unsupported file type {suffix or '(none)'} (supported: {supported})")
    try:
        stat = path.stat()
        meta = images.read_meta(path)
        # A small decode reads all the compressed data: truncated files fail here, not later.
        preview = images.thumbnail(path, size=THUMB_SIZE)
        sha = sha256_file(path)
    except OSError as exc:
        raise InvalidInputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    except (InvalidInputError, MemoryError):
        raise
    except Exception as exc:  # a decoder choking on a strange file must not stop a whole check-in
        raise InvalidInputError(path, f"cannot read the image ({type(exc).__name__}: {exc})") from exc
    return PreparedImport(path, suffix, stat, meta, preview, sha)


# ---------------------------------------------------------------- helpers
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


def _resolve_taken_at(
    override: datetime | None, exif: datetime | None, mtime: float | None, exif_problem: str | None = None
) -> tuple[datetime, str, str | None]:
    """User date, else EXIF DateTimeOriginal, else file time, else now; with its source and,
    when the photo's own date was unusable, the reason."""
    if override is not None:
        check_user_date(override)
        return override, "user", None
    note = exif_problem
    if exif is not None:
        problem = date_problem(exif)
        if problem is None:
            return exif, "exif", None
        note = f"EXIF date {exif.isoformat()}: {problem}"
    if mtime is not None and mtime > _MIN_PLAUSIBLE_MTIME:
        try:
            when = datetime.fromtimestamp(int(mtime)).astimezone()
        except (OverflowError, OSError, ValueError):
            when = None
        if when is not None and date_problem(when) is None:
            return when, "file", None if note is None else f"{note}; used the file time"
    return now(), "now", None if note is None else f"{note}; used the import time"


def display_name(path: Path) -> str:
    """The file name as text that can be stored and printed (undecodable bytes shown as U+FFFD)."""
    return os.fsencode(path.name).decode("utf-8", "replace")


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise UsageError("a region needs a name")
    return cleaned


def _check_interval(interval_days: int | None) -> None:
    if interval_days is not None and (not isinstance(interval_days, int) or interval_days <= 0):
        raise UsageError(f"the check-in interval must be a positive number of days, not {interval_days!r}")


def _check_kind(kind: str) -> None:
    if kind not in JOURNAL_KINDS:
        raise UsageError(f"journal kind must be one of {', '.join(JOURNAL_KINDS)}, not {kind!r}")


def _check_polygons(polygons: list[Polygon] | None) -> list[Polygon] | None:
    if polygons is None:
        return None
    cleaned = []
    for polygon in polygons:
        points = [[float(x), float(y)] for x, y in _plain(polygon)]
        if len(points) < 3:
            raise UsageError("an area polygon needs at least 3 points")
        cleaned.append(points)
    return cleaned or None


def _plain(value: Any) -> Any:
    """numpy arrays and scalars -> lists and floats, so json.dumps never chokes."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def _plain_matrix(value: Any) -> list[list[float]] | None:
    if value is None:
        return None
    return [[float(x) for x in row] for row in _plain(value)]
