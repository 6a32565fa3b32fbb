"""Shared test set-up: offscreen Qt unless a display is wanted, temporary libraries."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from skintrack.library import Library

if not os.environ.get("SKINTRACK_TEST_DISPLAY"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmarks run only on request (``-m benchmark``); everything else always runs."""
    if "benchmark" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="benchmark: run with -m benchmark")
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    """An empty folder for a fresh library (the real SQLite file is created inside)."""
    path = tmp_path / "library"
    path.mkdir()
    return path


@pytest.fixture
def lib(library_dir: Path) -> Iterator[Library]:
    """A fresh library opened in ``library_dir``, closed after the test."""
    with Library.open(library_dir) as library:
        yield library
