"""Timelapse export at flat memory: peak RSS of ``skintrack export --format gif|mp4`` for 50 and
200 check-ins, each as a fresh process.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_timelapse.py -m benchmark -s
(``SKINTRACK_BENCH_TIMELAPSE=50,200`` sets the check-in counts).

Goal: flat, the peak of 200 check-ins within 15 % (and 30 MB) of the peak of 50. Photos:
1600x1200 JPEGs of one textured skin-like canvas, shifted per check-in, with the shift stored as
the alignment and a current measurement (as after ``analyze``), default options (720 px frames).
Wall and CPU times are printed: the machine may be shared.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from skintrack.core import align
from skintrack.export.mp4 import count_frames
from skintrack.library import AlignmentRecord, Library, MeasurementRecord
from skintrack.library.settings import load_settings
from skintrack.services.pipeline import measurement_version
from support.peak_rss import LAUNCHER, peak_mb

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]
COUNTS = [int(n) for n in os.environ.get("SKINTRACK_BENCH_TIMELAPSE", "50,200").split(",")]
SIZE = (1600, 1200)
FLAT_RATIO = 1.15
FLAT_SLACK_MB = 30.0


def _canvas(size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(5)
    w, h = size
    coarse = rng.random((h // 24, w // 24, 3)).astype(np.float32)
    img = 0.55 + 0.25 * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    img[..., 0] += 0.12
    return np.clip(img * 255 + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)


def _library(root: Path, photos: Path, n: int) -> None:
    photos.mkdir(parents=True)
    w, h = SIZE
    big = _canvas((w + 80, h + 80))
    t0 = datetime(2020, 1, 1, 9, 0)
    with Library.open(root) as lib:
        rid = lib.add_region("Forearm").id
        ids, shifts = [], []
        for i in range(n):
            dx, dy = 40 + (i % 5) * 6 - 12, 40 - (i % 3) * 7
            crop = np.ascontiguousarray(big[dy : dy + h, dx : dx + w])
            crop += np.random.default_rng(i).integers(0, 3, crop.shape, dtype=np.uint8)  # no duplicates
            path = photos / f"p{i:03d}.jpg"
            Image.fromarray(crop).save(path, quality=90)
            imported = lib.import_file(rid, path, taken_at=t0 + timedelta(days=7 * i))
            assert not imported.duplicate, path
            ids.append(imported.photo.id)
            shifts.append((dx, dy))
        lib.set_reference(rid, ids[0])
        version = measurement_version(load_settings(lib), lib.region(rid))
        for i, pid in enumerate(ids[1:], 1):
            hom = [
                [1.0, 0.0, shifts[i][0] - shifts[0][0]],
                [0.0, 1.0, shifts[i][1] - shifts[0][1]],
                [0, 0, 1.0],
            ]
            lib.save_alignment(
                AlignmentRecord(
                    pid, ids[0], True, hom, 0.9, "features", 200, "ok", None, align.ALGORITHM_VERSION
                )
            )
            metrics = {"calibration": "model", "mean_delta_L": -0.05 * i, "darkened_fraction": 0.0,
                       "darkened_area_px": 0, "noise_delta_L": 0.5, "patches": []}  # fmt: skip
            lib.save_measurement(MeasurementRecord(pid, ids[0], "model", metrics, version))


def _export(env: dict[str, str], root: Path, fmt: str, out: Path) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    args = ["--library", str(root), "export", "--region", "Forearm", "--format", fmt, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True, env=env, timeout=3600
    )
    wall = time.perf_counter() - t
    assert done.returncode == 0, done.stderr
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak_mb(done.stderr)


def test_bench_timelapse_memory_is_flat(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    print(f"\ntimelapse export, {SIZE[0]}x{SIZE[1]} check-ins, 720 px frames; load {os.getloadavg()[0]:.1f}")
    peaks: dict[str, dict[int, float]] = {"gif": {}, "mp4": {}}
    for n in COUNTS:
        root = tmp_path / f"lib{n}"
        t = time.perf_counter()
        _library(root, tmp_path / f"src{n}", n)
        print(f"  library of {n} check-ins built in {time.perf_counter() - t:.0f} s")
        for fmt in peaks:
            out = tmp_path / f"t{n}.{fmt}"
            wall, cpu, peak = _export(env, root, fmt, out)
            peaks[fmt][n] = peak
            with Image.open(out) if fmt == "gif" else contextlib.nullcontext() as gif:
                frames = gif.n_frames if gif is not None else count_frames(out)
            assert frames == n, f"{out.name} holds {frames} of {n} frames"
            print(
                f"  {fmt} of {n:>3} check-ins: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                f"peak RSS {peak:5.0f} MB, {out.stat().st_size / 1e6:.1f} MB file"
            )
    lo, hi = min(COUNTS), max(COUNTS)
    for fmt, by_n in peaks.items():
        flat = by_n[hi] <= max(by_n[lo] * FLAT_RATIO, by_n[lo] + FLAT_SLACK_MB)
        verdict = "ok" if flat else "MISSED"
        print(
            f"  {fmt}: peak {by_n[lo]:.0f} MB at {lo} vs {by_n[hi]:.0f} MB at {hi} check-ins "
            f"(goal: flat, within {FLAT_RATIO - 1:.0%} or {FLAT_SLACK_MB:.0f} MB)  {verdict}"
        )
