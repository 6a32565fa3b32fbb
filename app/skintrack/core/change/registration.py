"""Curved skin: a bounded dense refinement of the later photo after the homography.

A homography is exact for a flat patch only; a forearm or a cheek bends a little between photos
and the residual misregistration (1-3 px) paints false edges into the ΔL* map. ``core.refine``
estimates a smooth displacement (DIS optical flow on high-passed lightness, smoothed, capped,
kept only where it improves the match); here it is applied to the analysis images and its
magnitude reported in the photo's own pixels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from skintrack.core.change.pixels import linear_to_srgb_fast
from skintrack.core.parallel import both
from skintrack.core.refine import refine

if TYPE_CHECKING:
    from skintrack.core.change.prepare import Geometry, Pair


def refine_pair(pair: Pair, geo: Geometry, ignore: np.ndarray | None) -> tuple[Pair, dict[str, Any]]:
    """``pair`` with the later photo bent onto the reference (when that helps) and a report.

    ``ignore``: pixels that must not steer the field (hair, glints). The report gives the field's
    median / 95th percentile / largest displacement in input pixels.
    """
    ref_srgb, later_srgb = both(linear_to_srgb_fast, pair.ref, pair.later)
    rf = refine(ref_srgb, later_srgb, pair.valid, ignore=ignore)
    scale = 1.0 / max(1e-9, float(np.sqrt(geo.fx * geo.fy)))  # input px per analysis px
    report = {
        "applied": bool(rf.applied),
        "median_px": round(rf.median_px * scale, 3),
        "p95_px": round(rf.p95_px * scale, 3),
        "max_px": round(rf.max_px * scale, 3),
        "residual_gain": round(float(rf.residual_gain), 4),
        "message": rf.message,
    }
    if not rf.applied:
        return pair, report
    h, w = pair.valid.shape
    maps = np.empty((h, w, 2), np.float32)  # x + flow(x), built in place on one grid
    maps[..., 0] = np.arange(w, dtype=np.float32)
    maps[..., 1] = np.arange(h, dtype=np.float32)[:, None]
    maps += rf.flow
    later = cv2.remap(pair.later, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return replace(pair, later=later, valid=pair.valid & rf.valid), report
