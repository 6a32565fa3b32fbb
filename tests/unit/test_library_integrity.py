"""check()/repair, and several writers at once: two processes, threads, a lock held too long."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from skintrack.errors import LibraryError
from skintrack.library import Library
from support.library_photos import make_jpeg


# ---------------------------------------------------------------- check / repair
def test_check_clean_library_is_ok(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    for i in range(3):
        lib.import_file(region.id, make_jpeg(tmp_path / f"{i}.jpg", i))
    lib.trash_photo(1)  # a trashed photo's original is not an orphan
    report = lib.check()
    assert report.ok
    assert (report.orphans, report.missing, report.altered, report.temp_files) == ([], [], [], [])


def test_check_reports_each_original_as_it_is_hashed(
    lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is a job: one Progress per original, each yielded before the next is read."""
    from skintrack.library import integrity

    region = lib.add_region("Arm")
    for i in range(4):
        lib.import_file(region.id, make_jpeg(tmp_path / f"{i}.jpg", i))
    hashed: list[Path] = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda p: hashed.append(p) or real(p))
    steps = integrity.check_library_steps(lib)
    assert next(steps).done == 0 and hashed == []
    for n in range(1, 5):
        step = next(steps)
        assert (step.done, step.total, len(hashed)) == (n, 4, n)
        assert step.message == f"hashed {hashed[-1].name}"
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value.ok


def test_check_cleans_stale_temp_files_and_repair_moves_orphans_to_lost_and_found(
    lib: Library, tmp_path: Path
) -> None:
    region = lib.add_region("Arm")
    kept = lib.import_file(region.id, make_jpeg(tmp_path / "kept.jpg", 1)).photo
    orphan = lib.originals_dir / "ab" / ("ab" + "0" * 62 + ".jpg")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    temp = lib.originals_dir / kept.sha256[:2] / f".{kept.sha256}.jpg.999999999-abcd.skt-tmp"
    temp.write_bytes(b"half")

    report = lib.check()
    assert not report.ok
    assert report.orphans == [orphan]
    assert report.removed == [temp] and not temp.exists()  # its process is gone: always cleaned
    assert orphan.exists()

    repaired = lib.check(repair=True)
    assert repaired.ok
    kept_aside = lib.originals_dir / "lost+found" / orphan.name
    assert repaired.moved == {orphan: kept_aside}
    assert not orphan.exists() and kept_aside.read_bytes() == b"left behind"
    assert lib.original_path(kept).exists()
    again = lib.check()
    assert again.ok and again.lost_and_found == [kept_aside]


def test_check_reports_missing_and_altered_and_repair_never_deletes_them(
    lib: Library, tmp_path: Path
) -> None:
    region = lib.add_region("Arm")
    gone = lib.import_file(region.id, make_jpeg(tmp_path / "gone.jpg", 1)).photo
    changed = lib.import_file(region.id, make_jpeg(tmp_path / "changed.jpg", 2)).photo
    lib.original_path(gone).unlink()
    altered_path = lib.original_path(changed)
    altered_path.write_bytes(altered_path.read_bytes() + b"edited")

    for repair in (False, True):
        report = lib.check(repair=repair)
        assert not report.ok
        assert [p.id for p in report.missing] == [gone.id]
        assert [p.id for p in report.altered] == [changed.id]
        assert report.orphans == [] and report.removed == []
        assert altered_path.exists()


def test_repair_keeps_a_file_whose_row_appeared_after_the_scan(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    photo = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg")).photo
    path = lib.original_path(photo)
    # as if another process committed the row between our scan and the repair
    from skintrack.library.integrity import _move_orphans

    assert _move_orphans(lib, [path]) == {}
    assert path.exists()


def test_check_refuses_damaged_database(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        lib.add_region("Arm")
    db = library_dir / "skintrack.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    data = bytearray(db.read_bytes())
    data[4096 : 3 * 4096] = b"\xff" * (2 * 4096)  # scribble over the table pages
    db.write_bytes(bytes(data))
    with pytest.raises(LibraryError), Library.open(library_dir) as lib:
        lib.check()


# ---------------------------------------------------------------- concurrency
_WRITER = """
import json, sys
from skintrack.library import Library
from skintrack.services.checkin import run_import
root, region_name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
with Library.open(root) as lib:
    try:
        region = lib.add_region(region_name)
    except Exception:
        region = lib.region_by_name(region_name)
    shared = lib.region_by_name("Shared")
    mine = run_import(lib, region.id, files[:-1])
    both = run_import(lib, shared.id, files[-1:])
    for i in range(20):
        lib.add_journal(__import__("datetime").date(2024, 1, 1 + i), "note", notes=region_name)
print(json.dumps({"imported": len(mine.imported) + len(both.imported),
                  "duplicates": len(mine.duplicates) + len(both.duplicates),
                  "errors": [str(e) for e in mine.errors + both.errors]}))
"""


def test_two_processes_writing_at_once_lose_nothing(library_dir: Path, tmp_path: Path) -> None:
    with Library.open(library_dir) as lib:
        lib.add_region("Shared")
    shared = make_jpeg(tmp_path / "shared.jpg", 999)
    groups = [
        [str(make_jpeg(tmp_path / f"{who}-{i}.jpg", hash((who, i)) % 10_000)) for i in range(12)]
        + [str(shared)]
        for who in ("a", "b")
    ]
    script = _WRITER
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(library_dir), f"Region {who}", *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, files in zip("ab", groups, strict=True)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert all(r["errors"] == [] for r in results)
    assert sum(r["imported"] for r in results) == 25  # 2 x 12 own + the shared file once
    assert sum(r["duplicates"] for r in results) == 1

    with Library.open(library_dir) as lib:
        regions = {s.region.name: s.photo_count for s in lib.list_regions()}
        assert regions == {"Region a": 12, "Region b": 12, "Shared": 1}
        assert len(lib.list_journal()) == 40
        assert lib.check().ok
    conn = sqlite3.connect(library_dir / "skintrack.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_threads_sharing_one_library_object(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    files = [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(16)]
    errors: list[BaseException] = []

    def work(chunk: list[Path]) -> None:
        try:
            for path in chunk:
                lib.import_file(region.id, path)
                lib.list_regions()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(files[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(lib.list_photos(region.id)) == 16
    assert lib.check().ok


def test_lock_held_too_long_gives_clear_library_error(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        lib.add_region("Arm")
    blocker = sqlite3.connect(library_dir / "skintrack.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with Library.open(library_dir, timeout=0.2) as lib:
            assert [s.region.name for s in lib.list_regions()] == ["Arm"]  # readers are not blocked (WAL)
            with pytest.raises(LibraryError, match="locked by another process"):
                lib.add_region("Leg")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with Library.open(library_dir) as lib:
        assert lib.add_region("Leg").name == "Leg"


def test_repair_leaves_temp_files_of_running_processes_alone(lib: Library) -> None:
    import os

    busy = lib.originals_dir / "ab" / f".{'ab' * 32}.jpg.{os.getpid()}-beef.skt-tmp"
    busy.parent.mkdir(parents=True)
    busy.write_bytes(b"being written")
    report = lib.check(repair=True)
    assert report.busy_temp_files == [busy] and report.removed == [] and report.ok
    assert busy.exists()
