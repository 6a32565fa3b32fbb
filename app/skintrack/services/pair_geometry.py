"""Pixel geometry of a measured pair: full resolution <-> analysis resolution, areas, metrics.

Homographies and polygons are kept in full-resolution pixels; images are measured at an analysis
resolution. Conversions use the exact pixel-centre scaling of ``core.align.scale_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from skintrack.services.pipeline import Analysed

Polygons = Sequence[Sequence[Sequence[float]]]


def to_analysis(h_full: np.ndarray, ref: Analysed, mov: Analysed) -> np.ndarray:
    h = ref.scale @ np.asarray(h_full, np.float64) @ np.linalg.inv(mov.scale)
    return h / h[2, 2]


def to_full(h_analysis: np.ndarray, ref: Analysed, mov: Analysed) -> np.ndarray:
    h = np.linalg.inv(ref.scale) @ np.asarray(h_analysis, np.float64) @ mov.scale
    return h / h[2, 2]


def resize_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """A mask of any size in the same geometry as a bool mask of ``shape``."""
    if mask is None:
        return None
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    if m.ndim == 3:
        m = m.max(axis=2)
    if m.shape[:2] != tuple(shape[:2]):
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return m > 127


def rasterise(polygons: Polygons | None, s: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """Region polygons (full-resolution reference px) as a bool mask at analysis resolution."""
    if not polygons:
        return None
    m = np.zeros(shape[:2], np.uint8)
    pts = []
    for poly in polygons:
        p = np.asarray(poly, np.float64).reshape(-1, 2)
        if len(p) < 3:
            continue
        q = p * [s[0, 0], s[1, 1]] + [s[0, 2], s[1, 2]]
        pts.append(np.round(q * 16).astype(np.int32))
    if not pts:
        return None
    cv2.fillPoly(m, pts, 255, lineType=cv2.LINE_8, shift=4)
    return m > 0


def polygons_through(polygons: Polygons | None, h: np.ndarray) -> list[list[list[float]]] | None:
    """Polygons mapped by homography ``h`` (exact: a homography keeps straight edges straight)."""
    if not polygons:
        return None
    out = []
    for poly in polygons:
        p = np.asarray(poly, np.float64).reshape(-1, 1, 2)
        if len(p) >= 3:
            out.append(cv2.perspectiveTransform(p, np.asarray(h, np.float64)).reshape(-1, 2).tolist())
    return out or None


def to_reference_px(
    metrics: dict[str, Any], analysis_size: tuple[int, int], reference_size: tuple[int, int]
) -> dict[str, Any]:
    """ChangeResult JSON measured at analysis resolution -> areas and positions in reference px."""
    aw, ah = analysis_size
    rw, rh = reference_size
    if not aw or not ah or (aw, ah) == (rw, rh):
        return dict(metrics)
    sx, sy = aw / rw, ah / rh

    def pt(x: float, y: float) -> list[float]:
        return [round((x + 0.5) / sx - 0.5, 2), round((y + 0.5) / sy - 0.5, 2)]

    out = dict(metrics)
    area = sx * sy
    if isinstance(out.get("refinement"), dict):  # displacements in px scale with the side, not the area
        lin = area**0.5
        out["refinement"] = {
            k: round(v / lin, 3) if k.endswith("_px") and isinstance(v, int | float) else v
            for k, v in out["refinement"].items()
        }
    for key in ("darkened_area_px", "compared_area_px"):
        if isinstance(out.get(key), int | float):
            out[key] = round(out[key] / area, 1)
    for group, key in (("thresholds", "min_area_px"), ("control", "area_px")):
        if isinstance(out.get(group), dict) and isinstance(out[group].get(key), int | float):
            out[group] = {**out[group], key: round(out[group][key] / area, 1)}
    patches = []
    for p in out.get("patches") or []:
        q = dict(p)
        if isinstance(q.get("area_px"), int | float):
            q["area_px"] = round(q["area_px"] / area, 1)
        if q.get("bbox") is not None and len(q["bbox"]) == 4:
            x, y, w, h = q["bbox"]
            # pixel edges scale without the half-pixel offset of pixel centres
            q["bbox"] = [round(x / sx, 1), round(y / sy, 1), round(w / sx, 1), round(h / sy, 1)]
        if q.get("centroid") is not None and len(q["centroid"]) == 2:
            q["centroid"] = pt(*q["centroid"])
        if q.get("contour"):
            q["contour"] = [pt(*c) for c in q["contour"]]
        patches.append(q)
    out["patches"] = patches
    return out
