"""The library lock: shared by users, exclusive for a restore, counted within a process, gone with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from skintrack.library import Library, lock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")

TRY_EXCLUSIVE = """
import sys
from pathlib import Path
from skintrack.library import lock
try:
    lock.acquire(Path(sys.argv[1]), exclusive=True, action="restore over it")
except lock.LibraryBusyError as exc:
    print(exc)
    raise SystemExit(1)
print("acquired")
"""


def exclusive_elsewhere(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TRY_EXCLUSIVE, str(root)], capture_output=True, text=True, timeout=30
    )


def test_lock_is_counted_within_a_process_and_names_its_holder(library_dir: Path) -> None:
    lock.set_process_purpose("the Skintrack app")
    try:
        first = Library.open(library_dir)
        second = Library.open(library_dir)  # a second window, or a backup run by the app
        first.close()
        busy = exclusive_elsewhere(library_dir)
        assert busy.returncode == 1
        assert "cannot restore over it" in busy.stdout and "the Skintrack app (process" in busy.stdout
        second.close()
        assert exclusive_elsewhere(library_dir).stdout.strip() == "acquired"
    finally:
        lock.set_process_purpose(None)


def test_exclusive_lock_is_refused_while_this_process_uses_the_library(library_dir: Path) -> None:
    with Library.open(library_dir), pytest.raises(lock.LibraryBusyError, match="open in this program"):
        lock.acquire(library_dir, exclusive=True, action="restore over it")
    held = lock.acquire(library_dir, exclusive=True)
    assert held is not None
    with Library.open(library_dir) as lib:  # this process's own restore may look at it
        assert lib.list_regions() == []
    held.release()
    held.release()  # a second release is harmless
    assert exclusive_elsewhere(library_dir).stdout.strip() == "acquired"
