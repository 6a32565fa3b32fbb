"""The inbox: new photos in the user's inbox folders, each with a proposed region.

A photo is new when its bytes (SHA-256) are neither in the library (trash included) nor were
dismissed before. Inbox files are only ever read: accepting copies a photo into the library
through the normal check-in import, dismissing remembers its hash. Shared by CLI and GUI.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from skintrack.core import images
from skintrack.core.fsutil import is_temp_name, sha256_file
from skintrack.errors import InvalidInputError
from skintrack.library import Library, inbox_store
from skintrack.progress import CancelToken, Progress, run_steps
from skintrack.services.checkin import ImportReport, run_import
from skintrack.services.region_match import RegionIndex, RegionMatch

RECEIVED_FOLDER = "received"  # inside the library folder: where photos sent from the phone land


@dataclass(frozen=True)
class InboxItem:
    """One new photo in an inbox folder, with the date it was taken and its region proposal."""

    path: Path
    sha256: str
    taken_at: datetime | None
    taken_at_source: str  # "exif" | "file"
    match: RegionMatch | None
    error: str | None = None  # the file cannot be read as a photo (yet: it may still be syncing)

    @property
    def sure(self) -> bool:
        return self.match is not None and self.match.sure

    def to_json(self) -> dict[str, object]:
        match = self.match
        proposed = None if match is None or match.proposed is None else match.proposed.name
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "taken_at": None if self.taken_at is None else self.taken_at.isoformat(timespec="seconds"),
            "taken_at_source": self.taken_at_source,
            "proposed_region": proposed,
            "confidence": 0.0 if match is None else round(match.confidence, 3),
            "sure": self.sure,
            "candidates": [] if match is None else [c.to_json() for c in match.candidates],
            "error": self.error,
        }


class HashCache:
    """SHA-256 of files by (path, size, mtime): a rescan of a big camera folder reads only new files."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: dict[tuple[str, int, int], str] = {}

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._hashes.get(key)
        if known is not None:
            return known
        sha = sha256_file(path)
        with self._lock:
            self._hashes[key] = sha
        return sha


_DEFAULT_CACHE = HashCache()


def received_folder(lib: Library) -> Path:
    """The inbox folder for photos sent from the phone (created and registered on first use)."""
    folder = lib.root / RECEIVED_FOLDER
    folder.mkdir(exist_ok=True)
    if folder.resolve() not in {f.path for f in inbox_store.list_folders(lib)}:
        inbox_store.add_folder(lib, folder)
    return folder


def candidate_files(folders: Iterable[Path]) -> list[Path]:
    """Photo files below the folders, skipping hidden folders/files and temporary downloads."""
    found: list[Path] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or is_temp_name(name):
                    continue
                path = Path(dirpath) / name
                if path.suffix.lower() in images.SUPPORTED_SUFFIXES and path.is_file() and path not in seen:
                    seen.add(path)
                    found.append(path)
    return found


def _taken_at(path: Path) -> tuple[datetime | None, str]:
    meta = images.read_meta(path)
    if meta.taken_at is not None:
        return meta.taken_at, "exif"
    return datetime.fromtimestamp(int(path.stat().st_mtime)).astimezone(), "file"


def scan(
    lib: Library,
    *,
    index: RegionIndex | None = None,
    token: CancelToken | None = None,
    hashes: HashCache | None = None,
) -> Generator[Progress, None, list[InboxItem]]:
    """Find and match the new photos of every inbox folder; yields Progress, returns items by date.

    ``index`` lets a caller reuse a prepared RegionIndex; it is built (once) when a new photo
    needs matching.
    """
    hashes = hashes or _DEFAULT_CACHE
    files = candidate_files(f.path for f in inbox_store.list_folders(lib))
    known = inbox_store.library_hashes(lib) | inbox_store.dismissed_hashes(lib)
    items: list[InboxItem] = []
    shown: set[str] = set()
    total = len(files)
    for n, path in enumerate(files, 1):
        if token is not None:
            token.raise_if_cancelled()
        try:
            sha = hashes.sha256(path)
        except OSError:
            continue  # vanished or unreadable between listing and hashing: the next scan decides
        if sha in known or sha in shown:
            yield Progress(n, total, f"Already known: {path.name}")
            continue
        shown.add(sha)
        try:
            taken_at, source = _taken_at(path)
            if index is None:
                yield Progress(n - 1, total, "Preparing the regions' reference photos…")
                index = RegionIndex.cached(lib, token)
            match = index.match_file(path, token, sha)
        except InvalidInputError as exc:
            items.append(InboxItem(path, sha, None, "file", None, exc.reason))
        except OSError as exc:
            items.append(InboxItem(path, sha, None, "file", None, f"cannot read the file ({exc})"))
        else:
            items.append(InboxItem(path, sha, taken_at, source, match))
        yield Progress(n, total, f"Sorted {path.name}")
    items.sort(
        key=lambda it: (it.taken_at is None, it.taken_at.timestamp() if it.taken_at else 0, str(it.path))
    )
    return items


def run_scan(
    lib: Library, *, index: RegionIndex | None = None, hashes: HashCache | None = None
) -> list[InboxItem]:
    """``scan`` to completion without progress (CLI, tests)."""
    return run_steps(scan(lib, index=index, hashes=hashes))


def accept(lib: Library, path: str | os.PathLike[str], region_id: int) -> ImportReport:
    """Copy one inbox photo into a region (the inbox file stays untouched)."""
    return accept_into(lib, [path], region_id)


def accept_into(lib: Library, paths: Iterable[str | os.PathLike[str]], region_id: int) -> ImportReport:
    """Copy inbox photos into one region in one import (the inbox files stay untouched)."""
    return run_import(lib, region_id, [Path(p) for p in paths])


def accept_sure(lib: Library, items: Iterable[InboxItem]) -> ImportReport:
    """Accept every sure proposal; one report for all of them."""
    total = ImportReport()
    for item in items:
        if not item.sure or item.match is None or item.match.proposed is None:
            continue
        report = accept(lib, item.path, item.match.proposed.region_id)
        total.imported += report.imported
        total.duplicates += report.duplicates
        total.duplicate_of += report.duplicate_of
        total.errors += report.errors
    return total


def dismiss(lib: Library, item: InboxItem) -> None:
    """Hide this photo from the inbox for good (the file is not touched)."""
    inbox_store.dismiss(lib, item.sha256, item.path)
