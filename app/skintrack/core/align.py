"""Registration of a later photo onto the reference photo of a region.

A wrong alignment marked ok is the worst failure of the product (it paints false darkening), so
the recipe is conservative: every estimate passes geometric sanity checks and an independent
photometric check before it is reported as ok.

Recipe (issue 4):

1. Lightness images (CIELAB L* from sRGB) downscaled to ``FEATURE_SIDE`` (800) px, contrast-normalised
   with CLAHE.
2. SIFT features (AKAZE, or ORB where the OpenCV build lacks AKAZE, when SIFT fails), Lowe ratio
   test 0.75, homography with ``cv2.USAC_MAGSAC`` (3 px at working scale), then a least-squares
   polish on the inliers.
3. Sanity checks on the full-resolution homography: >= ``MIN_INLIERS`` inliers, inlier ratio,
   scale of the affine part within 1/3-3 (a close-up at 2.5x the reference's scale, or an
   overview at 0.4x, with a margin), condition number, small perspective terms (the projective
   denominator stays within 0.5-2 over the moving image) and an overlap of at least 40 % of the
   smaller of the reference and the projected moving image.
   When the photos differ in scale by more than ``RESAMPLE_ABOVE`` (1.4x), the finer one is
   resampled so one working pixel covers the same skin in both, and features are matched again:
   ECC and the texture correlation below compare the same band of texture only at one scale.
4. Sub-pixel refinement with ``cv2.findTransformECCWithMask`` (MOTION_HOMOGRAPHY) on a high-pass
   lightness image (L* minus a Gaussian blur of sigma ``HIGHPASS_SIGMA``; bright specular
   outliers masked, values clipped), at half the input resolution but at least ``FEATURE_SIDE``
   and at most ``ECC_SIDE`` px on the long side (the cap keeps big inputs within the time budget;
   the analysis service passes 1500 px images, so ECC runs at 800 px, 0.53 of its input),
   masked to the overlap and away from ``exclude_mask``. The ECC result is kept only when it
   converged, moved the feature estimate by less than ``MAX_ECC_SHIFT`` px inside the overlap and
   its correlation (computed for both estimates on the same mask) is not worse than the feature
   result's; otherwise the feature estimate stays (method "features").
5. A final photometric check: the high-pass correlation over the overlap must reach
   ``MIN_CORRELATION``; unrelated images that slipped through the geometric checks fail here.

Coordinates and the exact pixel-centre rescaling of homographies: ``core.homography``.

Quality (0..1) is the geometric mean of four scores, documented in ``_quality``.

A calibration card seen in both photos can anchor the alignment when skin features fail
(``card_homography``); ECC on the skin must then confirm it, or the result is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from skintrack.core.homography import (
    RESAMPLE_ABOVE,
    frame_corners,
    normalise,
    overlap_fraction,
    pixel_grid,
    project,
    relative_scale,
    rescale_homography,
    resize_by,
    scale_matrix,
    transfer_error,
    warp_to_reference,
)
from skintrack.core.parallel import both
from skintrack.progress import CancelToken

__all__ = [
    "ALGORITHM_VERSION",
    "RESAMPLE_ABOVE",
    "Alignment",
    "align",
    "alignment_from_homography",
    "alignment_from_points",
    "lightness",
    "overlap_fraction",
    "relative_scale",
    "rescale_homography",
    "scale_matrix",
    "transfer_error",
    "warp_to_reference",
]

ALGORITHM_VERSION = "align-2"

# long side of the feature image: the "~1000 px"; 800 px gave the same accuracy and inlier
# counts as 1000 px on the 64-pair benchmark for ~30 % less CPU
FEATURE_SIDE = 800
ECC_SIDE = 1400  # cap on the long side of the ECC image (at least half resolution below 2800 px)
HIGHPASS_SIGMA = 8.0  # px at ECC scale: removes lighting gradients, keeps skin texture
RATIO = 0.75
MAGSAC_THRESHOLD = 3.0  # px at feature scale
MIN_INLIERS = 15
MIN_INLIER_RATIO = 0.12
MIN_OVERLAP = 0.40
MIN_CORRELATION = 0.25  # high-pass ECC correlation over the overlap for an alignment to be ok
# moving -> reference scale (relative to the size ratio): a close-up at 2.5x the reference's scale
# is 0.4, an overview at 0.4x is 2.5; the margin admits a close-up at 2.7x
SCALE_RANGE = (1.0 / 3.0, 3.0)
MAX_CONDITION = 3.0
DENOMINATOR_RANGE = (0.5, 2.0)
MAX_ECC_SHIFT = 4.0  # px at ECC scale: ECC may polish the feature estimate, not replace it
MAX_ECC_SHIFT_CARD = 12.0  # from a card anchor ECC may travel further (its result must still correlate)
MAX_FEATURES = 3000
ECC_ITERATIONS = 40  # cap; from a feature estimate ECC converges in far fewer
SIFT_CONTRAST = 0.02  # below the 0.04 default: smooth skin has low-contrast texture


@dataclass
class Alignment:
    """Result of registering MOVING onto REFERENCE; ``homography`` maps moving -> reference pixels."""

    ok: bool
    homography: np.ndarray | None
    quality: float = 0.0
    method: str = "none"  # "features" | "ecc" | "card" | "manual" | "none"
    inliers: int = 0
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        h = None if self.homography is None else np.asarray(self.homography, float).tolist()
        return {
            "ok": bool(self.ok),
            "homography": h,
            "quality": round(float(self.quality), 4),
            "method": self.method,
            "inliers": int(self.inliers),
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alignment:
        h = data.get("homography")
        return cls(
            ok=bool(data.get("ok", False)),
            homography=None if h is None else np.asarray(h, dtype=np.float64).reshape(3, 3),
            quality=float(data.get("quality", 0.0) or 0.0),
            method=str(data.get("method", "none") or "none"),
            inliers=int(data.get("inliers", 0) or 0),
            message=str(data.get("message", "") or ""),
        )


def _failed(message: str, inliers: int = 0, method: str = "none") -> Alignment:
    return Alignment(ok=False, homography=None, quality=0.0, method=method, inliers=inliers, message=message)


# --------------------------------------------------------------------------- geometry helpers


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


# --------------------------------------------------------------------------- images


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb
    return np.clip(rgb.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _resize_long(img: np.ndarray, side: int) -> tuple[np.ndarray, float, float]:
    """Downscale so the long side is at most ``side``; returns (image, sx, sy)."""
    return resize_by(img, side / max(img.shape[:2]))


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB L* (0..100, float32) of an sRGB image (uint8, or float in 0..1)."""
    if rgb.ndim == 2:
        f = rgb.astype(np.float32) / (255.0 if rgb.dtype == np.uint8 else 1.0)
        rgb = np.repeat(f[..., None], 3, axis=2)
    elif rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    else:
        rgb = np.clip(rgb.astype(np.float32), 0.0, 1.0)
    return cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2Lab)[..., 0]


