"""Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder.

A reader (or a process restarted after a kill) sees either the old file or the complete new
one, never a torn file. Temporary names all end with ``TEMP_SUFFIX`` so integrity checks can
recognise and remove leftovers of an interrupted write.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

TEMP_SUFFIX = ".skt-tmp"
PRIVATE_FILE_MODE = 0o600  # health photos and exports: readable by their owner only
PRIVATE_DIR_MODE = 0o700
_CHUNK = 1024 * 1024
_TEMP_OWNER_RE = re.compile(r"\.(\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX) + "$")


def is_temp_name(name: str) -> bool:
    """True for leftovers of an interrupted atomic write."""
    return name.endswith(TEMP_SUFFIX)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (this process counts; another user's counts too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def temp_owner_alive(name: str) -> bool:
    """Whether the process that created this temp file (pid in its name) is still running.

    A live owner may still be writing it, so integrity repairs leave it alone. Unknown -> False.
    """
    match = _TEMP_OWNER_RE.search(name)
    if not match or sys.platform == "win32":
        return False
    return process_alive(int(match.group(1)))


def temp_path_for(path: Path) -> Path:
    """A unique temporary name beside ``path`` (same folder, so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def remove_stale_temps(folder: Path, target_name: str | None = None) -> list[Path]:
    """Delete temp files (and temp folders) in ``folder`` whose owning process is gone.

    Returns what was removed. ``target_name`` limits the sweep to one target's temp files
    (``.NAME.PID-xxxx.skt-tmp``), so an export cleans only its own kind of leftovers. Files of
    running processes are left alone.
    """
    removed: list[Path] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return removed
    prefix = None if target_name is None else f".{target_name}."
    for name in names:
        if not is_temp_name(name) or (prefix is not None and not name.startswith(prefix)):
            continue
        if temp_owner_alive(name):
            continue
        path = folder / name
        try:
            if path.is_symlink():
                continue
            if path.is_dir():
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()
            else:
                continue
            removed.append(path)
        except OSError:
            continue
    return removed


def make_private_dir(path: Path, *, parents: bool = False) -> None:
    """Create ``path`` (owner-only, 0700) if needed; an existing folder keeps its mode."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=parents, exist_ok=True)


def open_private(path: Path) -> int:
    """Create a new file readable by its owner only (0600) and return its descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, PRIVATE_FILE_MODE)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; ``durable=False`` skips fsync (for disposable caches)."""
    path = Path(path)
    make_private_dir(path.parent, parents=True)
    tmp = temp_path_for(path)
    try:
        with open(open_private(tmp), "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, durable: bool = True) -> str:
    """Copy ``src`` to ``dst`` atomically and return the sha256 (hex) of the bytes written.

    The hash is computed from the bytes actually copied, so the caller can check it against a
    hash taken earlier and notice a file that changed in between.
    """
    src, dst = Path(src), Path(dst)
    make_private_dir(dst.parent, parents=True)
    tmp = temp_path_for(dst)
    digest = hashlib.sha256()
    try:
        with open(src, "rb") as fin, open(open_private(tmp), "wb") as fout:
            while chunk := fin.read(_CHUNK):
                digest.update(chunk)
                fout.write(chunk)
            if durable:
                fout.flush()
                os.fsync(fout.fileno())
        os.replace(tmp, dst)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if durable:
        fsync_dir(dst.parent)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in chunks (constant memory for any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # already gone or not removable: a check reports it
        path.unlink()
