"""Ghost overlay maths for the camera view (Qt-free): the reference photo's edges as an RGBA layer.

The check-in camera shows the region's reference photo over the live preview so the user can
frame the new photo like the old ones; in outline mode only its edges are drawn.
"""

from __future__ import annotations

import cv2
import numpy as np

OUTLINE_RGB = (255, 255, 255)


def edge_mask(rgb: np.ndarray, *, sigma: float = 0.33) -> np.ndarray:
    """Canny edges (uint8 0/255) with thresholds set from the median grey level, thickened a little."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb, np.uint8), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (5, 5), 1.4)
    median = float(np.median(grey))
    low = int(max(0, (1.0 - sigma) * median))
    high = int(min(255, (1.0 + sigma) * median))
    edges = cv2.Canny(grey, low, max(high, low + 1))
    return cv2.dilate(edges, np.ones((2, 2), np.uint8))


def outline_rgba(rgb: np.ndarray, colour: tuple[int, int, int] = OUTLINE_RGB) -> np.ndarray:
    """The reference's edges as an (H, W, 4) uint8 RGBA image: opaque ``colour`` on edges, clear elsewhere."""
    edges = edge_mask(rgb)
    out = np.zeros((*edges.shape, 4), np.uint8)
    out[..., :3] = colour
    out[..., 3] = edges
    return out
