"""Alignment and measurement results, one row per (photo, reference) pair."""

from __future__ import annotations

import json
import sqlite3

from skintrack.library.base import LibraryCore
from skintrack.library.models import AlignmentRecord, MeasurementRecord
from skintrack.library.rows import (
    dt_from_text,
    dt_to_text,
    json_or_none,
    load_json,
    now,
    plain,
    plain_matrix,
    record_from_row,
)

_ALIGNMENT_COLUMNS = {
    "ok": bool,
    "homography": load_json,
    "manual_points": load_json,
    "created_at": dt_from_text,
}
_MEASUREMENT_COLUMNS = {"metrics": json.loads, "created_at": dt_from_text}


def alignment_from_row(row: sqlite3.Row) -> AlignmentRecord:
    return record_from_row(AlignmentRecord, row, _ALIGNMENT_COLUMNS)


def measurement_from_row(row: sqlite3.Row) -> MeasurementRecord:
    return record_from_row(MeasurementRecord, row, _MEASUREMENT_COLUMNS)


class AnalysisRecords(LibraryCore):
    """Stored alignments (manual ones are never overwritten by automatic ones) and measurements."""

    def save_alignment(self, rec: AlignmentRecord) -> bool:
        """Store an alignment; False (and nothing stored) when it would replace a manual one."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT method FROM alignment WHERE photo_id = ? AND reference_id = ?",
                (rec.photo_id, rec.reference_id),
            ).fetchone()
            if row is not None and row["method"] == "manual" and rec.method != "manual":
                return False
            conn.execute(
                """INSERT INTO alignment (photo_id, reference_id, ok, homography, quality, method, inliers,
                       message, manual_points, algorithm_version, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (photo_id, reference_id) DO UPDATE SET ok = excluded.ok,
                       homography = excluded.homography, quality = excluded.quality,
                       method = excluded.method, inliers = excluded.inliers, message = excluded.message,
                       manual_points = excluded.manual_points,
                       algorithm_version = excluded.algorithm_version, created_at = excluded.created_at""",
                (
                    rec.photo_id,
                    rec.reference_id,
                    int(bool(rec.ok)),
                    json_or_none(plain_matrix(rec.homography)),
                    float(rec.quality),
                    rec.method,
                    int(rec.inliers),
                    rec.message,
                    json_or_none(plain(rec.manual_points)),
                    rec.algorithm_version,
                    dt_to_text(rec.created_at or now()),
                ),
            )
        return True

    def alignment(self, photo_id: int, reference_id: int) -> AlignmentRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM alignment WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            ).fetchone()
        return None if row is None else alignment_from_row(row)

    def delete_alignment(self, photo_id: int, reference_id: int) -> None:
        """Forget an alignment (also a manual one), e.g. when the user resets it."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM alignment WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            )

    def save_measurement(self, rec: MeasurementRecord) -> None:
        with self._write() as conn:
            conn.execute(
                """INSERT INTO measurement (photo_id, reference_id, calibration, metrics, algorithm_version,
                       created_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (photo_id, reference_id) DO UPDATE SET calibration = excluded.calibration,
                       metrics = excluded.metrics, algorithm_version = excluded.algorithm_version,
                       created_at = excluded.created_at""",
                (
                    rec.photo_id,
                    rec.reference_id,
                    rec.calibration,
                    json.dumps(plain(rec.metrics)),
                    rec.algorithm_version,
                    dt_to_text(rec.created_at or now()),
                ),
            )

    def measurement(self, photo_id: int, reference_id: int) -> MeasurementRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM measurement WHERE photo_id = ? AND reference_id = ?", (photo_id, reference_id)
            ).fetchone()
        return None if row is None else measurement_from_row(row)

    def measurements_for_region(self, region_id: int) -> list[MeasurementRecord]:
        """Every stored measurement of the region's photos (not trashed), oldest photo first."""
        with self._read() as conn:
            rows = conn.execute(
                """SELECT m.* FROM measurement m JOIN photo p ON p.id = m.photo_id
                   WHERE p.region_id = ? AND p.deleted_at IS NULL
                   ORDER BY p.taken_at_sort, p.id, m.reference_id""",
                (region_id,),
            ).fetchall()
        return [measurement_from_row(row) for row in rows]
