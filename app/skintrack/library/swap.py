"""Replacing a library folder by a restored one, so that a kill at any moment loses nothing.

The swap is two renames inside the library's parent folder::

    NAME            -> .NAME.replaced-PID      (the old library, kept aside)
    .NAME.restore-* -> NAME                    (the verified new library)

Before the first rename a journal ``.NAME.swap-PID.json`` records both names; the restoring
process holds an ``flock`` on it until the swap is over, so anyone else can tell a live swap from
an interrupted one without trusting PIDs. ``recover_interrupted_swap`` (called when a library is
opened and before a restore) finishes an interrupted swap when the new library is complete, or
rolls it back, and never deletes a library: a previous one it cannot place is kept beside the
library under a visible name. ``pending_swaps`` lists leftovers for ``check``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from skintrack.core.fsutil import fsync_dir, process_alive
from skintrack.errors import UsageError
from skintrack.library.lock import LibraryBusyError, try_lock

log = logging.getLogger(__name__)

DB_NAME = "skintrack.sqlite3"
FAULT_ENV = "SKINTRACK_FAULT_AT"
"""Test hook: the name of a step (``fault_point``) at which this process SIGKILLs itself."""

_LIBRARY_FILES = re.compile(
    r"^(skintrack\.sqlite3\S*|skintrack\.lock|\..*\.skt-tmp"  # the database, its logs, copies set aside
    r"|\.DS_Store|Thumbs\.db|desktop\.ini)$"  # what file managers leave in any folder they show
)
_LIBRARY_DIRS = {"originals", "cache"}


@dataclass(frozen=True)
class PendingSwap:
    """A leftover of an interrupted restore beside a library."""

    path: Path
    kind: str  # "journal", "replaced" or "staging"
    live: bool  # its process is still running (a restore in progress)

    def describe(self) -> str:
        what = {
            "journal": "the swap journal of a restore",
            "replaced": "a previous library set aside by a restore",
            "staging": "a partly unpacked restore",
        }[self.kind]
        state = "in progress" if self.live else "interrupted"
        return f"{self.path}: {what}, {state}"


@dataclass(frozen=True)
class SwapResult:
    """Where the previous library went: the trash, or a visible folder beside the new one."""

    old_kept: Path | None
    old_trashed: bool


def fault_point(step: str) -> None:
    """Kill this process at ``step`` when the test hook asks for it (simulates a crash)."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------ what a library looks like
