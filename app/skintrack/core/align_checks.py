"""Is an estimated warp a plausible camera change, and how good is the alignment (0..1)?

A wrong alignment marked ok paints false darkening, so every estimate passes these geometric
checks before it is reported as ok.
"""

from __future__ import annotations

import math

import numpy as np

from skintrack.core.homography import frame_corners, normalise, overlap_fraction

MIN_INLIERS = 15
MIN_INLIER_RATIO = 0.12
MIN_OVERLAP = 0.40
MIN_CORRELATION = 0.25  # high-pass ECC correlation over the overlap for an alignment to be ok
# moving -> reference scale (relative to the size ratio): a close-up at 2.5x the reference's scale
# is 0.4, an overview at 0.4x is 2.5; the margin admits a close-up at 2.7x
SCALE_RANGE = (1.0 / 3.0, 3.0)
MAX_CONDITION = 3.0
DENOMINATOR_RANGE = (0.5, 2.0)


def _sane(h: np.ndarray, ref_shape: tuple[int, ...], mov_shape: tuple[int, ...]) -> str | None:
    """None when ``h`` (moving -> reference, full res) is a plausible camera change, else why not."""
    if h is None or not np.all(np.isfinite(h)):
        return "the estimated warp is not finite"
    h = normalise(h)
    corners = frame_corners(mov_shape)
    denom = np.c_[corners, np.ones(4)] @ h[2]
    # the projective denominator relative to its value at the image centre
    centre = np.array([(mov_shape[1] - 1) / 2.0, (mov_shape[0] - 1) / 2.0, 1.0]) @ h[2]
    if centre <= 0 or np.any(denom <= 0):
        return "the warp folds the image over (degenerate perspective)"
    rel = denom / centre
    if rel.min() < DENOMINATOR_RANGE[0] or rel.max() > DENOMINATOR_RANGE[1]:
        return "the perspective change between the photos is implausibly strong"
    # affine part at the image centre (Jacobian of the homography)
    cx, cy = (mov_shape[1] - 1) / 2.0, (mov_shape[0] - 1) / 2.0
    w = centre
    u = h[0] @ [cx, cy, 1.0]
    v = h[1] @ [cx, cy, 1.0]
    jac = np.array(
        [
            [(h[0, 0] * w - u * h[2, 0]) / w**2, (h[0, 1] * w - u * h[2, 1]) / w**2],
            [(h[1, 0] * w - v * h[2, 0]) / w**2, (h[1, 1] * w - v * h[2, 1]) / w**2],
        ]
    )
    det = float(np.linalg.det(jac))
    if det <= 0:
        return "the warp mirrors the image"
    # relative to the size ratio of the two images: a 12 MP and a 3 MP photo of the same framing
    # differ by 2x in pixels but not in camera distance
    size_ratio = math.sqrt((ref_shape[0] * ref_shape[1]) / (mov_shape[0] * mov_shape[1]))
    scale = math.sqrt(det) / size_ratio
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        return f"implausible scale change between the photos ({scale:.2f}×)"
    sv = np.linalg.svd(jac, compute_uv=False)
    if sv[0] / max(sv[1], 1e-12) > MAX_CONDITION:
        return "the warp shears or stretches the image implausibly"
    frac = overlap_fraction(h, ref_shape, mov_shape)
    if frac < MIN_OVERLAP:
        return f"the photos overlap too little ({frac:.0%})"
    return None


def _quality(inliers: int, ratio: float, rms: float, corr: float) -> float:
    """Geometric mean of four scores in 0..1.

    count = 1 − exp(−inliers / 40)       (≈ 0.3 at 15 inliers, 0.92 at 100)
    ratio = min(1, inlier_ratio / 0.5)    (half the ratio-test matches agreeing is excellent)
    rms   = 1 / (1 + (rms_px / 1.5)²)     (feature reprojection RMS at feature scale)
    ecc   = clip((corr − 0.25) / 0.5, 0, 1)  (final high-pass correlation; 0.25 is the ok floor)
    """
    scores = [
        1.0 - math.exp(-inliers / 40.0),
        min(1.0, ratio / 0.5),
        1.0 / (1.0 + (rms / 1.5) ** 2),
        min(1.0, max(0.0, (corr - MIN_CORRELATION) / 0.5)),
    ]
    if min(scores) <= 0:
        return 0.0
    return float(math.exp(sum(math.log(s) for s in scores) / len(scores)))
