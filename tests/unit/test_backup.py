"""Backup/restore: consistent snapshot, byte-identical round trip, damaged archives refused early."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from skintrack.errors import Cancelled, InvalidInputError, UsageError
from skintrack.export.backup import (
    DB_NAME,
    MANIFEST,
    backup_library,
    restore_library,
    safe_member,
    verify_backup,
)
from skintrack.library import Library
from skintrack.progress import CancelToken
from skintrack.ui.tasks import drive
from support.export_library import make_library

TABLES = ("region", "photo", "alignment", "measurement", "journal")


def run(gen):  # drive a generator job to its return value
    return drive(lambda _t: gen, CancelToken(), lambda _p: None)


def rows(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        conn.close()


@pytest.fixture
def lib(tmp_path: Path):
    lib, _rid, _ids = make_library(tmp_path / "lib", tmp_path / "src", 4)
    yield lib
    lib.close()


def originals(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / "originals").rglob("*"))
        if p.is_file()
    }


def test_round_trip_is_byte_identical_while_the_library_is_open(lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "backup.zip"
    report = run(backup_library(lib.root, out))  # the library stays open (WAL, live connection)
    assert report.originals == 4 and out.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".skt-tmp")]
    with zipfile.ZipFile(out) as zf:
        assert MANIFEST in zf.namelist() and DB_NAME in zf.namelist()
    restored = tmp_path / "restored"
    res = run(restore_library(out, restored))
    assert res.originals == 4
    assert originals(restored) == originals(lib.root)
    assert rows(restored / DB_NAME) == rows(lib.db_path)
    with Library.open(restored, create=False) as again:
        photos = again.list_photos(again.region_by_name("Left forearm").id)
        assert len(photos) == 4
        assert again.check().ok


def test_snapshot_sees_committed_writes_made_after_opening(lib: Library, tmp_path: Path) -> None:
    lib.add_region("Right cheek")
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    restored = tmp_path / "r"
    run(restore_library(out, restored))
    with Library.open(restored, create=False) as again:
        assert {s.region.name for s in again.list_regions()} == {"Left forearm", "Right cheek"}


def _rewrite_with(src: Path, dst: Path, name: str, mutate) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == name:
                data = mutate(data)
            zout.writestr(info, data)


def test_flipped_byte_in_an_original_is_refused_before_writing(lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    raw = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("originals/"))
    # flip one byte inside the stored (uncompressed) data of that original
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size // 2
    raw[offset] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    with pytest.raises(InvalidInputError, match="not a usable Skintrack backup"):
        run(restore_library(damaged, target))
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restore" in p.name] == []


def test_tampered_content_with_valid_crc_is_refused(lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    with zipfile.ZipFile(out) as zf:
        name = next(n for n in zf.namelist() if n.startswith("originals/"))
    bad = tmp_path / "bad.zip"
    _rewrite_with(out, bad, name, lambda d: d[:-1] + bytes([d[-1] ^ 1]))
    with pytest.raises(InvalidInputError, match="checksum"):
        run(verify_backup(bad))
    with pytest.raises(InvalidInputError):
        run(restore_library(bad, tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_not_a_zip_and_missing_manifest(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(InvalidInputError, match="zip"):
        run(restore_library(junk, tmp_path / "t"))
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("x.txt", "hi")
    with pytest.raises(InvalidInputError, match="manifest"):
        run(restore_library(empty, tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_zip_slip_names_are_refused(lib: Library, tmp_path: Path) -> None:
    for bad in ("../evil.txt", "/etc/passwd", "a/../../b", "C:/x", "a\\..\\b", "a//b", "./a"):
        with pytest.raises(ValueError):
            safe_member(bad)
    assert safe_member("originals/ab/abc.jpg") == "originals/ab/abc.jpg"
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    evil = tmp_path / "evil.zip"
    _rewrite_with(out, evil, "", lambda d: d)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../escaped.txt", "boom")
    with pytest.raises(InvalidInputError, match="unsafe"):
        run(restore_library(evil, tmp_path / "t"))
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "t").exists()


def test_existing_library_needs_force(lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    other = tmp_path / "other"
    with Library.open(other) as o:
        o.add_region("Something else")
    before = rows(other / DB_NAME)
    with pytest.raises(UsageError, match="--force"):
        run(restore_library(out, other))
    assert rows(other / DB_NAME) == before
    res = run(restore_library(out, other, force=True, keep_old=True))
    assert rows(other / DB_NAME) == rows(lib.db_path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert res.old_kept is not None and rows(res.old_kept / DB_NAME) == before


def test_cancelled_backup_and_restore_leave_nothing(lib: Library, tmp_path: Path) -> None:
    token = CancelToken()
    out = tmp_path / "b.zip"
    gen = backup_library(lib.root, out, token)
    next(gen)
    next(gen)
    token.cancel()
    with pytest.raises(Exception, match="cancel"):
        list(gen)
    assert list(tmp_path.glob("*.zip")) == [] and not list(tmp_path.glob(".*skt-tmp"))
    run(backup_library(lib.root, out))
    token = CancelToken()
    with pytest.raises(Cancelled):
        for step in restore_library(out, tmp_path / "t", token=token):
            if step.message.startswith("restoring 2"):
                token.cancel()
    assert not (tmp_path / "t").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_backup_restore(lib: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skintrack.cli import main

    out = tmp_path / "cli.zip"
    assert main(["--library", str(lib.root), "backup", "--out", str(out)]) == 0
    target = tmp_path / "cli-restored"
    assert main(["restore", str(out), "--library", str(target)]) == 0
    assert originals(target) == originals(lib.root)
    assert main(["restore", str(out), "--library", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(out), "--library", str(target), "--force", "--keep-old"]) == 0


def test_cli_restore_library_before_subcommand(lib: Library, tmp_path: Path) -> None:
    from skintrack.cli import main

    out = tmp_path / "cli.zip"
    assert main(["backup", "--out", str(out), "--library", str(lib.root)]) == 0
    target = tmp_path / "first"
    assert main(["--library", str(target), "restore", str(out)]) == 0
    assert (target / DB_NAME).is_file()


def test_backup_while_another_thread_writes(lib: Library, tmp_path: Path) -> None:
    import threading
    from datetime import datetime

    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        with Library.open(lib.root) as other:  # a second connection, as another window would have
            while not stop.is_set():
                other.add_journal(datetime(2025, 6, 1), "note", notes=f"n{len(written)}")
                written.append(1)

    t = threading.Thread(target=writer)
    t.start()
    try:
        out = tmp_path / "live.zip"
        run(backup_library(lib.root, out))
    finally:
        stop.set()
        t.join()
    restored = tmp_path / "live"
    run(restore_library(out, restored))
    conn = sqlite3.connect(restored / DB_NAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
    finally:
        conn.close()
    assert 2 <= n <= 2 + len(written)


def test_newer_database_is_refused(lib: Library, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    run(backup_library(lib.root, out))
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(out) as zin:
        db_bytes = zin.read(DB_NAME)
    tmp_db = tmp_path / "x.sqlite3"
    tmp_db.write_bytes(db_bytes)
    conn = sqlite3.connect(tmp_db)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    import hashlib
    import json

    data = tmp_db.read_bytes()
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(newer, "w") as zout:
        manifest = json.loads(zin.read(MANIFEST))
        manifest["files"][DB_NAME] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for info in zin.infolist():
            if info.filename == DB_NAME:
                zout.writestr(DB_NAME, data)
            elif info.filename == MANIFEST:
                zout.writestr(MANIFEST, json.dumps(manifest))
            else:
                zout.writestr(info, zin.read(info.filename))
    with pytest.raises(InvalidInputError, match="newer"):
        run(restore_library(newer, tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_backup_refuses_bad_targets(lib: Library, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.zip"):
        run(backup_library(lib, tmp_path / "b.tar"))
    with pytest.raises(UsageError, match="outside the library"):
        run(backup_library(lib, lib.root / "inside.zip"))
    with pytest.raises(UsageError, match="does not exist"):
        run(backup_library(lib, tmp_path / "missing" / "b.zip"))
    assert not (lib.root / "inside.zip").exists()


def test_cli_restore_damaged_archive_exit_4(
    lib: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skintrack.cli import main

    out = tmp_path / "b.zip"
    run(backup_library(lib, out))
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(out) as zf:
        name = next(n for n in zf.namelist() if n.startswith("originals/"))
    _rewrite_with(out, bad, name, lambda d: d[:-1] + bytes([d[-1] ^ 1]))
    assert main(["restore", str(bad), "--library", str(tmp_path / "t")]) == 4
    err = capsys.readouterr().err
    assert "bad.zip" in err and "nothing was restored" in err
    assert not (tmp_path / "t").exists()
