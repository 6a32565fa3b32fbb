"""Restore never destroys data: only a library is replaced, hostile archives are refused, kills recover.

Every test drives the real CLI in a child process on real libraries in temporary folders; the
child gets a private HOME, so the replaced library goes to a trash inside the test's folder.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from safety_support import DB, cli, cli_env, hidden, make_library, rebuild, regions, trashed, tree

from skintrack.library.swap import pending_swaps

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX renames, flock and SIGKILL")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid backup (read-only for the tests) of ``source``: "Left forearm" with three photos."""
    base = tmp_path_factory.mktemp("archive")
    make_library(base / "source")
    out = base / "good.zip"
    res = cli(base, "backup", "--library", base / "source", "--out", out)
    assert res.returncode == 0, res.stderr
    out.chmod(0o400)
    return out


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """A second library ("Right cheek") that a forced restore will replace."""
    root = tmp_path / "existing"
    make_library(root, 2, region="Right cheek", seed=7)
    return root


# ---------------------------------------------------------------- 1: --force replaces only a library
def test_force_refuses_a_folder_that_is_not_a_library(tmp_path: Path, archive: Path) -> None:
    docs = tmp_path / "Documents"
    (docs / "taxes").mkdir(parents=True)
    (docs / "letter.odt").write_bytes(b"dear ...")
    (docs / "taxes" / "2025.pdf").write_bytes(b"%PDF")
    inside = docs / "backup.zip"
    inside.write_bytes(archive.read_bytes())
    before = tree(docs)
    res = cli(tmp_path, "restore", inside, "--library", docs, "--force")
    assert res.returncode == 2, res.stderr
    assert "not a Skintrack library" in res.stderr
    assert tree(docs) == before
    assert hidden(tmp_path) == [] and trashed(tmp_path) == []


