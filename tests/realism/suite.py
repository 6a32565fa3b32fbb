"""Which pairs the realism benchmark runs, and the tables it prints."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from pathlib import Path

from realism import scoring, variants
from realism.sources import Scene
from skintrack.demo import synth


def benchmark_pairs(scene_list: list[Scene], no_change: int = 3) -> Iterator[variants.Pair]:
    """Per variant: one pair per (kind, ΔL*) with scenes and radii taken in turn, and ``no_change``
    no-change pairs on different scenes."""
    for v_index, variant in enumerate(variants.VARIANTS.values()):
        cell = 0
        for kind in variants.KINDS:
            for dl in variants.DELTAS:
                scene = scene_list[(v_index + cell) % len(scene_list)]
                radius = variants.RADII[(v_index + cell) % len(variants.RADII)]
                yield variants.build(scene, variant, synth.Darkening(dl, kind), radius)
                cell += 1
        for i in range(no_change):
            yield variants.build(scene_list[(v_index + i) % len(scene_list)], variant)


def _mean(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f}" if values else "  - "


SHORT = {"brown": "br", "grey-blue": "gb"}


def variant_table(scores: list[scoring.Score]) -> list[str]:
    """One row per variant: mean IoU per (kind, ΔL*), worst false alarm, mean compared share."""
    cols = [(kind, dl) for kind in variants.KINDS for dl in variants.DELTAS]
    head = "".join(f"{SHORT[k]}{dl:+.0f}".rjust(7) for k, dl in cols)
    goals = "".join(
        (f"{scoring.IOU_GOAL[dl]:.1f}" if dl in scoring.IOU_GOAL else "-").rjust(7) for _, dl in cols
    )
    lines = [
        f"{'variant':<14}{head}  false(worst)  compared  refused",
        f"{'goal':<14}{goals}  {f'<= {100 * scoring.FALSE_ALARM_GOAL:.1f} %':>12}",
    ]
    for name in variants.VARIANTS:
        rows = [s for s in scores if s.variant == name]
        cells = []
        for kind, dl in cols:
            ious = [s.iou for s in rows if s.label == f"{kind} {dl:+.0f}" and s.iou is not None]
            cells.append(_mean(ious).rjust(7))
        none = [s.false_alarm for s in rows if s.delta_L is None and s.aligned]
        worst = f"{100 * max(none):5.2f} %" if none else "   -   "
        compared = [s.compared for s in rows if s.aligned]
        share = f"{100 * statistics.mean(compared):5.0f} %" if compared else "   -  "
        refused = sum(not s.aligned for s in rows)
        lines.append(f"{name:<14}{''.join(cells)}  {worst:>12}  {share:>8}  {refused:>3}/{len(rows)}")
    return lines


def detection_limit(
    scene: Scene, kind: str, folder: Path, radii: tuple[float, ...], deltas: tuple[float, ...]
) -> dict[float, tuple[float, float]]:
    """Per patch radius: (truth area / frame, smallest |ΔL*| found with IoU >= 0.5 on the plain
    variant, inf when none is)."""
    plain = variants.VARIANTS["plain"]
    out: dict[float, tuple[float, float]] = {}
    for radius in radii:
        found = math.inf
        area = 0.0
        for dl in deltas:
            pair = variants.build(scene, plain, synth.Darkening(dl, kind), radius)
            area = float(pair.truth.mean())
            s = scoring.score(pair, folder)
            if s.iou is not None and s.iou >= 0.5:
                found = abs(dl)
                break
        out[radius] = (area, found)
    return out
