"""Schema migrations: every fixture library (one per schema version) upgrades to the newest schema."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from skintrack.errors import LibraryError
from skintrack.library import AlignmentRecord, Library
from skintrack.library import schema as schema_mod

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
VERSIONS = list(range(1, schema_mod.LATEST_VERSION + 1))


def copy_fixture(version: int, tmp_path: Path) -> Path:
    target = tmp_path / f"lib-v{version}"
    shutil.copytree(FIXTURES / f"v{version}", target)
    return target


def test_every_schema_version_has_a_fixture_library() -> None:
    for version in VERSIONS:
        assert (FIXTURES / f"v{version}" / "skintrack.sqlite3").is_file(), f"add fixture v{version}"
        conn = sqlite3.connect(FIXTURES / f"v{version}" / "skintrack.sqlite3")
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        conn.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_upgrades_to_latest_and_keeps_data(version: int, tmp_path: Path) -> None:
    root = copy_fixture(version, tmp_path)
    with Library.open(root, create=False) as lib:
        assert lib.schema_version == schema_mod.LATEST_VERSION
        regions = {s.region.name: s for s in lib.list_regions(include_archived=True)}
        assert set(regions) == {"Left forearm", "Old scar"}
        arm = regions["Left forearm"].region
        assert (arm.body_site, arm.interval_days, arm.reference_photo_id) == ("inner side", 14, 1)
        assert arm.watched_area == [[[10.0, 10.0], [12.0, 4.0], [4.0, 8.0]]]
        assert regions["Old scar"].region.archived
        photos = lib.list_photos(arm.id, include_deleted=True)
        assert [p.original_name for p in photos] == ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]
        assert photos[0].taken_at == datetime(2024, 3, 1, 10, 15, 30, tzinfo=timezone(timedelta(hours=1)))
        assert [p.taken_at_source for p in photos] == ["exif", "user", "file"]
        assert photos[2].in_trash
        assert [e.kind for e in lib.list_journal()] == ["dose", "sun"]
        assert lib.get_setting("theme") == "dark"
        assert lib.check().ok
        if version >= 2:
            alignment = lib.alignment(2, 1)
            assert alignment is not None and alignment.method == "manual"
            assert lib.measurement(2, 1).metrics == {"darkened_fraction": 0.01}
        # the upgraded library is fully usable
        failed = AlignmentRecord(3, 1, False, None, 0.0, "none", 0, "failed", None, "align-1")
        assert lib.save_alignment(failed)
        assert lib.alignment(3, 1).message == "failed"
        lib.empty_trash()
        assert lib.check().ok
    conn = sqlite3.connect(root / "skintrack.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    backup = root / f"skintrack.sqlite3.v{version}.bak"
    assert backup.exists() == (version < schema_mod.LATEST_VERSION)


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    assert schema_mod.migrate(conn) == schema_mod.LATEST_VERSION
    assert schema_mod.migrate(conn) == schema_mod.LATEST_VERSION  # idempotent
    conn.close()


def test_newer_schema_is_refused_and_left_alone(library_dir: Path) -> None:
    with Library.open(library_dir):
        pass
    db = library_dir / "skintrack.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {schema_mod.LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match="newer"):
        Library.open(library_dir)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_mod.LATEST_VERSION + 1
    conn.close()


def test_failing_migration_rolls_back_to_the_previous_version(tmp_path: Path) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    with pytest.raises(RuntimeError):
        schema_mod.migrate(conn, migrations=[*schema_mod.MIGRATIONS[:1], broken])
    assert schema_mod.user_version(conn) == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in names and "region" in names
    conn.close()
