"""Content-addressed originals: ``originals/<sha[:2]>/<sha256><suffix>``, written once, never modified.

Files arrive through ``atomic_copy`` (temp name in the destination folder, fsync, rename, fsync
the folder), so after a crash a file either exists complete or not at all; the database row is
committed only afterwards, hence a crash leaves at worst an orphan file or a temp file, which
``Library.check(repair=True)`` removes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from skintrack.core.fsutil import atomic_copy, fsync_dir, is_temp_name

_NAME_RE = re.compile(r"^([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?$")


class ContentChangedError(Exception):
    """The source file's bytes changed between hashing and copying."""


class OriginalStore:
    """The ``originals/`` folder of a library."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, suffix: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put(self, src: Path, sha256: str, suffix: str, size_bytes: int) -> Path:
        """Make sure the original for ``sha256`` exists; copy ``src`` durably if it does not.

        An existing file of the right size is kept (it was renamed into place complete, e.g.
        by an earlier import into another region or by an import that was killed before its
        commit). Raises ContentChangedError if the copied bytes do not hash to ``sha256``.
        """
        dest = self.path_for(sha256, suffix)
        try:
            if dest.stat().st_size == size_bytes:
                return dest
        except FileNotFoundError:
            pass
        copied = atomic_copy(src, dest)
        if copied != sha256:
            self.remove(dest)
            raise ContentChangedError(f"{src} changed while it was being imported")
        return dest

    def remove(self, path: Path) -> None:
        """Delete one file (and its folder when empty); missing files are fine."""
        try:
            path.unlink()
        except FileNotFoundError:
            return
        try:
            path.parent.rmdir()
        except OSError:
            fsync_dir(path.parent)

    def walk(self) -> Iterator[tuple[Path, str | None, str | None]]:
        """Every file under ``originals/`` as (path, sha256, suffix); both None for foreign names.

        Temp leftovers are yielded with sha256 None, so callers can tell them apart with
        ``is_temp_name``.
        """
        if not self.root.is_dir():
            return
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in sorted(filenames):
                path = Path(dirpath) / name
                match = None if is_temp_name(name) else _NAME_RE.match(name)
                if match and Path(dirpath).name == match.group(1)[:2]:
                    yield path, match.group(1), (match.group(2) or "")
                else:
                    yield path, None, None
