"""Backup never reports success for an archive that restore would refuse, and leaks nothing.

Real libraries, the real CLI in child processes (private HOME and TMPDIR), real damage: a
corrupted database page, an altered original, a kill before the rename.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import time
import zipfile
from pathlib import Path

import pytest
from safety_support import DB, cli, dead_pid, hidden, make_library, tree

from skintrack.errors import LibraryError
from skintrack.export import backup as backup_module
from skintrack.progress import CancelToken
from skintrack.ui.tasks import drive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and SIGKILL")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    make_library(root)
    return root


def corrupt_page_of(db: Path, table: str) -> None:
    """Scribble over the cells of ``table``'s root page, as a bad sector or a stray write would."""
    conn = sqlite3.connect(db)
    try:
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * size + 8)
        fh.write(b"\xa5" * (size - 8))


def test_backup_refuses_a_corrupt_database(tmp_path: Path, library: Path) -> None:
    corrupt_page_of(library / DB, "journal")
    out_dir = tmp_path / "backups"
    out_dir.mkdir()
    res = cli(tmp_path, "backup", "--library", library, "--out", out_dir / "b.zip")
    assert res.returncode == 1, res.stderr
    assert str(library / DB) in res.stderr and "no backup was written" in res.stderr
    assert list(out_dir.iterdir()) == []


def test_backup_does_not_replace_an_existing_file_without_force(tmp_path: Path, library: Path) -> None:
    out = tmp_path / "b.zip"
    out.write_bytes(b"last month's backup")
    res = cli(tmp_path, "backup", "--library", library, "--out", out)
    assert res.returncode == 2 and "already exists" in res.stderr
    assert out.read_bytes() == b"last month's backup"
    res = cli(tmp_path, "backup", "--library", library, "--out", out, "--force")
    assert res.returncode == 0, res.stderr
    assert zipfile.is_zipfile(out)


def test_backup_and_its_members_are_private(tmp_path: Path, library: Path) -> None:
    out = tmp_path / "b.zip"
    res = cli(tmp_path, "backup", "--library", library, "--out", out)
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as zf:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in zf.infolist()}
    assert set(modes.values()) == {0o600}, modes
    target = tmp_path / "restored"
    assert cli(tmp_path, "restore", out, "--library", target).returncode == 0
    files = [p for p in target.rglob("*") if p.is_file() and p.name != "skintrack.lock"]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    folders = [target, *(p for p in target.rglob("*") if p.is_dir())]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o700}


def test_killed_backup_leaves_nothing_in_tmp_and_the_next_cleans_up(tmp_path: Path, library: Path) -> None:
    out_dir = tmp_path / "backups"
    out_dir.mkdir()
    stale = out_dir / f".b.zip.{dead_pid()}-0badf00d.skt-tmp"
    stale.write_bytes(b"PK half an archive of an earlier crash")
    res = cli(
        tmp_path,
        "backup",
        "--library",
        library,
        "--out",
        out_dir / "b.zip",
        SKINTRACK_FAULT_AT="backup-written",
    )
    assert res.returncode == -9, res.stderr
    tmpdir = tmp_path / "home" / "tmp"
    assert list(tmpdir.iterdir()) == []  # no database copy in the shared temp folder
    assert not stale.exists()  # a leftover of a dead process goes at the start of the next backup
    leftovers = hidden(out_dir)
    assert len(leftovers) == 2 and all(".skt-tmp" in name for name in leftovers)  # archive, snapshot
    res = cli(tmp_path, "backup", "--library", library, "--out", out_dir / "b.zip")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["b.zip"]


def test_snapshots_left_in_tmp_by_earlier_versions_are_removed(tmp_path: Path, library: Path) -> None:
    tmpdir = tmp_path / "home" / "tmp"
    tmpdir.mkdir(parents=True)
    legacy = tmpdir / "skintrack-backup-k3j2h1"
    legacy.mkdir()
    (legacy / DB).write_bytes((library / DB).read_bytes())
    other = tmpdir / "skintrack-backup-notmine"
    other.mkdir()
    (other / "report.pdf").write_bytes(b"%PDF")  # not a snapshot: left alone
    for folder in (legacy, other):
        os.utime(folder, (time.time() - 7200, time.time() - 7200))
    res = cli(tmp_path, "backup", "--library", library, "--out", tmp_path / "b.zip")
    assert res.returncode == 0, res.stderr
    assert not legacy.exists() and (other / "report.pdf").exists()


def test_allow_damaged_backs_up_the_rest_and_lists_what_it_left_out(tmp_path: Path, library: Path) -> None:
    victim = sorted((library / "originals").rglob("*.jpg"))[0]
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")  # altered on disk
    out = tmp_path / "b.zip"
    res = cli(tmp_path, "backup", "--library", library, "--out", out)
    assert res.returncode == 1 and str(victim) in res.stderr and "--allow-damaged" in res.stderr
    assert not out.exists()
    res = cli(tmp_path, "backup", "--library", library, "--out", out, "--allow-damaged")
    assert res.returncode == 0, res.stderr
    assert "WARNING" in res.stderr and str(victim) in res.stderr and "altered" in res.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert (
        not any(victim.name in n for n in names)
        and len([n for n in names if n.startswith("originals/")]) == 2
    )
    target = tmp_path / "restored"
    res = cli(tmp_path, "restore", out, "--library", target)
    assert res.returncode == 0, res.stderr
    assert "damaged" in res.stderr
    kept = {k: v for k, v in tree(target).items() if k.startswith("originals/")}
    assert kept == {
        k: v for k, v in tree(library).items() if k.startswith("originals/") and victim.name not in k
    }


def test_archive_is_read_back_before_it_replaces_anything(
    tmp_path: Path, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_add = backup_module._add_file

    def add_then_lose_a_byte(zf: zipfile.ZipFile, src: Path, name: str, compress: int) -> tuple[str, int]:
        if not name.startswith("originals/"):
            return real_add(zf, src, name, compress)
        flipped = tmp_path / "flipped"
        data = bytearray(src.read_bytes())
        data[len(data) // 2] ^= 0x01  # what a failing disk or a bug in the writer would do
        flipped.write_bytes(bytes(data))
        _sha, size = real_add(zf, flipped, name, compress)
        return name.rsplit("/", 1)[1].split(".")[0], size  # claims the right hash

    monkeypatch.setattr(backup_module, "_add_file", add_then_lose_a_byte)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LibraryError, match=r"does not read back .*does not match its checksum"):
        drive(lambda _t: backup_module.backup_library(library, out / "b.zip"), CancelToken(), lambda _p: None)
    assert list(out.iterdir()) == []


def test_library_with_path_like_rows_is_not_backed_up(tmp_path: Path, library: Path) -> None:
    conn = sqlite3.connect(library / DB)
    try:
        conn.execute("PRAGMA ignore_check_constraints = 1")
        conn.execute("UPDATE photo SET sha256 = ? WHERE id = 1", ("../" * 18 + "etc/passwd",))
        conn.commit()
    finally:
        conn.close()
    out = tmp_path / "b.zip"
    with pytest.raises(LibraryError, match="64 hexadecimal"):
        drive(lambda _t: backup_module.backup_library(library, out), CancelToken(), lambda _p: None)
    assert not out.exists()
