"""Kill safety: an import SIGKILLed at any moment leaves no row without its file and loses nothing.

Children come from a forkserver (one clean, thread-free server; each child is a cheap fork of
it), so ten kills at random moments plus the deterministic crash points take a few seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.library import Library
from skintrack.services.checkin import run_import

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")

ROUNDS = 10
FILES_PER_ROUND = 24


def make_jpegs(folder: Path, prefix: str, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(prefix)) % 2**32)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}-{i:03d}.jpg"
        Image.fromarray((rng.random((96, 128, 3)) * 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def _child(root: str, region_id: int, files: list[Path], ready, setup: Callable[[], None] | None) -> None:
    if setup is not None:
        setup()
    with Library.open(root) as lib:
        ready.set()
        run_import(lib, region_id, files)
    os._exit(0)


def snapshot(root: Path) -> dict[int, tuple[str, str]]:
    with Library.open(root) as lib:
        photos = [
            p for s in lib.list_regions(include_archived=True) for p in lib.list_photos(s.region.id, True)
        ]
        return {p.id: (p.sha256, p.original_name) for p in photos}


def assert_consistent_then_repair(root: Path, before: dict[int, tuple[str, str]]) -> None:
    with Library.open(root) as lib:
        report = lib.check()
        assert report.missing == [], "a row was committed without its file"
        assert report.altered == []
        leftovers = report.orphans + report.temp_files  # temp files also of the thumbnail cache
        assert all(p.is_relative_to(lib.root) for p in leftovers)
        repaired = lib.check(repair=True)
        assert repaired.ok, repaired
        assert lib.check().ok
        for photo_id, (sha, name) in before.items():  # earlier imports are intact
            photo = lib.photo(photo_id)
            assert (photo.sha256, photo.original_name) == (sha, name)
            assert lib.original_path(photo).is_file()


def run_child(
    root: Path, region_id: int, files: list[Path], setup=None, kill_after: float | None = None
) -> tuple[int, float]:
    """Run an importing child; returns its exit code and the seconds from "library open" to its end."""
    ctx = multiprocessing.get_context("forkserver")  # children forked from a clean, thread-free server
    ctx.set_forkserver_preload(["numpy", "PIL.Image", "skintrack.core.images", "skintrack.services.checkin"])
    ready = ctx.Event()
    proc = ctx.Process(target=_child, args=(str(root), region_id, files, ready, setup))
    proc.start()
    try:
        assert ready.wait(20), "child never opened the library"
        opened = time.perf_counter()
        if kill_after is not None:
            proc.join(kill_after)
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
        assert not proc.is_alive()
        elapsed = time.perf_counter() - opened
    finally:
        if proc.is_alive():
            proc.kill()
    return proc.exitcode, elapsed


@pytest.fixture
def region(library_dir: Path) -> int:
    with Library.open(library_dir) as lib:
        return lib.add_region("Arm").id


def test_sigkill_at_random_moments_never_leaves_a_row_without_its_file(
    library_dir: Path, tmp_path: Path, region: int
) -> None:
    rnd = random.Random(1234)
    # calibration: how long does one uninterrupted import take on this machine right now (from the
    # moment the child has the library open, which is when the kill clock starts)?
    code, duration = run_child(
        library_dir, region, make_jpegs(tmp_path / "src", "calibrate", FILES_PER_ROUND)
    )
    assert code == 0
    killed = 0
    round_no = 0
    # load on the machine changes the timing: a round that finished before its kill shrinks the window,
    # and rounds continue (bounded) until enough kills landed mid-import
    while round_no < ROUNDS or (killed < 3 and round_no < 4 * ROUNDS):
        files = make_jpegs(tmp_path / "src", f"r{round_no}", FILES_PER_ROUND)
        before = snapshot(library_dir)
        code, elapsed = run_child(library_dir, region, files, kill_after=rnd.uniform(0.0, 0.8 * duration))
        killed += code == -signal.SIGKILL
        assert code in (0, -signal.SIGKILL)
        if code == 0:
            duration = min(duration, elapsed) * 0.8
        assert_consistent_then_repair(library_dir, before)
        round_no += 1
    assert killed >= 3, "the kills should mostly land during the import"
    # after all that, a plain import of everything completes and is clean
    with Library.open(library_dir) as lib:
        every = sorted((tmp_path / "src").glob("*.jpg"))
        report = run_import(lib, region, every)
        assert report.errors == []
        assert len(lib.list_photos(region)) == len(every)
        assert lib.check().ok


def _crash_before_rename() -> None:
    import skintrack.core.fsutil as fsutil

    def replace(*_args: object) -> None:
        os._exit(9)

    fsutil.os.replace = replace  # only in the forked child


def _crash_after_rename_before_commit() -> None:
    from skintrack.library.store import OriginalStore

    original_put = OriginalStore.put

    def put(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        path = original_put(self, *args, **kwargs)
        os._exit(9)
        return path

    OriginalStore.put = put  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("setup", "leftover"),
    [(_crash_before_rename, "temp"), (_crash_after_rename_before_commit, "orphan")],
)
def test_crash_between_copy_and_commit_leaves_only_removable_files(
    library_dir: Path, tmp_path: Path, region: int, setup, leftover: str
) -> None:
    first = make_jpegs(tmp_path / "src", "first", 2)
    with Library.open(library_dir) as lib:
        run_import(lib, region, first)
    before = snapshot(library_dir)
    code, _ = run_child(library_dir, region, make_jpegs(tmp_path / "src", "crash", 2), setup=setup)
    assert code == 9
    with Library.open(library_dir) as lib:
        report = lib.check()
        if leftover == "temp":  # its process is gone: cleaned, and nothing else is wrong
            assert report.ok and len(report.removed) == 1
        else:
            assert not report.ok and len(report.orphans) == 1
        assert report.missing == [] and len(lib.list_photos(region)) == 2
    assert_consistent_then_repair(library_dir, before)
