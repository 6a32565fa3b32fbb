"""library.region_rows: one read of a region for the main window, kept until the library changes."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from skintrack.library import AlignmentRecord, Library, MeasurementRecord
from skintrack.library.region_rows import RegionRowsCache, read_region_rows

T0 = datetime(2025, 3, 1, 9, 0)


def _region(lib: Library, tmp: Path, name: str, n: int = 4) -> tuple[int, list[int]]:
    region = lib.add_region(name)
    rng = np.random.default_rng(len(name))
    ids = []
    for i in range(n):
        path = tmp / f"{name}-{i}.png"
        cv2.imwrite(str(path), (rng.random((30, 40, 3)) * 255).astype(np.uint8))
        ids.append(lib.import_file(region.id, path, taken_at=T0 + timedelta(days=20 * i)).photo.id)
    return region.id, ids


def _measure(lib: Library, photo_id: int, ref_id: int, dl: float) -> None:
    lib.save_measurement(MeasurementRecord(photo_id, ref_id, "card", {"mean_delta_L": dl}, "test"))


def test_rows_are_what_the_single_reads_return(lib: Library, tmp_path: Path) -> None:
    rid, ids = _region(lib, tmp_path, "Arm")
    _measure(lib, ids[1], ids[0], -1.0)
    lib.save_alignment(AlignmentRecord(ids[2], ids[0], False, None, 0.0, "auto", 0, "too blurry", None, "t"))
    lib.save_alignment(AlignmentRecord(ids[3], ids[0], False, None, 0.0, "auto", 0, "too dark", None, "t"))
    lib.trash_photo(ids[3])  # a trashed photo's failed alignment is not the timeline's
    rows = read_region_rows(lib, rid)
    assert rows.region == lib.region(rid)
    assert list(rows.photos) == lib.list_photos(rid)
    assert list(rows.measurements) == lib.measurements_for_region(rid)
    assert list(rows.checkins) == lib.list_checkins(rid)
    assert rows.reference_id == ids[0]  # no reference set: the first photo, as the analysis does
    assert rows.failed_alignments == {ids[2]}
    assert set(rows.measured()) == {ids[1]}


def test_cache_keeps_a_region_until_the_library_is_written(lib: Library, tmp_path: Path) -> None:
    rid, ids = _region(lib, tmp_path, "Arm")
    cache = RegionRowsCache()
    first = cache.get(lib, rid)
    assert cache.get(lib, rid) is first  # nothing written: no second read
    _measure(lib, ids[2], ids[0], -2.5)
    after = cache.get(lib, rid)
    assert after is not first and set(after.measured()) == {ids[2]}
    lib.update_photo(ids[1], notes="itchy")
    assert cache.get(lib, rid).photos[1].notes == "itchy"


def test_a_write_to_another_region_also_refreshes(lib: Library, tmp_path: Path) -> None:
    """The version is the library's, not the region's: any write makes every region read again."""
    arm, _ = _region(lib, tmp_path, "Arm")
    _leg, leg_ids = _region(lib, tmp_path, "Leg")
    cache = RegionRowsCache()
    first = cache.get(lib, arm)
    lib.update_photo(leg_ids[0], notes="x")
    assert cache.get(lib, arm) is not first


def test_cache_sees_a_commit_by_another_connection(lib: Library, tmp_path: Path) -> None:
    """Another process (the command line) writing the same library is seen too."""
    rid, ids = _region(lib, tmp_path, "Arm")
    cache = RegionRowsCache()
    assert cache.get(lib, rid).photos[0].notes == ""
    other = sqlite3.connect(lib.db_path)
    try:
        with other:
            other.execute("UPDATE photo SET notes = 'from the CLI' WHERE id = ?", (ids[0],))
    finally:
        other.close()
    assert cache.get(lib, rid).photos[0].notes == "from the CLI"


def test_cache_is_per_library_and_bounded(lib: Library, tmp_path: Path) -> None:
    rids = [_region(lib, tmp_path, f"R{k}", n=1)[0] for k in range(4)]
    cache = RegionRowsCache(size=2)
    rows = {rid: cache.get(lib, rid) for rid in rids}
    assert cache.get(lib, rids[-1]) is rows[rids[-1]]
    assert cache.get(lib, rids[0]) is not rows[rids[0]]  # dropped: the two most recent are kept
    other_root = tmp_path / "other"
    other_root.mkdir()
    with Library.open(other_root) as other:
        oid = other.add_region("Elsewhere").id
        assert oid == rids[0]  # the same id in another library...
        assert cache.get(other, oid).region.name == "Elsewhere"
        assert cache.get(lib, oid).region.name == "R0"  # ...is another region
