"""Each photo at the alignment's working scales: L* at the ECC scale and at the feature scale.

Scaling factors are exact pixel-centre matrices (``core.homography.scale_matrix``), so
homographies move between working and full resolution without drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skintrack.core.homography import resize_by, scale_matrix

# long side of the feature image: the "~1000 px"; 800 px gave the same accuracy and inlier
# counts as 1000 px on the 64-pair benchmark for ~30 % less CPU
FEATURE_SIDE = 800
ECC_SIDE = 1400  # cap on the long side of the ECC image (at least half resolution below 2800 px)


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb
    return np.clip(rgb.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


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


def _small_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A full-resolution exclude mask at a working size (True = exclude), slightly grown."""
    if mask is None:
        return None
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    small = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) > 0
    return cv2.dilate(small.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0


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
