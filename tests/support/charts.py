"""A generated ColorChecker Classic chart, for tests that calibrate against one in the frame."""

from __future__ import annotations

import numpy as np


def render_colorchecker(linear_patches: np.ndarray, patch_px: int = 80) -> np.ndarray:
    """A Classic-like chart (black frame, 4 x 6 patches, gaps of 10 % of a patch) in linear RGB."""
    gap = round(patch_px * 0.1)
    border = round(patch_px * 0.35)
    w = 6 * patch_px + 5 * gap + 2 * border
    h = 4 * patch_px + 3 * gap + 2 * border
    chart = np.full((h, w, 3), 0.012, np.float32)
    for k in range(24):
        r, c = divmod(k, 6)
        y, x = border + r * (patch_px + gap), border + c * (patch_px + gap)
        chart[y : y + patch_px, x : x + patch_px] = linear_patches[k]
    return chart
