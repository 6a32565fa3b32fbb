"""Backup of a whole library as one zip archive (restore: ``skintrack.export.restore``).

The database is copied with ``VACUUM INTO`` (a consistent, compact snapshot even while the app is
writing; freed pages holding deleted data are left behind) into a private temp file beside the
archive, checked like a restored database would be (integrity, schema, rows), and only then
packed with every original it refers to. Before the archive is renamed into place every member
is read back and hashed. Nothing is written world-readable: the archive and its members are
0600. Health data never goes to the shared temp folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
import time
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from skintrack import __version__
from skintrack.core.fsutil import TEMP_SUFFIX, fsync_dir, sha256_file, temp_owner_alive, temp_path_for
from skintrack.errors import InvalidInputError, LibraryError, UsageError
from skintrack.export.archive import (
    CHUNK,
    DB_NAME,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    safe_member,
    verify_backup,
)
from skintrack.export.restore import RestoreReport, restore_library
from skintrack.library import lock
from skintrack.library.restore_check import UnusableDatabase, check_database, original_member, originals_of
from skintrack.library.swap import fault_point
from skintrack.progress import CancelToken, Progress

__all__ = [
    "DB_NAME",
    "MANIFEST",
    "BackupReport",
    "RestoreReport",
    "backup_library",
    "restore_library",
    "safe_member",
    "snapshot_database",
    "verify_backup",
]

PRIVATE_FILE = 0o600
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    originals: int
    bytes: int
    damaged: dict[str, str] = field(default_factory=dict)  # original left out -> why


class _HasRoot(Protocol):
    """Anything with a ``root`` folder (a ``Library``)."""

    @property
    def root(self) -> Path: ...


def snapshot_database(src: Path, dst: Path) -> None:
    """Consistent, self-contained copy of a live database (WAL included) at ``dst`` (mode 0600)."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)  # VACUUM INTO fills it
    os.close(fd)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30.0)
    try:
        source.execute("VACUUM INTO ?", (str(dst),))
    finally:
        source.close()


def remove_stale_temps(folder: Path, name: str) -> list[Path]:
    """Delete leftovers of earlier, killed backups to ``folder/name`` whose process is gone."""
    removed = []
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if not entry.name.startswith(prefix) or TEMP_SUFFIX not in entry.name:
                continue
            base = entry.name
            for side in _SQLITE_SIDE_FILES:
                base = base.removesuffix(side)
            if base.endswith(TEMP_SUFFIX) and not temp_owner_alive(base) and entry.is_file():
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def remove_legacy_snapshots(min_age_s: float = 3600.0) -> list[Path]:
    """Delete database snapshots that earlier versions left in the shared temp folder when killed.

    Only folders of this user, holding nothing but a snapshot, untouched for ``min_age_s``.
    """
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for folder in Path(tempfile.gettempdir()).glob("skintrack-backup-*"):
            with contextlib.suppress(OSError):
                info = folder.lstat()
                if not stat.S_ISDIR(info.st_mode) or now - info.st_mtime < min_age_s:
                    continue
                if hasattr(os, "getuid") and info.st_uid != os.getuid():
                    continue
                if set(os.listdir(folder)) <= {DB_NAME, f"{DB_NAME}-journal"}:
                    shutil.rmtree(folder)
                    removed.append(folder)
    return removed


def _root_of(library_root: str | os.PathLike[str] | _HasRoot) -> Path:
    if isinstance(library_root, (str, os.PathLike)):
        return Path(library_root)
    return Path(library_root.root)


def _check_target(root: Path, out: Path, force: bool) -> None:
    if out.suffix.lower() != ".zip":
        raise UsageError(f"the backup file name must end in .zip, got {out.name!r}")
    if not out.parent.is_dir():
        raise UsageError(f"the folder {out.parent} does not exist")
    with contextlib.suppress(OSError):
        if out.resolve().is_relative_to(root.resolve()):
            raise UsageError("write the backup outside the library folder")
    if out.is_dir():
        raise UsageError(f"{out} is a folder")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists; choose another name, or replace it (--force)")


def _damaged_originals(
    root: Path, originals: list[tuple[str, str]], token: CancelToken
) -> Generator[Progress, None, dict[str, str]]:
    """Originals that are missing or no longer match their checksum, name -> reason."""
    bad: dict[str, str] = {}
    for i, (sha, suffix) in enumerate(originals, start=1):
        token.raise_if_cancelled()
        yield Progress(i, len(originals) * 2 + 2, f"checking original {i} of {len(originals)}")
        name = original_member(sha, suffix)
        src = root / name
        if not src.is_file():
            bad[name] = "missing"
        elif sha256_file(src) != sha:
            bad[name] = "altered (does not match its checksum)"
    return bad


def _refuse_damaged(root: Path, bad: dict[str, str]) -> LibraryError:
    listed = "\n".join(f"  {root / name}: {why}" for name, why in sorted(bad.items())[:20])
    more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
    return LibraryError(
        f"{len(bad)} original(s) are damaged, so no backup was written:\n{listed}{more}\n"
        "Run `skintrack check`, or use --allow-damaged to back up everything else."
    )


