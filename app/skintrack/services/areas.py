"""Watched-area and control-patch geometry: polygons (reference pixels) <-> binary masks.

The region editor paints masks; the library stores polygons (small, resolution-independent JSON).
Qt-free so the analysis service, the CLI and tests rasterise exactly the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Polygon = list[list[float]]

MIN_AREA_PX = 4.0  # specks smaller than this are brush noise, not an area


def polygons_to_mask(
    polygons: Sequence[Sequence[Sequence[float]]] | None, shape: tuple[int, int]
) -> np.ndarray:
    """Fill ``polygons`` ([[x, y], ...] in pixels) into a uint8 0/255 mask of ``shape`` (h, w).

    Overlapping polygons are united (no even-odd holes between separate strokes).
    """
    mask = np.zeros(shape[:2], np.uint8)
    for poly in polygons or []:
        pts = np.round(np.asarray(poly, np.float64)).astype(np.int32).reshape(-1, 1, 2)
        if len(pts) >= 3:
            cv2.fillPoly(mask, [pts], 255)
    return mask


def mask_to_polygons(
    mask: np.ndarray, *, epsilon: float = 0.6, min_area: float = MIN_AREA_PX
) -> list[Polygon]:
    """Outer outlines of a mask as simplified polygons (``approxPolyDP`` tolerance in px).

    Holes are not kept (an area with a hole is stored as its outline), which suits painted
    patches; ``epsilon`` below a pixel keeps the round trip IoU well above 0.98.
    """
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if not binary.any():
        return []
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out: list[Polygon] = []
    for c in contours:
        if cv2.contourArea(c) < min_area and len(c) < 8:
            continue
        approx = cv2.approxPolyDP(c, epsilon, True).reshape(-1, 2)
        if len(approx) < 3:
            continue
        out.append([[float(x), float(y)] for x, y in approx])
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def overlap_fraction(watched: np.ndarray, control: np.ndarray) -> float:
    """Share of the control patch that is also painted as watched area (0 when there is no control)."""
    control_on = np.asarray(control) > 0
    total = int(np.count_nonzero(control_on))
    if total == 0:
        return 0.0
    return int(np.count_nonzero(control_on & (np.asarray(watched) > 0))) / total
