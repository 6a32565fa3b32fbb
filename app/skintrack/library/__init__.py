"""The photo library: SQLite database, content-addressed originals and a disposable cache.

Layout of a library folder::

    skintrack.sqlite3                 WAL mode, foreign keys on, version in PRAGMA user_version
    originals/ab/<sha256>.<ext>       the exact imported bytes, never modified
    cache/thumbs/ab/<sha256>_<n>.jpg  thumbnails; the whole cache may be deleted at any time
"""

from skintrack.library.db import DB_NAME, Library
from skintrack.library.models import (
    AlignmentRecord,
    CheckIn,
    CheckReport,
    ImportOutcome,
    JournalEntry,
    MeasurementRecord,
    Photo,
    Region,
    RegionSummary,
    RepeatNoiseRecord,
)

__all__ = [
    "DB_NAME",
    "AlignmentRecord",
    "CheckIn",
    "CheckReport",
    "ImportOutcome",
    "JournalEntry",
    "Library",
    "MeasurementRecord",
    "Photo",
    "Region",
    "RegionSummary",
    "RepeatNoiseRecord",
]
