"""Region matching of inbox photos (issue 17 goals), on synthetic skin and on real photos.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_region_match.py -m benchmark -s

Each suite: 20 regions (synthetic skin, or the left/right halves of 10 real PAD-UFES-20 photos),
10 later photos of each with new framing (rotation, scale, shift) and lighting (gain, white
balance, gradient, vignetting), and 20 photos of unrelated skin. Goals: >= 95 % of the region
photos get the right proposal, 0 wrong proposals marked sure, 0 unrelated photos marked sure,
<= 1 s per photo with 20 regions. The time goal is checked on the median CPU time of the
process per photo (all threads summed): on 2 idle cores the wall time cannot exceed it, and on a
shared, loaded machine the wall time says more about the neighbours; both are printed. Building
the region index (once per scan) is timed apart.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from skintrack.core import images
from skintrack.demo import phone
from skintrack.services.region_match import RegionIndex

pytestmark = pytest.mark.benchmark

REGIONS = 20
LATER = 10
UNRELATED = 20


def shared_data() -> Path:
    env = os.environ.get("SKINTRACK_SHARED_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    for parent in repo.parents:  # beside the checkout (CI), or beside a folder of worktrees
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return repo.parent / "shared" / "data"


def _run(case: phone.MatchCase, label: str) -> None:
    t0 = time.perf_counter()
    index = RegionIndex.from_images(case.regions)
    build_s = time.perf_counter() - t0
    right = wrong_sure = unrelated_sure = unrelated_proposed = related = sure_right = 0
    walls: list[float] = []
    cpus: list[float] = []
    misses: list[str] = []
    for rgb, truth in case.photos:
        w0, c0 = time.perf_counter(), time.process_time()
        match = index.match(rgb)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        proposed = None if match.proposed is None else match.proposed.name
        if truth is None:
            unrelated_sure += match.sure
            unrelated_proposed += proposed is not None
            continue
        related += 1
        if proposed == truth:
            right += 1
            sure_right += match.sure
        else:
            misses.append(f"{truth} -> {proposed} ({match.confidence:.2f})")
            wrong_sure += match.sure and proposed is not None
    right_pct = 100.0 * right / related
    p95 = sorted(walls)[int(0.95 * (len(walls) - 1))]
    print(
        f"\n[{label}] {len(case.regions)} regions, {related} region photos, "
        f"{len(case.photos) - related} unrelated"
    )
    print(
        f"  right proposal        {right_pct:6.1f} %   goal >= 95 %  ({right}/{related}; sure {sure_right})"
    )
    print(f"  wrong marked sure     {wrong_sure:6d}     goal 0")
    print(
        f"  unrelated marked sure {unrelated_sure:6d}     goal 0   "
        f"(unrelated with any proposal: {unrelated_proposed})"
    )
    print(
        f"  time per photo        {statistics.median(walls):6.2f} s median, {p95:.2f} s p95, "
        f"{max(walls):.2f} s max"
        f" wall   (CPU {statistics.median(cpus):.2f} s median, goal <= 1 s)"
    )
    print(f"  region index build    {build_s:6.2f} s for {len(case.regions)} regions (once per scan)")
    if misses:
        print("  misses: " + "; ".join(misses[:10]))
    assert right_pct >= 95.0
    assert wrong_sure == 0
    assert unrelated_sure == 0
    assert statistics.median(cpus) <= 1.0


def test_region_match_synthetic() -> None:
    _run(phone.synthetic_case(REGIONS, LATER, UNRELATED), "synthetic skin")


def test_region_match_real_photos() -> None:
    folder = shared_data() / "pad-ufes-20"
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if len(files) < 12:
        pytest.skip(f"needs 12 PAD-UFES-20 photos in {folder} (set SKINTRACK_SHARED_DATA)")
    photos = [images.decode(f, max_side=1000).rgb for f in files[:12]]
    case = phone.real_case(photos, REGIONS // 2, LATER, UNRELATED)
    _run(case, "real photos (PAD-UFES-20 halves)")


def test_no_photo_is_lost_from_the_case() -> None:
    case = phone.synthetic_case(2, 2, 1, size=(320, 240))
    assert len(case.regions) == 2 and len(case.photos) == 5
    assert all(isinstance(rgb, np.ndarray) for rgb, _ in case.photos)
