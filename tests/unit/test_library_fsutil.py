"""core.fsutil: the atomic, durable writes the library relies on."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from skintrack.core import fsutil


def test_atomic_write_bytes_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "data.bin"
    fsutil.atomic_write_bytes(target, b"first")
    fsutil.atomic_write_bytes(target, b"second version", durable=False)
    assert target.read_bytes() == b"second version"
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]


def test_atomic_copy_returns_hash_of_copied_bytes(tmp_path: Path) -> None:
    src = tmp_path / "src.jpg"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several chunks
    dst = tmp_path / "ab" / "copy.jpg"
    digest = fsutil.atomic_copy(src, dst)
    assert digest == hashlib.sha256(src.read_bytes()).hexdigest() == fsutil.sha256_file(dst)
    assert dst.read_bytes() == src.read_bytes()


def test_failed_copy_cleans_its_temp_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsutil.atomic_copy(tmp_path / "missing.jpg", tmp_path / "out" / "x.jpg")
    assert list((tmp_path / "out").iterdir()) == []


def test_temp_names_are_recognised_with_their_owner(tmp_path: Path) -> None:
    temp = fsutil.temp_path_for(tmp_path / "abc.jpg")
    assert temp.parent == tmp_path and fsutil.is_temp_name(temp.name)
    assert not fsutil.is_temp_name("abc.jpg")
    assert fsutil.temp_owner_alive(temp.name)  # this process
    assert not fsutil.temp_owner_alive(temp.name.replace(f".{os.getpid()}-", ".999999999-"))
    assert not fsutil.temp_owner_alive("foreign.skt-tmp")
