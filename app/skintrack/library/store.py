"""Content-addressed originals: ``originals/<sha[:2]>/<sha256><suffix>``, written once, never modified.

Files arrive through ``atomic_copy`` (temp name in the destination folder, fsync, rename, fsync
the folder), so after a crash a file either exists complete or not at all; the database row is
committed only afterwards, hence a crash leaves at worst an orphan file or a temp file.

Every path is built from validated parts (64 lower-case hex digits, a suffix from the supported
list) and checked to lie inside ``originals/``: a crafted database row can never point a delete
elsewhere. Orphans are never deleted; ``check --repair`` moves them to ``originals/lost+found/``,
from where ``check --rebuild`` gives them rows again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from skintrack.core.formats import SUPPORTED_SUFFIXES
from skintrack.core.fsutil import (
    atomic_copy,
    fsync_dir,
    is_temp_name,
    make_private_dir,
    sha256_file,
)
from skintrack.errors import LibraryError

LOST_AND_FOUND = "lost+found"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?$")


def _within(resolved: str, root: str) -> bool:
    return os.path.commonpath([resolved, root]) == root


class ContentChangedError(Exception):
    """The source file's bytes changed between hashing and copying."""


class InvalidOriginalNameError(LibraryError):
    """A database row names an original with a hash or suffix Skintrack never writes."""


def check_parts(sha256: object, suffix: object) -> tuple[str, str]:
    """The validated (sha256, suffix) of a row; InvalidOriginalNameError otherwise."""
    if not isinstance(sha256, str) or not _SHA_RE.match(sha256):
        raise InvalidOriginalNameError(f"invalid photo hash in the database: {str(sha256)[:80]!r}")
    if not isinstance(suffix, str) or suffix not in SUPPORTED_SUFFIXES:
        raise InvalidOriginalNameError(f"invalid photo file suffix in the database: {str(suffix)[:20]!r}")
    return sha256, suffix


class OriginalStore:
    """The ``originals/`` folder of a library."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def lost_and_found(self) -> Path:
        return self.root / LOST_AND_FOUND

    def path_for(self, sha256: str, suffix: str) -> Path:
        """Where the original lives; raises InvalidOriginalNameError for impossible parts."""
        path = self._layout_path(*check_parts(sha256, suffix))
        self._check_inside(path)
        return path

    def _layout_path(self, sha256: str, suffix: str) -> Path:
        """``<sha[:2]>/<sha256><suffix>`` under the root, for parts already validated."""
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def paths_for(self, parts: Iterable[tuple[str, str]]) -> Iterator[Path]:
        """``path_for`` of many rows: the root and each sub-folder are resolved once per call.

        Resolving every path component per file is most of a quick check of a large library;
        only a file that is itself a symlink still gets the full check.
        """
        root = os.path.realpath(self.root)
        inside: dict[str, bool] = {}
        for sha256, suffix in parts:
            sha256, suffix = check_parts(sha256, suffix)
            path = self._layout_path(sha256, suffix)
            sub = sha256[:2]
            if sub not in inside:
                inside[sub] = _within(os.path.realpath(path.parent), root)
            if not inside[sub] or os.path.islink(path):
                self._check_inside(path)
            yield path

    def _check_inside(self, path: Path) -> None:
        """Refuse paths that leave ``originals/`` (also through a symlinked sub-folder)."""
        root = os.path.realpath(self.root)
        if not _within(os.path.realpath(path), root):
            raise InvalidOriginalNameError(f"refusing to use {path}: it lies outside {self.root}")

    def put(self, src: Path, sha256: str, suffix: str, size_bytes: int) -> tuple[Path, bool]:
        """Make sure the original for ``sha256`` exists with exactly those bytes.

        An existing file is kept only when its hash matches (a complete earlier copy); a damaged
        one is replaced by a verified copy of ``src``. Returns (path, repaired), ``repaired``
        True when a damaged original was replaced. Raises ContentChangedError if the copied
        bytes do not hash to ``sha256``.
        """
        dest = self.path_for(sha256, suffix)
        damaged = False
        try:
            if dest.stat().st_size == size_bytes and sha256_file(dest) == sha256:
                return dest, False
            damaged = True
        except FileNotFoundError:
            pass
        make_private_dir(dest.parent)
        copied = atomic_copy(src, dest)
        if copied != sha256:
            self.remove(dest)
            raise ContentChangedError(f"{src} changed while it was being imported")
        return dest, damaged

    def ensure_present(self, src: Path, sha256: str, suffix: str) -> Path:
        """The original's path, copied again from ``src`` if it vanished since ``put``."""
        dest = self.path_for(sha256, suffix)
        if dest.exists():
            return dest
        make_private_dir(dest.parent)
        if atomic_copy(src, dest) != sha256:
            self.remove(dest)
            raise ContentChangedError(f"{src} changed while it was being imported")
        return dest

    def remove(self, path: Path) -> None:
        """Delete one file (and its folder when empty); missing files are fine."""
        self._check_inside(path)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        try:
            path.parent.rmdir()
        except OSError:
            fsync_dir(path.parent)

    def move_to_lost_and_found(self, path: Path) -> Path:
        """Move an orphan out of the way, keeping its bytes and name; returns the new path."""
        make_private_dir(self.lost_and_found)
        target = self.lost_and_found / path.name
        n = 1
        while target.exists():
            target = self.lost_and_found / f"{path.name}.{n}"
            n += 1
        os.replace(path, target)
        fsync_dir(self.lost_and_found)
        fsync_dir(path.parent)
        return target

    def lost_and_found_files(self) -> list[Path]:
        folder = self.lost_and_found
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and not is_temp_name(p.name))

    def has_files(self) -> bool:
        """Whether any photo (placed, orphaned or in lost+found) is stored here."""
        if not self.root.is_dir():
            return False
        for _dirpath, _dirnames, filenames in os.walk(self.root):
            if any(not is_temp_name(name) for name in filenames):
                return True
        return False

    def walk(self) -> Iterator[tuple[Path, str | None, str | None]]:
        """Every file under ``originals/`` (lost+found aside) as (path, sha256, suffix).

        Both are None for foreign names; temp leftovers are yielded with sha256 None, so callers
        can tell them apart with ``is_temp_name``.
        """
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root and LOST_AND_FOUND in dirnames:
                dirnames.remove(LOST_AND_FOUND)
            for name in sorted(filenames):
                path = Path(dirpath) / name
                match = None if is_temp_name(name) else _NAME_RE.match(name)
                if match and Path(dirpath).name == match.group(1)[:2]:
                    yield path, match.group(1), (match.group(2) or "")
                else:
                    yield path, None, None
