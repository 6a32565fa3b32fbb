"""The cheap check of the originals made each time a library opens.

Re-hashing every original on each open costs seconds to minutes on a large library, so opening
only compares what the file system says with what is stored: a missing file, or a size other
than the one imported, is reported at once. A file whose modification time is newer than its
import (something wrote to it, or a restore copied it back) is re-hashed once; when its bytes
are still the imported ones its (size, mtime) stamp is remembered in ``cache/`` so the next open
trusts it again. ``Library.check`` (Library ▸ Check library…) still re-hashes everything.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from skintrack.core.fsutil import atomic_write_bytes, sha256_file
from skintrack.library.db import Library, photo_from_row
from skintrack.library.models import CheckReport, Photo
from skintrack.library.store import InvalidOriginalNameError, check_parts

log = logging.getLogger(__name__)

STAMPS_NAME = "verified-originals.json"
MTIME_SLACK_S = 2.0  # file systems round times (FAT: 2 s); a copy finishes before its row is written

Stamp = tuple[int, int]  # (size in bytes, mtime in ns)


def _load_stamps(path: Path) -> dict[str, Stamp]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    stamps: dict[str, Stamp] = {}
    for name, value in raw.items():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            stamps[str(name)] = (value[0], value[1])
    return stamps


def _save_stamps(path: Path, stamps: dict[str, Stamp]) -> None:
    try:
        data = json.dumps({k: list(v) for k, v in sorted(stamps.items())}).encode("utf-8")
        atomic_write_bytes(path, data, durable=False)
    except OSError as exc:  # a cache: the next open simply re-hashes
        log.warning("could not remember the verified originals in %s: %s", path, exc)


def quick_check_originals(lib: Library) -> CheckReport:
    """Missing or altered originals of ``lib``, from sizes and times, hashing only suspects."""
    valid: list[Photo] = []
    for row in lib.photo_rows():
        try:
            check_parts(row["sha256"], row["suffix"])
        except InvalidOriginalNameError:
            continue  # the full check reports these rows
        valid.append(photo_from_row(row))
    owners: dict[Path, list[Photo]] = {}
    for photo, path in zip(valid, lib.original_paths(valid), strict=True):
        owners.setdefault(path, []).append(photo)

    stamps_path = lib.cache_dir / STAMPS_NAME
    known = _load_stamps(stamps_path)
    stamps: dict[str, Stamp] = {}
    missing: list[Photo] = []
    altered: list[Photo] = []
    for path, photos in owners.items():
        try:
            st = path.stat()
        except OSError:
            missing.extend(photos)
            continue
        if st.st_size != photos[0].size_bytes:
            altered.extend(photos)
            continue
        stamp = (st.st_size, st.st_mtime_ns)
        imported = min(p.imported_at.timestamp() for p in photos)
        if known.get(path.name) == stamp:
            stamps[path.name] = stamp
            continue
        if st.st_mtime_ns / 1e9 <= imported + MTIME_SLACK_S:
            continue  # untouched since it was imported
        try:
            same = sha256_file(path) == photos[0].sha256
        except OSError:
            same = False
        if same:
            stamps[path.name] = stamp
        else:
            altered.extend(photos)
    if stamps != known:
        _save_stamps(stamps_path, stamps)
    return CheckReport(orphans=[], missing=missing, altered=altered, ok=not (missing or altered))
