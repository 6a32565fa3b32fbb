"""Patches from darkened regions: split by pigment kind, statistics and outline in input pixels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.change.detection import Region
from skintrack.core.change.result import Patch
from skintrack.core.change.settings import KIND_DELTA_B

if TYPE_CHECKING:
    from skintrack.core.change.maps import DeltaMaps
    from skintrack.core.change.prepare import Geometry


def kind_of(mean_db: float) -> str:
    """ "grey-blue" (b* down: dermal pigment), "brown" (b* up: epidermal) or "neutral"."""
    if mean_db < -KIND_DELTA_B:
        return "grey-blue"
    if mean_db > KIND_DELTA_B:
        return "brown"
    return "neutral"


def split_by_kind(sel: np.ndarray, db: np.ndarray, min_area: float) -> list[np.ndarray]:
    """Split a flagged region where a grey-blue part (b* down) touches a brown part (b* up).

    Each side must be a real patch (>= the minimum area and >= 15 % of the region), otherwise the
    region stays whole and its mean Δb* decides; the split follows the sign of a smoothed Δb*.
    """
    area = int(sel.sum())
    vals = db[sel]
    need = max(min_area, 0.15 * area)
    if (vals > KIND_DELTA_B).sum() < need or (vals < -KIND_DELTA_B).sum() < need:
        return [sel]
    smooth = cv2.GaussianBlur(np.where(sel, np.nan_to_num(db), 0).astype(np.float32), (0, 0), 3.0)
    weight = cv2.GaussianBlur(sel.astype(np.float32), (0, 0), 3.0)
    sign = smooth / np.maximum(weight, 1e-6) >= 0.0
    parts = []
    for half in (sel & sign, sel & ~sign):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(half.astype(np.uint8), connectivity=8)
        parts += [labels == i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return parts or [sel]


def outline(sel: np.ndarray, x0: int, y0: int, geo: Geometry) -> list[list[float]]:
    """The largest outer contour of ``sel`` (window at x0, y0) in input px, simplified to < 1 px."""
    cnts, _ = cv2.findContours(
        sel.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0)
    )
    if not cnts:
        return []
    c = cv2.approxPolyDP(max(cnts, key=cv2.contourArea), 0.75, True).reshape(-1, 2)
    return [[(px + 0.5) / geo.fx - 0.5, (py + 0.5) / geo.fy - 0.5] for px, py in c]


def make_patch(sel: np.ndarray, win: tuple[slice, slice], maps: DeltaMaps, geo: Geometry) -> Patch | None:
    """Statistics and geometry (in input pixels) of one flagged region ``sel`` inside window ``win``."""
    area = int(sel.sum())
    measured = sel & np.isfinite(maps.dL[win])
    if area == 0 or not measured.any():
        return None
    pdl = maps.dL[win][measured]
    mdb = float(np.mean(maps.db[win][measured]))
    ys, xs = np.nonzero(sel)
    x0, y0 = win[1].start, win[0].start
    cx, cy = float(xs.mean()) + x0, float(ys.mean()) + y0
    x, y = x0 + int(xs.min()), y0 + int(ys.min())
    bw, bh = int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1
    area_in = area * geo.area_scale
    ref, lat = maps.ref_lab[win][measured], maps.later_lab[win][measured]
    return Patch(
        area_px=area_in,
        area_mm2=area_in * geo.mm_per_px * geo.mm_per_px if geo.mm_per_px else None,
        bbox=(round(x / geo.fx), round(y / geo.fy), round(bw / geo.fx), round(bh / geo.fy)),
        centroid=((cx + 0.5) / geo.fx - 0.5, (cy + 0.5) / geo.fy - 0.5),
        mean_delta_L=float(np.mean(pdl)),
        min_delta_L=float(np.min(pdl)),
        mean_delta_b=mdb,
        mean_delta_ita=float(
            np.mean(colour.ita(lat[..., 0], lat[..., 2]) - colour.ita(ref[..., 0], ref[..., 2]))
        ),
        kind=kind_of(mdb),
        contour=outline(sel, x0, y0, geo),
    )


def fill_thin_gaps(sel: np.ndarray, fillable: np.ndarray, width: float) -> np.ndarray:
    """``sel`` with the hair, ink or glint pixels (``fillable``) it closes over added back.

    A hair crossing a darkened area does not split it: the skin under it belongs to the patch
    its neighbours measure (its own colour is not compared).
    """
    if not fillable.any():
        return sel
    k = 2 * int(np.ceil(width)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    pad = k
    padded = np.pad(sel.astype(np.uint8), pad)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)[pad:-pad, pad:-pad] > 0
    return sel | (closed & fillable)


def build_patches(
    regions: list[Region], maps: DeltaMaps, geo: Geometry, min_area: float
) -> tuple[list[Patch], np.ndarray]:
    """Patches (largest first) and their mask (uint8 0/255, analysis size)."""
    mask = np.zeros(maps.dL.shape, np.uint8)
    patches: list[Patch] = []
    for region in regions:
        for part in split_by_kind(region.sel, maps.db[region.win], min_area):
            patch = make_patch(part, region.win, maps, geo)
            if patch is not None and patch.area_px >= min_area * geo.area_scale:
                mask[region.win][part] = 255
                patches.append(patch)
    patches.sort(key=lambda p: -p.area_px)
    return patches, mask
