"""Photos: importing originals (all or nothing), dates taken, the trash and thumbnails.

Crash safety of an import: validate and hash the file, copy it into ``originals/`` durably, and
only then commit its row. A kill at any moment leaves no row without its file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skintrack.core.dates import date_problem
from skintrack.core.fsutil import sha256_file
from skintrack.errors import InvalidInputError, LibraryError, UsageError
from skintrack.library.base import LibraryCore, is_lock_error
from skintrack.library.checkins import insert_checkin, sync_checkin_date
from skintrack.library.models import TAKEN_AT_SOURCES, ImportOutcome, Photo
from skintrack.library.rows import (
    UNSET,
    check_user_date,
    dt_to_text,
    now,
    opt_dt,
    record_from_row,
    sort_key,
    stored_dt,
)
from skintrack.library.store import ContentChangedError, InvalidOriginalNameError

if TYPE_CHECKING:  # decoding modules load only when an import needs them
    import numpy as np

    from skintrack.core.images import ImageMeta

log = logging.getLogger(__name__)

THUMB_SIZE = 320  # the size the GUI timeline asks for; made during import
_MIN_PLAUSIBLE_MTIME = datetime(1990, 1, 1).timestamp()

_PHOTO_COLUMNS = {"deleted_at": opt_dt}


def photo_from_row(row: sqlite3.Row) -> Photo:
    imported_at = stored_dt(row["imported_at"])  # parsed once: it is also the fallback date
    return record_from_row(
        Photo, row, _PHOTO_COLUMNS, imported_at=imported_at, taken_at=stored_dt(row["taken_at"], imported_at)
    )


# ---------------------------------------------------------------- import preparation
@dataclass(frozen=True)
class PreparedImport:
    """Everything learned from a file before it touches the library (no database access)."""

    path: Path
    suffix: str
    stat: os.stat_result
    meta: ImageMeta
    preview: np.ndarray  # uint8 RGB thumbnail, THUMB_SIZE
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


def resolve_taken_at(
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


class PhotoRecords(LibraryCore):
    """Importing, listing, editing and trashing photos."""

    def import_file(
        self,
        region_id: int,
        path: str | os.PathLike[str],
        *,
        taken_at: datetime | None = None,
        notes: str = "",
        thumbnail: bool = True,
        prepared: PreparedImport | None = None,
        checkin_id: int | None = None,
    ) -> ImportOutcome:
        """Copy one photo into the region; all or nothing.

        Raises InvalidInputError (naming the file and the reason) for files that are missing,
        unreadable or not a supported image; nothing changes then. Same bytes already in the
        region -> ``ImportOutcome(existing, duplicate=True)`` and nothing is written.
        ``prepared`` is the result of ``prepare_import(path)`` when the caller already ran it
        (e.g. on another thread, overlapping with the previous file's copy).
        ``checkin_id`` puts the photo into that check-in of the region (dated by its earliest
        photo); without it the photo becomes a check-in of its own.
        """
        region = self.region(region_id)
        if checkin_id is not None and self.checkin(checkin_id).region_id != region.id:
            raise UsageError(f"check-in {checkin_id} does not belong to region {region.id}")
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

        when, source, date_note = resolve_taken_at(
            taken_at, meta.taken_at, stat.st_mtime, meta.taken_at_problem
        )
        had_file = self._store.path_for(sha, suffix).exists()
        repaired = self._put_original(path, sha, suffix, stat.st_size)
        try:
            with self._write() as conn:
                # Re-check under the write lock: emptying the trash may have removed a shared file.
                dest = self._store.ensure_present(path, sha, suffix)
                if not dest.exists():  # pragma: no cover - ensure_present() guarantees it
                    raise LibraryError("an original vanished during import")
                target = checkin_id if checkin_id is not None else insert_checkin(conn, region.id, when)
                cur = conn.execute(
                    """INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width,
                           height, taken_at, taken_at_sort, taken_at_source, imported_at, notes,
                           taken_at_note, checkin_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                        target,
                    ),
                )
                photo_id = cur.lastrowid
                sync_checkin_date(conn, target)
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
            if is_lock_error(exc):
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
        photo = self.photo(photo_id)
        if taken_at is not UNSET and photo.checkin_id is not None:
            with self._write() as conn:
                sync_checkin_date(conn, photo.checkin_id)
        return photo

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
            conn.execute(
                "DELETE FROM checkin WHERE id NOT IN"
                " (SELECT checkin_id FROM photo WHERE checkin_id IS NOT NULL)"
            )
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

    def original_paths(self, photos: Iterable[Photo]) -> list[Path]:
        """``original_path`` of many photos at once (a check of the whole library)."""
        return list(self._store.paths_for((p.sha256, p.suffix) for p in photos))

    def thumbnail_path(self, photo: Photo, size: int = 320) -> Path:
        """Path of a cached JPEG thumbnail, generated first when missing (may take ~50 ms)."""
        return self._thumbs.ensure(self.original_path(photo), photo.sha256, size)
