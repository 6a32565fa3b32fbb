"""Realism suite: the real ``compare_files`` on phone-like pairs with known truth (issue 14 evidence).

Run: ``SKINTRACK_SHARED_DATA=<folder> pytest tests/benchmarks/test_bench_realism.py -m benchmark -s``
(the shared folder is found beside the checkout without the variable). Pairs are built from the
real smartphone photos (up to ``REAL_SCENES``) and synthetic skin; per variant one pair per patch
kind and ΔL* (-2, -3, -5, -8; radii 2-12 % of the frame in turn) and three no-change pairs.
Printed: mean IoU per variant with its goal, the worst false-alarm share on no-change pairs, the
compared share of the overlap, refusals; then the smallest ΔL* found against the patch area.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from realism import scoring, sources, suite, variants
from skintrack.demo import synth

pytestmark = pytest.mark.benchmark

REAL_SCENES = 6
SYNTHETIC_SCENES = 2


def test_bench_realism_table(tmp_path: Path) -> None:
    scene_list = sources.scenes(REAL_SCENES, SYNTHETIC_SCENES)
    n_real = sum(s.kind == "real" for s in scene_list)
    start = time.perf_counter()
    scores = [scoring.score(pair, tmp_path) for pair in suite.benchmark_pairs(scene_list)]
    took = time.perf_counter() - start
    print(
        f"\nrealism suite: {len(scores)} pairs on {n_real} real and {len(scene_list) - n_real} synthetic "
        f"scenes, {took:.0f} s ({took / len(scores):.2f} s per compare_files)"
    )
    if not n_real:
        print(f"  ({sources.MISSING_REAL})")
    for line in suite.variant_table(scores):
        print("  " + line)
    met = sum(s.meets_goal for s in scores if s.goal is not None or s.delta_L is None)
    total = sum(1 for s in scores if s.goal is not None or s.delta_L is None)
    print(f"  pairs meeting their goal: {met}/{total}")
    assert scores


def test_bench_detection_limit(tmp_path: Path) -> None:
    scene_list = sources.scenes(1, 1)
    deltas = (-1.0, -1.5, -2.0, -3.0, -5.0, -8.0)
    print("\nsmallest ΔL* found (IoU >= 0.5), plain variant, against patch area (goal: falls as area grows)")
    for scene in scene_list:
        for kind in variants.KINDS:
            limits = suite.detection_limit(scene, kind, tmp_path, variants.RADII, deltas)
            cells = "  ".join(
                f"{100 * area:5.2f} % -> {'none' if found == float('inf') else f'{found:.1f}'}"
                for area, found in limits.values()
            )
            print(f"  {scene.name:<18} {kind:<9} {cells}")


RING_VARIANTS = ("plain", "tone+sat", "non-rigid", "repeat-shot")


def test_bench_mole_growth(tmp_path: Path) -> None:
    """A ring around a pigmented spot darkens by 8 (the spot grows): IoU per variant, goal 0.8."""
    scene_list = [s for s in sources.scenes(12, 2) if s.moles.any()]
    print("\nmole growth: ring around a pigmented spot, ΔL* -8 (goal IoU >= 0.8)")
    for name in RING_VARIANTS:
        cells = []
        for kind in variants.KINDS:
            ious = []
            for scene in scene_list:
                try:
                    pair = variants.build(
                        scene, variants.VARIANTS[name], synth.Darkening(-8.0, kind), shape="ring"
                    )
                except ValueError:
                    continue  # no spot near the centre of this photo
                s = scoring.score(pair, tmp_path)
                ious.append(s.iou if s.iou is not None else 0.0)
                if len(ious) == 4:
                    break
            mean = sum(ious) / len(ious) if ious else float("nan")
            cells.append(f"{kind} {mean:.2f} (n={len(ious)}, min {min(ious, default=float('nan')):.2f})")
        print(f"  {name:<14} " + "   ".join(cells))
