"""Integrity check and recovery of a library: ``skintrack check [--repair | --rebuild]``.

The check compares the files under ``originals/`` with the photo rows. It never deletes an
original: orphans (files no row refers to) are moved to ``originals/lost+found/`` by
``--repair``, and ``--rebuild`` gives every orphan and lost+found photo a row again (region
"Recovered", date from EXIF), also when the database itself was lost. Temp files of writes
whose process is gone hold nothing a row needs; every check removes them and says so.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from skintrack.core.dates import date_problem
from skintrack.core.formats import SUPPORTED_SUFFIXES
from skintrack.core.fsutil import is_temp_name, sha256_file
from skintrack.errors import InvalidInputError, LibraryError
from skintrack.library.db import (
    DB_NAME,
    DatabaseUnreadableError,
    Library,
    PreparedImport,
    now,
    photo_from_row,
    prepare_import,
)
from skintrack.library.models import CheckReport, Photo
from skintrack.library.store import InvalidOriginalNameError, check_parts
from skintrack.library.swap import pending_swaps
from skintrack.progress import Progress

log = logging.getLogger(__name__)

RECOVERED_REGION = "Recovered"
_STORED_NAME_RE = re.compile(r"^([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})(?:\.\d+)?$")


def check_library(lib: Library, *, repair: bool = False) -> CheckReport:
    """What is wrong with ``lib`` (after removing stale temp files, and with ``repair`` after
    moving orphans to lost+found)."""
    steps = check_library_steps(lib, repair=repair)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def check_library_steps(lib: Library, *, repair: bool = False) -> Generator[Progress, None, CheckReport]:
    """:func:`check_library` as a job: yields Progress once per original hashed (the long part,
    one file in memory at a time, in chunks) and returns the CheckReport."""
    integrity = lib.quick_check()
    if integrity != "ok":
        raise LibraryError(f"the library database {lib.db_path} is damaged: {integrity}")
    rows = lib.photo_rows()
    expected: dict[Path, list[Photo]] = {}
    invalid: list[tuple[int, str]] = []
    bad_dates: list[int] = []
    for row in rows:
        try:
            check_parts(row["sha256"], row["suffix"])
        except InvalidOriginalNameError as exc:
            invalid.append((int(row["id"]), str(exc)))
            continue
        photo = photo_from_row(row)
        expected.setdefault(lib.original_path(photo), []).append(photo)
        if _stored_date_problem(row["taken_at"]):
            bad_dates.append(photo.id)

    removed = lib.clean_stale_temps()
    orphans: list[Path] = []
    busy: list[Path] = []
    for path, _sha, _suffix in lib.store.walk():
        if is_temp_name(path.name):
            if path.exists():
                busy.append(path)
        elif path not in expected:
            orphans.append(path)

    missing: list[Photo] = []
    altered: list[Photo] = []
    total = len(expected)
    yield Progress(0, total, f"checking {total} original{'s' if total != 1 else ''}")
    for done, (path, owners) in enumerate(expected.items(), 1):
        if not path.is_file():
            missing.extend(owners)
            yield Progress(done, total, f"missing {path.name}")
            continue
        try:
            actual = sha256_file(path)
        except OSError:
            actual = ""
        if actual != owners[0].sha256:
            altered.extend(owners)
        yield Progress(done, total, f"{'hashed' if actual == owners[0].sha256 else 'ALTERED'} {path.name}")

    moved: dict[Path, Path] = {}
    if repair and orphans:
        moved = _move_orphans(lib, orphans)
    remaining = [p for p in orphans if p not in moved]
    swaps = pending_swaps(lib.root)  # what opening the library could not finish or roll back
    notices = [swap.describe() for swap in swaps]
    stuck = [swap for swap in swaps if not swap.live]
    ok = not (remaining or missing or altered or invalid or stuck)
    return CheckReport(
        orphans=orphans,
        missing=missing,
        altered=altered,
        ok=ok,
        temp_files=sorted(set(removed) | set(busy)),
        removed=removed,
        moved=moved,
        lost_and_found=lib.store.lost_and_found_files(),
        busy_temp_files=busy,
        invalid_rows=invalid,
        bad_dates=bad_dates,
        notices=notices,
        stuck_swaps=[swap.path for swap in stuck],
    )


def _stored_date_problem(text: object) -> bool:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return True
    return date_problem(value) is not None


def _move_orphans(lib: Library, orphans: list[Path]) -> dict[Path, Path]:
    moved: dict[Path, Path] = {}
    with lib.write_lock() as conn:  # no import can commit a row for these files meanwhile
        for path in orphans:
            match = _STORED_NAME_RE.match(path.name)
            if match:
                referenced = conn.execute(
                    "SELECT 1 FROM photo WHERE sha256 = ? AND suffix = ? LIMIT 1",
                    (match.group(1), match.group(2)),
                ).fetchone()
                if referenced and path.parent.name == match.group(1)[:2]:
                    continue  # committed by another process after our scan: keep it in place
            try:
                moved[path] = lib.store.move_to_lost_and_found(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot move an orphan to lost+found: %s", exc.strerror)
    return moved


# ---------------------------------------------------------------- rebuild
@dataclass
class RebuildReport:
    """What ``check --rebuild`` did: rows re-created, files it could not use, database set aside."""

    recovered: list[Photo] = field(default_factory=list)
    already_known: list[Path] = field(default_factory=list)  # lost+found copies of intact originals
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    damaged_database: Path | None = None  # where an unreadable database was moved aside
    region: str = RECOVERED_REGION


def rebuild_library(root: Path) -> RebuildReport:
    """Give every orphan and lost+found photo a row again, creating the database if it is lost.

    An unreadable database is moved aside (``skintrack.sqlite3.damaged-<time>``), never deleted.
    A foreign write-ahead log is not touched: the user must move it away first.
    """
    report = RebuildReport()
    try:
        lib = Library.open(root, create=True, recover=True)
    except DatabaseUnreadableError:
        report.damaged_database = _set_aside_database(root)
        lib = Library.open(root, create=True, recover=True)
    with lib:
        known = set(_expected_paths(lib))
        candidates = [p for p, _s, _x in lib.store.walk() if not is_temp_name(p.name) and p not in known]
        candidates += lib.store.lost_and_found_files()
        stored = {(row["sha256"], row["suffix"]) for row in lib.photo_rows()}
        stamp = now().strftime("%Y-%m-%d")
        region_id: int | None = None
        for path in candidates:
            suffix = _suffix_of(path)
            if suffix is None:
                report.unreadable.append((path, "not a photo file Skintrack stores"))
                continue
            try:
                prepared = prepare_import(path, suffix=suffix)
            except InvalidInputError as exc:
                report.unreadable.append((path, exc.reason))
                continue
            if (prepared.sha256, suffix) in stored:  # a copy of a photo that has its row
                _restore_copy(lib, path, prepared, report)
                continue
            if region_id is None:
                region_id = _recovered_region(lib)
            _recover_one(lib, region_id, path, prepared, stamp, report)
            stored.add((prepared.sha256, suffix))
    return report


def _restore_copy(lib: Library, path: Path, prepared: PreparedImport, report: RebuildReport) -> None:
    """A lost+found copy of a known photo repairs its original if needed, then goes."""
    if path.parent != lib.store.lost_and_found:
        return
    placed, _repaired = lib.store.put(path, prepared.sha256, prepared.suffix, prepared.stat.st_size)
    if sha256_file(placed) == prepared.sha256:
        os.unlink(path)  # its verified bytes are in place under originals/
        report.already_known.append(path)


def _expected_paths(lib: Library) -> list[Path]:
    paths = []
    for row in lib.photo_rows():
        try:
            paths.append(lib.store.path_for(row["sha256"], row["suffix"]))
        except InvalidOriginalNameError:
            continue
    return paths


def _recovered_region(lib: Library) -> int:
    for summary in lib.list_regions(include_archived=True):
        if summary.region.name.lower() == RECOVERED_REGION.lower():
            return summary.region.id
    return lib.add_region(RECOVERED_REGION, notes="photos re-attached by `skintrack check --rebuild`").id


def _suffix_of(path: Path) -> str | None:
    match = _STORED_NAME_RE.match(path.name)
    suffix = match.group(2).lower() if match else path.suffix.lower()
    return suffix if suffix in SUPPORTED_SUFFIXES else None


def _recover_one(
    lib: Library, region_id: int, path: Path, prepared: PreparedImport, stamp: str, report: RebuildReport
) -> None:
    try:
        outcome = lib.import_file(
            region_id, path, prepared=prepared, notes=f"recovered by `skintrack check --rebuild` on {stamp}"
        )
    except InvalidInputError as exc:
        report.unreadable.append((path, exc.reason))
        return
    placed = lib.original_path(outcome.photo)
    if path.parent == lib.store.lost_and_found and sha256_file(placed) == outcome.photo.sha256:
        os.unlink(path)  # its verified bytes are now in place under originals/
    report.recovered.append(outcome.photo)
    log.info("recovered photo %s", outcome.photo.id)


def _set_aside_database(root: Path) -> Path:
    db = root / DB_NAME
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = root / f"{DB_NAME}.damaged-{stamp}"
    for suffix in ("", "-wal", "-shm"):
        source = db.with_name(db.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + suffix))
    return target
