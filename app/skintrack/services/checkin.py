"""Check-in: import several photos into a region as one cancellable job, then measure them.

``import_files`` is shared by the CLI (``skintrack import``), the GUI check-in and the demo
builder. Each file is all-or-nothing (see ``Library.import_file``); a bad file is reported and
the others go on. ``check_in`` is what the check-in dialog saves: the photos with their own
dates in one batch (so the next files are validated and hashed while one is committed), the
journal line, then the region's analysis.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from skintrack.errors import Cancelled, InvalidInputError, LibraryError, UsageError
from skintrack.library import Library, Photo
from skintrack.library.db import PreparedImport, display_name, prepare_import, sort_key
from skintrack.progress import CancelToken, Progress, rescaled, run_steps
from skintrack.services import analysis
from skintrack.services.quality import ReferenceCache, store_after_import

log = logging.getLogger(__name__)

PREPARE_WORKERS = 2  # files validated/hashed ahead of the one being committed


@dataclass
class ImportReport:
    imported: list[Photo] = field(default_factory=list)
    duplicates: list[Path] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    duplicate_of: list[Photo] = field(default_factory=list)  # the photo each duplicate matched
    quality: dict[int, str] = field(default_factory=dict)  # photo id -> overall capture quality
    repaired: list[Photo] = field(default_factory=list)  # damaged originals replaced by these files
    cleaned: list[Path] = field(default_factory=list)  # temp files of interrupted imports removed


def import_files(
    lib: Library,
    region_id: int,
    paths: Iterable[str | os.PathLike[str]],
    *,
    taken_at: datetime | None = None,
    dates: Sequence[datetime | None] | None = None,
    notes: str = "",
    token: CancelToken | None = None,
    assess: bool = True,
    report: ImportReport | None = None,
    checkin_id: int | None = None,
) -> Generator[Progress, None, ImportReport]:
    """Import ``paths`` into the region; yields Progress after each file, returns an ImportReport.

    ``dates`` gives each file its own date (None: from the photo); else ``taken_at`` is used for all.
    ``report`` (if given) is filled as files are stored, so it stays true if the job is closed early.
    ``checkin_id`` stores every file in that one check-in; without it each photo is its own.

    Invalid files end up in ``report.errors`` as (path, reason). Cancelling stops between files
    (never inside one) and returns what was done so far with ``cancelled=True``. With ``assess``
    each new photo's capture quality is computed and stored (``services.quality.store_after_import``).
    """
    files = [Path(p) for p in paths]
    when = list(dates) if dates is not None else [taken_at] * len(files)
    if len(when) != len(files):
        raise ValueError(f"{len(when)} dates for {len(files)} files")
    report = report if report is not None else ImportReport()
    total = len(files)
    lib.region(region_id)  # fail early (UsageError) for an unknown region
    report.cleaned = lib.clean_stale_temps()
    references = ReferenceCache(lib)
    # Validating, decoding the preview and hashing the next files (GIL-free work in Pillow and
    # hashlib) runs on PREPARE_WORKERS threads while this thread copies and commits, in order.
    with ThreadPoolExecutor(max_workers=PREPARE_WORKERS, thread_name_prefix="skintrack-import") as pool:
        ahead: deque[Future[PreparedImport]] = deque()
        queued = 0
        for index, path in enumerate(files):
            if token is not None and token.cancelled:
                report.cancelled = True
                for future in ahead:
                    future.cancel()
                break
            while queued < total and queued <= index + PREPARE_WORKERS:
                ahead.append(pool.submit(prepare_import, files[queued]))
                queued += 1
            current = ahead.popleft()
            try:
                prepared = current.result()
                outcome = lib.import_file(
                    region_id,
                    path,
                    taken_at=when[index],
                    notes=notes,
                    prepared=prepared,
                    checkin_id=checkin_id,
                )
            except InvalidInputError as exc:
                report.errors.append((path, exc.reason))
                message = f"Skipped {display_name(path)}: {exc.reason}"
            except MemoryError:
                report.errors.append((path, "not enough memory to read this image"))
                message = f"Skipped {display_name(path)}: not enough memory"
            except LibraryError as exc:  # e.g. a full disk: this file failed, the next may not
                report.errors.append((path, str(exc)))
                message = f"Failed {display_name(path)}: {exc}"
            else:
                if outcome.repaired:
                    report.repaired.append(outcome.photo)
                if outcome.duplicate:
                    report.duplicates.append(path)
                    report.duplicate_of.append(outcome.photo)
                    message = f"Already in the library: {display_name(path)}"
                else:
                    report.imported.append(outcome.photo)
                    message = f"Imported {display_name(path)}"
                    if assess:
                        report.quality[outcome.photo.id], note = store_after_import(
                            lib, outcome.photo, references
                        )
                        message += note
            yield Progress(index + 1, total, message)
    return report


def import_as_one_checkin(
    lib: Library,
    region_id: int,
    paths: Iterable[str | os.PathLike[str]],
    *,
    checkin_id: int | None = None,
    taken_at: datetime | None = None,
    notes: str = "",
    token: CancelToken | None = None,
) -> Generator[Progress, None, ImportReport]:
    """``import_files`` with every stored file in one check-in: ``checkin_id``'s, else a new one.

    An existing check-in must belong to the region (UsageError before any file is read); a new
    check-in that no file could be stored in is removed again.
    """
    if checkin_id is not None:
        if lib.checkin(checkin_id).region_id != region_id:
            raise UsageError(f"check-in {checkin_id} belongs to another region")
        return (
            yield from import_files(
                lib, region_id, paths, taken_at=taken_at, notes=notes, token=token, checkin_id=checkin_id
            )
        )
    checkin = lib.add_checkin(region_id, taken_at, notes)
    try:
        return (
            yield from import_files(
                lib, region_id, paths, taken_at=taken_at, notes=notes, token=token, checkin_id=checkin.id
            )
        )
    finally:
        lib.delete_checkin_if_empty(checkin.id)


def run_import(
    lib: Library, region_id: int, paths: Iterable[str | os.PathLike[str]], **kwargs: object
) -> ImportReport:
    """Run ``import_files`` to completion without reporting progress (tests, scripts)."""
    return run_steps(import_files(lib, region_id, paths, **kwargs))  # type: ignore[arg-type]


@dataclass(frozen=True)
class CheckInItem:
    """One photo of a check-in; ``taken_at`` None means the date read from the photo."""

    path: Path
    taken_at: datetime | None = None


@dataclass(frozen=True)
class JournalLine:
    """The optional journal entry saved with a check-in (a dose, a sunny day...)."""

    at: datetime
    kind: str
    substance: str = ""
    amount: float | None = None
    unit: str = ""


@dataclass
class CheckInResult:
    """What a check-in did: the import report, the new photo ids and the analysis outcome."""

    region_id: int
    photo_ids: list[int] = field(default_factory=list)
    checkin_id: int | None = None  # the one check-in the photos were stored in (None: none stored)
    duplicates: list[Path] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    analysis_error: str | None = None


IMPORT_SHARE = 500  # of 1000 progress units; the analysis takes the rest


def check_in(
    lib: Library,
    region_id: int,
    items: Sequence[CheckInItem],
    *,
    notes: str = "",
    journal: JournalLine | None = None,
    token: CancelToken | None = None,
    imported: list[int] | None = None,
) -> Generator[Progress, None, CheckInResult]:
    """Import ``items`` as one check-in with their own dates, add ``journal``, analyse the region.

    All photos of the batch are kept together as one dated check-in (a close-up and an overview,
    or repeat shots); a check-in none of whose files could be stored is not kept.

    ``imported`` (if given) receives the ids of the photos stored, also when the job is cancelled
    or fails part-way, so a caller knows what was kept. A failed analysis does not
    undo the import: it is reported in ``analysis_error``.
    """
    token = token or CancelToken()
    result = CheckInResult(region_id=region_id)
    report = ImportReport()
    dated = [item.taken_at for item in items if item.taken_at is not None]
    checkin = lib.add_checkin(region_id, min(dated, key=sort_key) if dated else None, notes)
    try:
        yield from rescaled(
            import_files(
                lib,
                region_id,
                [item.path for item in items],
                dates=[item.taken_at for item in items],
                notes=notes,
                token=token,
                report=report,
                checkin_id=checkin.id,
            ),
            0,
            IMPORT_SHARE,
            1000,
            "Importing",
        )
    finally:  # also when the job is cancelled between two files
        result.photo_ids = [photo.id for photo in report.imported]
        if imported is not None:
            imported[:] = result.photo_ids
        if not lib.delete_checkin_if_empty(checkin.id):
            result.checkin_id = checkin.id
    result.duplicates = list(report.duplicates)
    result.errors = list(report.errors)
    if report.cancelled:
        raise Cancelled("check-in cancelled")
    if journal is not None:
        lib.add_journal(journal.at, journal.kind, journal.substance, journal.amount, journal.unit)
    if not result.photo_ids:
        return result
    yield Progress(IMPORT_SHARE, 1000, "Analysing")
    try:
        steps = analysis.analyze_region(lib, region_id, token=token)
        yield from rescaled(steps, IMPORT_SHARE, 1000 - IMPORT_SHARE, 1000, "Analysing")
    except Cancelled:
        raise
    except Exception as exc:
        log.exception("analysis after check-in failed")
        result.analysis_error = str(exc) or type(exc).__name__
    yield Progress(1000, 1000, "Done")
    return result
