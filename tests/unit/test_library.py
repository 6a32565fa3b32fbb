"""Library API: regions, photo import (dates, duplicates, invalid files), trash, analysis rows, journal."""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.errors import InvalidInputError, LibraryError, UsageError
from skintrack.library import AlignmentRecord, Library, MeasurementRecord
from skintrack.library import schema as schema_mod


def make_jpeg(
    path: Path,
    seed: int = 0,
    size: tuple[int, int] = (96, 64),
    taken: str | None = None,
    offset: str | None = None,
) -> Path:
    """A small real JPEG with random content; optional EXIF DateTimeOriginal (+ OffsetTimeOriginal)."""
    rgb = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    if taken:
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = taken
        if offset:
            sub[0x9011] = offset
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=90, exif=exif.tobytes() if taken else b"")
    return path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# ---------------------------------------------------------------- open / schema
def test_open_creates_wal_database_with_foreign_keys(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        assert lib.db_path == library_dir / "skintrack.sqlite3"
        assert lib.originals_dir.is_dir() and lib.cache_dir.is_dir()
        assert lib.schema_version == schema_mod.LATEST_VERSION
    conn = sqlite3.connect(library_dir / "skintrack.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"region", "photo", "alignment", "measurement", "journal", "setting"} <= tables
    conn.close()


def test_open_without_create_refuses_missing_library(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no Skintrack library"):
        Library.open(tmp_path / "nowhere", create=False)
    assert not (tmp_path / "nowhere").exists()


def test_open_refuses_a_file_that_is_not_a_database(library_dir: Path) -> None:
    (library_dir / "skintrack.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError):
        Library.open(library_dir)


def test_closed_library_raises(library_dir: Path) -> None:
    lib = Library.open(library_dir)
    lib.close()
    with pytest.raises(LibraryError, match="closed"):
        lib.list_regions()


# ---------------------------------------------------------------- regions
def test_regions_add_rename_archive_and_list(lib: Library) -> None:
    arm = lib.add_region("Left forearm", body_site="inner side", interval_days=14, notes="n")
    cheek = lib.add_region("  Right   cheek ")
    assert cheek.name == "Right cheek"
    assert arm.interval_days == 14 and arm.body_site == "inner side" and not arm.archived
    with pytest.raises(UsageError, match="already exists"):
        lib.add_region("left forearm")  # names are case-insensitive
    with pytest.raises(UsageError):
        lib.add_region("   ")
    with pytest.raises(UsageError):
        lib.add_region("Bad", interval_days=0)

    assert [s.region.name for s in lib.list_regions()] == ["Left forearm", "Right cheek"]
    assert lib.region_by_name(" right  CHEEK").id == cheek.id
    lib.update_region(cheek.id, name="Right cheekbone", interval_days=None, notes="x")
    assert lib.region_by_name("Right cheekbone").notes == "x"
    with pytest.raises(UsageError, match="no region named"):
        lib.region_by_name("Right cheek")
    with pytest.raises(UsageError, match="already exists"):
        lib.update_region(cheek.id, name="Left forearm")

    lib.archive_region(arm.id)
    assert [s.region.name for s in lib.list_regions()] == ["Right cheekbone"]
    assert [s.region.name for s in lib.list_regions(include_archived=True)] == [
        "Right cheekbone",
        "Left forearm",
    ]
    assert lib.archive_region(arm.id, archived=False).archived is False
    with pytest.raises(UsageError):
        lib.region(999)


def test_region_summary_counts_and_overdue(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm", interval_days=30)
    empty = lib.list_regions()[0]
    assert (empty.photo_count, empty.last_taken_at, empty.overdue, empty.next_due) == (0, None, False, None)
    old = datetime.now() - timedelta(days=45)
    recent = datetime.now() - timedelta(days=40)
    lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", 1), taken_at=old)
    b = lib.import_file(region.id, make_jpeg(tmp_path / "b.jpg", 2), taken_at=recent).photo
    summary = lib.list_regions()[0]
    assert summary.photo_count == 2
    assert summary.latest_photo_id == b.id
    assert summary.last_taken_at == recent.replace(microsecond=0)
    assert summary.next_due == recent.date() + timedelta(days=30)
    assert summary.overdue
    lib.trash_photo(b.id)
    assert lib.list_regions()[0].photo_count == 1  # trashed photos do not count


def test_reference_and_areas(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    other = lib.add_region("Leg")
    photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg")).photo
    assert lib.set_reference(region.id, photo.id).reference_photo_id == photo.id
    with pytest.raises(UsageError, match="does not belong"):
        lib.set_reference(other.id, photo.id)
    watched = [[[10, 10], [50, 10], [50, 40]]]
    updated = lib.set_areas(region.id, watched=watched, control=np.array([[[1, 1], [5, 1], [5, 5], [1, 5]]]))
    assert updated.watched_area == [[[10.0, 10.0], [50.0, 10.0], [50.0, 40.0]]]
    assert updated.control_area is not None and len(updated.control_area[0]) == 4
    assert lib.set_areas(region.id, control=None).control_area is None
    assert lib.region(region.id).watched_area == updated.watched_area  # untouched when not given
    with pytest.raises(UsageError, match="3 points"):
        lib.set_areas(region.id, watched=[[[0, 0], [1, 1]]])


# ---------------------------------------------------------------- import
def test_import_copies_content_addressed_and_reads_exif_date_with_offset(
    lib: Library, tmp_path: Path
) -> None:
    region = lib.add_region("Arm")
    src = make_jpeg(tmp_path / "IMG_0001.JPG", taken="2024:03:01 10:15:30", offset="+02:00")
    outcome = lib.import_file(region.id, src, notes="first")
    photo = outcome.photo
    assert not outcome.duplicate
    assert photo.taken_at == datetime(2024, 3, 1, 10, 15, 30, tzinfo=timezone(timedelta(hours=2)))
    assert photo.taken_at_source == "exif"
    assert (photo.original_name, photo.suffix, photo.notes) == ("IMG_0001.JPG", ".jpg", "first")
    assert (photo.width, photo.height, photo.size_bytes) == (96, 64, src.stat().st_size)
    path = lib.original_path(photo)
    assert path == lib.originals_dir / photo.sha256[:2] / f"{photo.sha256}.jpg"
    assert path.read_bytes() == src.read_bytes()
    assert lib.thumbnail_path(photo).is_file()  # made during the import
    raw = sqlite3.connect(lib.db_path).execute("SELECT taken_at FROM photo").fetchone()[0]
    assert raw == "2024-03-01T10:15:30+02:00"


def test_import_date_falls_back_to_file_time_then_user_override(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    src = make_jpeg(tmp_path / "a.jpg", 1)
    stamp = datetime(2023, 6, 1, 8, 30).timestamp()
    os.utime(src, (stamp, stamp))
    photo = lib.import_file(region.id, src).photo
    assert photo.taken_at_source == "file"
    assert photo.taken_at.tzinfo is not None
    assert photo.taken_at.timestamp() == stamp

    naive_exif = make_jpeg(tmp_path / "b.jpg", 2, taken="2022:01:02 03:04:05")
    assert lib.import_file(region.id, naive_exif).photo.taken_at == datetime(2022, 1, 2, 3, 4, 5)

    override = lib.import_file(
        region.id, make_jpeg(tmp_path / "c.jpg", 3), taken_at=datetime(2020, 5, 5, 12, 0)
    )
    assert (override.photo.taken_at, override.photo.taken_at_source) == (datetime(2020, 5, 5, 12, 0), "user")
    # listing is chronological whatever the import order
    assert [p.original_name for p in lib.list_photos(region.id)] == ["c.jpg", "b.jpg", "a.jpg"]


def test_duplicate_in_region_writes_nothing_but_other_region_shares_the_file(
    lib: Library, tmp_path: Path
) -> None:
    arm, leg = lib.add_region("Arm"), lib.add_region("Leg")
    src = make_jpeg(tmp_path / "a.jpg")
    first = lib.import_file(arm.id, src).photo
    before = files_under(lib.root)
    again = lib.import_file(arm.id, tmp_path / "a.jpg")
    assert again.duplicate and again.photo.id == first.id
    assert files_under(lib.root) == before
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(src.read_bytes())
    assert lib.import_file(arm.id, copy).duplicate  # same bytes, other name: still a duplicate
    in_leg = lib.import_file(leg.id, src)
    assert not in_leg.duplicate
    assert lib.original_path(in_leg.photo) == lib.original_path(first)
    assert len(list(lib.originals_dir.rglob("*.jpg"))) == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.jpg", None, "no such file"),
        ("empty.jpg", b"", "empty"),
        ("text.jpg", b"hello, not a picture" * 20, "not an image"),
        ("notes.txt", b"hello", "unsupported file type"),
        ("truncated.jpg", "truncate", "truncated"),
    ],
)
def test_invalid_file_raises_naming_file_and_reason_and_changes_nothing(
    lib: Library, tmp_path: Path, name: str, content: bytes | str | None, reason: str
) -> None:
    region = lib.add_region("Arm")
    path = tmp_path / name
    if content == "truncate":
        good = make_jpeg(tmp_path / "good.jpg", size=(200, 150)).read_bytes()
        path.write_bytes(good[: len(good) // 2])
    elif content is not None:
        path.write_bytes(content)
    before = files_under(lib.root)
    with pytest.raises(InvalidInputError) as info:
        lib.import_file(region.id, path)
    assert info.value.path == path
    assert reason in info.value.reason
    assert name in str(info.value)
    assert lib.list_photos(region.id, include_deleted=True) == []
    assert {f for f in files_under(lib.root) if not f.startswith("skintrack.sqlite3")} == {
        f for f in before if not f.startswith("skintrack.sqlite3")
    }


def test_directory_is_invalid_input(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(InvalidInputError, match="not a regular file"):
        lib.import_file(region.id, tmp_path / "folder.jpg")


def test_png_import_keeps_suffix(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    src = tmp_path / "scan.PNG"
    Image.new("RGB", (40, 30), (200, 150, 120)).save(src)
    photo = lib.import_file(region.id, src).photo
    assert photo.suffix == ".png"
    assert lib.original_path(photo).name.endswith(".png")


# ---------------------------------------------------------------- edit / trash
def test_update_photo_records_user_date(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", taken="2024:01:01 09:00:00")).photo
    edited = lib.update_photo(photo.id, taken_at=datetime(2024, 1, 2, 9, 0), notes="after sun")
    assert (edited.taken_at_source, edited.notes) == ("user", "after sun")
    assert lib.update_photo(photo.id, notes="only notes").taken_at == datetime(2024, 1, 2, 9, 0)
    with pytest.raises(UsageError):
        lib.update_photo(12345, notes="x")


def test_trash_restore_and_empty(lib: Library, tmp_path: Path) -> None:
    arm, leg = lib.add_region("Arm"), lib.add_region("Leg")
    shared = make_jpeg(tmp_path / "shared.jpg", 1)
    only = make_jpeg(tmp_path / "only.jpg", 2)
    a_shared = lib.import_file(arm.id, shared).photo
    a_only = lib.import_file(arm.id, only).photo
    l_shared = lib.import_file(leg.id, shared).photo
    lib.set_reference(arm.id, a_only.id)

    trashed = lib.trash_photo(a_only.id)
    assert trashed.in_trash
    assert [p.id for p in lib.list_photos(arm.id)] == [a_shared.id]
    assert [p.id for p in lib.list_photos(arm.id, trash_only=True)] == [a_only.id]
    assert len(lib.list_photos(arm.id, include_deleted=True)) == 2
    assert lib.restore_photo(a_only.id).deleted_at is None

    lib.trash_photo(a_only.id)
    lib.trash_photo(a_shared.id)
    assert {p.id for p in lib.list_trash()} == {a_only.id, a_shared.id}
    only_path, shared_path = lib.original_path(a_only), lib.original_path(a_shared)
    only_thumb = lib.thumbnail_path(a_only)
    removed = lib.empty_trash()
    assert {p.id for p in removed} == {a_only.id, a_shared.id}
    assert not only_path.exists() and not only_thumb.exists()
    assert shared_path.exists()  # still used by the Leg region
    assert lib.list_photos(leg.id)[0].id == l_shared.id
    assert lib.region(arm.id).reference_photo_id is None  # ON DELETE SET NULL
    with pytest.raises(UsageError):
        lib.photo(a_only.id)
    assert lib.check().ok
    # the same file can come back after the trash was emptied
    assert not lib.import_file(arm.id, only).duplicate


def test_trash_unknown_photo(lib: Library) -> None:
    with pytest.raises(UsageError):
        lib.trash_photo(7)
    with pytest.raises(UsageError):
        lib.restore_photo(7)


# ---------------------------------------------------------------- thumbnails
def test_thumbnail_cache_is_disposable(lib: Library, tmp_path: Path) -> None:
    import shutil

    region = lib.add_region("Arm")
    photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", size=(800, 600))).photo
    thumb = lib.thumbnail_path(photo)
    assert thumb == lib.cache_dir / "thumbs" / photo.sha256[:2] / f"{photo.sha256}_320.jpg"
    shutil.rmtree(lib.cache_dir)
    again = lib.thumbnail_path(photo)
    assert again.is_file()
    with Image.open(again) as im:
        assert max(im.size) <= 320
    small = lib.thumbnail_path(photo, size=64)
    with Image.open(small) as im:
        assert max(im.size) <= 64
    assert lib.check().ok


# ---------------------------------------------------------------- analysis rows
def _alignment(photo_id: int, ref_id: int, method: str, quality: float = 0.9) -> AlignmentRecord:
    return AlignmentRecord(
        photo_id=photo_id,
        reference_id=ref_id,
        ok=True,
        homography=np.eye(3).tolist(),
        quality=quality,
        method=method,
        inliers=120,
        message="",
        manual_points=[[[1, 2], [3, 4]]] if method == "manual" else None,
        algorithm_version="align-1",
    )


def test_alignment_and_measurement_rows(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    ref = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", 1), taken_at=datetime(2024, 1, 1)).photo
    later = lib.import_file(region.id, make_jpeg(tmp_path / "b.jpg", 2), taken_at=datetime(2024, 6, 1)).photo
    assert lib.alignment(later.id, ref.id) is None
    assert lib.save_alignment(_alignment(later.id, ref.id, "features", 0.5))
    assert lib.save_alignment(_alignment(later.id, ref.id, "ecc", 0.7))  # automatic replaces automatic
    assert lib.alignment(later.id, ref.id).method == "ecc"
    assert lib.save_alignment(_alignment(later.id, ref.id, "manual", 0.8))
    assert not lib.save_alignment(_alignment(later.id, ref.id, "features", 0.99))  # manual wins
    stored = lib.alignment(later.id, ref.id)
    assert stored is not None
    assert (stored.method, stored.quality, stored.homography) == ("manual", 0.8, np.eye(3).tolist())
    assert stored.manual_points == [[[1, 2], [3, 4]]]
    assert lib.save_alignment(_alignment(later.id, ref.id, "manual", 0.6))  # manual replaces manual
    lib.delete_alignment(later.id, ref.id)
    assert lib.alignment(later.id, ref.id) is None

    metrics = {"darkened_fraction": np.float32(0.25), "patches": [{"bbox": np.array([1, 2, 3, 4])}]}
    lib.save_measurement(MeasurementRecord(later.id, ref.id, "model", metrics, "change-1"))
    lib.save_measurement(MeasurementRecord(ref.id, ref.id, "none", {"darkened_fraction": 0.0}, "change-1"))
    got = lib.measurement(later.id, ref.id)
    assert got is not None and got.metrics == {"darkened_fraction": 0.25, "patches": [{"bbox": [1, 2, 3, 4]}]}
    lib.save_measurement(MeasurementRecord(later.id, ref.id, "card", {"x": 1}, "change-2"))
    assert lib.measurement(later.id, ref.id).calibration == "card"
    assert [m.photo_id for m in lib.measurements_for_region(region.id)] == [ref.id, later.id]
    lib.trash_photo(later.id)
    assert [m.photo_id for m in lib.measurements_for_region(region.id)] == [ref.id]
    lib.empty_trash()  # rows of a deleted photo go with it (ON DELETE CASCADE)
    assert lib.measurement(later.id, ref.id) is None


# ---------------------------------------------------------------- journal & settings
def test_journal_crud_and_date_filter(lib: Library) -> None:
    dose = lib.add_journal(datetime(2024, 3, 1, 8, 0), "dose", substance="kratom", amount=4, unit="g")
    lib.add_journal(date(2024, 3, 5), "sun", notes="beach, 3 h")
    lib.add_journal(datetime(2024, 3, 10, 23, 59), "note", notes="itchy")
    assert (dose.kind, dose.substance, dose.amount, dose.unit) == ("dose", "kratom", 4.0, "g")
    assert [e.kind for e in lib.list_journal()] == ["dose", "sun", "note"]
    assert [e.kind for e in lib.list_journal(start=date(2024, 3, 2))] == ["sun", "note"]
    assert [e.kind for e in lib.list_journal(end=date(2024, 3, 5))] == ["dose", "sun"]
    assert [e.kind for e in lib.list_journal(date(2024, 3, 10), date(2024, 3, 10))] == ["note"]
    updated = lib.update_journal(dose.id, amount=None, notes="skipped", kind="medication")
    assert (updated.amount, updated.notes, updated.kind) == (None, "skipped", "medication")
    with pytest.raises(UsageError, match="kind"):
        lib.add_journal(date(2024, 1, 1), "party")
    lib.delete_journal(dose.id)
    assert len(lib.list_journal()) == 2
    with pytest.raises(UsageError):
        lib.delete_journal(dose.id)


def test_settings_roundtrip_json(lib: Library) -> None:
    assert lib.get_setting("threshold_L", 3.0) == 3.0
    lib.set_setting("threshold_L", 2.5)
    lib.set_setting("theme", {"dark": True, "accent": [1, 2, 3]})
    lib.set_setting("threshold_L", 4.0)
    assert lib.get_setting("threshold_L") == 4.0
    assert lib.get_setting("theme") == {"dark": True, "accent": [1, 2, 3]}


def test_data_survives_reopen(library_dir: Path, tmp_path: Path) -> None:
    with Library.open(library_dir) as lib:
        region = lib.add_region("Arm")
        photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg")).photo
    with Library.open(library_dir, create=False) as lib:
        assert lib.photo(photo.id) == photo
        assert lib.check().ok