def _feature_image(light: np.ndarray) -> np.ndarray:
    u8 = np.clip(light * 2.55 + 0.5, 0, 255).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(u8)


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


def _small_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A full-resolution exclude mask at a working size (True = exclude), slightly grown."""
    if mask is None:
        return None
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    small = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) > 0
    return cv2.dilate(small.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0


# --------------------------------------------------------------------------- features


@dataclass
class _Match:
    h: np.ndarray  # working moving -> working reference
    inliers: int
    ratio: float
    rms: float
    detector: str


def _detect(name: str, img: np.ndarray, mask: np.ndarray | None) -> tuple[list[Any], np.ndarray | None]:
    if name == "sift":
        det = cv2.SIFT_create(nfeatures=MAX_FEATURES, contrastThreshold=SIFT_CONTRAST)
    elif hasattr(cv2, "AKAZE_create"):  # AKAZE left the main OpenCV 5 wheels; ORB stands in
        det = cv2.AKAZE_create(threshold=5e-4)
    else:
        det = cv2.ORB_create(nfeatures=MAX_FEATURES)
    return det.detectAndCompute(img, mask)


def _label(name: str) -> str:
    return name if name == "sift" else ("akaze" if hasattr(cv2, "AKAZE_create") else "orb")


def _match(
    name: str,
    ref_img: np.ndarray,
    mov_img: np.ndarray,
    ref_mask: np.ndarray | None,
    mov_mask: np.ndarray | None = None,
) -> _Match | str:
    # both images at once: OpenCV releases the GIL, so two cores halve the wall time
    (kp_r, des_r), (kp_m, des_m) = both(
        lambda im_mask: _detect(name, *im_mask), (ref_img, ref_mask), (mov_img, mov_mask)
    )
    if des_r is None or des_m is None or len(kp_r) < MIN_INLIERS or len(kp_m) < MIN_INLIERS:
        return "too few distinctive details in one of the photos"
    norm = cv2.NORM_L2 if name == "sift" else cv2.NORM_HAMMING
    knn = cv2.BFMatcher(norm).knnMatch(des_m, des_r, k=2)  # OpenCV spreads it over the cores
    good = [p[0] for p in knn if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return f"too few matching details ({len(good)})"
    src = np.float32([kp_m[g.queryIdx].pt for g in good])
    dst = np.float32([kp_r[g.trainIdx].pt for g in good])
    h, mask = cv2.findHomography(
        src, dst, cv2.USAC_MAGSAC, MAGSAC_THRESHOLD, maxIters=10000, confidence=0.9999
    )
    if h is None or mask is None:
        return f"no consistent geometry among {len(good)} matching details"
    inl = mask.ravel().astype(bool)
    if inl.sum() >= 8:  # least-squares polish on the inliers, then re-select them
        h2, _ = cv2.findHomography(src[inl], dst[inl], 0)
        if h2 is not None:
            err2 = np.linalg.norm(project(h2, src) - dst, axis=1)
            inl2 = err2 < MAGSAC_THRESHOLD
            if inl2.sum() >= inl.sum():
                h, inl = h2, inl2
    err = np.linalg.norm(project(h, src[inl]) - dst[inl], axis=1)
    rms = float(np.sqrt(np.mean(err**2))) if len(err) else float("inf")
    return _Match(normalise(h), int(inl.sum()), float(inl.sum()) / len(good), rms, _label(name))


# --------------------------------------------------------------------------- ECC


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


# --------------------------------------------------------------------------- quality


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


# --------------------------------------------------------------------------- public API


def align(
    reference_rgb: np.ndarray,
    moving_rgb: np.ndarray,
    *,
    exclude_mask: np.ndarray | None = None,
    cancel: CancelToken | None = None,
    moving_exclude_mask: np.ndarray | None = None,
    card_homography: np.ndarray | None = None,
) -> Alignment:
    """Register ``moving_rgb`` onto ``reference_rgb``; never raises on failure (ok=False instead).

    ``exclude_mask`` (reference size, nonzero = ignore) marks areas that may have changed or that
    belong to something else (a calibration card) so they do not steer the alignment;
    ``moving_exclude_mask`` does the same in the moving photo (e.g. the card there: a card moved
    relative to the skin would otherwise pull the alignment onto the card plane).

    ``card_homography`` (moving -> reference, from a calibration card detected in both photos)
    anchors the alignment when skin features alone fail. It goes through the same checks as a
    feature estimate, ECC refinement on the skin (card masked out) and the texture-correlation
    check, so a card that moved relative to the skin is refused rather than trusted.
    """
    try:
        return _align(reference_rgb, moving_rgb, exclude_mask, cancel, moving_exclude_mask, card_homography)
    except cv2.error as exc:
        return _failed(f"alignment failed inside OpenCV: {str(exc).strip().splitlines()[-1]}")
    except (ValueError, np.linalg.LinAlgError) as exc:
        return _failed(f"alignment failed: {exc}")


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


@dataclass
class _Work:
    """One photo at working scales: L* at the ECC scale and at the feature scale, with the exact
    full-resolution -> working scaling matrices."""

    light: np.ndarray
    s_e: np.ndarray
    feature: np.ndarray
    s_f: np.ndarray


def _prepare(rgb: np.ndarray, f_ecc: float, f_feature: float) -> _Work:
    small, sx, sy = resize_by(_to_u8(rgb), f_ecc)
    light = lightness(small)
    feat, fx, fy = resize_by(light, f_feature)
    s_e = scale_matrix(sx, sy)
    return _Work(light, s_e, feat, scale_matrix(fx, fy) @ s_e)


def _working_factors(
    ref_shape: tuple[int, ...], mov_shape: tuple[int, ...], ecc_side: int, scale: float | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(ECC factor, feature factor) of the reference and of the moving photo.

    Without a ``scale`` each photo is fitted to the working sides on its own (same framing at other
    resolutions). With the moving -> reference ``scale`` of a first estimate, the finer photo is
    resampled so one working pixel covers the same skin in both (a close-up is compared at the
    overview's resolution): ECC and its texture correlation need the same band of texture.
    """
    if scale is None:
        f_ref = min(1.0, ecc_side / max(ref_shape[:2]))
        f_mov = min(1.0, ecc_side / max(mov_shape[:2]))
        feat_ref = min(1.0, FEATURE_SIDE / (max(ref_shape[:2]) * f_ref))
        feat_mov = min(1.0, FEATURE_SIDE / (max(mov_shape[:2]) * f_mov))
        return (f_ref, feat_ref), (f_mov, feat_mov)
    f_ref = min(1.0, ecc_side / max(ref_shape[:2]))
    f_mov = scale * f_ref
    if f_mov > 1.0:  # the moving photo is the coarser one: bring the reference down to it
        f_ref, f_mov = f_ref / f_mov, 1.0
    longest = max(max(ref_shape[:2]) * f_ref, max(mov_shape[:2]) * f_mov)
    feat = min(1.0, FEATURE_SIDE / longest)
    return (f_ref, feat), (f_mov, feat)


