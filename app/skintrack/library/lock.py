"""Advisory lock on a library folder: many users at once, or one process replacing it.

Every process that uses a library (the app, the CLI commands, a backup) holds a *shared* lock on
``skintrack.lock`` beside the database; a restore that replaces the library needs it
*exclusively*. So a restore never swaps a library out from under a process that is writing to
it, and nothing opens a library while a restore is swapping it in. SQLite still serialises the
individual writes of the sharing processes.

The lock is ``flock`` on the file, released by the kernel when its process dies, so a kill never
leaves a stale lock. The file also lists who holds it (pid, what, since when), one JSON line per
holder, so a refusal can name the holder. Within one process the lock is counted: a backup run by
the app shares the app's lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from skintrack.core.fsutil import process_alive
from skintrack.errors import LibraryError

LOCK_NAME = "skintrack.lock"
_COMPACT_BYTES = 16 * 1024

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int, exclusive: bool) -> bool:
        """Lock ``fd`` without waiting; False when another holder has it.

        Windows has no shared flock: only the exclusive holder locks (byte 0).

        Users of the library take no lock there; Windows itself refuses to rename a folder in
        which another process has files open, so a restore cannot swap it away from them.
        """
        if not exclusive:
            return True
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def try_lock(fd: int, exclusive: bool) -> bool:
        """Lock ``fd`` without waiting (flock, shared or exclusive); False when another holder has it."""
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


class LibraryBusyError(LibraryError):
    """Another process holds the library's lock in a conflicting way."""


@dataclass(frozen=True)
class Holder:
    pid: int
    purpose: str
    since: str

    def describe(self) -> str:
        when = self.since.replace("T", " ")[:16]
        return f"{self.purpose} (process {self.pid}, since {when})"


@dataclass
class _Held:
    fd: int
    exclusive: bool
    count: int


_registry: dict[Path, _Held] = {}
_registry_lock = threading.Lock()
_process_purpose: list[str] = []


def _forget_after_fork() -> None:
    """A forked child does not own its parent's locks (it must take its own)."""
    _registry.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def set_process_purpose(purpose: str | None) -> None:
    """How this process is named to others who find the library busy (e.g. "the Skintrack app").

    None goes back to the default, the command name.
    """
    _process_purpose[:] = [] if purpose is None else [purpose]


def _default_purpose() -> str:
    if _process_purpose:
        return _process_purpose[0]
    args = sys.argv[1:]
    words = [
        w
        for i, w in enumerate(args)
        if not w.startswith("-") and os.sep not in w and (i == 0 or args[i - 1] != "--library")
    ]
    return "skintrack " + (words[0] if words else "command")


def lock_path(library_dir: Path) -> Path:
    return Path(library_dir) / LOCK_NAME


def read_holders(library_dir: Path) -> list[Holder]:
    """Living processes listed in the lock file (most recent first)."""
    key = _key(library_dir)
    held = _registry.get(key)
    try:
        if held is not None:  # read through our own descriptor
            raw = _read_all(held.fd)
        else:
            with open(lock_path(library_dir), "rb") as fh:
                raw = fh.read(1 << 20)
    except OSError:
        return []
    return _holders_in(raw)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 1 << 20)


def _holders_in(raw: bytes) -> list[Holder]:
    holders: list[Holder] = []
    seen: set[int] = set()
    for line in reversed(raw.decode("utf-8", "replace").splitlines()):
        try:
            entry = json.loads(line)
            holder = Holder(int(entry["pid"]), str(entry["purpose"])[:120], str(entry["since"]))
        except (ValueError, KeyError, TypeError):
            continue
        if holder.pid not in seen and process_alive(holder.pid):
            seen.add(holder.pid)
            holders.append(holder)
    return holders


def _key(library_dir: Path) -> Path:
    return Path(os.path.abspath(library_dir))


def _busy_message(library_dir: Path, exclusive: bool, action: str) -> str:
    holders = [h for h in read_holders(library_dir) if h.pid != os.getpid()]
    who = "; ".join(h.describe() for h in holders[:3]) or "another process"
    if exclusive:
        return (
            f"cannot {action}: the library {library_dir} is in use by {who}. "
            "Close it there (or wait for that command to finish) and try again."
        )
    return (
        f"cannot {action}: the library {library_dir} is being replaced by {who}. "
        "Wait until it has finished and try again."
    )


class LibraryLock:
    """A held lock; ``release()`` (or leaving the ``with`` block) gives it back once."""

    def __init__(self, key: Path) -> None:
        self._key = key
        self._released = False

    @property
    def path(self) -> Path:
        return lock_path(self._key)

    def release(self) -> None:
        with _registry_lock:
            if self._released:
                return
            self._released = True
            held = _registry.get(self._key)
            if held is None:
                return
            held.count -= 1
            if held.count > 0:
                return
            del _registry[self._key]
            _unlock(held.fd)
            os.close(held.fd)

    def __enter__(self) -> LibraryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(
    library_dir: Path,
    *,
    exclusive: bool = False,
    purpose: str | None = None,
    action: str = "open the library",
) -> LibraryLock | None:
    """Take the library's lock without waiting; LibraryBusyError naming the holder if it is taken.

    None when the folder cannot hold a lock file (a read-only library cannot be replaced or
    written either, so there is nothing to protect).
    """
    key = _key(library_dir)
    with _registry_lock:
        held = _registry.get(key)
        if held is not None:
            if exclusive and not held.exclusive:
                raise LibraryBusyError(
                    f"cannot {action}: the library {library_dir} is open in this program; close it first"
                )
            held.count += 1
            return LibraryLock(key)
        try:
            fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            if exclusive:
                raise LibraryError(f"cannot {action}: cannot lock {lock_path(key)} ({exc.strerror})") from exc
            return None
        try:
            if not try_lock(fd, exclusive):
                raise LibraryBusyError(_busy_message(key, exclusive, action))
            _record(fd, exclusive, purpose or _default_purpose())
        except BaseException:
            os.close(fd)
            raise
        _registry[key] = _Held(fd, exclusive, 1)
        return LibraryLock(key)


def _record(fd: int, exclusive: bool, purpose: str) -> None:
    """Add this process to the holder list (an exclusive holder, or a long list, starts it anew)."""
    line = json.dumps(
        {"pid": os.getpid(), "purpose": purpose, "since": datetime.now().isoformat(timespec="seconds")}
    )
    with contextlib.suppress(OSError):
        if exclusive:
            os.ftruncate(fd, 0)
        elif os.fstat(fd).st_size > _COMPACT_BYTES:
            alive = [json.dumps(h.__dict__) for h in reversed(_holders_in(_read_all(fd)))]
            os.ftruncate(fd, 0)
            os.write(fd, "".join(a + "\n" for a in alive).encode())
        os.write(fd, (line + "\n").encode())


@contextlib.contextmanager
def locked(
    library_dir: Path, *, exclusive: bool = False, purpose: str | None = None, action: str = "continue"
) -> Iterator[LibraryLock | None]:
    """``with locked(root, exclusive=True, action="restore"):`` ... released at the end."""
    lock = acquire(library_dir, exclusive=exclusive, purpose=purpose, action=action)
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()
