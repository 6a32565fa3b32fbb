"""Regions: named body sites with their reference photo, watched area and control patch."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from skintrack.core.dates import add_days
from skintrack.errors import UsageError
from skintrack.library.base import LibraryCore
from skintrack.library.models import Polygon, Region, RegionSummary
from skintrack.library.rows import (
    UNSET,
    dt_from_text,
    dt_to_text,
    json_or_none,
    load_json,
    now,
    plain,
    record_from_row,
    stored_dt,
)

_REGION_COLUMNS = {
    "watched_area": load_json,
    "control_area": load_json,
    "archived": bool,
    "created_at": dt_from_text,
}


def region_from_row(row: sqlite3.Row) -> Region:
    return record_from_row(Region, row, _REGION_COLUMNS)


class RegionRecords(LibraryCore):
    """Adding, listing and editing regions."""

    def add_region(
        self, name: str, body_site: str = "", interval_days: int | None = None, notes: str = ""
    ) -> Region:
        name = _clean_name(name)
        _check_interval(interval_days)
        try:
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO region (name, body_site, notes, interval_days, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, body_site, notes, interval_days, dt_to_text(now())),
                )
                region_id = cur.lastrowid
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"a region named {name!r} already exists") from exc
        assert region_id is not None
        return self.region(region_id)

    def region(self, region_id: int) -> Region:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM region WHERE id = ?", (region_id,)).fetchone()
        if row is None:
            raise UsageError(f"no region with id {region_id}")
        return region_from_row(row)

    def region_by_name(self, name: str) -> Region:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM region WHERE name = ?", (" ".join(name.split()),)).fetchone()
        if row is None:
            raise UsageError(f"no region named {name!r} (see `skintrack region list --all`)")
        return region_from_row(row)

    def list_regions(self, include_archived: bool = False) -> list[RegionSummary]:
        """Regions by name with photo count, last check-in and the overdue flag."""
        sql = """
            SELECT r.*, s.photo_count, s.max_sort,
                   (SELECT p.id FROM photo p WHERE p.region_id = r.id AND p.deleted_at IS NULL
                    ORDER BY p.taken_at_sort DESC, p.id DESC LIMIT 1) AS latest_id
            FROM region r
            LEFT JOIN (SELECT region_id, COUNT(*) AS photo_count, MAX(taken_at_sort) AS max_sort
                       FROM photo WHERE deleted_at IS NULL GROUP BY region_id) s ON s.region_id = r.id
        """
        if not include_archived:
            sql += " WHERE r.archived = 0"
        sql += " ORDER BY r.archived, r.name COLLATE NOCASE"
        with self._read() as conn:
            rows = conn.execute(sql).fetchall()
            latest = {}
            ids = [row["latest_id"] for row in rows if row["latest_id"] is not None]
            if ids:
                marks = ",".join("?" * len(ids))
                for prow in conn.execute(f"SELECT id, taken_at FROM photo WHERE id IN ({marks})", ids):
                    latest[prow["id"]] = stored_dt(prow["taken_at"])
        today = date.today()
        summaries = []
        for row in rows:
            region = region_from_row(row)
            last = latest.get(row["latest_id"])
            next_due = None
            overdue = False
            if region.interval_days and last is not None:
                next_due = add_days(last.date(), region.interval_days)
                overdue = next_due is not None and today > next_due and not region.archived
            summaries.append(
                RegionSummary(
                    region=region,
                    photo_count=row["photo_count"] or 0,
                    last_taken_at=last,
                    latest_photo_id=row["latest_id"],
                    overdue=overdue,
                    next_due=next_due,
                )
            )
        return summaries

    def update_region(
        self,
        region_id: int,
        *,
        name: str = UNSET,
        body_site: str = UNSET,
        notes: str = UNSET,
        interval_days: int | None = UNSET,
    ) -> Region:
        fields: dict[str, Any] = {}
        if name is not UNSET:
            fields["name"] = _clean_name(name)
        if body_site is not UNSET:
            fields["body_site"] = body_site
        if notes is not UNSET:
            fields["notes"] = notes
        if interval_days is not UNSET:
            _check_interval(interval_days)
            fields["interval_days"] = interval_days
        try:
            self._update("region", region_id, fields)
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"a region named {fields.get('name')!r} already exists") from exc
        return self.region(region_id)

    def archive_region(self, region_id: int, archived: bool = True) -> Region:
        self._update("region", region_id, {"archived": int(archived)})
        return self.region(region_id)

    def set_reference(self, region_id: int, photo_id: int | None) -> Region:
        """Choose the photo every other photo of the region is aligned and compared to."""
        if photo_id is not None:
            photo = self.photo(photo_id)
            if photo.region_id != region_id:
                raise UsageError(f"photo {photo_id} does not belong to region {region_id}")
            if photo.in_trash:
                raise UsageError(f"photo {photo_id} is in the trash")
        self._update("region", region_id, {"reference_photo_id": photo_id})
        return self.region(region_id)

    def set_areas(
        self,
        region_id: int,
        watched: list[Polygon] | None = UNSET,
        control: list[Polygon] | None = UNSET,
    ) -> Region:
        """Store the watched area and/or the control patch (polygons in reference pixels)."""
        fields: dict[str, Any] = {}
        if watched is not UNSET:
            fields["watched_area"] = json_or_none(_check_polygons(watched))
        if control is not UNSET:
            fields["control_area"] = json_or_none(_check_polygons(control))
        self._update("region", region_id, fields)
        return self.region(region_id)


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise UsageError("a region needs a name")
    return cleaned


def _check_interval(interval_days: int | None) -> None:
    if interval_days is not None and (not isinstance(interval_days, int) or interval_days <= 0):
        raise UsageError(f"the check-in interval must be a positive number of days, not {interval_days!r}")


def _check_polygons(polygons: list[Polygon] | None) -> list[Polygon] | None:
    if polygons is None:
        return None
    cleaned = []
    for polygon in polygons:
        points = [[float(x), float(y)] for x, y in plain(polygon)]
        if len(points) < 3:
            raise UsageError("an area polygon needs at least 3 points")
        cleaned.append(points)
    return cleaned or None
