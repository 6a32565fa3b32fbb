"""Restore of a backup archive into a library folder, safe against hostile archives and kills.

Order of work: finish any earlier interrupted swap; refuse a target that is not empty and not
a Skintrack library (``--force`` replaces only a library); take the library's lock exclusively;
check the archive's limits, names and every hash; unpack it privately beside the target; check
its database like input; swap it in with a journal (``skintrack.library.swap``), read the new
library back, and only then move the previous one to the trash (or keep it, ``keep_old``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from skintrack.core.fsutil import fsync_dir, sha256_file
from skintrack.errors import LibraryError, UsageError
from skintrack.export.archive import (
    CHUNK,
    DB_NAME,
    DEFAULT_LIMITS,
    ArchiveLimits,
    Contents,
    damaged,
    open_archive,
    safe_member,
    verify_backup,
)
from skintrack.library import lock
from skintrack.library.restore_check import UnusableDatabase, check_database
from skintrack.library.swap import (
    check_replaceable,
    pending_swaps,
    recover_interrupted_swap,
    staging_prefix,
    swap_in,
)
from skintrack.progress import CancelToken, Progress

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_SPARE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RestoreReport:
    library: Path
    files: int
    originals: int
    old_kept: Path | None = None  # the replaced library, when kept beside the new one
    old_trashed: bool = False
    recovered: list[str] = field(default_factory=list)  # what an earlier interrupted restore needed
    damaged: dict[str, str] = field(default_factory=dict)  # originals the backup could not include


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _check_target(archive: Path, target: Path, force: bool) -> bool:
    """Whether ``target`` holds a library to replace; UsageError when it may not be touched."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file, not a library folder")
    if not _is_nonempty_dir(target):
        return False
    if not force:
        what = "a Skintrack library" if (target / DB_NAME).exists() else "files"
        raise UsageError(
            f"{target} already contains {what}; restore into a new folder or use --force to replace it"
        )
    check_replaceable(target)
    with contextlib.suppress(OSError):
        if archive.resolve().is_relative_to(target.resolve()):
            raise UsageError(
                f"the archive {archive} is inside the library it would replace; move it out first"
            )
    return True


def _check_space(folder: Path, needed: int) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed + _SPARE_BYTES:
        raise LibraryError(
            f"restoring needs {needed / 1024**2:.0f} MB free in {folder}, only {free / 1024**2:.0f} MB "
            "are free; nothing was restored"
        )


def restore_library(
    zip_path: str | os.PathLike[str],
    library_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    keep_old: bool = False,
    token: CancelToken | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> Generator[Progress, None, RestoreReport]:
    """Verify the whole archive, then unpack it beside ``library_dir`` and swap it into place."""
    token = token or CancelToken()
    path = Path(zip_path)
    target = Path(os.path.abspath(Path(library_dir).expanduser()))
    recovered = recover_interrupted_swap(target)
    if any(swap.live and swap.kind == "journal" for swap in pending_swaps(target)):
        raise LibraryError(f"another restore into {target} is running; wait until it has finished")
    replacing = _check_target(path, target, force)
    with contextlib.ExitStack() as held:
        if replacing:
            held.enter_context(
                lock.locked(target, exclusive=True, purpose="skintrack restore", action="restore over it")
            )
        contents = yield from verify_backup(path, token, limits)
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_space(target.parent, contents.total_bytes)
        staging = target.parent / f"{staging_prefix(target)}{secrets.token_hex(4)}"
        try:
            staging.mkdir(mode=PRIVATE_DIR)
        except OSError as exc:
            raise LibraryError(f"cannot restore beside {target}: {exc.strerror or exc}") from exc
        try:
            yield from _unpack(path, staging, contents, token)
            try:
                check_database(staging / DB_NAME, contents.holds)
            except UnusableDatabase as exc:
                raise damaged(path, str(exc)) from exc
            token.raise_if_cancelled()
            held.enter_context(lock.locked(staging, exclusive=True, purpose="skintrack restore"))
            if not replacing and target.exists():
                if _is_nonempty_dir(target):
                    raise UsageError(
                        f"{target} was filled while the backup was being checked; nothing was restored"
                    )
                target.rmdir()  # an empty folder the user chose
            result = swap_in(
                staging, target, keep_old=keep_old, verify=lambda root: _read_back(root, contents, path)
            )
        except OSError as exc:  # a full disk, a folder that cannot be written
            shutil.rmtree(staging, ignore_errors=True)
            raise LibraryError(
                f"cannot restore into {target}: {exc.strerror or exc} ({exc.filename or target}); "
                "the library there is unchanged"
            ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    originals = sum(1 for n in contents.files if n.startswith("originals/"))
    total = len(contents.files)
    yield Progress(total, total, f"restored into {target}")
    return RestoreReport(
        target, total, originals, result.old_kept, result.old_trashed, recovered, dict(contents.damaged)
    )


def _unpack(
    path: Path, staging: Path, contents: Contents, token: CancelToken
) -> Generator[Progress, None, None]:
    total = len(contents.files)
    root = staging.resolve()
    with open_archive(path) as zf:
        for i, name in enumerate(sorted(contents.files), start=1):
            token.raise_if_cancelled()
            yield Progress(i - 1, total, f"restoring {i} of {total}")
            dest = (staging / safe_member(name)).resolve()
            if not dest.is_relative_to(root):
                raise damaged(path, f"unsafe file name {name!r}")
            _private_dirs(root, dest.parent)
            digest = hashlib.sha256()
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with zf.open(name) as fin, os.fdopen(fd, "wb") as fout:
                while chunk := fin.read(CHUNK):
                    digest.update(chunk)
                    fout.write(chunk)
            if digest.hexdigest() != contents.files[name][0]:  # the archive changed under us
                raise damaged(path, f"{name} changed while it was being restored")
    for folder in ("cache", "originals"):
        (staging / folder).mkdir(mode=PRIVATE_DIR, exist_ok=True)
    _make_durable(staging)


def _make_durable(staging: Path) -> None:
    """fsync every file, then every folder, of the unpacked library before it is swapped in.

    Concurrent fsyncs share the file system's journal commits: 100 photos take ~0.1 s instead
    of ~0.5 s one after the other.
    """
    files: list[Path] = []
    folders: list[Path] = []
    for folder, _dirs, names in os.walk(staging):
        folders.append(Path(folder))
        files += [Path(folder) / name for name in names]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_fsync_file, files))
        list(pool.map(fsync_dir, folders))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_dirs(root: Path, folder: Path) -> None:
    """Create ``folder`` and its missing parents below ``root``, each 0700 (mkdir's parents ignore mode)."""
    for part in reversed([folder, *folder.parents]):
        if part.is_relative_to(root) and part != root:
            part.mkdir(mode=PRIVATE_DIR, exist_ok=True)


def _read_back(root: Path, contents: Contents, archive: Path) -> None:
    """The swapped-in library: every file as in the manifest and a sound database."""
    for name, (sha, size) in contents.files.items():
        file = root / name
        try:
            ok = file.stat().st_size == size and sha256_file(file) == sha
        except OSError:
            ok = False
        if not ok:
            raise LibraryError(
                f"{file} does not read back as it was restored from {archive}; nothing changed"
            )
    try:
        conn = sqlite3.connect(f"file:{root / DB_NAME}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        result = str(exc)
    if result != "ok":
        raise LibraryError(f"the restored database does not read back ({result}); nothing changed")
