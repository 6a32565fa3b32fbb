"""A region moved to the trash is deleted when the trash is emptied and nothing of it is left."""

from __future__ import annotations

from pathlib import Path

from skintrack.library import Library
from skintrack.services.regions import empty_trash, trash_region, unarchive_region
from support.library_photos import make_jpeg


def _region(lib: Library, tmp_path: Path, name: str, n: int, seed: int = 0) -> int:
    region = lib.add_region(name)
    for i in range(n):
        lib.import_file(region.id, make_jpeg(tmp_path / name / f"{i}.jpg", seed + i))
    return region.id


def _names(lib: Library) -> list[str]:
    return [s.region.name for s in lib.list_regions(include_archived=True)]


def test_emptying_the_trash_deletes_a_trashed_region_left_without_photos(
    lib: Library, tmp_path: Path
) -> None:
    cheek = _region(lib, tmp_path, "Cheek", 2)
    _region(lib, tmp_path, "Arm", 1, seed=10)
    assert trash_region(lib, cheek) == 2
    emptied = empty_trash(lib)
    assert len(emptied.photos) == 2
    assert [r.name for r in emptied.regions] == ["Cheek"]
    assert _names(lib) == ["Arm"]
    assert empty_trash(lib).regions == []  # nothing is deleted twice


def test_a_trashed_region_whose_check_ins_were_restored_stays(lib: Library, tmp_path: Path) -> None:
    cheek = _region(lib, tmp_path, "Cheek", 2)
    trash_region(lib, cheek)
    lib.restore_photo(lib.list_photos(cheek, trash_only=True)[0].id)
    emptied = empty_trash(lib)
    assert len(emptied.photos) == 1 and emptied.regions == []
    assert _names(lib) == ["Cheek"] and len(lib.list_photos(cheek)) == 1


def test_archived_and_unarchived_regions_are_never_deleted(lib: Library, tmp_path: Path) -> None:
    kept = lib.add_region("Archived on purpose")
    lib.archive_region(kept.id, True)
    back = _region(lib, tmp_path, "Back", 1)
    trash_region(lib, back)
    unarchive_region(lib, back)
    empty_trash(lib)
    assert sorted(_names(lib)) == ["Archived on purpose", "Back"]


def test_rows_naming_the_region_without_cascade_go_with_it(lib: Library, tmp_path: Path) -> None:
    cheek = _region(lib, tmp_path, "Cheek", 1)
    with lib.write_lock() as conn:
        conn.execute(
            "CREATE TABLE occasion (id INTEGER PRIMARY KEY, region_id INTEGER NOT NULL REFERENCES region(id))"
        )
        conn.execute("INSERT INTO occasion (region_id) VALUES (?)", (cheek,))
    trash_region(lib, cheek)
    assert [r.name for r in empty_trash(lib).regions] == ["Cheek"]
    with lib.write_lock() as conn:
        assert conn.execute("SELECT COUNT(*) FROM occasion").fetchone()[0] == 0
