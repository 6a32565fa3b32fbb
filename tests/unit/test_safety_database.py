"""Data safety of the library itself: a lost or empty database, orphans, crafted rows, a foreign
write-ahead log and leftovers of killed commands never cost a photo (real CLI, real folders)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from safety_library_support import Cli, make_jpeg

from skintrack.library import Library


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "library")


def _library_with_photos(cli: Cli, tmp_path: Path, n: int = 3) -> list[Path]:
    """Set up in-process (fast); the commands under test then run as real CLI processes."""
    files = [make_jpeg(tmp_path / f"p{i}.jpg", i, taken=f"2024:0{i + 1}:01 10:00:00") for i in range(n)]
    with Library.open(cli.library) as lib:
        region = lib.add_region("Arm")
        for path in files:
            lib.import_file(region.id, path)
    return files


def _drop_database(library: Path) -> None:
    for name in ("skintrack.sqlite3", "skintrack.sqlite3-wal", "skintrack.sqlite3-shm"):
        (library / name).unlink(missing_ok=True)


def test_a_read_command_never_creates_a_library(cli: Cli) -> None:
    missing = cli("region", "list")
    assert missing.returncode == 1 and "no Skintrack library" in missing.stderr
    assert not (cli.library / "skintrack.sqlite3").exists()
    cli.library.mkdir()
    (cli.library / "skintrack.sqlite3").write_bytes(b"")
    empty = cli("region", "list")
    assert empty.returncode == 1 and "no Skintrack library" in empty.stderr
    assert (cli.library / "skintrack.sqlite3").stat().st_size == 0  # no schema written into it


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_lost_database_is_damaged_and_no_command_deletes_the_photos(
    cli: Cli, tmp_path: Path, damage: str
) -> None:
    _library_with_photos(cli, tmp_path)
    originals = cli.originals()
    assert len(originals) == 3
    _drop_database(cli.library)
    if damage == "truncated":
        (cli.library / "skintrack.sqlite3").write_bytes(b"")

    for args in (("region", "list"), ("region", "add", "Leg"), ("check", "--repair")):
        result = cli(*args)
        assert result.returncode == 1, (args, result.stdout)
        assert "damaged" in result.stderr and "check --rebuild" in result.stderr, result.stderr
    assert cli.originals() == originals  # every photo is still where it was
    assert (cli.library / "skintrack.sqlite3").exists() == (damage == "truncated")


def test_rebuild_gives_the_photos_rows_again_with_their_exif_dates(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path)
    _drop_database(cli.library)
    rebuilt = cli("check", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Recovered 3 photos into region 'Recovered'" in rebuilt.stdout
    photos = cli.json("photos", "--region", "Recovered")
    assert sorted(p["taken_at"][:10] for p in photos) == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert {p["taken_at_source"] for p in photos} == {"exif"}
    assert cli("check").returncode == 0


def test_rebuild_sets_an_unreadable_database_aside_instead_of_deleting_it(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path, n=2)
    db = cli.library / "skintrack.sqlite3"
    db.write_bytes(b"this is not a database at all" * 200)
    assert cli("region", "list").returncode == 1
    rebuilt = cli("check", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    kept = [p for p in cli.library.iterdir() if p.name.startswith("skintrack.sqlite3.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not a database")
    assert len(cli.json("photos", "--region", "Recovered")) == 2


def test_repair_moves_orphans_to_lost_and_found_and_rebuild_brings_them_back(
    cli: Cli, tmp_path: Path
) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    stray = make_jpeg(tmp_path / "stray.jpg", 42, taken="2023:05:06 07:08:09")
    sha = hashlib.sha256(stray.read_bytes()).hexdigest()
    orphan = cli.library / "originals" / sha[:2] / f"{sha}.jpg"
    orphan.parent.mkdir(exist_ok=True)
    shutil.copyfile(stray, orphan)

    repaired = cli("check", "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert "orphan file" in repaired.stdout and "1 photo kept in originals/lost+found/" in repaired.stdout
    kept = cli.library / "originals" / "lost+found" / orphan.name
    assert not orphan.exists() and kept.read_bytes() == stray.read_bytes()  # moved, never deleted

    assert cli("check", "--rebuild").returncode == 0
    recovered = cli.json("photos", "--region", "Recovered")
    assert [(p["sha256"], p["taken_at"]) for p in recovered] == [(sha, "2023-05-06T07:08:09")]
    assert orphan.read_bytes() == stray.read_bytes() and not kept.exists()
    with Library.open(cli.library, create=False) as lib:
        assert lib.check().ok


def test_a_crafted_row_cannot_make_trash_empty_delete_outside_the_library(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    victim = tmp_path / "victim1.txt"
    victim.write_text("keep me")
    crafted = "../" + "./" * 27 + "victim1"  # 64 characters, as the schema demands
    assert len(crafted) == 64
    conn = sqlite3.connect(cli.library / "skintrack.sqlite3")
    conn.execute(
        "UPDATE photo SET sha256 = ?, suffix = '.txt', deleted_at = '2024-01-01T00:00:00'", (crafted,)
    )
    conn.commit()
    conn.close()
    emptied = cli("trash", "empty")
    assert emptied.returncode == 1 and "invalid" in emptied.stderr
    assert victim.read_text() == "keep me"
    checked = cli("check")
    assert checked.returncode == 1 and "INVALID row of photo 1" in checked.stdout
    assert victim.exists()


def _foreign_wal(tmp_path: Path, page_size: int | None = None) -> bytes:
    """The -wal of another library, copied while that library was open (as a careless copy would)."""
    other = tmp_path / "other"
    if page_size is not None:
        other.mkdir()
        conn = sqlite3.connect(other / "skintrack.sqlite3")
        conn.execute(f"PRAGMA page_size = {page_size}")
        conn.execute("VACUUM")
        conn.close()
    with Library.open(other) as lib:
        region = lib.add_region("Somebody else")
        lib.set_setting("theme", "dark")
        lib.import_file(region.id, make_jpeg(tmp_path / "other.jpg", 7))
        for i in range(30):
            lib.add_journal(make_date(i), "note", notes="x" * 200)
        wal = (other / "skintrack.sqlite3-wal").read_bytes()
    assert wal
    return wal


def make_date(i: int) -> date:
    return date(2024, 1, 1 + i % 28)


@pytest.mark.parametrize("page_size", [None, 8192])
def test_a_foreign_wal_is_refused_and_never_replayed(cli: Cli, tmp_path: Path, page_size: int | None) -> None:
    _library_with_photos(cli, tmp_path, n=2)
    db = cli.library / "skintrack.sqlite3"
    before = db.read_bytes()
    wal = cli.library / "skintrack.sqlite3-wal"
    wal.write_bytes(_foreign_wal(tmp_path, page_size))

    refused = cli("region", "list")
    assert refused.returncode == 1
    assert "write-ahead log skintrack.sqlite3-wal that does not belong to it" in refused.stderr
    assert "move skintrack.sqlite3-wal" in refused.stderr
    assert db.read_bytes() == before and wal.exists()  # not checkpointed, nothing changed
    assert cli("check", "--repair").returncode == 1 and db.read_bytes() == before

    wal.rename(tmp_path / "set-aside.wal")  # what the message says to do
    listed = cli("region", "list", "--json")
    assert listed.returncode == 0 and [r["name"] for r in json.loads(listed.stdout)] == ["Arm"]


def test_check_cleans_leftovers_of_killed_commands_and_says_the_library_is_ok(
    cli: Cli, tmp_path: Path
) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    dead = 999_999_999
    stale = [
        cli.library / "originals" / "ab" / f".{'ab' * 32}.jpg.{dead}-0a1b.skt-tmp",
        cli.library / f".skintrack.sqlite3.{dead}-0a1b.skt-tmp",
        cli.library / "cache" / "thumbs" / f".x.jpg.{dead}-0a1b.skt-tmp",
    ]
    live = cli.library / "originals" / "cd" / f".{'cd' * 32}.jpg.{os.getpid()}-0a1b.skt-tmp"
    for path in [*stale, live]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a photo")

    checked = cli("check")
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.count("cleaned:") == 3 and "in use:" in checked.stdout
    assert "restored from a backup" not in checked.stdout and "Library OK (cleaned 3" in checked.stdout
    assert not any(p.exists() for p in stale) and live.exists()


def test_the_next_import_removes_temp_files_of_a_killed_import(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    stale = cli.library / "originals" / "ab" / f".{'ab' * 32}.jpg.999999999-0a1b.skt-tmp"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"half a photo")
    result = cli("import", "--region", "Arm", str(make_jpeg(tmp_path / "next.jpg", 9)))
    assert result.returncode == 0 and not stale.exists()


def test_demo_force_never_replaces_a_library_with_the_users_photos(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    originals = cli.originals()
    refused = cli("demo", "--force")
    assert refused.returncode == 2 and "refusing to replace it" in refused.stderr
    assert cli.originals() == originals and (cli.library / "skintrack.sqlite3").exists()


def test_a_log_left_without_its_database_is_never_replayed_into_a_new_one(cli: Cli, tmp_path: Path) -> None:
    wal = _foreign_wal(tmp_path)
    cli.library.mkdir()
    (cli.library / "skintrack.sqlite3-wal").write_bytes(wal)
    refused = cli("region", "add", "Arm")
    assert refused.returncode == 1 and "without its database" in refused.stderr
    assert not (cli.library / "skintrack.sqlite3").exists()
    rebuilt = cli("check", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [p.name.split(".stray-")[0] for p in cli.library.glob("*.stray-*")] == ["skintrack.sqlite3-wal"]
    with Library.open(cli.library, create=False) as lib:
        assert lib.list_regions() == []  # nothing of the other library's log came in


def test_rebuild_puts_a_lost_and_found_copy_back_without_duplicating_its_photo(
    cli: Cli, tmp_path: Path
) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    assert cli("check", "--rebuild").stdout.strip() == "Nothing to recover: every stored photo has its row."
    (original,) = cli.originals()
    lost = cli.library / "originals" / "lost+found" / original.name
    lost.parent.mkdir()
    original.rename(lost)  # e.g. moved there by a repair, then the photo came back with a restore
    rebuilt = cli("check", "--rebuild")
    assert rebuilt.returncode == 0 and "1 lost+found copies matched photos already stored" in rebuilt.stdout
    assert original.is_file() and not lost.exists()
    with Library.open(cli.library, create=False) as lib:
        assert [s.region.name for s in lib.list_regions()] == ["Arm"] and lib.check().ok


def test_a_foreign_wal_beside_the_index_of_a_crashed_session_is_refused_by_its_salt(
    cli: Cli, tmp_path: Path
) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    crash = (
        "import os, sys\nfrom skintrack.library import Library\n"
        "lib = Library.open(sys.argv[1])\nlib.add_region('Leg')\nos._exit(0)  # dies holding the log\n"
    )
    subprocess.run([sys.executable, "-c", crash, str(cli.library)], env=cli.env, check=True, timeout=60)
    assert (cli.library / "skintrack.sqlite3-shm").exists()
    (cli.library / "skintrack.sqlite3-wal").write_bytes(_foreign_wal(tmp_path))
    refused = cli("region", "list")
    assert refused.returncode == 1 and "its salt differs" in refused.stderr


def test_check_reports_the_restore_swaps_beside_the_library(cli: Cli, tmp_path: Path) -> None:
    _library_with_photos(cli, tmp_path, n=1)
    running = tmp_path / f".library.restore-{os.getpid()}-abc123"  # a restore unpacking right now
    running.mkdir()
    checked = cli("check", "--json")
    assert checked.returncode == 0, checked.stdout
    report = json.loads(checked.stdout)
    assert report["stuck_swaps"] == [] and len(report["notices"]) == 1
    assert "a partly unpacked restore, in progress" in report["notices"][0]
    human = cli("check")
    assert human.returncode == 0 and "restore leftover:" in human.stdout
