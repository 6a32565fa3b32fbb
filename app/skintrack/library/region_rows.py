"""Everything the main window shows of one region, read together and kept until the library changes.

The timeline, the details panel and the trend chart all need the region's photos, measurements,
check-ins and capture qualities. Reading them once per region (not once per widget), and not
again while nothing was written, keeps switching region quick in a library of years of photos.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from skintrack.library.db import Library
from skintrack.library.models import (
    CheckIn,
    JournalEntry,
    MeasurementRecord,
    Photo,
    Region,
    RepeatNoiseRecord,
)
from skintrack.library.quality_store import StoredQuality, qualities_for_region


@dataclass(frozen=True)
class RegionRows:
    """One region's stored rows as of one read (records are immutable; treat the metrics
    dicts inside as read-only: every reader of the cache shares them)."""

    region: Region
    photos: tuple[Photo, ...]  # live photos, oldest first
    measurements: tuple[MeasurementRecord, ...]  # every stored one (any reference), oldest photo first
    checkins: tuple[CheckIn, ...]
    qualities: Mapping[int, StoredQuality]  # photo id -> stored capture quality
    repeat_noise: Mapping[int, RepeatNoiseRecord]  # check-in id -> stored repeat noise
    journal: tuple[JournalEntry, ...]  # the whole journal, oldest first
    reference_id: int | None  # the region's reference, else its first photo (as the analysis does)
    failed_alignments: frozenset[int]  # photos whose stored alignment with the reference failed

    def measured(self) -> dict[int, MeasurementRecord]:
        """Photo id -> its measurement against the reference."""
        return {m.photo_id: m for m in self.measurements if m.reference_id == self.reference_id}


def read_region_rows(lib: Library, region_id: int) -> RegionRows:
    """All of ``region_id``'s rows the main window shows: a handful of indexed queries."""
    with lib._read() as conn:  # one lock hold: no write of this connection lands in between
        region = lib.region(region_id)
        photos = tuple(lib.list_photos(region_id))
        measurements = tuple(lib.measurements_for_region(region_id))
        ref_id = region.reference_photo_id or (photos[0].id if photos else None)
        failed = frozenset(
            int(r[0])
            for r in conn.execute(
                """SELECT a.photo_id FROM alignment a JOIN photo p ON p.id = a.photo_id
                   WHERE p.region_id = ? AND p.deleted_at IS NULL AND a.reference_id = ? AND a.ok = 0""",
                (region_id, ref_id),
            )
        )
        checkins = tuple(lib.list_checkins(region_id))
        qualities = qualities_for_region(lib, region_id)
        repeat_noise = lib.repeat_noise_for_region(region_id)
        journal = tuple(lib.list_journal())
    return RegionRows(
        region, photos, measurements, checkins, MappingProxyType(qualities),
        MappingProxyType(repeat_noise), journal, ref_id, failed,
    )  # fmt: skip


class RegionRowsCache:
    """The last few regions' rows, each valid while :meth:`Library.data_version` is unchanged.

    Any write to the library (through this process's connection, or a commit by another one)
    changes the version, so a stale region is read again on its next use, never shown.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._rows: OrderedDict[int, tuple[Library, tuple[int, int], RegionRows]] = OrderedDict()

    def get(self, lib: Library, region_id: int) -> RegionRows:
        version = lib.data_version()
        hit = self._rows.get(region_id)
        if hit is not None and hit[0] is lib and hit[1] == version:
            self._rows.move_to_end(region_id)
            return hit[2]
        rows = read_region_rows(lib, region_id)
        self._rows[region_id] = (lib, version, rows)
        self._rows.move_to_end(region_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)
        return rows

    def clear(self) -> None:
        self._rows.clear()