def _add_file(zf: zipfile.ZipFile, src: Path, name: str, compress: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    info = zipfile.ZipInfo(name, date_time=datetime.fromtimestamp(src.stat().st_mtime).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = (stat.S_IFREG | PRIVATE_FILE) << 16
    with open(src, "rb") as fin, zf.open(info, "w", force_zip64=True) as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
    return digest.hexdigest(), size


def backup_library(
    library_root: str | os.PathLike[str] | _HasRoot,
    out_path: str | os.PathLike[str],
    token: CancelToken | None = None,
    *,
    force: bool = False,
    allow_damaged: bool = False,
) -> Generator[Progress, None, BackupReport]:
    """Write the backup zip (temp name + rename); yields Progress, returns a BackupReport.

    Refuses an existing ``out_path`` unless ``force``; refuses a library with missing or altered
    originals unless ``allow_damaged``, which leaves them out and lists them in the manifest and
    the report.
    """
    token = token or CancelToken()
    root = _root_of(library_root)
    db = root / DB_NAME
    if not db.is_file():
        raise LibraryError(f"no Skintrack library in {root} (missing {DB_NAME})")
    out = Path(out_path)
    _check_target(root, out, force)
    with lock.locked(root, purpose="skintrack backup", action="back up the library"):
        remove_stale_temps(out.parent, out.name)
        remove_legacy_snapshots()
        snap = temp_path_for(out.with_name(f"{out.name}.{DB_NAME}"))
        tmp = temp_path_for(out)
        try:
            report = yield from _write(root, db, snap, tmp, token, allow_damaged)
            os.replace(tmp, out)
        except OSError as exc:  # a full disk, a folder that cannot be written
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise LibraryError(
                f"backup to {out} failed: {exc.strerror or exc} ({exc.filename or out}); nothing was written"
            ) from exc
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        finally:
            for path in (snap, *(snap.with_name(snap.name + s) for s in _SQLITE_SIDE_FILES)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    fsync_dir(out.parent)
    yield Progress(1, 1, f"backed up to {out.name}")
    return BackupReport(out, report.files, report.originals, report.bytes, report.damaged)


def _write(
    root: Path, db: Path, snap: Path, tmp: Path, token: CancelToken, allow_damaged: bool
) -> Generator[Progress, None, BackupReport]:
    yield Progress(0, 1, "snapshot of the database")
    try:
        snapshot_database(db, snap)
        check_database(snap, lambda _name, _sha: True)
    except sqlite3.DatabaseError as exc:
        raise LibraryError(
            f"cannot read the library database {db} ({exc}); no backup was written. Run `skintrack check`."
        ) from exc
    except UnusableDatabase as exc:
        reason = str(exc).replace("the database in it", "the library database")
        hint = "Run `skintrack check`."
        if "photo row" in reason and "taken_at" in reason:
            hint = "Correct those dates with `skintrack photo edit ID --date YYYY-MM-DD`, then back up again."
        raise LibraryError(
            f"{db}: {reason}; no backup was written (a restore would refuse it). {hint}"
        ) from exc
    originals = originals_of(snap)
    bad = yield from _damaged_originals(root, originals, token)
    if bad and not allow_damaged:
        raise _refuse_damaged(root, bad)
    total = len(originals) * 2 + 2
    files: dict[str, dict[str, object]] = {}
    written = 0
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w+b") as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
        sha, size = _add_file(zf, snap, DB_NAME, zipfile.ZIP_DEFLATED)
        files[DB_NAME] = {"sha256": sha, "size": size}
        written += size
        kept = [(s, x) for s, x in originals if original_member(s, x) not in bad]
        for i, (photo_sha, suffix) in enumerate(kept, start=1):
            token.raise_if_cancelled()
            yield Progress(len(originals) + i, total, f"original {i} of {len(kept)}")
            name = original_member(photo_sha, suffix)
            sha, size = _add_file(zf, root / name, name, zipfile.ZIP_STORED)  # photos do not compress
            if sha != photo_sha:
                raise LibraryError(f"original {root / name} changed during the backup; no backup was written")
            files[name] = {"sha256": sha, "size": size}
            written += size
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "app_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "originals": len(kept),
            "files": files,
            "damaged": bad,
        }
        info = zipfile.ZipInfo(MANIFEST, date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (stat.S_IFREG | PRIVATE_FILE) << 16
        zf.writestr(info, json.dumps(manifest, indent=1, sort_keys=True))
        zf.close()
        raw.flush()
        os.fsync(raw.fileno())
    fault_point("backup-written")
    token.raise_if_cancelled()
    yield Progress(total - 1, total, "reading the archive back")
    try:
        yield from verify_backup(tmp, token)
    except InvalidInputError as exc:
        reason = exc.reason.removesuffix("; nothing was restored")
        raise LibraryError(f"the new backup does not read back ({reason}); no backup was written") from exc
    return BackupReport(tmp, len(files), len(kept), written, bad)
