"""Small archives cannot demand gigabytes: limits are checked from the zip directory, before unpacking.

Bombs go through the real CLI in a child whose peak memory is measured; the count and size
limits, which need huge archives to reach at their defaults, are checked with small limits.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from safety_support import DB, cli, cli_env, make_library

from skintrack.errors import InvalidInputError
from skintrack.export.archive import ArchiveLimits, verify_backup
from skintrack.progress import CancelToken
from skintrack.ui.tasks import drive

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage")

MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(proc.stderr)
print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""
PEAK_MB = 120  # a restore that refuses early needs the interpreter and its imports, ~60 MB


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    make_library(tmp_path / "source", 2)
    out = tmp_path / "good.zip"
    assert cli(tmp_path, "backup", "--library", tmp_path / "source", "--out", out).returncode == 0
    return out


def restore_measured(tmp_path: Path, archive: Path) -> tuple[int, int, str]:
    """Exit code, peak resident MB and stderr of ``skintrack restore`` in a child."""
    cmd = [sys.executable, "-m", "skintrack", "restore", str(archive), "--library", str(tmp_path / "t")]
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, peak = proc.stdout.split()
    return int(code), int(peak), proc.stderr


def with_extra(src: Path, dst: Path, name: str, data: bytes, *, manifest: bytes | None = None) -> None:
    """``src`` plus one member, listed with its true hash (so only its size is hostile)."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    listing = json.loads(members.pop("manifest.json"))
    listing["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for n, blob in members.items():
            zout.writestr(n, blob)
        zout.writestr(name, data)
        zout.writestr("manifest.json", manifest if manifest is not None else json.dumps(listing))


def test_deflate_bomb_member_is_refused_without_unpacking(tmp_path: Path, archive: Path) -> None:
    zeros = bytes(120 * 1024 * 1024)
    sha = hashlib.sha256(zeros).hexdigest()
    bomb = tmp_path / "bomb.zip"
    with_extra(archive, bomb, f"originals/{sha[:2]}/{sha}.png", zeros)
    del zeros
    assert bomb.stat().st_size < 2 * 1024 * 1024
    code, peak, err = restore_measured(tmp_path, bomb)
    assert code == 4 and "compression ratio" in err, err
    print(f"peak {peak} MB (limit {PEAK_MB} MB)")
    assert peak < PEAK_MB, f"{peak} MB"
    assert not (tmp_path / "t").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".t.")]


def test_huge_manifest_is_refused_before_it_is_read(tmp_path: Path, archive: Path) -> None:
    bomb = tmp_path / "manifest-bomb.zip"
    with (
        zipfile.ZipFile(archive) as zin,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for n in zin.namelist():
            if n != "manifest.json":
                zout.writestr(n, zin.read(n))
        with zout.open("manifest.json", "w") as fh:  # 100 MB of JSON that deflates to ~0.4 MB
            fh.write(b'{"format": "skintrack-backup", "version": 1, "pad": "')
            spaces = b" " * (1024 * 1024)
            for _ in range(100):
                fh.write(spaces)
            fh.write(b'"}')
    code, peak, err = restore_measured(tmp_path, bomb)
    assert code == 4 and "manifest.json" in err, err
    print(f"peak {peak} MB (limit {PEAK_MB} MB)")
    assert peak < PEAK_MB, f"{peak} MB"


def verify(path: Path, limits: ArchiveLimits) -> None:
    drive(lambda _t: verify_backup(path, None, limits), CancelToken(), lambda _p: None)


def test_member_count_limit(tmp_path: Path, archive: Path) -> None:
    verify(archive, ArchiveLimits(members=4))  # database + 2 originals + manifest: within
    with pytest.raises(InvalidInputError, match="members, more than the limit of 2"):
        verify(archive, ArchiveLimits(members=2))


def test_member_and_total_size_limits(tmp_path: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    biggest = max(sizes.values())
    with pytest.raises(InvalidInputError, match="over the limit"):
        verify(archive, ArchiveLimits(member_bytes=biggest - 1))
    with pytest.raises(InvalidInputError, match=r"it would unpack to .* over the limit"):
        verify(archive, ArchiveLimits(total_bytes=sum(sizes.values()) - 1))
    verify(archive, ArchiveLimits(member_bytes=biggest, total_bytes=sum(sizes.values())))


def test_manifest_entries_must_match_the_zip_directory(tmp_path: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        listing = json.loads(zf.read("manifest.json"))
    listing["files"][DB]["size"] += 1
    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(archive) as zin, zipfile.ZipFile(lying, "w") as zout:
        for n in zin.namelist():
            zout.writestr(n, zin.read(n) if n != "manifest.json" else json.dumps(listing).encode())
    res = cli(tmp_path, "restore", lying, "--library", tmp_path / "t")
    assert res.returncode == 4 and "size the manifest lists" in res.stderr


def test_member_count_is_refused_before_zipfile_loads_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(3000):
            zf.writestr(f"f{i}", b"")

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("the whole directory was loaded")

    monkeypatch.setattr("skintrack.export.archive.zipfile.ZipFile", never)
    with pytest.raises(InvalidInputError, match="3000 members"):
        verify(many, ArchiveLimits(members=2000))
