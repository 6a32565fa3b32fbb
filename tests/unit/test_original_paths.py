"""``OriginalStore.paths_for``: the batch path look-up of a library check keeps the per-path rule
that no original may lie outside ``originals/``, also through symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from skintrack.library.store import InvalidOriginalNameError, OriginalStore

SHA_A = "ab" + "0" * 62
SHA_B = "ab" + "1" * 62
SHA_C = "cd" + "2" * 62


def test_batch_paths_equal_single_paths(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path / "originals")
    parts = [(SHA_A, ".jpg"), (SHA_B, ".png"), (SHA_C, ".jpg")]
    assert list(store.paths_for(parts)) == [store.path_for(s, x) for s, x in parts]


def test_batch_refuses_a_symlinked_sub_folder_outside(tmp_path: Path) -> None:
    root = tmp_path / "originals"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "cd").symlink_to(elsewhere, target_is_directory=True)
    store = OriginalStore(root)
    with pytest.raises(InvalidOriginalNameError, match="outside"):
        list(store.paths_for([(SHA_A, ".jpg"), (SHA_C, ".jpg")]))


def test_batch_refuses_a_symlinked_file_outside(tmp_path: Path) -> None:
    root = tmp_path / "originals"
    (root / "ab").mkdir(parents=True)
    target = tmp_path / "secret.jpg"
    target.write_bytes(b"x")
    (root / "ab" / f"{SHA_B}.jpg").symlink_to(target)
    store = OriginalStore(root)
    paths = store.paths_for([(SHA_A, ".jpg"), (SHA_B, ".jpg")])
    assert next(paths) == root / "ab" / f"{SHA_A}.jpg"
    with pytest.raises(InvalidOriginalNameError, match="outside"):
        next(paths)


def test_batch_refuses_invalid_parts(tmp_path: Path) -> None:
    store = OriginalStore(tmp_path / "originals")
    with pytest.raises(InvalidOriginalNameError):
        list(store.paths_for([("../../etc/passwd", ".jpg")]))
