"""Saving what the region editor changed: details, reference photo and the painted areas.

The editor paints on a reduced copy of the reference; the masks are turned into polygons in
reference pixels here, in the write pool, so the GUI thread does no image work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skintrack.library import Library
from skintrack.library.models import Region
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
    check-ins were moved. Nothing is deleted: the photos come back with ``restore_photo``."""
    photos = lib.list_photos(region_id)
    for photo in photos:
        lib.trash_photo(photo.id)
    lib.archive_region(region_id, True)
    return len(photos)
