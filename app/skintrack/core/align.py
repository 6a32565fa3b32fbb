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

Quality (0..1) is the geometric mean of four scores, documented in ``align_checks._quality``.

Modules: ``align_working`` (working images), ``align_features``, ``align_ecc``, ``align_checks``
(sanity checks and quality), ``align_manual`` (user-made alignments); this one runs the recipe.

A calibration card seen in both photos can anchor the alignment when skin features fail
(``card_homography``); ECC on the skin must then confirm it, or the result is refused.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.align_checks import (
    DENOMINATOR_RANGE,
    MAX_CONDITION,
    MIN_CORRELATION,
    MIN_INLIER_RATIO,
    MIN_INLIERS,
    MIN_OVERLAP,
    SCALE_RANGE,
    _quality,
    _sane,
)
from skintrack.core.align_ecc import (
    ECC_ITERATIONS,
    HIGHPASS_SIGMA,
    MAX_ECC_SHIFT,
    MAX_ECC_SHIFT_CARD,
    _ecc_refine,
    _highpass,
)
from skintrack.core.align_features import _check, _feature_stage, _Match
from skintrack.core.align_manual import alignment_from_homography, alignment_from_points
from skintrack.core.align_types import Alignment, _failed
from skintrack.core.align_working import (
    ECC_SIDE,
    FEATURE_SIDE,
    _prepare,
    _small_mask,
    _working_factors,
    lightness,
)
from skintrack.core.homography import (
    RESAMPLE_ABOVE,
    normalise,
    overlap_fraction,
    relative_scale,
    rescale_homography,
    scale_matrix,
    transfer_error,
    warp_to_reference,
)
from skintrack.core.parallel import both
from skintrack.progress import CancelToken

__all__ = [
    "ALGORITHM_VERSION",
    "DENOMINATOR_RANGE",
    "ECC_ITERATIONS",
    "ECC_SIDE",
    "FEATURE_SIDE",
    "HIGHPASS_SIGMA",
    "MAX_CONDITION",
    "MAX_ECC_SHIFT",
    "MAX_ECC_SHIFT_CARD",
    "MIN_CORRELATION",
    "MIN_INLIERS",
    "MIN_INLIER_RATIO",
    "MIN_OVERLAP",
    "RESAMPLE_ABOVE",
    "SCALE_RANGE",
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
