"""Item models for the sidebar (regions) and the timeline (check-ins), with named custom roles.

Listing is one or two SQL queries (fast even for thousands of photos); thumbnails come lazily
from a :class:`~skintrack.ui.thumbnails.ThumbnailLoader` through ``Qt.DecorationRole``. A new
list resets the model; a single changed row emits ``dataChanged``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)

from skintrack.core import formatting
from skintrack.library.models import MeasurementRecord, Photo, RegionSummary
from skintrack.library.settings import defaults
from skintrack.ui.shot_groups import ShotGroup, shot_groups
from skintrack.ui.thumbnails import ThumbnailLoader

Index = QModelIndex | QPersistentModelIndex
USER = int(Qt.ItemDataRole.UserRole)


class RegionRole(IntEnum):
    RegionId = USER + 1
    Name = USER + 2
    BodySite = USER + 3
    LastTakenAt = USER + 4
    PhotoCount = USER + 5
    Overdue = USER + 6
    NextDue = USER + 7
    LatestPhotoId = USER + 8
    Summary = USER + 9


class PhotoRole(IntEnum):
    PhotoId = USER + 1
    TakenAt = USER + 2
    Notes = USER + 3
    IsReference = USER + 4
    Measurement = USER + 5  # metrics dict vs the region reference, or None
    MeanDeltaL = USER + 6  # float | None
    Photo = USER + 7
    TakenAtSource = USER + 8
    ShotGroup = USER + 9  # ShotGroup: the tile's place among its check-in's shots


def fmt_date(value: date | datetime | None) -> str:
    """The app's one date format (core.formatting)."""
    return formatting.day(value)


class RegionListModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailLoader | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RegionSummary] = []
        self.thumbs = thumbs
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)

    def set_regions(self, rows: list[RegionSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def summary(self, row: int) -> RegionSummary:
        return self._rows[row]

    def row_of(self, region_id: int | None) -> int:
        for i, s in enumerate(self._rows):
            if s.region.id == region_id:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in RegionRole:
            names[int(role)] = QByteArray(role.name[0].lower().encode() + role.name[1:].encode())
        return names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        r = s.region
        if role == Qt.ItemDataRole.DisplayRole or role == RegionRole.Name:
            return r.name
        if role == Qt.ItemDataRole.ToolTipRole:
            due = f"\nNext check-in due {fmt_date(s.next_due)}" if s.next_due else ""
            site = f" ({r.body_site})" if r.body_site else ""
            return f"{r.name}{site}\n{s.photo_count} check-ins, last {fmt_date(s.last_taken_at)}{due}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get(s.latest_photo_id) if self.thumbs is not None else None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.name}, {s.photo_count} check-ins" + (", overdue" if s.overdue else "")
        mapping = {
            RegionRole.RegionId: r.id,
            RegionRole.BodySite: r.body_site,
            RegionRole.LastTakenAt: s.last_taken_at,
            RegionRole.PhotoCount: s.photo_count,
            RegionRole.Overdue: s.overdue,
            RegionRole.NextDue: s.next_due,
            RegionRole.LatestPhotoId: s.latest_photo_id,
            RegionRole.Summary: s,
        }
        return mapping.get(role)  # type: ignore[call-overload]

    @Slot(int)
    def _thumb_ready(self, photo_id: int) -> None:
        for i, s in enumerate(self._rows):
            if s.latest_photo_id == photo_id:
                idx = self.index(i)
                self.dataChanged.emit(idx, idx, [int(Qt.ItemDataRole.DecorationRole)])


class PhotoListModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailLoader | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Photo] = []
        self._metrics: dict[int, dict[str, Any]] = {}
        self._row_of: dict[int, int] = {}
        self._groups: list[ShotGroup] = []
        self.reference_id: int | None = None
        self.threshold_L = defaults().threshold_L
        self.thumbs = thumbs
        if thumbs is not None:
            thumbs.ready.connect(self._thumb_ready)

    def set_photos(
        self,
        photos: list[Photo],
        measurements: list[MeasurementRecord] | None = None,
        reference_id: int | None = None,
        standing: dict[int, int] | None = None,
    ) -> None:
        """Show ``photos``; measurements are filtered to those against ``reference_id``.

        ``standing`` (check-in id -> its measured photo) marks that shot in its check-in's group.
        """
        self.beginResetModel()
        self._rows = list(photos)
        self._groups = shot_groups(self._rows, standing or {})
        self._row_of = {p.id: i for i, p in enumerate(self._rows)}
        self.reference_id = reference_id
        self._metrics = {
            m.photo_id: {**m.metrics, "calibration": m.metrics.get("calibration", m.calibration)}
            for m in (measurements or [])
            if m.reference_id == reference_id
        }
        self.endResetModel()

    def clear(self) -> None:
        self.set_photos([], [], None)

    def photo(self, row: int) -> Photo:
        return self._rows[row]

    def photos(self) -> list[Photo]:
        return list(self._rows)

    def row_of(self, photo_id: int | None) -> int:
        return -1 if photo_id is None else self._row_of.get(photo_id, -1)

    def metrics(self, photo_id: int) -> dict[str, Any] | None:
        return self._metrics.get(photo_id)

    def update_photo(self, photo: Photo) -> None:
        row = self.row_of(photo.id)
        if row < 0:
            return
        self._rows[row] = photo
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def set_notes(self, photo_id: int, notes: str) -> None:
        row = self.row_of(photo_id)
        if row >= 0:
            self.update_photo(replace(self._rows[row], notes=notes))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        for role in PhotoRole:
            names[int(role)] = QByteArray(role.name[0].lower().encode() + role.name[1:].encode())
        return names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        p = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return fmt_date(p.taken_at)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.get(p.id) if self.thumbs is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{formatting.day_time(p.taken_at)} ({p.taken_at_source})", p.original_name]
            if p.notes:
                lines.append(p.notes)
            if self._groups[index.row()].grouped:
                lines.append(f"Check-in {self._groups[index.row()].label()}")
            dl = self._mean_dl(p.id)
            if p.id == self.reference_id:
                lines.append("Reference photo")
            elif dl is not None:
                lines.append(f"mean ΔL* {formatting.signed(dl)} vs reference")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Check-in {fmt_date(p.taken_at)}"
        if role == PhotoRole.PhotoId:
            return p.id
        if role == PhotoRole.TakenAt:
            return p.taken_at
        if role == PhotoRole.Notes:
            return p.notes
        if role == PhotoRole.IsReference:
            return p.id == self.reference_id
        if role == PhotoRole.Measurement:
            return self._metrics.get(p.id)
        if role == PhotoRole.MeanDeltaL:
            return self._mean_dl(p.id)
        if role == PhotoRole.Photo:
            return p
        if role == PhotoRole.TakenAtSource:
            return p.taken_at_source
        if role == PhotoRole.ShotGroup:
            return self._groups[index.row()]
        return None

    def _mean_dl(self, photo_id: int) -> float | None:
        m = self._metrics.get(photo_id)
        if not m:
            return None
        value = m.get("mean_delta_L")
        return float(value) if isinstance(value, (int, float)) else None

    @Slot(int)
    def _thumb_ready(self, photo_id: int) -> None:
        row = self.row_of(photo_id)
        if row >= 0:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [int(Qt.ItemDataRole.DecorationRole)])
