"""Darkened regions from a ΔL* map: per-pixel threshold with hysteresis (as in Canny), clean-up, area.

Core pixels are at or below −threshold; a region grows over connected pixels darker than the
hysteresis level and must hold enough core, so a patch whose true ΔL* equals the threshold is not
flagged as scattered half-pixels. Regions under the minimum area are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from skintrack.core.change.noise import NoiseEstimate
from skintrack.core.change.settings import ChangeSettings

if TYPE_CHECKING:
    from skintrack.core.change.prepare import Geometry

_K3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
_K5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


@dataclass
class Region:
    """One candidate darkened region: its pixels ``sel`` inside the window ``win`` (analysis px)."""

    win: tuple[slice, slice]
    sel: np.ndarray


def min_area_px(settings: ChangeSettings, geo: Geometry, n_compared: int) -> float:
    """Minimum patch area in analysis px: 2 mm² with a scale, else 0.05 % of the compared area (>= 4)."""
    if geo.mm_per_px:
        mm_per_apx = float(geo.mm_per_px) * math.sqrt(geo.area_scale)
        area = float(settings.min_area_mm2) / (mm_per_apx * mm_per_apx)
    else:
        area = float(settings.min_area_fraction) * n_compared
    return max(area, 4.0)


def hysteresis_level(noise: NoiseEstimate, settings: ChangeSettings) -> float:
    """How dark (L*, positive) a pixel must be to extend a patch: hysteresis × threshold, >= 2 noise."""
    return max(settings.hysteresis * noise.threshold, 2.0 * noise.noise)


def candidate_mask(dl: np.ndarray, compared: np.ndarray, level: float) -> np.ndarray:
    """Compared pixels at or below −level, opened (3 px) and closed (5 px); uint8 0/1."""
    weak = ((dl <= -level) & compared).astype(np.uint8)
    weak = cv2.morphologyEx(weak, cv2.MORPH_OPEN, _K3)
    weak = cv2.morphologyEx(weak, cv2.MORPH_CLOSE, _K5)
    weak &= compared.astype(np.uint8)
    return weak


def find_regions(
    dl: np.ndarray, compared: np.ndarray, noise: NoiseEstimate, settings: ChangeSettings, min_area: float
) -> list[Region]:
    """Connected candidate regions holding enough core, trimmed to their half-depth outline.

    Each region keeps its connected pixels down to ``outline_share`` of its median core ΔL* or
    the hysteresis level, whichever is stricter. A deep patch's outline is then its half-depth
    contour, not the threshold: a soft edge is not flagged out to −T (and a faint patch still
    grows to the hysteresis level).
    """
    dlz = np.nan_to_num(dl, nan=0.0)
    core = (dlz <= -noise.threshold) & compared
    level = hysteresis_level(noise, settings)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        candidate_mask(dlz, compared, level), connectivity=8
    )
    if n <= 1:
        return []
    core_counts = np.bincount(labels[core], minlength=n)
    regions: list[Region] = []
    for lab_id in range(1, n):
        area = int(stats[lab_id, cv2.CC_STAT_AREA])
        if area < min_area or core_counts[lab_id] < max(0.5 * min_area, 0.2 * area):
            continue
        x, y, bw, bh = (int(v) for v in stats[lab_id, :4])
        win = (slice(y, y + bh), slice(x, x + bw))
        sel = labels[win] == lab_id
        depth = float(np.median(dl[win][sel & core[win]]))
        sel &= dl[win] <= min(-level, settings.outline_share * depth)
        if sel.sum() >= min_area:
            regions.append(Region(win, sel))
    return regions
