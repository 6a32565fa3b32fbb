"""Library benchmarks (figures only, nothing timing-related is asserted).

    /work/venv/bin/pytest -m benchmark -s tests/benchmarks/test_bench_library.py

Goals from the issue: importing 12 MP JPEGs >= 20 photos/s on 2 cores including hashing and
thumbnails; listing a 1,000-photo library < 0.3 s.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.library import Library
from skintrack.services.checkin import run_import

pytestmark = pytest.mark.benchmark

N_PHOTOS = 40
SIZE = (4000, 3000)  # 12 MP


def make_12mp_jpegs(folder: Path, count: int) -> list[Path]:
    """Skin-like smooth colour field plus per-photo sensor noise, JPEG quality 90."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = SIZE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack(
        [190 + 25 * np.sin(xx / 700), 140 + 20 * np.cos(yy / 500), 120 + 15 * np.sin((xx + yy) / 900)],
        axis=-1,
    ).astype(np.float32)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        noise = rng.normal(0.0, 6.0, size=(h, w, 1)).astype(np.float32)
        rgb = np.clip(base + noise + i, 0, 255).astype(np.uint8)
        path = folder / f"IMG_{i:04d}.jpg"
        Image.fromarray(rgb).save(path, quality=90)
        paths.append(path)
    return paths


def test_bench_import_12mp(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    files = make_12mp_jpegs(tmp_path / "src", N_PHOTOS)
    made = time.perf_counter() - t0
    mean_mb = np.mean([p.stat().st_size for p in files]) / 1e6
    with Library.open(tmp_path / "lib") as lib:
        region = lib.add_region("Bench")
        start = time.perf_counter()
        report = run_import(lib, region.id, files)
        elapsed = time.perf_counter() - start
        assert len(report.imported) == N_PHOTOS and not report.errors
        assert all(lib.thumbnail_path(p).exists() for p in report.imported)
    print(
        f"\nimport: {N_PHOTOS} x 12 MP JPEG (mean {mean_mb:.1f} MB, generated in {made:.1f} s): "
        f"{elapsed:.2f} s = {N_PHOTOS / elapsed:.1f} photos/s "
        "(validate + thumbnail + sha256 + durable copy + commit)"
    )


def test_bench_list_1000_photos(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root) as lib:
        region = lib.add_region("Arm", interval_days=14)
        for name in ("Cheek", "Hand"):
            lib.add_region(name)
    conn = sqlite3.connect(root / "skintrack.sqlite3")
    start = datetime(2020, 1, 1, 9, 0)
    rows = []
    for i in range(1000):
        when = start + timedelta(days=i)
        sha = hashlib.sha256(str(i).encode()).hexdigest()
        rows.append(
            (region.id, sha, f"IMG_{i:04d}.jpg", ".jpg", 4_000_000, 4000, 3000, when.isoformat(),
             when.timestamp(), "exif", when.isoformat(), f"note {i}")
        )  # fmt: skip
    conn.executemany(
        "INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width, height, taken_at,"
        " taken_at_sort, taken_at_source, imported_at, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    with Library.open(root) as lib:
        timings = {}
        t = time.perf_counter()
        photos = lib.list_photos(region.id)
        timings["list_photos"] = time.perf_counter() - t
        t = time.perf_counter()
        summaries = lib.list_regions()
        timings["list_regions"] = time.perf_counter() - t
        assert len(photos) == 1000 and summaries[0].photo_count == 1000
    cold = subprocess_listing(root)
    print(
        f"\nlisting 1,000 photos: list_photos {timings['list_photos'] * 1000:.1f} ms, "
        f"list_regions {timings['list_regions'] * 1000:.1f} ms; "
        f"`skintrack photos --region Arm --json` end to end {cold:.2f} s"
    )


def subprocess_listing(root: Path) -> float:
    import os
    import subprocess
    import sys

    app = Path(__file__).resolve().parents[2] / "app"
    env = {**os.environ, "PYTHONPATH": str(app)}
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "skintrack", "photos", "--region", "Arm", "--json", "--library", str(root)],
        capture_output=True,
        env=env,
        check=True,
    )
    elapsed = time.perf_counter() - t
    assert out.stdout.count(b'"sha256"') == 1000
    return elapsed
