"""``analyze --region`` of six check-ins: one analysis thread against two.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_analyze.py -m benchmark -s

Goal (issue 13, stretch): on 2 cores, two threads take clearly less wall time than one (target
≤ 0.7×), with the same stored numbers. Photos: synthetic skin (``skintrack.demo.synth``,
1600x1200), a slowly growing grey-blue patch, a new framing and light for every check-in.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import pytest

from skintrack.demo import synth

pytestmark = pytest.mark.benchmark

N = 6
SIZE = (1600, 1200)


def _photos(folder: Path) -> list[Path]:
    pw, ph = SIZE
    bw, bh = int(pw * 1.6), int(ph * 1.6)
    skin = synth.make_skin((bw, bh), seed=4)
    paths = []
    for i in range(N):
        patch = synth.blob_mask((bw, bh), 7, (bw / 2, bh / 2), 60.0 + 12 * i)
        body = synth.darken(skin, patch, synth.Darkening(-1.5 * i, "grey-blue")) if i else skin
        pose = synth.Pose(rotation=2.0 * (i % 3) - 2.0, shift=(10.0 * i, -6.0 * i))
        light = synth.Lighting(gain=1.0 - 0.02 * i, gradient=(0.05 * (i % 2), 0.0))
        rgb, _ = synth.photograph(body, pose, SIZE, light, seed=i)
        path = folder / f"check_in_{i}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def test_bench_analyze_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skintrack.library.db import Library
    from skintrack.services import analysis

    photos = _photos(tmp_path)
    with Library.open(tmp_path / "lib") as lib:
        rid = lib.add_region("forearm").id
        for i, p in enumerate(photos):
            lib.import_file(rid, p, taken_at=datetime(2025, 1, 1) + timedelta(days=28 * i))
        figures = {}
        stored = {}
        for threads in (1, 2, 1, 2):  # interleaved: the machine is shared
            monkeypatch.setattr(analysis, "ANALYSIS_THREADS", threads)
            t = time.perf_counter()
            gen = analysis.analyze_region(lib, rid, force=True)
            for _ in gen:
                pass
            dt = time.perf_counter() - t
            figures[threads] = min(figures.get(threads, dt), dt)
            stored[threads] = [m.metrics for m in lib.measurements_for_region(rid)]
    pairs = 2 * (N - 1) - 1
    print(f"\nanalyze_region, {N} check-ins ({pairs} pairs, {SIZE[0]}x{SIZE[1]}), best of two:")
    for threads, dt in sorted(figures.items()):
        print(f"  {threads} thread(s): {dt:6.2f} s  ({dt / pairs:.2f} s per pair)")
    print(f"  ratio 2/1: {figures[2] / figures[1]:.2f} (goal ≤ 0.70)")
    assert stored[1] == stored[2]
