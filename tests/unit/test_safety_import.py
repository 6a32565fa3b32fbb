"""Import safety through the real CLI: impossible dates, odd file names, files that vanish, a full
disk, images that would take gigabytes to decode and the repair of a damaged original."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from safety_library_support import Cli, make_jpeg

from skintrack.core.images import decode, read_meta
from skintrack.errors import InvalidInputError
from skintrack.library import Library, schema


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "library")
    with Library.open(cli.library) as lib:
        lib.add_region("Arm", interval_days=14)
    return cli


def test_impossible_exif_dates_fall_back_to_the_file_time_with_the_reason(cli: Cli, tmp_path: Path) -> None:
    files = [
        make_jpeg(tmp_path / "far.jpg", 1, taken="9999:12:31 23:59:59"),
        make_jpeg(tmp_path / "zero.jpg", 2, taken="0001:01:01 00:00:00"),
        make_jpeg(tmp_path / "offset.jpg", 3, taken="2024:05:01 10:00:00", offset="+99:99"),
        make_jpeg(tmp_path / "fine.jpg", 4, taken="2024:05:02 10:00:00", offset="+02:00"),
    ]
    result = cli("import", "--region", "Arm", *map(str, files), "--json")
    assert result.returncode == 0, result.stderr
    imported = {p["original_name"]: p for p in json.loads(result.stdout)["imported"]}
    for name, reason in (("far.jpg", "year 9999"), ("zero.jpg", "year 1"), ("offset.jpg", "+99:99")):
        assert imported[name]["taken_at_source"] == "file"
        assert reason in imported[name]["taken_at_note"]
    assert imported["fine.jpg"]["taken_at"] == "2024-05-02T10:00:00+02:00"
    assert imported["fine.jpg"]["taken_at_note"] == ""
    assert cli("region", "list").returncode == 0
    stored = {p["original_name"]: p["taken_at_note"] for p in cli.json("photos", "--region", "Arm")}
    assert "year 9999" in stored["far.jpg"]  # the reason is kept with the photo


@pytest.mark.parametrize("value", ["9999-12-31", "1850-01-01", "0001-01-01"])
def test_a_date_outside_the_range_is_a_usage_error(cli: Cli, tmp_path: Path, value: str) -> None:
    result = cli("import", "--region", "Arm", "--date", value, str(make_jpeg(tmp_path / "a.jpg")))
    assert result.returncode == 2 and "invalid date" in result.stderr
    with Library.open(cli.library, create=False) as lib:
        assert lib.list_photos(lib.region_by_name("Arm").id) == []


def test_a_stored_impossible_date_never_locks_the_user_out(cli: Cli, tmp_path: Path) -> None:
    with Library.open(cli.library) as lib:
        lib.import_file(lib.region_by_name("Arm").id, make_jpeg(tmp_path / "a.jpg"))
    conn = sqlite3.connect(cli.library / "skintrack.sqlite3")  # as another program could have stored it
    conn.execute("UPDATE photo SET taken_at = '9999-12-31T23:59:59+14:00'")
    conn.commit()
    conn.close()
    listed = cli("region", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["photo_count"] == 1
    assert cli("photos", "--region", "Arm").returncode == 0
    checked = cli("check")
    assert checked.returncode == 0 and "photo 1 has an impossible stored date" in checked.stdout


def test_a_file_name_that_is_not_utf8_imports_like_any_other(cli: Cli, tmp_path: Path) -> None:
    odd = tmp_path / os.fsdecode(b"caf\xe9-\xff.jpg")
    make_jpeg(odd, 5)
    files = [make_jpeg(tmp_path / "a.jpg", 1), odd, make_jpeg(tmp_path / "b.jpg", 2)]
    result = cli("import", "--region", "Arm", *map(str, files))
    assert result.returncode == 0, result.stderr
    assert "Imported 3, skipped 0 duplicates, 0 failed." in result.stdout
    assert "caf\ufffd-\ufffd.jpg" in result.stdout


_VANISH = """
import skintrack.library.store as store
real = store.atomic_copy
def vanishing(src, dst, **kw):
    if src.name == "gone.jpg":
        src.unlink()  # deleted by the user between hashing and copying
    return real(src, dst, **kw)
