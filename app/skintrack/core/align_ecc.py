"""Sub-pixel refinement of a feature estimate with ECC on high-pass lightness, and its score.

ECC may polish the estimate, never replace it: a result that moved too far or correlates worse
than the feature estimate is dropped.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.homography import normalise, pixel_grid, project

HIGHPASS_SIGMA = 8.0  # px at ECC scale: removes lighting gradients, keeps skin texture
MAX_ECC_SHIFT = 4.0  # px at ECC scale: ECC may polish the feature estimate, not replace it
MAX_ECC_SHIFT_CARD = 12.0  # from a card anchor ECC may travel further (its result must still correlate)
ECC_ITERATIONS = 40  # cap; from a feature estimate ECC converges in far fewer


def _highpass(light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """High-pass lightness (robust to lighting gradients) and a mask of usable pixels.

    Specular highlights belong to the light, not the skin, and move between photos: bright
    outliers (> 4 robust sigmas above the local mean, grown by a few px) are masked out, and the
    remaining values are clipped to ±4 sigmas so no single feature dominates the correlation.
    """
    hp = light - cv2.GaussianBlur(light, (0, 0), HIGHPASS_SIGMA)
    sample = hp[:: max(1, hp.shape[0] // 300), :: max(1, hp.shape[1] // 300)]
    sigma = max(1e-3, 1.4826 * float(np.median(np.abs(sample - np.median(sample)))))
    bright = (hp > 4.0 * sigma).astype(np.uint8)
    bright = cv2.dilate(bright, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    np.clip(hp, -4.0 * sigma, 4.0 * sigma, out=hp)
    return hp, bright == 0


def _ecc_score(
    ref_hp: np.ndarray, mov_hp: np.ndarray, h: np.ndarray, mask: np.ndarray, mov_ok: np.ndarray
) -> tuple[float, np.ndarray]:
    """High-pass correlation of the reference and the moving image warped by ``h`` on ``mask``."""
    size = (ref_hp.shape[1], ref_hp.shape[0])
    warped = cv2.warpPerspective(mov_hp, h, size, flags=cv2.INTER_LINEAR)
    valid = cv2.warpPerspective(mov_ok.astype(np.uint8), h, size, flags=cv2.INTER_NEAREST)
    m = (mask & (valid > 0)).astype(np.uint8)
    if int(m.sum()) < 500:
        return 0.0, m
    return float(cv2.computeECC(ref_hp, warped, m)), m


def _ecc_refine(
    ref_hp: np.ndarray,
    mov_hp: np.ndarray,
    h0: np.ndarray,
    mask: np.ndarray,
    mov_ok: np.ndarray,
    max_shift: float = MAX_ECC_SHIFT,
) -> tuple[np.ndarray | None, float, float, str]:
    """Refine ``h0`` (moving -> reference at ECC scale). Returns (h or None, corr_ecc, corr_feat, note)."""
    corr0, m0 = _ecc_score(ref_hp, mov_hp, h0, mask, mov_ok)
    if int(m0.sum()) < 2000:
        return None, corr0, corr0, "overlap too small for refinement"
    warp = np.linalg.inv(h0).astype(np.float32)  # template (reference) -> input (moving)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, ECC_ITERATIONS, 1e-5)
    try:
        _, warp = cv2.findTransformECCWithMask(
            ref_hp,
            mov_hp,
            m0 * 255,
            mov_ok.astype(np.uint8) * 255,
            warp,
            cv2.MOTION_HOMOGRAPHY,
            criteria,
            5,
        )
    except cv2.error:
        return None, corr0, corr0, "refinement did not converge"
    h1 = normalise(np.linalg.inv(warp.astype(np.float64)))
    if not np.all(np.isfinite(h1)):
        return None, corr0, corr0, "refinement diverged"
    # ECC polishes, it must not jump elsewhere
    # measured where the moving image overlaps the reference (extrapolation elsewhere is irrelevant)
    grid = pixel_grid(mov_hp.shape, 12)
    p0 = project(h0, grid)
    hh, ww = ref_hp.shape
    inside = (p0[:, 0] >= 0) & (p0[:, 0] <= ww - 1) & (p0[:, 1] >= 0) & (p0[:, 1] <= hh - 1)
    if not inside.any():
        return None, corr0, corr0, "overlap too small for refinement"
    shift = float(np.max(np.linalg.norm(project(h1, grid[inside]) - p0[inside], axis=1)))
    if shift > max_shift:
        return (
            None,
            corr0,
            corr0,
            f"refinement moved {shift:.1f} px, more than the {max_shift:.0f} px allowed",
        )
    corr1, _ = _ecc_score(ref_hp, mov_hp, h1, m0.astype(bool), mov_ok)
    if corr1 < corr0:
        return None, corr1, corr0, "refinement did not improve the match"
    return h1, corr1, corr0, ""