def _feature_stage(
    ref_w: _Work,
    mov_w: _Work,
    exclude_mask: np.ndarray | None,
    moving_exclude_mask: np.ndarray | None,
    ref_shape: tuple[int, ...],
    mov_shape: tuple[int, ...],
    cancel: CancelToken | None,
) -> tuple[_Match | None, list[str]]:
    """The first feature estimate (SIFT, then the fallback detector) passing the sanity checks."""
    excl_f = _small_mask(exclude_mask, ref_w.feature.shape)
    feat_mask = None if excl_f is None else (~excl_f).astype(np.uint8) * 255
    mexcl_f = _small_mask(moving_exclude_mask, mov_w.feature.shape)
    mov_feat_mask = None if mexcl_f is None else (~mexcl_f).astype(np.uint8) * 255
    ref_fi, mov_fi = _feature_image(ref_w.feature), _feature_image(mov_w.feature)
    notes: list[str] = []
    for name in ("sift", "fallback"):
        res = _match(name, ref_fi, mov_fi, feat_mask, mov_feat_mask)
        _check(cancel)
        if isinstance(res, str):
            notes.append(f"{_label(name)}: {res}")
            continue
        h_full = rescale_homography(res.h, ref_w.s_f, mov_w.s_f)
        why = _sane(h_full, ref_shape, mov_shape)
        if res.inliers < MIN_INLIERS:
            why = f"only {res.inliers} matching details agree (need {MIN_INLIERS})"
        elif res.ratio < MIN_INLIER_RATIO:
            why = f"only {res.ratio:.0%} of matching details agree"
        if why is None:
            return res, notes
        notes.append(f"{_label(name)}: {why}")
    return None, notes