store.atomic_copy = vanishing
"""

_FULL_DISK = """
import sqlite3
import skintrack.library.db as db
class FullDisk:
    def __init__(self, conn): self._conn = conn
    def __getattr__(self, name): return getattr(self._conn, name)
    def execute(self, sql, params=()):
        if sql.lstrip().startswith("INSERT INTO photo") and "full.jpg" in params:
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, params)
real = db._connect
db._connect = lambda path, timeout: FullDisk(real(path, timeout))
"""


@pytest.mark.parametrize(
    ("prelude", "name", "reason"),
    [(_VANISH, "gone.jpg", "disappeared"), (_FULL_DISK, "full.jpg", "disk is full")],
)
def test_each_file_fails_alone_and_the_summary_always_prints(
    cli: Cli, tmp_path: Path, prelude: str, name: str, reason: str
) -> None:
    files = [
        make_jpeg(tmp_path / "a.jpg", 1),
        make_jpeg(tmp_path / name, 2),
        make_jpeg(tmp_path / "b.jpg", 3),
        make_jpeg(tmp_path / "a-again.jpg", 1),
    ]
    result = cli("import", "--region", "Arm", *map(str, files), prelude=prelude)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Imported 2, skipped 1 duplicate, 1 failed: {name} (" in result.stdout
    assert reason in result.stdout
    with Library.open(cli.library, create=False) as lib:
        assert [p.original_name for p in lib.list_photos(lib.region_by_name("Arm").id)] == ["a.jpg", "b.jpg"]
        report = lib.check()
        assert report.ok and report.orphans == []  # the failed file left nothing behind


def test_reimporting_the_pristine_file_repairs_an_altered_original(cli: Cli, tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "a.jpg", 1)
    with Library.open(cli.library) as lib:
        photo = lib.import_file(lib.region_by_name("Arm").id, source).photo
        stored = lib.original_path(photo)
    damaged = bytearray(stored.read_bytes())
    damaged[200:210] = b"\x00" * 10  # same size, different bytes: bit rot
    stored.chmod(0o600)
    stored.write_bytes(bytes(damaged))
    assert cli("check").returncode == 1

    result = cli("import", "--region", "Arm", str(source))
    assert result.returncode == 0, result.stderr
    assert "Repaired photo 1" in result.stdout and ", repaired 1." in result.stdout
    assert stored.read_bytes() == source.read_bytes()
    assert cli("check").returncode == 0


def _png16(path: Path, side: int) -> Path:
    ramp = np.linspace(0, 65535, side, dtype=np.uint16)
    img = np.dstack(
        [np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)), np.full((side, side), 30000, np.uint16)]
    )
    assert cv2.imwrite(str(path), img)
    return path


def test_the_decode_budget_counts_bytes_and_16_bit_is_read_at_8_bit_when_8_bit_is_enough(
    tmp_path: Path,
) -> None:
    path = _png16(tmp_path / "deep.png", 1000)
    with pytest.raises(InvalidInputError, match=r"would take about .* of memory, over the"):
        decode(path, dtype=np.float32, max_bytes=20_000_000)  # full depth: ~30 bytes a pixel
    assert decode(path, max_bytes=20_000_000).rgb.shape == (1000, 1000, 3)  # 8 bit: ~7 bytes a pixel
    with pytest.raises(InvalidInputError, match="of memory"):
        read_meta(path, max_bytes=5_000_000)


_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def _peak_mb(cli: Cli, *args: str) -> tuple[int, int]:
    cmd = [
        sys.executable,
        "-c",
        _PEAK,
        sys.executable,
        "-m",
        "skintrack",
        *args,
        "--library",
        str(cli.library),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=cli.env, timeout=60).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.skipif(sys.platform != "linux", reason="peak memory read from getrusage (Linux units)")
def test_importing_a_16_bit_png_decodes_it_at_8_bit(cli: Cli, tmp_path: Path) -> None:
    small = make_jpeg(tmp_path / "small.jpg")
    deep = _png16(tmp_path / "deep.png", 2500)  # 6 MP x 16 bit: ~250 MB at full depth, ~45 MB at 8 bit
    code, baseline = _peak_mb(cli, "import", "--region", "Arm", str(small))
    assert code == 0
    code, peak = _peak_mb(cli, "import", "--region", "Arm", str(deep))
    assert code == 0
    print(f"16-bit PNG import: {peak - baseline} MB over the baseline (goal < 120)")
    assert peak - baseline < 120, f"importing a 6 MP 16-bit PNG took {peak - baseline} MB over the baseline"


def test_the_date_note_migration_keeps_existing_photos_with_an_empty_note(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
    root = tmp_path / "old"
    shutil.copytree(fixtures / "v2", root)
    with Library.open(root, create=False) as lib:
        assert lib.schema_version == schema.LATEST_VERSION
        photos = lib.list_photos(1, include_deleted=True)
        assert [p.taken_at_note for p in photos] == ["", "", ""]
        far = lib.import_file(1, make_jpeg(tmp_path / "far.jpg", 9, taken="9999:01:01 00:00:00")).photo
        assert far.taken_at_source == "file" and "year 9999" in far.taken_at_note
        edited = lib.update_photo(far.id, taken_at=datetime(2024, 5, 1, 12, 0))
        assert (edited.taken_at_source, edited.taken_at_note) == ("user", "")
