"""The cheap check of originals when a library opens: sizes and times, hashing only suspects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skintrack.library import Library, originals_check
from skintrack.library.originals_check import quick_check_originals
from support.library_photos import make_jpeg


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the quick check re-hashed."""
    seen: list[Path] = []
    real = originals_check.sha256_file

    def counting(path: str | os.PathLike[str]) -> str:
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(originals_check, "sha256_file", counting)
    return seen


def _import(lib: Library, tmp_path: Path, n: int) -> list:
    region = lib.add_region("Arm")
    return [lib.import_file(region.id, make_jpeg(tmp_path / f"{i}.jpg", i)).photo for i in range(n)]


def _age(path: Path, seconds: float) -> None:
    """Set the file's modification time ``seconds`` after now (negative: before)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))


def test_an_untouched_library_is_checked_without_reading_any_original(
    lib: Library, tmp_path: Path, hashed: list[Path]
) -> None:
    _import(lib, tmp_path, 3)
    report = quick_check_originals(lib)
    assert report.ok and report.missing == [] and report.altered == []
    assert hashed == []


def test_missing_and_resized_originals_are_found_without_hashing(
    lib: Library, tmp_path: Path, hashed: list[Path]
) -> None:
    photos = _import(lib, tmp_path, 3)
    gone, grown = lib.original_path(photos[0]), lib.original_path(photos[1])
    os.chmod(gone, 0o600)
    gone.unlink()
    os.chmod(grown, 0o600)
    grown.write_bytes(grown.read_bytes() + b"more")
    report = quick_check_originals(lib)
    assert not report.ok
    assert [p.id for p in report.missing] == [photos[0].id]
    assert [p.id for p in report.altered] == [photos[1].id]
    assert hashed == []


def test_a_same_size_change_after_import_is_confirmed_by_its_hash(
    lib: Library, tmp_path: Path, hashed: list[Path]
) -> None:
    photo = _import(lib, tmp_path, 1)[0]
    path = lib.original_path(photo)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    os.chmod(path, 0o600)
    path.write_bytes(bytes(data))
    _age(path, 60)
    report = quick_check_originals(lib)
    assert [p.id for p in report.altered] == [photo.id]
    assert hashed == [path]


def test_a_newer_copy_of_the_same_bytes_is_hashed_once_then_trusted(
    lib: Library, tmp_path: Path, hashed: list[Path]
) -> None:
    photo = _import(lib, tmp_path, 2)[0]
    path = lib.original_path(photo)
    _age(path, 60)  # as after a restore from backup
    assert quick_check_originals(lib).ok
    assert hashed == [path]
    hashed.clear()
    assert quick_check_originals(lib).ok
    assert hashed == []
    _age(path, 60)  # written again since it was verified
    assert quick_check_originals(lib).ok
    assert hashed == [path]


def test_a_damaged_stamp_cache_only_costs_a_rehash(lib: Library, tmp_path: Path, hashed: list[Path]) -> None:
    photo = _import(lib, tmp_path, 1)[0]
    _age(lib.original_path(photo), 60)
    (lib.cache_dir / originals_check.STAMPS_NAME).write_text("{not json", encoding="utf-8")
    assert quick_check_originals(lib).ok
    assert len(hashed) == 1
