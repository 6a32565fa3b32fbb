"""A deep, soft-edged patch is outlined at its half-depth contour, not at the threshold: its
shallow rim is inside −T but outside the patch (the realism suite's truth is the same contour)."""

from __future__ import annotations

import numpy as np

from skintrack.core.change import ChangeSettings
from skintrack.core.change.detection import find_regions
from skintrack.core.change.noise import NoiseEstimate


def _soft_blob(depth: float) -> np.ndarray:
    """ΔL* of a Gaussian-edged disc: flat core of radius 20 px, then a soft fall-off."""
    yy, xx = np.mgrid[0:160, 0:160].astype(np.float32)
    r = np.hypot(xx - 80, yy - 80)
    profile = np.where(r <= 20, 1.0, np.exp(-((r - 20) ** 2) / (2 * 12.0**2)))
    return (depth * profile).astype(np.float32)


def _flagged(dl: np.ndarray, settings: ChangeSettings) -> np.ndarray:
    noise = NoiseEstimate(median=0.0, noise=0.3, threshold=2.0)
    compared = np.ones(dl.shape, bool)
    out = np.zeros(dl.shape, bool)
    for region in find_regions(dl, compared, noise, settings, min_area=20):
        out[region.win] |= region.sel
    return out


def _half_depth(dl: np.ndarray) -> float:
    return 0.5 * float(np.median(dl[dl <= -2.0]))  # half the median depth past −T


def test_deep_patch_is_outlined_at_half_its_depth() -> None:
    dl = _soft_blob(-10.0)
    level = _half_depth(dl)
    assert level < -3.0  # the rim between −T (−2) and half depth is wide here
    half = dl <= level
    flagged = _flagged(dl, ChangeSettings())
    iou = (flagged & half).sum() / (flagged | half).sum()
    assert iou > 0.97, iou
    assert not (flagged & (dl > level + 0.1)).any()  # the rim between −T and half depth is left out


def test_outline_share_zero_keeps_the_threshold_outline() -> None:
    dl = _soft_blob(-10.0)
    flagged = _flagged(dl, ChangeSettings(outline_share=0.0))
    assert flagged[dl <= -2.0].all()  # every pixel past −T, as the per-pixel rule has it


def test_faint_patch_keeps_its_pixels_past_the_stricter_level() -> None:
    dl = _soft_blob(-3.0)
    level = min(-1.0, _half_depth(dl))  # growth level 0.5 × T = 1 L*, or half depth
    flagged = _flagged(dl, ChangeSettings())
    assert flagged[dl <= level].mean() > 0.97
    assert flagged.sum() <= (dl <= level).sum() * 1.05
