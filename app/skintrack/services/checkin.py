"""Check-in: import several photos into a region, one file at a time, as a cancellable job.

Shared by the CLI (``skintrack import``), the GUI check-in dialog and the demo builder. Each file
is all-or-nothing (see ``Library.import_file``); a bad file is reported and the others go on.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from skintrack.errors import InvalidInputError, LibraryError
from skintrack.library import Library, Photo
from skintrack.library.db import PreparedImport, display_name, prepare_import
from skintrack.progress import CancelToken, Progress
from skintrack.services.quality import ReferenceCache, store_after_import

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
    notes: str = "",
    token: CancelToken | None = None,
    assess: bool = True,
) -> Generator[Progress, None, ImportReport]:
    """Import ``paths`` into the region; yields Progress after each file, returns an ImportReport.

    Invalid files end up in ``report.errors`` as (path, reason). Cancelling stops between files
    (never inside one) and returns what was done so far with ``cancelled=True``. With ``assess``
    each new photo's capture quality is computed and stored (``services.quality.store_after_import``).
    """
    files = [Path(p) for p in paths]
    report = ImportReport()
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
                outcome = lib.import_file(region_id, path, taken_at=taken_at, notes=notes, prepared=prepared)
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


def run_import(
    lib: Library, region_id: int, paths: Iterable[str | os.PathLike[str]], **kwargs: object
) -> ImportReport:
    """Run ``import_files`` to completion without reporting progress (tests, scripts)."""
    job = import_files(lib, region_id, paths, **kwargs)  # type: ignore[arg-type]
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
