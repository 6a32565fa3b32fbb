"""Backup and restore of a whole library as one zip archive.

The database is copied with SQLite's online backup API (a consistent snapshot even while the app
is running and writing), then every original the snapshot refers to is added, and
``manifest.json`` lists the sha256 and size of every file. Restore checks the manifest, every
name (no zip-slip) and every hash BEFORE it writes anything, refuses a damaged archive with a
clear message, and never replaces an existing library unless forced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from skintrack import __version__
from skintrack.core.fsutil import fsync_dir, temp_path_for
from skintrack.errors import InvalidInputError, LibraryError, UsageError
from skintrack.progress import CancelToken, Progress

DB_NAME = "skintrack.sqlite3"
MANIFEST = "manifest.json"
FORMAT = "skintrack-backup"
FORMAT_VERSION = 1
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupReport:
    path: Path
    files: int
    originals: int
    bytes: int


@dataclass(frozen=True)
class RestoreReport:
    library: Path
    files: int
    originals: int


# --------------------------------------------------------------------------- backup


def snapshot_database(src: Path, dst: Path) -> None:
    """Consistent copy of a live SQLite database (WAL included) via the online backup API."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30.0)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file in the archive
        finally:
            target.close()
    finally:
        source.close()


def _originals(db_file: Path) -> list[tuple[str, str]]:
    """(sha256, suffix) of every photo in the snapshot, trash included (it can be restored)."""
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT DISTINCT sha256, suffix FROM photo ORDER BY sha256").fetchall()
    finally:
        conn.close()
    return [(str(sha), str(suffix)) for sha, suffix in rows]


def original_name(sha: str, suffix: str) -> str:
    return f"originals/{sha[:2]}/{sha}{suffix}"