def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that a Skintrack library does not contain."""
    foreign = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            ok = entry.name in _LIBRARY_DIRS
        else:
            ok = entry.is_file(follow_symlinks=False) and bool(_LIBRARY_FILES.match(entry.name))
        if not ok:
            foreign.append(entry.name)
    return foreign


def check_replaceable(folder: Path) -> None:
    """UsageError unless ``folder`` is a Skintrack library: nothing foreign beside its database.

    A library that lost its database (only ``originals/`` left) is still one: restoring it from
    a backup is exactly what its owner needs.
    """
    db = folder / DB_NAME
    if folder.is_symlink():
        raise UsageError(f"{folder} is a symbolic link; restore into the real folder")
    has_db = db.is_file() and not db.is_symlink() and _looks_like_sqlite(db)
    lost_db = not db.exists() and (folder / "originals").is_dir() and not (folder / "originals").is_symlink()
    if not (has_db or lost_db):
        raise UsageError(
            f"{folder} is not a Skintrack library (no {DB_NAME} in it); --force only replaces a "
            "Skintrack library, so nothing was changed. Restore into a new or empty folder."
        )
    foreign = foreign_entries(folder)
    if foreign:
        listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UsageError(
            f"{folder} contains files that are not part of a Skintrack library ({listed}); "
            "--force only replaces a Skintrack library, so nothing was changed. Move them out first "
            "or restore into a new folder."
        )


def _looks_like_sqlite(db: Path) -> bool:
    try:
        with open(db, "rb") as fh:
            header = fh.read(16)
    except OSError:
        return False
    return header == b"SQLite format 3\x00" or (header == b"" and db.stat().st_size == 0)


# ------------------------------------------------------------------ names beside a library
def _journal_name(target: Path) -> str:
    return f".{target.name}.swap-{os.getpid()}.json"


def replaced_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.replaced-{os.getpid()}")


def staging_prefix(target: Path) -> str:
    return f".{target.name}.restore-{os.getpid()}-"


def _pattern(target: Path) -> re.Pattern[str]:
    name = re.escape(target.name)
    return re.compile(rf"^\.{name}\.(?:(swap)-(\d+)\.json|(replaced)-(\d+)|(restore)-(\d+)-[0-9a-z_]+)$")


def _leftovers(target: Path) -> Iterator[tuple[Path, str, int]]:
    """(path, kind, pid) of every swap leftover beside ``target``."""
    parent = target.parent
    if not parent.is_dir():
        return
    pattern = _pattern(target)
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in sorted(names):
        match = pattern.match(name)
        if match is None:
            continue
        groups = match.groups()
        if groups[0]:
            yield parent / name, "journal", int(groups[1])
        elif groups[2]:
            yield parent / name, "replaced", int(groups[3])
        else:
            yield parent / name, "staging", int(groups[5])


def pending_swaps(library_dir: Path) -> list[PendingSwap]:
    """Leftovers of interrupted (or running) restores beside ``library_dir``, for ``check``."""
    target = Path(os.path.abspath(Path(library_dir).expanduser()))
    found = []
    for path, kind, pid in _leftovers(target):
        live = _journal_live(path) if kind == "journal" else process_alive(pid)
        found.append(PendingSwap(path, kind, live))
    return found


def _journal_live(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not try_lock(fd, exclusive=True)
    finally:
        os.close(fd)


def kept_name(target: Path) -> Path:
    """A visible, unused name beside ``target`` for a previous library the user should see."""
    stamp = datetime.now().strftime("%Y-%m-%d %H.%M.%S")
    candidate = target.with_name(f"{target.name} (replaced {stamp})")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.name} (replaced {stamp}, {n})")
        n += 1
    return candidate


# ------------------------------------------------------------------ the swap
def swap_in(
    staging: Path,
    target: Path,
    *,
    keep_old: bool,
    verify: Callable[[Path], None],
) -> SwapResult:
    """Put the complete library ``staging`` at ``target``; the previous one goes to the trash.

    ``verify(target)`` runs after the swap; if it raises, the swap is undone and the previous
    library is back in place. With ``keep_old`` the previous library stays beside the new one.
    """
    parent = target.parent
    journal = parent / _journal_name(target)
    old = replaced_path(target) if target.exists() else None
    pending = parent / f"{staging_prefix(target)}journal"  # locked and complete before it is seen
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try_lock(fd, exclusive=True)
        record = {"target": target.name, "new": staging.name, "old": old and old.name, "keep_old": keep_old}
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
        os.replace(pending, journal)
        fsync_dir(parent)
        fault_point("swap-journal")
        moved_old = placed = False
        try:
            if old is not None:
                os.replace(target, old)
                moved_old = True
                fsync_dir(parent)
            fault_point("swap-old-aside")
            os.replace(staging, target)
            placed = True
            fsync_dir(parent)
            fault_point("swap-new-in-place")
            verify(target)
        except BaseException:
            _undo(target, staging, old, placed=placed, moved_old=moved_old)
            journal.unlink()
            raise
        result = SwapResult(None, False)
        if old is not None:
            result = _dispose_of_old(old, target, keep_old)
        fault_point("swap-old-disposed")
        journal.unlink()
        fsync_dir(parent)
    finally:
        os.close(fd)
    return result


def _undo(target: Path, staging: Path, old: Path | None, *, placed: bool, moved_old: bool) -> None:
    """Put the previous library back where it was (the new one goes back to ``staging``)."""
    if placed:
        os.replace(target, staging)
    if moved_old and old is not None and not target.exists():
        os.replace(old, target)
    fsync_dir(target.parent)


def _dispose_of_old(old: Path, target: Path, keep_old: bool) -> SwapResult:
    """Give the previous library a name the user recognises, then trash it unless it is kept."""
    kept = kept_name(target)
    os.replace(old, kept)
    fsync_dir(target.parent)
    if not keep_old:
        try:
            from send2trash import send2trash

            send2trash(str(kept))
            return SwapResult(None, True)
        except Exception as exc:  # no usable trash for this folder (no permission, odd mount)
            log.warning("cannot move the previous library %s to the trash: %s", kept, exc)
    return SwapResult(kept, False)


# ------------------------------------------------------------------ recovery
def prepare_open(library_dir: Path) -> list[str]:
    """Run before a library is opened: recover an interrupted swap, refuse during a live one."""
    done = recover_interrupted_swap(library_dir)
    for swap in pending_swaps(library_dir):
        if swap.kind == "journal" and swap.live:
            raise LibraryBusyError(
                f"the library {library_dir} is being replaced by a restore right now; "
                "try again when it has finished"
            )
    for line in done:
        log.warning("%s", line)
    return done


def recover_interrupted_swap(library_dir: Path) -> list[str]:
    """Finish or roll back a restore that was killed while swapping ``library_dir``.

    Returns what was done, one sentence each (empty when nothing was pending). A library folder is
    never deleted: the only thing removed is a staging copy that was never swapped in, whose
    data is still in the backup archive.
    """
    target = Path(os.path.abspath(Path(library_dir).expanduser()))
    done: list[str] = []
    handled: set[str] = set()
    for path, kind, _pid in list(_leftovers(target)):
        if kind == "journal":
            done += _recover_journal(path, target, handled)
    for path, kind, pid in list(_leftovers(target)):
        if path.name in handled or process_alive(pid) or not path.exists():
            continue
        if kind == "replaced":
            done.append(_place_replaced(path, target))
        elif kind == "staging" and not _journal_names_new(target, path.name):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            done.append(f"removed {path.name}, a partly unpacked restore whose process is gone")
    return done


def _journal_names_new(target: Path, name: str) -> bool:
    for path, kind, _pid in _leftovers(target):
        if kind == "journal":
            with contextlib.suppress(OSError, ValueError):
                if json.loads(path.read_text()).get("new") == name:
                    return True
    return False


def _recover_journal(journal: Path, target: Path, handled: set[str]) -> list[str]:
    try:
        fd = os.open(journal, os.O_RDONLY)
    except OSError:
        return []
    try:
        if not try_lock(fd, exclusive=True):
            return []  # the restoring process is alive and still swapping
        if not journal.exists():
            return []  # another process recovered it meanwhile
        try:
            record = json.loads(os.read(fd, 65536) or b"{}")
            new = target.with_name(_own_leftover(target, record["new"], "staging"))
            old = (
                target.with_name(_own_leftover(target, record["old"], "replaced"))
                if record.get("old")
                else None
            )
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable swap journal %s; leaving the folders beside it as they are", journal)
            return [f"{journal} is unreadable; the folders beside {target.name} were left as they are"]
        handled.update({new.name} | ({old.name} if old else set()))
        done = _finish(target, new, old)
        journal.unlink()
        fsync_dir(target.parent)
        return done
    finally:
        os.close(fd)


def _own_leftover(target: Path, name: object, kind: str) -> str:
    """``name`` if it is a swap leftover of ``target`` of that kind (a journal names nothing else)."""
    match = _pattern(target).match(str(name))
    if match is None or match.group(5 if kind == "staging" else 3) is None:
        raise ValueError(f"{name!r} is not a {kind} folder of {target.name}")
    return str(name)


def _finish(target: Path, new: Path, old: Path | None) -> list[str]:
    done: list[str] = []
    if not target.exists():
        if new.is_dir():  # the new library was complete and verified before the journal was written
            os.replace(new, target)
            done.append(f"finished an interrupted restore into {target}")
        elif old is not None and old.is_dir():
            os.replace(old, target)
            done.append(f"put the previous library back at {target} (an interrupted restore)")
        fsync_dir(target.parent)
    elif new.is_dir():  # killed before the first rename: the restore never happened
        shutil.rmtree(new, ignore_errors=True)
        done.append(f"rolled back an interrupted restore into {target}; run the restore again")
    if old is not None and old.is_dir():
        kept = kept_name(target)
        os.replace(old, kept)
        fsync_dir(target.parent)
        done.append(f"the library it replaced is kept at {kept}")
    return done


def _place_replaced(path: Path, target: Path) -> str:
    if not target.exists():
        os.replace(path, target)
        fsync_dir(target.parent)
        return f"put the library set aside in {path.name} back at {target}"
    kept = kept_name(target)
    os.replace(path, kept)
    fsync_dir(target.parent)
    return f"a library set aside by an interrupted restore is kept at {kept}"
