"""Saving what the region editor changed: details, reference photo and the painted areas.

The editor paints on a reduced copy of the reference; the masks are turned into polygons in
reference pixels here, in the write pool, so the GUI thread does no image work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skintrack.errors import UsageError
from skintrack.library import Library
from skintrack.library.models import Photo, Region
from skintrack.library.region_delete import delete_empty_region
from skintrack.services.areas import Polygon, mask_to_polygons


@dataclass(frozen=True)
class AreaMasks:
    """The watched area and control patch as painted (uint8 masks on the preview)."""

    watched: np.ndarray
    control: np.ndarray
    scale: float  # preview pixel -> reference pixel


@dataclass(frozen=True)
class RegionEdit:
    name: str
    body_site: str = ""
    notes: str = ""
    interval_days: int | None = None
    reference_id: int | None = None  # None: keep the reference
    areas: AreaMasks | None = None  # None: keep the stored areas


def mask_to_reference_polygons(mask: np.ndarray, scale: float) -> list[Polygon] | None:
    """A preview mask -> polygons in reference pixels (None when nothing is painted)."""
    polys = mask_to_polygons(mask)
    return [[[x * scale, y * scale] for x, y in p] for p in polys] or None


def save_region_edit(lib: Library, region_id: int, edit: RegionEdit) -> Region:
    """Store ``edit``; measurements are not redone here (the caller queues the analysis)."""
    lib.update_region(
        region_id,
        name=edit.name,
        body_site=edit.body_site,
        notes=edit.notes,
        interval_days=edit.interval_days,
    )
    if edit.reference_id is not None:
        lib.set_reference(region_id, edit.reference_id)
    if edit.areas is not None:
        lib.set_areas(
            region_id,
            watched=mask_to_reference_polygons(edit.areas.watched, edit.areas.scale),
            control=mask_to_reference_polygons(edit.areas.control, edit.areas.scale),
        )
    return lib.region(region_id)


def trash_region(lib: Library, region_id: int) -> int:
    """Move every check-in of the region to the trash and archive the region; returns how many
    check-ins were moved. Nothing is deleted: the photos come back with ``restore_photo``; the
    region itself is deleted by ``empty_trash`` when none of its photos is left by then."""
    photos = lib.list_photos(region_id)
    for photo in photos:
        lib.trash_photo(photo.id)
    lib.archive_region(region_id, True)
    lib.set_setting(TRASHED_REGIONS_KEY, sorted(_trashed_ids(lib) | {region_id}))
    return len(photos)


TRASHED_REGIONS_KEY = "trash.regions"  # ids of regions moved to the trash, deleted when it is emptied


@dataclass(frozen=True)
class EmptiedTrash:
    photos: list[Photo]
    regions: list[Region]  # trashed regions deleted because no photo was left in them


def _trashed_ids(lib: Library) -> set[int]:
    value = lib.get_setting(TRASHED_REGIONS_KEY, [])
    return {int(v) for v in value} if isinstance(value, list) else set()


def unarchive_region(lib: Library, region_id: int) -> Region:
    """Bring the region back; one that was moved to the trash is no longer deleted with it."""
    ids = _trashed_ids(lib)
    if region_id in ids:
        lib.set_setting(TRASHED_REGIONS_KEY, sorted(ids - {region_id}))
    return lib.archive_region(region_id, False)


def empty_trash(lib: Library) -> EmptiedTrash:
    """Delete the trashed photos for good, then every trashed region left without photos (one
    whose check-ins were restored keeps them and stays, archived)."""
    photos = lib.empty_trash()
    ids = _trashed_ids(lib)
    regions: list[Region] = []
    kept: set[int] = set()
    for region_id in sorted(ids):
        try:
            region = lib.region(region_id)
        except UsageError:
            continue  # already gone
        if region.archived and delete_empty_region(lib, region_id):
            regions.append(region)
        elif region.archived:
            kept.add(region_id)
    if kept != ids:
        lib.set_setting(TRASHED_REGIONS_KEY, sorted(kept))
    return EmptiedTrash(photos, regions)