def _add_file(zf: zipfile.ZipFile, src: Path, name: str, compress: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    info = zipfile.ZipInfo(name, date_time=datetime.fromtimestamp(src.stat().st_mtime).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    with open(src, "rb") as fin, zf.open(info, "w", force_zip64=True) as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
    return digest.hexdigest(), size


def backup_library(
    library_root: Any, out_path: str | os.PathLike[str], token: CancelToken | None = None
) -> Generator[Progress, None, BackupReport]:
    """Write the backup zip (temp name + rename); yields Progress, returns a BackupReport."""
    token = token or CancelToken()
    # a Library (main window passes one) or its folder
    root = Path(library_root) if isinstance(library_root, (str, os.PathLike)) else Path(library_root.root)
    db = root / DB_NAME
    if not db.is_file():
        raise LibraryError(f"no Skintrack library in {root} (missing {DB_NAME})")
    out = Path(out_path)
    if out.suffix.lower() != ".zip":
        raise UsageError(f"the backup file name must end in .zip, got {out.name!r}")
    if not out.parent.is_dir():
        raise UsageError(f"the folder {out.parent} does not exist")
    with contextlib.suppress(OSError):
        if out.resolve().is_relative_to(root.resolve()):
            raise UsageError("write the backup outside the library folder")
    tmp = temp_path_for(out)
    try:
        with tempfile.TemporaryDirectory(prefix="skintrack-backup-") as work:
            snap = Path(work) / DB_NAME
            yield Progress(0, 1, "snapshot of the database")
            try:
                snapshot_database(db, snap)
            except sqlite3.DatabaseError as exc:
                raise LibraryError(f"cannot read the library database {db}: {exc}") from exc
            originals = _originals(snap)
            total = len(originals) + 2
            files: dict[str, dict[str, object]] = {}
            written = 0
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                sha, size = _add_file(zf, snap, DB_NAME, zipfile.ZIP_DEFLATED)
                files[DB_NAME] = {"sha256": sha, "size": size}
                written += size
                for i, (photo_sha, suffix) in enumerate(originals, start=1):
                    token.raise_if_cancelled()
                    yield Progress(i, total, f"original {i} of {len(originals)}")
                    name = original_name(photo_sha, suffix)
                    src = root / name
                    if not src.is_file():
                        raise LibraryError(
                            f"original {src} is missing; run `skintrack check` before backing up"
                        )
                    sha, size = _add_file(zf, src, name, zipfile.ZIP_STORED)  # photos do not compress
                    if sha != photo_sha:
                        raise LibraryError(
                            f"original {src} does not match its checksum (altered on disk); "
                            "run `skintrack check` before backing up"
                        )
                    files[name] = {"sha256": sha, "size": size}
                    written += size
                manifest = {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "app_version": __version__,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "originals": len(originals),
                    "files": files,
                }
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            token.raise_if_cancelled()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(out.parent)
    yield Progress(total, total, f"backed up to {out.name}")
    return BackupReport(out, len(files), len(originals), written)


# --------------------------------------------------------------------------- verify / restore


def safe_member(name: str) -> str:
    """``name`` if it is a plain relative path inside the archive root, else ValueError (zip-slip)."""
    if not name or "\\" in name or "\x00" in name:
        raise ValueError(f"unsafe file name {name!r}")
    p = PurePosixPath(name)
    if p.is_absolute() or ":" in p.parts[0] or any(part in ("", ".", "..") for part in p.parts):
        raise ValueError(f"unsafe file name {name!r}")
    if posixpath.normpath(name) != name:
        raise ValueError(f"unsafe file name {name!r}")
    return name


def _damaged(path: Path, reason: str) -> InvalidInputError:
    return InvalidInputError(path, f"not a usable Skintrack backup: {reason}; nothing was restored")


def read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, dict[str, object]]:
    try:
        raw = zf.read(MANIFEST)
    except KeyError as exc:
        raise _damaged(path, "manifest.json is missing") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(path, f"manifest.json cannot be read ({exc})") from exc
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise _damaged(path, "manifest.json is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(path, "manifest.json is not a Skintrack backup manifest")
    if int(manifest.get("version", 0)) > FORMAT_VERSION:
        raise _damaged(path, f"made by a newer Skintrack (backup format {manifest.get('version')})")
    files = manifest.get("files")
    if not isinstance(files, dict) or DB_NAME not in files:
        raise _damaged(path, "the manifest does not list the database")
    return files


def verify_backup(
    zip_path: str | os.PathLike[str], token: CancelToken | None = None
) -> Generator[Progress, None, dict[str, dict[str, object]]]:
    """Check names and every sha256 without writing anything; raises InvalidInputError if damaged."""
    token = token or CancelToken()
    path = Path(zip_path)
    if not path.is_file():
        raise InvalidInputError(path, "no such file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(path, f"not a readable zip archive ({exc})") from exc
    with zf:
        files = read_manifest(zf, path)
        names = set(zf.namelist())
        for name in names | set(files):
            try:
                safe_member(name)
            except ValueError as exc:
                raise _damaged(path, str(exc)) from exc
        missing = sorted(set(files) - names)
        if missing:
            raise _damaged(
                path, f"{len(missing)} file(s) listed in the manifest are missing, e.g. {missing[0]}"
            )
        extra = sorted(names - set(files) - {MANIFEST})
        if extra:
            raise _damaged(path, f"{len(extra)} file(s) are not listed in the manifest, e.g. {extra[0]}")
        total = len(files)
        for i, (name, entry) in enumerate(sorted(files.items()), start=1):
            token.raise_if_cancelled()
            yield Progress(i - 1, total, f"checking {i} of {total}")
            digest = hashlib.sha256()
            size = 0
            try:
                with zf.open(name) as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise _damaged(path, f"{name} is damaged ({exc})") from exc
            if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
                raise _damaged(path, f"{name} does not match its checksum in the manifest")
            if name.startswith("originals/") and not PurePosixPath(name).stem == entry.get("sha256"):
                raise _damaged(path, f"{name} is not named after its checksum")
        yield Progress(total, total, "archive verified")
    return files


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def restore_library(
    zip_path: str | os.PathLike[str],
    library_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    token: CancelToken | None = None,
) -> Generator[Progress, None, RestoreReport]:
    """Verify the whole archive, then unpack it beside ``library_dir`` and swap it into place."""
    token = token or CancelToken()
    path = Path(zip_path)
    target = Path(library_dir).expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file, not a library folder")
    if _is_nonempty_dir(target) and not force:
        what = "a Skintrack library" if (target / DB_NAME).exists() else "files"
        raise UsageError(
            f"{target} already contains {what}; restore into a new folder or use --force to replace it"
        )
    files = yield from verify_backup(path, token)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    old: Path | None = None
    try:
        total = len(files)
        with zipfile.ZipFile(path) as zf:
            for i, name in enumerate(sorted(files), start=1):
                token.raise_if_cancelled()
                yield Progress(i - 1, total, f"restoring {i} of {total}")
                dest = (staging / safe_member(name)).resolve()
                if not dest.is_relative_to(staging.resolve()):
                    raise _damaged(path, f"unsafe file name {name!r}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with zf.open(name) as fin, open(dest, "wb") as fout:
                    while chunk := fin.read(_CHUNK):
                        digest.update(chunk)
                        fout.write(chunk)
                    fout.flush()
                    os.fsync(fout.fileno())
                if digest.hexdigest() != files[name].get("sha256"):  # the archive changed under us
                    raise _damaged(path, f"{name} changed while it was being restored")
        (staging / "cache").mkdir(exist_ok=True)
        (staging / "originals").mkdir(exist_ok=True)
        _check_database(staging / DB_NAME, path)
        token.raise_if_cancelled()
        if target.exists():
            if any(target.iterdir()):
                old = target.with_name(f".{target.name}.replaced-{os.getpid()}")
                os.replace(target, old)
            else:
                target.rmdir()
        os.replace(staging, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old, target)  # put the previous library back
            old = None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    originals = sum(1 for n in files if n.startswith("originals/"))
    yield Progress(total, total, f"restored into {target}")
    return RestoreReport(target, len(files), originals)


def _check_database(db: Path, archive: Path) -> None:
    from skintrack.library.schema import LATEST_VERSION

    try:
        conn = sqlite3.connect(db)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _damaged(archive, f"the database in it cannot be opened ({exc})") from exc
    if ok != "ok":
        raise _damaged(archive, f"the database in it is damaged ({ok})")
    if version > LATEST_VERSION:
        raise _damaged(
            archive, f"made by a newer Skintrack (database version {version}); update Skintrack first"
        )
