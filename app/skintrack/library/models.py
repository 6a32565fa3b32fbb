"""Plain, immutable records returned by the library (no SQLite or Qt types leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

Polygon = list[list[float]]  # [[x, y], ...] in reference-photo pixels
TakenAtSource = Literal["exif", "file", "user", "now"]
JournalKind = Literal["dose", "sun", "medication", "note"]
JOURNAL_KINDS: tuple[str, ...] = ("dose", "sun", "medication", "note")
TAKEN_AT_SOURCES: tuple[str, ...] = ("exif", "file", "user", "now")


@dataclass(frozen=True)
class Region:
    id: int
    name: str
    body_site: str
    notes: str
    interval_days: int | None
    reference_photo_id: int | None
    watched_area: list[Polygon] | None
    control_area: list[Polygon] | None
    archived: bool
    created_at: datetime


@dataclass(frozen=True)
class RegionSummary:
    """A region with what the sidebar needs: count, last check-in and whether one is overdue."""

    region: Region
    photo_count: int
    last_taken_at: datetime | None
    latest_photo_id: int | None
    overdue: bool
    next_due: date | None


@dataclass(frozen=True)
class Photo:
    id: int
    region_id: int
    sha256: str
    original_name: str
    suffix: str  # lower case with the dot, e.g. ".jpg"
    size_bytes: int
    width: int
    height: int
    taken_at: datetime
    taken_at_source: TakenAtSource
    imported_at: datetime
    notes: str
    deleted_at: datetime | None
    taken_at_note: str = ""  # why the photo's own date was not used ("" when it was, or for user dates)
    checkin_id: int | None = None  # the check-in the photo was taken in

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class CheckIn:
    """Photos of one region taken together on one occasion, dated by its earliest photo.

    ``photo_ids`` are the live (not trashed) photos, oldest first; several are a close-up and
    an overview, or repeat shots whose disagreement is the set-up's repeat noise.
    """

    id: int
    region_id: int
    taken_at: datetime
    note: str
    created_at: datetime
    photo_ids: tuple[int, ...] = ()

    @property
    def shots(self) -> int:
        return len(self.photo_ids)


@dataclass(frozen=True)
class RepeatNoiseRecord:
    """How much a check-in's repeat shots disagree, in ΔL* on the watched area (L* units).

    ``metrics`` holds ``robust_std_delta_L`` (1.4826·MAD of per-pixel ΔL*), ``abs_mean_delta_L``,
    ``compared_px``, ``area`` ("watched area" or "whole overlap"), ``pairs`` and ``photo_ids``.
    """

    checkin_id: int
    metrics: dict[str, Any]
    algorithm_version: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class ImportOutcome:
    """Result of importing one file; ``duplicate`` means the region already had these bytes."""

    photo: Photo
    duplicate: bool = False
    repaired: bool = False  # a damaged stored original was replaced by this file's verified bytes


@dataclass(frozen=True)
class AlignmentRecord:
    photo_id: int
    reference_id: int
    ok: bool
    homography: list[list[float]] | None  # 3x3, photo pixels -> reference pixels
    quality: float
    method: str
    inliers: int
    message: str
    manual_points: list[list[list[float]]] | None  # [[reference x, y], [photo x, y]] per pair
    algorithm_version: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class MeasurementRecord:
    photo_id: int
    reference_id: int
    calibration: str
    metrics: dict[str, Any]
    algorithm_version: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: datetime
    kind: JournalKind
    substance: str
    amount: float | None
    unit: str
    notes: str


@dataclass(frozen=True)
class CheckReport:
    """What ``Library.check`` found; ``ok`` is True when no problem remains after any repair."""

    orphans: list[Path]
    missing: list[Photo]
    altered: list[Photo]
    ok: bool
    temp_files: list[Path] = field(default_factory=list)  # stale ones are removed: see ``removed``
    removed: list[Path] = field(default_factory=list)  # temp leftovers of processes that are gone
    moved: dict[Path, Path] = field(default_factory=dict)  # orphan -> its place in lost+found
    lost_and_found: list[Path] = field(default_factory=list)  # restorable with `check --rebuild`
    busy_temp_files: list[Path] = field(default_factory=list)  # a running process is writing them
    invalid_rows: list[tuple[int, str]] = field(default_factory=list)  # (photo id, why)
    bad_dates: list[int] = field(default_factory=list)  # photo ids with an impossible stored date
    notices: list[str] = field(default_factory=list)  # restore swaps beside the library, described
    stuck_swaps: list[Path] = field(default_factory=list)  # interrupted ones opening could not resolve
