"""Check-ins: the photos of a region taken together on one occasion, and their repeat noise.

A photo belongs to one check-in (``photo.checkin_id``); importing without a check-in makes one
for the photo alone. A check-in is dated by its earliest live photo and is listed only while it
has one. Repeat noise (how much repeat shots disagree) is stored per check-in by the analysis.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from skintrack.errors import UsageError
from skintrack.library.base import LibraryCore
from skintrack.library.models import CheckIn, RepeatNoiseRecord
from skintrack.library.rows import (
    check_user_date,
    dt_from_text,
    dt_to_text,
    now,
    plain,
    record_from_row,
    sort_key,
    stored_dt,
)


def _checkin_from_row(
    row: sqlite3.Row, photo_ids: Sequence[int] = (), taken_at: datetime | None = None
) -> CheckIn:
    return record_from_row(
        CheckIn,
        row,
        {"taken_at": stored_dt, "created_at": stored_dt},
        photo_ids=tuple(photo_ids),
        **({} if taken_at is None else {"taken_at": taken_at}),
    )


def repeat_noise_from_row(row: sqlite3.Row) -> RepeatNoiseRecord:
    return record_from_row(RepeatNoiseRecord, row, {"metrics": json.loads, "created_at": dt_from_text})


def insert_checkin(conn: sqlite3.Connection, region_id: int, taken_at: datetime, note: str = "") -> int:
    """A new check-in row inside the caller's write transaction; returns its id."""
    cur = conn.execute(
        "INSERT INTO checkin (region_id, taken_at, taken_at_sort, note, created_at) VALUES (?, ?, ?, ?, ?)",
        (region_id, dt_to_text(taken_at), sort_key(taken_at), note, dt_to_text(now())),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def sync_checkin_date(conn: sqlite3.Connection, checkin_id: int) -> None:
    """Date the check-in by its earliest photo (inside the caller's write transaction)."""
    row = conn.execute(
        "SELECT taken_at, taken_at_sort FROM photo WHERE checkin_id = ? ORDER BY taken_at_sort, id LIMIT 1",
        (checkin_id,),
    ).fetchone()
    if row is not None:
        conn.execute(
            "UPDATE checkin SET taken_at = ?, taken_at_sort = ? WHERE id = ?",
            (row["taken_at"], row["taken_at_sort"], checkin_id),
        )


class CheckinRecords(LibraryCore):
    """Creating, listing and regrouping check-ins; their stored repeat noise."""

    def add_checkin(self, region_id: int, taken_at: datetime | None = None, note: str = "") -> CheckIn:
        """An empty check-in that photos are then imported into (``import_file(checkin_id=...)``)."""
        when = taken_at or now()
        check_user_date(when)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM region WHERE id = ?", (region_id,)).fetchone() is None:
                raise UsageError(f"no region with id {region_id}")
            checkin_id = insert_checkin(conn, region_id, when, note)
        return self.checkin(checkin_id)

    def checkin(self, checkin_id: int) -> CheckIn:
        """The check-in with its live photos (oldest first)."""
        with self._read() as conn:
            row = conn.execute("SELECT * FROM checkin WHERE id = ?", (checkin_id,)).fetchone()
            if row is None:
                raise UsageError(f"no check-in with id {checkin_id}")
            photos = conn.execute(
                "SELECT id, taken_at FROM photo WHERE checkin_id = ? AND deleted_at IS NULL"
                " ORDER BY taken_at_sort, id",
                (checkin_id,),
            ).fetchall()
        first = stored_dt(photos[0]["taken_at"]) if photos else None
        return _checkin_from_row(row, [p["id"] for p in photos], first)

    def list_checkins(self, region_id: int) -> list[CheckIn]:
        """The region's check-ins that have a live photo, oldest first, each with its photo ids."""
        with self._read() as conn:
            rows = {
                r["id"]: r for r in conn.execute("SELECT * FROM checkin WHERE region_id = ?", (region_id,))
            }
            photos = conn.execute(
                "SELECT id, checkin_id, taken_at FROM photo WHERE region_id = ? AND deleted_at IS NULL"
                " ORDER BY taken_at_sort, id",
                (region_id,),
            ).fetchall()
        grouped: dict[int, list[sqlite3.Row]] = {}
        for photo in photos:
            grouped.setdefault(
                photo["checkin_id"] if photo["checkin_id"] in rows else -photo["id"], []
            ).append(photo)
        out = []
        for key, members in grouped.items():  # dicts keep insertion order: oldest first photo first
            ids = [m["id"] for m in members]
            first = stored_dt(members[0]["taken_at"])
            if key > 0:
                out.append(_checkin_from_row(rows[key], ids, first))
            else:  # a photo written by an older program without a check-in stands alone
                out.append(CheckIn(key, region_id, first, "", first, tuple(ids)))
        return out

    def group_photos(self, photo_ids: Sequence[int]) -> CheckIn:
        """Put photos of one region into one check-in (the first photo's); emptied ones go."""
        if not photo_ids:
            raise UsageError("no photos to group")
        with self._write() as conn:
            marks = ",".join("?" * len(photo_ids))
            rows = conn.execute(
                f"SELECT id, region_id, checkin_id FROM photo WHERE id IN ({marks})", list(photo_ids)
            ).fetchall()
            if len(rows) != len(set(photo_ids)):
                raise UsageError("some of these photos are not in the library")
            if len({r["region_id"] for r in rows}) != 1:
                raise UsageError("only photos of one region can form one check-in")
            by_id = {r["id"]: r for r in rows}
            target = by_id[photo_ids[0]]["checkin_id"]
            if target is None:
                first = conn.execute("SELECT taken_at FROM photo WHERE id = ?", (photo_ids[0],)).fetchone()
                target = insert_checkin(conn, by_id[photo_ids[0]]["region_id"], stored_dt(first["taken_at"]))
            old = {r["checkin_id"] for r in rows} - {target, None}
            conn.execute(f"UPDATE photo SET checkin_id = ? WHERE id IN ({marks})", [target, *photo_ids])
            conn.execute("DELETE FROM repeat_noise WHERE checkin_id = ?", (target,))
            _delete_empty(conn, old)
            sync_checkin_date(conn, target)
        return self.checkin(target)

    def delete_checkin_if_empty(self, checkin_id: int) -> bool:
        """Remove a check-in no photo belongs to (e.g. every file of a check-in failed)."""
        with self._write() as conn:
            return _delete_empty(conn, {checkin_id}) > 0

    # ------------------------------------------------------------ repeat noise
    def save_repeat_noise(self, rec: RepeatNoiseRecord) -> None:
        with self._write() as conn:
            conn.execute(
                """INSERT INTO repeat_noise (checkin_id, metrics, algorithm_version, created_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (checkin_id) DO UPDATE SET metrics = excluded.metrics,
                       algorithm_version = excluded.algorithm_version, created_at = excluded.created_at""",
                (
                    rec.checkin_id,
                    json.dumps(plain(rec.metrics), allow_nan=False),
                    rec.algorithm_version,
                    dt_to_text(rec.created_at or now()),
                ),
            )

    def repeat_noise(self, checkin_id: int) -> RepeatNoiseRecord | None:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM repeat_noise WHERE checkin_id = ?", (checkin_id,)).fetchone()
        return None if row is None else repeat_noise_from_row(row)

    def repeat_noise_for_region(self, region_id: int) -> dict[int, RepeatNoiseRecord]:
        """Stored repeat noise of the region's check-ins, keyed by check-in id."""
        with self._read() as conn:
            rows = conn.execute(
                """SELECT n.* FROM repeat_noise n JOIN checkin c ON c.id = n.checkin_id
                   WHERE c.region_id = ?""",
                (region_id,),
            ).fetchall()
        return {int(r["checkin_id"]): repeat_noise_from_row(r) for r in rows}

    def delete_repeat_noise(self, checkin_id: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM repeat_noise WHERE checkin_id = ?", (checkin_id,))


def _delete_empty(conn: sqlite3.Connection, checkin_ids: set[int]) -> int:
    removed = 0
    for checkin_id in checkin_ids:
        if conn.execute("SELECT 1 FROM photo WHERE checkin_id = ? LIMIT 1", (checkin_id,)).fetchone() is None:
            removed += conn.execute("DELETE FROM checkin WHERE id = ?", (checkin_id,)).rowcount
    return removed
