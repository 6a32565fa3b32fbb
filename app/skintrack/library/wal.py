"""Refuse a write-ahead log that does not belong to the library's database, before SQLite sees it.

SQLite replays any well-formed ``-wal`` file it finds beside a database on open, and checkpoints
it into the database on close: a log copied in from another library (or left from another copy
of this one) silently mixes foreign pages into the photos' records, for good. Before opening, the
log's header is compared with the database: magic and format, page size, and (when a shared-memory
index exists) the salts the index recorded. A log that passes those is replayed on a private copy
first; the copy must pass SQLite's integrity check and keep the database's identity.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import sys
import threading
from pathlib import Path

from skintrack.core.fsutil import make_private_dir, temp_path_for
from skintrack.errors import LibraryError

_WAL_MAGIC = (0x377F0682, 0x377F0683)
_WAL_VERSION = 3007000
_WAL_HEADER = 32
_SHM_SALT_OFFSET = 32  # aSalt in the wal-index header (the log header's bytes, copied as they are)
_SHM_DMS_BYTE = 128  # unix VFS: (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK
_FLOCK = "hhqqi4x"  # Linux struct flock: type, whence, start, len, pid


class ForeignWalError(LibraryError):
    """A -wal file beside the database does not belong to it."""


def _refuse(db_path: Path, wal: Path, why: str) -> ForeignWalError:
    shm = wal.with_name(db_path.name + "-shm")
    return ForeignWalError(
        f"the library database {db_path} has a write-ahead log {wal.name} that does not belong to it "
        f"({why}). Skintrack did not open the library, so nothing was changed. If you copied or "
        f"restored files by hand, move {wal.name} and {shm.name} out of {db_path.parent} (keep "
        "them until the library checks out) and run `skintrack check`; otherwise restore a backup"
    )


def _db_page_size(db_path: Path) -> int | None:
    with open(db_path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None  # not a database: SQLite's own open reports it
    size = struct.unpack(">H", header[16:18])[0]
    return 65536 if size == 1 else size


def _wal_header(wal: Path) -> tuple[int, int, int, bytes] | None:
    """(magic, version, page size, salts) of the log, or None for an empty log."""
    with open(wal, "rb") as fh:
        header = fh.read(_WAL_HEADER)
    if not header:
        return None
    if len(header) < _WAL_HEADER:
        return (0, 0, 0, b"")
    magic, version, page_size = struct.unpack(">III", header[:12])
    return magic, version, page_size, header[16:24]


def _shm_salts(shm: Path) -> bytes | None:
    """The salts the index recorded, or None when it holds no frames (or no valid header).

    An index with no frames may be mid-restart (SQLite updates it before the log's header), so
    only an index that claims frames can contradict the log.
    """
    try:
        with open(shm, "rb") as fh:
            header = fh.read(48)
    except OSError:
        return None
    if len(header) < 48 or header[12] == 0:  # isInit unset: SQLite rebuilds the index anyway
        return None
    if struct.unpack("=I", header[16:20])[0] == 0:  # mxFrame
        return None
    return header[_SHM_SALT_OFFSET : _SHM_SALT_OFFSET + 8]


def _salts_as_shm_stores(wal_salts: bytes) -> tuple[bytes, bytes]:
    """The log's big-endian salts as the index may hold them (native order: either way round)."""
    return wal_salts, wal_salts[:4][::-1] + wal_salts[4:][::-1]


def _trial_replay(db_path: Path, wal: Path) -> str | None:
    """Replay the log on a private copy; the reason it must not be applied, or None."""
    folder = temp_path_for(db_path.parent / "wal-check")
    make_private_dir(folder)
    try:
        bare = folder / "checkpointed" / db_path.name
        make_private_dir(bare.parent)
        shutil.copyfile(db_path, bare)
        before = _identity(sqlite3.connect(f"file:{bare}?immutable=1", uri=True))
        replayed = folder / db_path.name
        shutil.copyfile(db_path, replayed)
        shutil.copyfile(wal, folder / wal.name)
        conn = sqlite3.connect(replayed, isolation_level=None)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if result != "ok":
            return f"replaying it damages the database: {result}"
        after = _identity(sqlite3.connect(replayed))
        if before is not None and after is not None and before != after:
            return "replaying it would turn the database into another library's"
        return None
    except sqlite3.DatabaseError as exc:
        return f"replaying it fails: {exc}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _identity(conn: sqlite3.Connection) -> str | None:
    """The library's random id (see ``Library.open``), None where it has none yet."""
    try:
        row = conn.execute("SELECT value FROM setting WHERE key = 'library_id'").fetchone()
        return None if row is None else str(row[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def check_wal(db_path: Path) -> None:
    """Raise ForeignWalError when the -wal beside ``db_path`` must not be replayed into it."""
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        header = _wal_header(wal)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LibraryError(f"cannot read the write-ahead log {wal}: {exc.strerror}") from exc
    if header is None:
        return
    magic, version, page_size, salts = header
    if magic not in _WAL_MAGIC or version != _WAL_VERSION:
        raise _refuse(db_path, wal, "it is not an SQLite write-ahead log")
    db_page = _db_page_size(db_path)
    if db_page is None:
        return
    if page_size != db_page:
        raise _refuse(db_path, wal, f"its page size is {page_size} bytes, the database's {db_page}")
    shm = db_path.with_name(db_path.name + "-shm")
    if _in_use(db_path, shm):
        return  # a running session of this database owns the log; SQLite keeps it consistent
    shm_salts = _shm_salts(shm)
    if shm_salts is not None and shm_salts not in _salts_as_shm_stores(salts):
        raise _refuse(db_path, wal, "its salt differs from the one the database's index recorded")
    problem = _trial_replay(db_path, wal)
    if problem is not None:
        raise _refuse(db_path, wal, problem)


# Databases this process has open (their logs are live even though fcntl cannot show our own locks).
_open_here: dict[str, int] = {}
_open_lock = threading.Lock()


def register_open(db_path: Path) -> None:
    with _open_lock:
        key = os.path.realpath(db_path)
        _open_here[key] = _open_here.get(key, 0) + 1


def unregister_open(db_path: Path) -> None:
    with _open_lock:
        key = os.path.realpath(db_path)
        count = _open_here.get(key, 0) - 1
        if count > 0:
            _open_here[key] = count
        else:
            _open_here.pop(key, None)


def _in_use(db_path: Path, shm: Path) -> bool:
    """Whether any connection has the database open: here, or in another process (every SQLite
    connection holds a shared lock on the "DMS" byte of the -shm file)."""
    with _open_lock:
        if os.path.realpath(db_path) in _open_here:
            return True
    if not sys.platform.startswith("linux"):  # struct flock differs: trust SQLite, never refuse live
        return True
    import fcntl

    try:
        fd = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        probe = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS_BYTE, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, probe)
        return struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK
    except OSError:
        return True
    finally:
        os.close(fd)
