"""Check-ins: several photos of one occasion kept together, the migration that adds them, and
``services.checkin.check_in`` storing one batch as one check-in."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from skintrack.errors import UsageError
from skintrack.library import Library
from skintrack.library import schema as schema_mod
from skintrack.progress import run_steps
from skintrack.services.checkin import CheckInItem, check_in, run_import
from support.library_photos import make_jpeg

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
CHECKIN_VERSION = schema_mod.MIGRATIONS.index(schema_mod._v6_checkins) + 1


def test_a_photo_imported_alone_is_a_check_in_of_its_own(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    report = run_import(lib, region.id, [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(2)])
    checkins = lib.list_checkins(region.id)
    assert [c.photo_ids for c in checkins] == [(p.id,) for p in report.imported]
    assert all(p.checkin_id is not None for p in lib.list_photos(region.id))


def test_photos_imported_into_one_check_in_are_listed_together(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    checkin = lib.add_checkin(region.id, note="close-up and overview")
    late, early = datetime(2024, 5, 2, 10, 5), datetime(2024, 5, 2, 10, 0)
    a = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", 1), taken_at=late, checkin_id=checkin.id)
    b = lib.import_file(region.id, make_jpeg(tmp_path / "b.jpg", 2), taken_at=early, checkin_id=checkin.id)
    stored = lib.checkin(checkin.id)
    assert stored.photo_ids == (b.photo.id, a.photo.id)  # oldest first
    assert stored.taken_at == early  # dated by its earliest photo
    assert stored.note == "close-up and overview"
    assert [c.id for c in lib.list_checkins(region.id)] == [checkin.id]
    lib.update_photo(a.photo.id, taken_at=datetime(2024, 5, 1, 9, 0))
    assert lib.checkin(checkin.id).taken_at == datetime(2024, 5, 1, 9, 0)


def test_a_check_in_of_another_region_is_refused(lib: Library, tmp_path: Path) -> None:
    arm, leg = lib.add_region("Arm"), lib.add_region("Leg")
    checkin = lib.add_checkin(leg.id)
    with pytest.raises(UsageError, match="does not belong"):
        lib.import_file(arm.id, make_jpeg(tmp_path / "a.jpg"), checkin_id=checkin.id)
    assert lib.list_photos(arm.id) == []


def test_grouping_photos_merges_check_ins_and_removes_emptied_ones(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    report = run_import(lib, region.id, [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(3)])
    ids = [p.id for p in report.imported]
    before = {c.id for c in lib.list_checkins(region.id)}
    merged = lib.group_photos(ids[:2])
    assert merged.photo_ids == tuple(ids[:2])
    after = lib.list_checkins(region.id)
    assert len(after) == 2 and {c.id for c in after} < before
    other = lib.add_region("Leg")
    photo = lib.import_file(other.id, make_jpeg(tmp_path / "x.jpg", 9)).photo
    with pytest.raises(UsageError, match="one region"):
        lib.group_photos([ids[0], photo.id])


def test_trashed_photos_leave_the_check_in_and_emptying_the_trash_removes_it(
    lib: Library, tmp_path: Path
) -> None:
    region = lib.add_region("Arm")
    photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg")).photo
    lib.trash_photo(photo.id)
    assert lib.list_checkins(region.id) == []
    lib.empty_trash()
    with pytest.raises(UsageError):
        lib.checkin(photo.checkin_id)


def test_check_in_stores_one_batch_as_one_check_in(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    when = datetime(2024, 6, 1, 9, 30).astimezone()
    items = [
        CheckInItem(make_jpeg(tmp_path / "close.jpg", 1), when + timedelta(minutes=1)),
        CheckInItem(make_jpeg(tmp_path / "overview.jpg", 2), when),
        CheckInItem(make_jpeg(tmp_path / "repeat.jpg", 3), None),
    ]
    result = run_steps(check_in(lib, region.id, items, notes="after the beach"))
    assert len(result.photo_ids) == 3
    checkin = lib.checkin(result.checkin_id)
    assert set(checkin.photo_ids) == set(result.photo_ids)
    assert checkin.note == "after the beach"
    assert len(lib.list_checkins(region.id)) == 1


def test_a_check_in_whose_files_all_fail_is_not_kept(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    result = run_steps(check_in(lib, region.id, [CheckInItem(bad)]))
    assert result.checkin_id is None and result.errors
    with lib._read() as conn:
        assert conn.execute("SELECT count(*) FROM checkin").fetchone()[0] == 0


@pytest.mark.parametrize("version", range(1, CHECKIN_VERSION))
def test_migration_makes_each_existing_photo_its_own_check_in(version: int, tmp_path: Path) -> None:
    root = tmp_path / "lib"
    shutil.copytree(FIXTURES / f"v{version}", root)
    with Library.open(root, create=False) as lib:
        photos = lib.list_photos(1, include_deleted=True)
        assert len({p.checkin_id for p in photos}) == len(photos) == 3
        for photo in photos:
            checkin = lib.checkin(photo.checkin_id)
            assert checkin.region_id == photo.region_id
            if not photo.in_trash:
                assert checkin.photo_ids == (photo.id,) and checkin.taken_at == photo.taken_at
        assert [c.photo_ids for c in lib.list_checkins(1)] == [(1,), (2,)]  # photo 3 is in the trash


def test_fixture_with_check_ins_keeps_its_groups_and_repeat_noise(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    shutil.copytree(FIXTURES / f"v{CHECKIN_VERSION}", root)
    with Library.open(root, create=False) as lib:
        first = lib.checkin(1)
        assert first.photo_ids == (1, 2) and first.note == "close-up and overview"
        assert first.taken_at == datetime(2024, 3, 1, 10, 15, 30, tzinfo=timezone(timedelta(hours=1)))
        noise = lib.repeat_noise(1)
        assert noise is not None and noise.metrics["robust_std_delta_L"] == 0.8
        assert set(lib.repeat_noise_for_region(1)) == {1}
