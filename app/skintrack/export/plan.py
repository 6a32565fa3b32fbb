"""Plan an export before running it: which check-ins, which output, which options.

Pure (no Qt, no I/O beyond reading library records in :func:`plan_for_region`), so the CLI, the
export dialog and tests agree on exactly what an export will contain before any pixel is
touched (Vorta's "prepare, then run").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from skintrack.errors import UsageError
from skintrack.library.db import Library
from skintrack.library.models import Photo, Region

FORMATS: tuple[str, ...] = ("contact-sheet", "gif", "mp4", "pdf", "csv", "json", "zip")
SUFFIXES: dict[str, tuple[str, ...]] = {
    "contact-sheet": (".png", ".jpg", ".jpeg"),
    "gif": (".gif",),
    "mp4": (".mp4",),
    "pdf": (".pdf",),
    "csv": (".csv",),
    "json": (".json",),
    "zip": (".zip",),
}
FORMAT_LABELS: dict[str, str] = {
    "contact-sheet": "Contact sheet (PNG/JPEG)",
    "gif": "Timelapse GIF",
    "mp4": "Timelapse MP4 (H.264)",
    "pdf": "PDF report for a clinician",
    "csv": "Measurements (CSV)",
    "json": "Measurements (JSON)",
    "zip": "Aligned images + measurements (ZIP)",
}
#: formats that render aligned frames (the others only read stored measurements)
IMAGE_FORMATS = frozenset({"contact-sheet", "gif", "mp4", "pdf", "zip"})

MIN_SIZE, MAX_SIZE = 64, 4096
MIN_FRAME_MS, MAX_FRAME_MS = 20, 60_000


@dataclass(frozen=True)
class ExportOptions:
    """User choices; ``size`` is the long side of each frame in pixels."""

    heatmap: bool = False
    frame_ms: int = 600
    size: int = 720
    keep_exif: bool = False  # deprecated alias of keep_gps
    keep_gps: bool = False  # opt-in: exported images carry EXIF including the GPS location
    keep_identifying_exif: bool = False  # opt-in: ... and serials, owner, artist, host, maker notes

    @property
    def carries_exif(self) -> bool:
        """Whether exported images carry any of the originals' EXIF (never unless opted in)."""
        return self.keep_exif or self.keep_gps or self.keep_identifying_exif

    @property
    def keeps_gps(self) -> bool:
        return self.keep_gps or self.keep_exif


@dataclass(frozen=True)
class PlannedPhoto:
    photo_id: int
    taken_at: datetime
    original_name: str
    is_reference: bool


@dataclass(frozen=True)
class ExportPlan:
    """Everything ``services.export.run_export`` needs; ``photos`` are in date order."""

    format: str
    region_id: int
    region_name: str
    body_site: str
    reference_id: int | None
    photos: tuple[PlannedPhoto, ...]
    start: date | None = None
    end: date | None = None
    options: ExportOptions = field(default_factory=ExportOptions)

    @property
    def renders_frames(self) -> bool:
        return self.format in IMAGE_FORMATS

    @property
    def frame_reference_id(self) -> int:
        """The photo every frame is aligned to: the region's reference, else the first photo."""
        return self.reference_id if self.reference_id is not None else self.photos[0].photo_id

    @property
    def photo_ids(self) -> list[int]:
        return [p.photo_id for p in self.photos]

    @property
    def steps(self) -> int:
        """Progress units: one per check-in rendered, plus one for writing the file."""
        return (len(self.photos) if self.renders_frames else 0) + 1

    def date_range_text(self) -> str:
        if not self.photos:
            return "no check-ins"
        first, last = self.photos[0].taken_at.date(), self.photos[-1].taken_at.date()
        return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _day(value: date | datetime | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def check_options(options: ExportOptions) -> None:
    if not MIN_SIZE <= int(options.size) <= MAX_SIZE:
        raise UsageError(f"--size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {options.size}")
    if not MIN_FRAME_MS <= int(options.frame_ms) <= MAX_FRAME_MS:
        raise UsageError(
            f"--frame-ms must be between {MIN_FRAME_MS} and {MAX_FRAME_MS} ms, got {options.frame_ms}"
        )


def check_out_path(fmt: str, out: str | Path) -> Path:
    """The output path, checked against the format's suffixes (UsageError otherwise)."""
    path = Path(out)
    allowed = SUFFIXES[fmt]
    if path.suffix.lower() not in allowed:
        raise UsageError(
            f"{fmt} exports need a file name ending in {' or '.join(allowed)}, got {path.name!r}"
        )
    if path.exists() and path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name")
    if not path.parent.exists():
        raise UsageError(f"the folder {path.parent} does not exist")
    return path


def build_plan(
    fmt: str,
    region: Region,
    photos: Sequence[Photo],
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    selected: Iterable[int] | None = None,
    options: ExportOptions | None = None,
) -> ExportPlan:
    """Choose the check-ins of ``region`` (Region record) among ``photos`` (Photo records).

    ``start``/``end`` are inclusive days; ``selected`` restricts to those photo ids (unknown ids
    are a UsageError, so a typo is not silently an empty export). Trashed photos never count.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    options = options or ExportOptions()
    check_options(options)
    first, last = _day(start), _day(end)
    if first is not None and last is not None and first > last:
        raise UsageError(f"the start date {first} is after the end date {last}")
    live = [p for p in photos if p.deleted_at is None]
    live.sort(key=lambda p: (p.taken_at.replace(tzinfo=None), p.id))
    wanted: set[int] | None = None
    if selected is not None:
        wanted = {int(i) for i in selected}
        unknown = wanted - {p.id for p in live}
        if unknown:
            raise UsageError(
                f"photo id(s) {', '.join(map(str, sorted(unknown)))} are not check-ins of {region.name!r}"
            )
    ref_id = region.reference_photo_id
    if ref_id is None or ref_id not in {p.id for p in live}:
        ref_id = live[0].id if live else None
    chosen: list[PlannedPhoto] = []
    for p in live:
        day = p.taken_at.date()
        if first is not None and day < first:
            continue
        if last is not None and day > last:
            continue
        if wanted is not None and p.id not in wanted:
            continue
        chosen.append(PlannedPhoto(p.id, p.taken_at, p.original_name, p.id == ref_id))
    if not chosen and fmt in IMAGE_FORMATS:
        raise UsageError(f"no check-ins of {region.name!r} match the chosen dates and photos")
    return ExportPlan(
        format=fmt,
        region_id=region.id,
        region_name=region.name,
        body_site=region.body_site,
        reference_id=ref_id,
        photos=tuple(chosen),
        start=first,
        end=last,
        options=options,
    )


def plan_for_region(
    lib: Library,
    region_id: int,
    fmt: str,
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    selected: Iterable[int] | None = None,
    options: ExportOptions | None = None,
) -> ExportPlan:
    """:func:`build_plan` with the region and photos read from an open library."""
    return build_plan(
        fmt,
        lib.region(region_id),
        lib.list_photos(region_id),
        start=start,
        end=end,
        selected=selected,
        options=options,
    )
