"""``analyze --region`` of a region of 12 MP check-ins: first analysis on one and on all analysis
threads, then the no-op re-analysis (nothing changed, so nothing is measured).

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_region.py -m benchmark -s
(``SKINTRACK_BENCH_PHOTOS=40`` is the issue's region; the default is 40, smaller counts give a
quick figure on a busy machine).

Goals: two threads clearly faster than one (speed-up ≥ 1.4 on 2 cores), the same stored numbers,
and a no-op re-analysis that measures nothing (≤ 1 s for 40 photos). Wall and CPU times are
printed: the machine may be shared. Photos: synthetic skin (``skintrack.demo.synth``) photographed
at 2000x1500 with a new pose and light each time and a slowly growing patch, upscaled to 4000x3000
with fresh sensor noise, saved at JPEG quality 92.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.demo import synth

pytestmark = pytest.mark.benchmark

N = int(os.environ.get("SKINTRACK_BENCH_PHOTOS", "40"))
SHOT = (2000, 1500)
FULL = (4000, 3000)
SPEED_UP_GOAL = 1.4
NOOP_GOAL_S = 1.0


def _photos(folder: Path, count: int) -> list[Path]:
    bw, bh = int(SHOT[0] * 1.4), int(SHOT[1] * 1.4)
    skin = synth.make_skin((bw, bh), seed=7)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        patch = synth.blob_mask((bw, bh), 7, (bw / 2, bh / 2), 60.0 + 4 * i)
        body = synth.darken(skin, patch, synth.Darkening(-0.2 * i, "brown")) if i else skin
        pose = synth.Pose(rotation=2.0 * (i % 3) - 2.0, shift=(8.0 * (i % 5), -5.0 * (i % 4)))
        light = synth.Lighting(gain=1.0 - 0.01 * (i % 7), gradient=(0.04 * (i % 2), 0.0))
        rgb, _ = synth.photograph(body, pose, SHOT, light, seed=i)
        big = cv2.resize(rgb, FULL, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big += rng.normal(0, 2.0, big.shape).astype(np.float32)
        path = folder / f"check_in_{i:03d}.jpg"
        bgr = cv2.cvtColor(np.clip(big, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def _run(lib: object, region_id: int, *, force: bool) -> tuple[float, float, int, object]:
    from skintrack.services import analysis

    t, c = time.perf_counter(), time.process_time()
    gen = analysis.analyze_region(lib, region_id, force=force)
    steps = 0
    try:
        while True:
            next(gen)
            steps += 1
    except StopIteration as stop:
        report = stop.value
    return time.perf_counter() - t, time.process_time() - c, steps, report


def test_bench_region_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skintrack.library.db import Library
    from skintrack.services import analysis

    photos = _photos(tmp_path, N)
    with Library.open(tmp_path / "lib") as lib:
        rid = lib.add_region("forearm").id
        for i, p in enumerate(photos):
            lib.import_file(rid, p, taken_at=datetime(2024, 1, 1) + timedelta(days=28 * i))
        load = os.getloadavg()[0]
        figures = {}
        stored = {}
        for threads in (1, 2):
            monkeypatch.setattr(analysis, "ANALYSIS_THREADS", threads)
            figures[threads] = _run(lib, rid, force=True)
            stored[threads] = [m.metrics for m in lib.measurements_for_region(rid)]
        noop = _run(lib, rid, force=False)

    pairs = len(stored[2])
    one, two = figures[1], figures[2]
    print(f"\nanalyze_region, {N} check-ins of 4000x3000 q92 ({pairs} stored pairs); load {load:.1f}")
    for threads, (wall, cpu, steps, _report) in sorted(figures.items()):
        print(
            f"  first analysis, {threads} thread(s): {wall:7.2f} s wall, {cpu:7.2f} s CPU, "
            f"{steps} progress steps"
        )
    speed_up = one[0] / two[0]
    verdict = "ok" if speed_up >= SPEED_UP_GOAL else "MISSED"
    print(f"  speed-up of 2 threads over 1: {speed_up:.2f} (goal ≥ {SPEED_UP_GOAL})  {verdict}")
    report = noop[3]
    skipped = getattr(report, "skipped", None)
    verdict = "ok" if noop[0] <= NOOP_GOAL_S else "MISSED"
    print(
        f"  no-op re-analysis: {noop[0]:.3f} s wall, {noop[1]:.3f} s CPU, {skipped} pairs skipped "
        f"(goal ≤ {NOOP_GOAL_S:g} s)  {verdict}"
    )
    assert stored[1] == stored[2]
    assert report.analysed == 0 and skipped and skipped >= pairs
