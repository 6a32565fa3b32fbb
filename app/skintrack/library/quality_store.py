"""Stored capture quality: one row per photo in ``photo_quality`` (schema migration v3).

Functions take an open :class:`~skintrack.library.Library`; writes are one transaction each. The
row keeps the full report (scores, statuses, advice, details), the thresholds it was judged with
and the algorithm version, so a result can always be explained later.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from skintrack.library.db import Library, dt_from_text, dt_to_text, now

if TYPE_CHECKING:  # the checks themselves load only where a stored quality is read
    from skintrack.core.quality import QualityReport, QualityThresholds


@dataclass(frozen=True)
class StoredQuality:
    """The quality of one photo as stored."""

    photo_id: int
    reference_id: int | None
    report: QualityReport
    thresholds: QualityThresholds
    created_at: datetime

    @property
    def overall(self) -> str:
        return self.report.overall


def save_quality(
    lib: Library,
    photo_id: int,
    report: QualityReport,
    thresholds: QualityThresholds,
    reference_id: int | None = None,
) -> None:
    """Store (or replace) the quality of a photo."""
    record = report.to_record()
    with lib._write() as conn:
        conn.execute(
            """INSERT INTO photo_quality (photo_id, reference_id, overall, checks, thresholds,
                   algorithm_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (photo_id) DO UPDATE SET reference_id = excluded.reference_id,
                   overall = excluded.overall, checks = excluded.checks,
                   thresholds = excluded.thresholds, algorithm_version = excluded.algorithm_version,
                   created_at = excluded.created_at""",
            (
                photo_id,
                reference_id,
                report.overall,
                json.dumps(record["checks"], allow_nan=False, default=float),
                json.dumps(thresholds.to_json()),
                report.algorithm_version,
                dt_to_text(now()),
            ),
        )


def _row_to_stored(row: sqlite3.Row) -> StoredQuality:
    from skintrack.core.quality import QualityReport, QualityThresholds

    checks = json.loads(row["checks"])
    report = QualityReport.from_record({"checks": checks, "algorithm_version": row["algorithm_version"]})
    return StoredQuality(
        photo_id=int(row["photo_id"]),
        reference_id=None if row["reference_id"] is None else int(row["reference_id"]),
        report=report,
        thresholds=QualityThresholds.from_json(json.loads(row["thresholds"])),
        created_at=dt_from_text(row["created_at"]),
    )


def load_quality(lib: Library, photo_id: int) -> StoredQuality | None:
    """The stored quality of a photo, or None when it has none yet."""
    with lib._read() as conn:
        row = conn.execute("SELECT * FROM photo_quality WHERE photo_id = ?", (photo_id,)).fetchone()
    return None if row is None else _row_to_stored(row)


def qualities_for_region(lib: Library, region_id: int) -> dict[int, StoredQuality]:
    """Stored quality of every photo of a region, keyed by photo id."""
    with lib._read() as conn:
        rows = conn.execute(
            """SELECT q.* FROM photo_quality q JOIN photo p ON p.id = q.photo_id
               WHERE p.region_id = ?""",
            (region_id,),
        ).fetchall()
    return {int(r["photo_id"]): _row_to_stored(r) for r in rows}


def delete_quality(lib: Library, photo_id: int) -> None:
    with lib._write() as conn:
        conn.execute("DELETE FROM photo_quality WHERE photo_id = ?", (photo_id,))
