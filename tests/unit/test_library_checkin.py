"""services.checkin.import_files: progress per file, bad files reported, cancellation between files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.errors import UsageError
from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services.checkin import ImportReport, import_files, run_import


def make_jpeg(path: Path, seed: int = 0) -> Path:
    rgb = (np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path


def drive(job) -> tuple[list[Progress], ImportReport]:
    steps = []
    while True:
        try:
            steps.append(next(job))
        except StopIteration as stop:
            return steps, stop.value


def test_import_files_reports_each_file_and_keeps_going(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    good = [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(3)]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage" * 10)
    paths = [good[0], bad, good[1], good[0], tmp_path / "missing.png", good[2]]
    steps, report = drive(import_files(lib, region.id, paths, notes="batch"))
    assert [(s.done, s.total) for s in steps] == [(i, 6) for i in range(1, 7)]
    assert "bad.jpg" in steps[1].message
    assert [p.original_name for p in report.imported] == ["0.jpg", "1.jpg", "2.jpg"]
    assert all(p.notes == "batch" for p in report.imported)
    assert report.duplicates == [good[0]]
    assert [p.id for p in report.duplicate_of] == [report.imported[0].id]
    assert [p for p, _ in report.errors] == [bad, tmp_path / "missing.png"]
    assert all(reason for _, reason in report.errors)
    assert not report.cancelled
    assert len(lib.list_photos(region.id)) == 3


def test_import_files_user_date_applies_to_every_file(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    when = datetime(2024, 2, 3, 10, 30)
    report = run_import(
        lib, region.id, [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(2)], taken_at=when
    )
    assert {(p.taken_at, p.taken_at_source) for p in report.imported} == {(when, "user")}


def test_cancel_stops_between_files(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    paths = [make_jpeg(tmp_path / f"{i}.jpg", i) for i in range(5)]
    token = CancelToken()
    job = import_files(lib, region.id, paths, token=token)
    next(job)
    next(job)
    token.cancel()
    steps, report = drive(job)
    assert steps == []
    assert report.cancelled
    assert len(report.imported) == 2
    assert len(lib.list_photos(region.id)) == 2
    assert lib.check().ok


def test_unknown_region_fails_before_touching_files(lib: Library, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        drive(import_files(lib, 42, [make_jpeg(tmp_path / "a.jpg")]))