def _align(
    reference_rgb: np.ndarray,
    moving_rgb: np.ndarray,
    exclude_mask: np.ndarray | None,
    cancel: CancelToken | None,
    moving_exclude_mask: np.ndarray | None = None,
    card_homography: np.ndarray | None = None,
) -> Alignment:
    ref_shape, mov_shape = reference_rgb.shape[:2], moving_rgb.shape[:2]
    if min(ref_shape) < 32 or min(mov_shape) < 32:
        return _failed("an image is too small to align")
    # one downscale serves features and ECC
    ecc_side = min(ECC_SIDE, max(FEATURE_SIDE, (max(ref_shape) + 1) // 2))
    (fr, gr), (fm, gm) = _working_factors(ref_shape, mov_shape, ecc_side, None)
    ref_w, mov_w = both(lambda a: _prepare(*a), (reference_rgb, fr, gr), (moving_rgb, fm, gm))
    _check(cancel)

    best, notes = _feature_stage(
        ref_w, mov_w, exclude_mask, moving_exclude_mask, ref_shape, mov_shape, cancel
    )
    if best is None and card_homography is not None:
        h_card = normalise(np.asarray(card_homography, np.float64))
        why = _sane(h_card, ref_shape, mov_shape)
        if why is None:
            h_card_f = normalise(ref_w.s_f @ h_card @ np.linalg.inv(mov_w.s_f))
            best = _Match(h_card_f, 16, 1.0, 0.5, "card")  # 4 markers x 4 corners
        else:
            notes.append(f"card: {why}")
    if best is None:
        return _failed("no trustworthy alignment: " + "; ".join(notes))

    scale = relative_scale(rescale_homography(best.h, ref_w.s_f, mov_w.s_f), mov_shape)
    resampled = ""
    if max(scale, 1.0 / scale) > RESAMPLE_ABOVE:
        # photos at different scales: redo features and ECC with the finer one resampled
        h_first = rescale_homography(best.h, ref_w.s_f, mov_w.s_f)
        (fr, gr), (fm, gm) = _working_factors(ref_shape, mov_shape, ecc_side, scale)
        ref_w, mov_w = both(lambda a: _prepare(*a), (reference_rgb, fr, gr), (moving_rgb, fm, gm))
        _check(cancel)
        again, _ = _feature_stage(
            ref_w, mov_w, exclude_mask, moving_exclude_mask, ref_shape, mov_shape, cancel
        )
        if again is not None and best.detector != "card":
            best = again
        else:
            h_f = normalise(ref_w.s_f @ h_first @ np.linalg.inv(mov_w.s_f))
            best = _Match(h_f, best.inliers, best.ratio, best.rms, best.detector)
        resampled = f"; photos {max(scale, 1 / scale):.2f}x apart in scale, matched at the coarser one"

    # ECC at the refinement scale, masked to the overlap and away from excluded areas
    s_ref_e, s_mov_e = ref_w.s_e, mov_w.s_e
    h_feat_e = normalise(s_ref_e @ rescale_homography(best.h, ref_w.s_f, mov_w.s_f) @ np.linalg.inv(s_mov_e))
    (ref_hp, ref_ok), (mov_hp, mov_ok) = both(_highpass, ref_w.light, mov_w.light)
    mask = ref_ok.copy()
    border = max(3, int(HIGHPASS_SIGMA))
    mask[:border], mask[-border:], mask[:, :border], mask[:, -border:] = False, False, False, False
    excl_e = _small_mask(exclude_mask, ref_hp.shape)
    if excl_e is not None:
        mask &= ~excl_e
    mexcl_e = _small_mask(moving_exclude_mask, mov_hp.shape)
    if mexcl_e is not None:
        mov_ok &= ~mexcl_e
    _check(cancel)
    max_shift = MAX_ECC_SHIFT_CARD if best.detector == "card" else MAX_ECC_SHIFT
    h_ecc, corr_final, corr_feat, note = _ecc_refine(ref_hp, mov_hp, h_feat_e, mask, mov_ok, max_shift)
    _check(cancel)
    method = "card" if best.detector == "card" else "features"
    h_e = h_feat_e
    if h_ecc is not None:
        method, h_e = ("card" if best.detector == "card" else "ecc"), h_ecc
    else:
        corr_final = corr_feat
    if best.detector == "card" and h_ecc is None:
        # card corners alone are not sub-pixel evidence about the skin: ECC must confirm them
        return _failed(f"no trustworthy alignment: the card-based estimate was not confirmed ({note})")
    h_full = normalise(np.linalg.inv(s_ref_e) @ h_e @ s_mov_e)
    why = _sane(h_full, ref_shape, mov_shape)
    if why is not None:
        return _failed(f"no trustworthy alignment: {why}", best.inliers)
    if corr_final < MIN_CORRELATION:
        return _failed(
            f"no trustworthy alignment: the aligned photos do not look alike (texture correlation "
            f"{corr_final:.2f} < {MIN_CORRELATION})",
            best.inliers,
        )
    quality = _quality(best.inliers, best.ratio, best.rms, corr_final)
    if best.detector == "card":
        msg = f"anchored on the calibration card (skin features failed); texture correlation {corr_feat:.3f}"
    else:
        msg = (
            f"{best.detector.upper()} {best.inliers} inliers ({best.ratio:.0%}), RMS {best.rms:.2f} px at "
            f"{max(ref_w.feature.shape)} px; texture correlation {corr_feat:.3f}"
        )
    msg += f" -> {corr_final:.3f} after ECC" if h_ecc is not None else f" ({note})" if note else ""
    return Alignment(True, h_full, quality, method, best.inliers, msg + resampled)


def alignment_from_points(
    ref_pts: Any,
    mov_pts: Any,
    *,
    reference_shape: tuple[int, ...] | None = None,
    moving_shape: tuple[int, ...] | None = None,
) -> Alignment:
    """A manual alignment from >= 4 user-clicked pairs (full-resolution pixels); RMS in the message.

    Quality = 1 / (1 + (RMS / 3 px)²); with exactly 4 pairs the fit is exact (RMS 0) and the
    quality says nothing about the clicks, which the message notes.
    """
    ref = np.asarray(ref_pts, np.float64).reshape(-1, 2)
    mov = np.asarray(mov_pts, np.float64).reshape(-1, 2)
    n = len(ref)
    if n != len(mov):
        return _failed("the two photos have different numbers of points", method="manual")
    if n < 4:
        return _failed(f"need at least 4 point pairs, got {n}", method="manual")
    for pts in (ref, mov):
        centred = pts - pts.mean(axis=0)
        sv = np.linalg.svd(centred, compute_uv=False)
        if sv[1] < 1e-3 * max(sv[0], 1e-9) or sv[0] < 1.0:
            return _failed("the points are (nearly) on one line", method="manual")
    h, _ = cv2.findHomography(mov, ref, 0)
    if h is None or not np.all(np.isfinite(h)):
        return _failed("these points do not define a homography", method="manual")
    h = normalise(h)
    if np.any(np.c_[mov, np.ones(n)] @ h[2] <= 0):
        return _failed("the points imply a folded (degenerate) warp", method="manual")
    if moving_shape is not None and reference_shape is not None:
        why = _sane(h, reference_shape, moving_shape)
        if why is not None:
            return _failed(f"implausible manual alignment: {why}", n, "manual")
    elif np.linalg.det(h[:2, :2]) <= 0:
        return _failed("the points imply a mirrored image", n, "manual")
    rms = float(np.sqrt(np.mean(np.sum((project(h, mov) - ref) ** 2, axis=1))))
    extent = float(np.ptp(ref, axis=0).max())
    if rms > max(8.0, 0.02 * extent):
        return _failed(f"the points disagree (RMS {rms:.1f} px): check each pair", n, "manual")
    quality = 1.0 / (1.0 + (rms / 3.0) ** 2)
    note = " (exact fit: 4 pairs cannot show clicking errors)" if n == 4 else ""
    msg = f"manual alignment from {n} point pairs, RMS {rms:.2f} px{note}"
    return Alignment(True, h, quality, "manual", n, msg)


def alignment_from_homography(
    h: Any, reference_shape: tuple[int, ...], moving_shape: tuple[int, ...], message: str = ""
) -> Alignment:
    """A user-adjusted homography (moving -> reference, full-resolution px) as a manual alignment,
    after the same plausibility checks as an automatic one."""
    hm = np.asarray(h, np.float64).reshape(3, 3)
    if not np.all(np.isfinite(hm)) or abs(hm[2, 2]) < 1e-12:
        return _failed("the homography is not usable", method="manual")
    hm = normalise(hm)
    why = _sane(hm, reference_shape, moving_shape)
    if why is not None:
        return _failed(f"implausible manual alignment: {why}", method="manual")
    return Alignment(True, hm, 1.0, "manual", 0, message or "homography adjusted by hand")