def test_force_refuses_a_library_folder_holding_other_files(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    (existing / "my notes.txt").write_text("keep me")
    before = tree(existing)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force")
    assert res.returncode == 2
    assert "my notes.txt" in res.stderr and "not part of a Skintrack library" in res.stderr
    assert tree(existing) == before


def test_force_puts_the_replaced_library_in_the_trash_after_verifying(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    old = tree(existing)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force")
    assert res.returncode == 0, res.stderr
    assert "moved to the trash" in res.stdout
    assert regions(existing / DB) == ["Left forearm"]
    originals = {k: v for k, v in tree(archive.parent / "source").items() if k.startswith("originals/")}
    assert {k: v for k, v in tree(existing).items() if k.startswith("originals/")} == originals
    [in_trash] = trashed(tmp_path)
    assert in_trash.name.startswith("existing (replaced ")
    assert tree(in_trash) == old  # every byte of the replaced library, restorable from the trash
    assert hidden(tmp_path) == []


def test_keep_old_keeps_the_replaced_library_beside_the_new_one(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    old = tree(existing)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force", "--keep-old")
    assert res.returncode == 0, res.stderr
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith("existing (replaced ")]
    assert str(kept) in res.stdout
    assert tree(kept) == old and trashed(tmp_path) == []
    assert regions(existing / DB) == ["Left forearm"]


def test_force_replaces_a_library_that_lost_its_database(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    (existing / DB).unlink()  # the case a backup is for
    (existing / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # left by a file manager
    old = tree(existing)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force")
    assert res.returncode == 0, res.stderr
    assert regions(existing / DB) == ["Left forearm"]
    [in_trash] = trashed(tmp_path)
    assert tree(in_trash) == old


def test_kills_at_random_moments_never_lose_either_library(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    import random
    import time

    old_originals = {k: v for k, v in tree(existing).items() if k.startswith("originals/")}
    new_originals = {k: v for k, v in tree(archive.parent / "source").items() if k.startswith("originals/")}
    cmd = [sys.executable, "-m", "skintrack", "restore", str(archive), "--library", str(existing), "--force"]
    env = cli_env(tmp_path)
    rng = random.Random(12)
    for _round in range(2):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.0))  # the kill moment itself; every outcome is checked below
        proc.kill()
        proc.wait()
        listed = cli(tmp_path, "region", "list", "--library", existing)
        assert listed.returncode == 0, listed.stderr
        assert pending_swaps(existing) == [] and hidden(tmp_path) == []
        now = {k: v for k, v in tree(existing).items() if k.startswith("originals/")}
        assert now in (old_originals, new_originals)
        places = [p for p in tmp_path.iterdir() if p.name.startswith("existing (replaced ")] + trashed(
            tmp_path
        )
        everything = [now] + [
            {k: v for k, v in tree(p).items() if k.startswith("originals/")} for p in places
        ]
        assert old_originals in everything  # the replaced library is never lost


# ---------------------------------------------------------------- 3 and 8: the database is input
def _insert_photo(sha: str, suffix: str = ".jpg", taken: str = "2025-01-01T09:00:00") -> Callable:
    def mutate(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA ignore_check_constraints = 1")
        conn.execute(
            "INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width, height,"
            " taken_at, taken_at_sort, taken_at_source, imported_at)"
            " VALUES (1, ?, 'x.jpg', ?, 1, 1, 1, ?, 0, 'user', ?)",
            (sha, suffix, taken, "2025-01-01T09:00:00"),
        )

    return mutate


def _sql(*statements: str) -> Callable:
    def mutate(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return mutate


CRAFTED: dict[str, tuple[Callable | None, bytes | None, str]] = {
    "traversal sha256": (_insert_photo("../" * 18 + "tmp/victim"), None, "64 hexadecimal"),
    "short sha256": (_insert_photo("../../../tmp/victim"), None, "64 hexadecimal"),
    "unknown suffix": (_insert_photo("a" * 64, "/../../x"), None, "suffix"),
    "original not in the archive": (_insert_photo("b" * 64), None, "not in the archive"),
    "trigger": (
        _sql("CREATE TRIGGER wipe AFTER INSERT ON journal BEGIN DELETE FROM photo; END"),
        None,
        "trigger 'wipe'",
    ),
    "view": (_sql("CREATE VIEW v AS SELECT * FROM photo"), None, "view 'v'"),
    "extra table": (_sql("CREATE TABLE evil (x)"), None, "table 'evil'"),
    "dropped photo table": (
        _sql("PRAGMA foreign_keys = OFF", "DROP TABLE photo"),
        None,
        "photo",
    ),
    "altered column": (_sql("ALTER TABLE region ADD COLUMN evil TEXT"), None, "region"),
    "user_version -5": (_sql("PRAGMA user_version = -5"), None, "version"),
    "user_version 0": (_sql("PRAGMA user_version = 0"), None, "version"),
    "unparseable date": (_sql("UPDATE photo SET taken_at = 'yesterday' WHERE id = 1"), None, "not a date"),
    "year 9999": (_sql("UPDATE journal SET at = '9999-12-31T00:00:00'"), None, "outside 1900-2100"),
    "bad json": (_sql("UPDATE region SET watched_area = '{nope'"), None, "JSON"),
    "0-byte database": (None, b"", "empty"),
    "not a database": (None, b"SQLite format 3\x00" + b"\xff" * 4000, "database"),
}


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"


@pytest.mark.parametrize("version", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_backups_of_every_schema_version_pass_the_validation(tmp_path: Path, version: str) -> None:
    import shutil

    library = tmp_path / version
    shutil.copytree(FIXTURES / version, library)
    out = tmp_path / "b.zip"
    res = cli(tmp_path, "backup", "--library", library, "--out", out)  # snapshots the old schema as is
    assert res.returncode == 0, res.stderr
    res = cli(tmp_path, "restore", out, "--library", tmp_path / "restored")
    assert res.returncode == 0, res.stderr
    from skintrack.library import Library

    with Library.open(tmp_path / "restored", create=False) as lib:
        assert lib.check().ok and lib.list_regions()


@pytest.mark.parametrize(
    "member", ["skintrack.sqlite3-wal", "skintrack.sqlite3-journal", "cache/x.jpg", "originals/ab/notes.txt"]
)
def test_archive_members_other_than_database_and_originals_are_refused(
    tmp_path: Path, archive: Path, member: str
) -> None:
    crafted = tmp_path / "extra.zip"
    rebuild(archive, crafted, extra={member: b"\x00" * 64})
    res = cli(tmp_path, "restore", crafted, "--library", tmp_path / "restored")
    assert res.returncode == 4 and "not a file a Skintrack backup contains" in res.stderr, res.stderr
    assert not (tmp_path / "restored").exists() and hidden(tmp_path) == []


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_database_is_refused_and_nothing_is_written(tmp_path: Path, archive: Path, case: str) -> None:
    mutate, raw, reason = CRAFTED[case]
    crafted = tmp_path / "crafted.zip"
    rebuild(archive, crafted, mutate, db_bytes=raw)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    target = tmp_path / "restored"
    res = cli(tmp_path, "restore", crafted, "--library", target)
    assert res.returncode == 4, res.stderr
    assert "not a usable Skintrack backup" in res.stderr and reason in res.stderr, res.stderr
    assert not target.exists() and hidden(tmp_path) == []
    assert victim.read_text() == "not yours"


def test_restored_originals_missing_from_the_archive_are_refused(tmp_path: Path, archive: Path) -> None:
    crafted = tmp_path / "crafted.zip"
    with zipfile.ZipFile(archive) as zf:
        first = min(n for n in zf.namelist() if n.startswith("originals/"))
    rebuild(archive, crafted, drop=lambda name: name == first)
    res = cli(tmp_path, "restore", crafted, "--library", tmp_path / "restored")
    assert res.returncode == 4 and "not in the archive" in res.stderr
    assert not (tmp_path / "restored").exists()


def test_crafted_archive_cannot_replace_a_library(tmp_path: Path, archive: Path, existing: Path) -> None:
    before = tree(existing)
    crafted = tmp_path / "crafted.zip"
    rebuild(archive, crafted, _sql("CREATE TRIGGER t AFTER INSERT ON journal BEGIN DELETE FROM photo; END"))
    res = cli(tmp_path, "restore", crafted, "--library", existing, "--force")
    assert res.returncode == 4
    assert tree(existing) == before and hidden(tmp_path) == [] and trashed(tmp_path) == []


# ---------------------------------------------------------------- 4: a kill during the swap
@pytest.mark.parametrize("step", ["swap-journal", "swap-old-aside", "swap-new-in-place", "swap-old-disposed"])
def test_kill_during_the_swap_is_recovered_when_the_library_is_opened(
    tmp_path: Path, archive: Path, existing: Path, step: str
) -> None:
    old = tree(existing)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force", SKINTRACK_FAULT_AT=step)
    assert res.returncode == -9, (res.returncode, res.stderr)
    pending = pending_swaps(existing)
    if step != "swap-old-disposed":
        assert pending and not any(p.live for p in pending)
    listed = cli(tmp_path, "region", "list", "--library", existing)  # a read command recovers
    assert listed.returncode == 0, listed.stderr
    assert pending_swaps(existing) == [] and hidden(tmp_path) == []
    now = regions(existing / DB)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("existing (replaced ")] + trashed(tmp_path)
    if step == "swap-journal":  # killed before anything moved: rolled back
        assert now == ["Right cheek"] and tree(existing) == old and kept == []
    else:  # the verified new library is in place, the old one kept where the user can see it
        assert now == ["Left forearm"]
        assert [tree(k) for k in kept] == [old]


def test_kill_during_the_swap_is_recovered_by_the_next_restore(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    res = cli(
        tmp_path, "restore", archive, "--library", existing, "--force", SKINTRACK_FAULT_AT="swap-old-aside"
    )
    assert res.returncode == -9
    assert not existing.exists()  # the moment the issue describes: no library at its path
    again = cli(tmp_path, "restore", archive, "--library", existing, "--force")
    assert again.returncode == 0, again.stderr
    assert "finished an interrupted restore" in again.stderr
    assert regions(existing / DB) == ["Left forearm"]
    assert pending_swaps(existing) == [] and hidden(tmp_path) == []


def test_a_journal_naming_other_folders_is_not_followed(tmp_path: Path, existing: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.odt").write_bytes(b"years of work")
    journal = tmp_path / ".existing.swap-999999999.json"
    journal.write_text(json.dumps({"target": "existing", "new": "precious", "old": "precious"}))
    res = cli(tmp_path, "region", "list", "--library", existing)
    assert res.returncode == 0, res.stderr
    assert (precious / "thesis.odt").read_bytes() == b"years of work"
    assert regions(existing / DB) == ["Right cheek"]
    assert [p.path for p in pending_swaps(existing)] == [journal]  # left for the user, reported by check


def test_stale_staging_of_a_killed_restore_is_removed_by_the_next(tmp_path: Path, archive: Path) -> None:
    target = tmp_path / "lib"
    stale = tmp_path / ".lib.restore-999999999-deadbeef"
    (stale / "originals").mkdir(parents=True)
    (stale / DB).write_bytes(b"health data")
    res = cli(tmp_path, "restore", archive, "--library", target)
    assert res.returncode == 0, res.stderr
    assert not stale.exists() and hidden(tmp_path) == []


# ---------------------------------------------------------------- 5: one process replacing at a time
HOLD = """
import sys, time
from skintrack.library import Library
lib = Library.open(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
lib.close()
"""


def hold_open(tmp_path: Path, library: Path) -> subprocess.Popen[str]:
    """A child process with ``library`` open (as the app or an import would have it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(library)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    return holder


def test_restore_refuses_while_another_process_has_the_library_open(
    tmp_path: Path, archive: Path, existing: Path
) -> None:
    holder = hold_open(tmp_path, existing)
    try:
        before = tree(existing)
        res = cli(tmp_path, "restore", archive, "--library", existing, "--force")
        assert res.returncode == 1, res.stderr
        assert "in use by" in res.stderr and f"process {holder.pid}" in res.stderr
        assert tree(existing) == before and hidden(tmp_path) == []
    finally:
        holder.communicate("", timeout=20)
    res = cli(tmp_path, "restore", archive, "--library", existing, "--force")
    assert res.returncode == 0, res.stderr


def test_backup_shares_the_library_with_another_process(tmp_path: Path, existing: Path) -> None:
    holder = hold_open(tmp_path, existing)
    try:
        backup = cli(tmp_path, "backup", "--library", existing, "--out", tmp_path / "while-open.zip")
        assert backup.returncode == 0, backup.stderr
    finally:
        holder.communicate("", timeout=20)


HOLD_EXCLUSIVE = """
import sys
from pathlib import Path
from skintrack.library import lock
held = lock.acquire(Path(sys.argv[1]), exclusive=True, purpose="skintrack restore")
print("held", flush=True)
sys.stdin.read()
"""


def test_library_cannot_be_opened_while_a_restore_holds_it(tmp_path: Path, existing: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_EXCLUSIVE, str(existing)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        res = cli(tmp_path, "journal", "add", "--date", "2025-05-01", "--kind", "note", "--library", existing)
        assert res.returncode == 1
        assert "skintrack restore" in res.stderr and f"process {holder.pid}" in res.stderr
    finally:
        holder.communicate("", timeout=20)
