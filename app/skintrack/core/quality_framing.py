"""Framing against the reference photo: a fast, low-resolution alignment for capture guidance.

The analysis aligns photos with :func:`skintrack.core.align.align` (SIFT + ECC, ~100 ms and more).
Capture guidance needs an answer several times a second, so this module matches ORB features on
the CLAHE-normalised lightness (the same feature image the aligner uses) at ``FRAMING_SIDE`` px,
with the reference's features computed once (:class:`FramingTarget`). A similarity fit (RANSAC)
gives shift, scale and rotation; a homography on its inliers adds the tilt. What matters here is
which way to move the camera, not sub-pixel accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from skintrack.core.align import lightness

FRAMING_SIDE = 320  # px: long side of both images for the framing match
ORB_FEATURES = 400
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 3.0  # px at FRAMING_SIDE
MIN_INLIERS = 12
REFERENCE_FAST_THRESHOLD = 5  # FAST corner threshold for the reference (computed once: thorough)
PHOTO_FAST_THRESHOLD = 10  # and for each photo or frame (see photo_features)


@dataclass(frozen=True)
class Framing:
    """How the photo sits against the reference.

    ``overlap`` is the fraction (0..1) of the reference's frame the photo covers; ``scale`` > 1
    means the photo shows the skin larger (camera closer) than the reference; ``rotation_deg`` is
    how far the reference appears turned in the photo, clockwise positive as seen on screen;
    ``tilt`` is the relative change of scale across the frame from perspective (0 = camera held
    as for the reference); ``shift`` is where the reference's centre appears in the photo,
    relative to the photo's centre, in fractions of the photo's width and height (point the camera
    that way). ``outline`` is the reference's frame as seen in the photo: its four corners (TL,
    TR, BR, BL) in fractions of the photo's width and height (a guide to line up with).
    """

    aligned: bool
    overlap: float = 0.0
    scale: float = 1.0
    rotation_deg: float = 0.0
    tilt: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    inliers: int = 0
    message: str = ""
    outline: tuple[tuple[float, float], ...] = ()


def _feature_image(rgb_u8: np.ndarray, light: np.ndarray | None = None) -> np.ndarray:
    """CLAHE-normalised lightness at FRAMING_SIDE; ``light`` is the image's L* when already known
    (same size as ``rgb_u8``), which saves a colour conversion."""
    if light is None or max(rgb_u8.shape[:2]) > FRAMING_SIDE or light.shape != rgb_u8.shape[:2]:
        light = lightness(_resize_long(rgb_u8, FRAMING_SIDE))
    u8 = np.clip(light * 2.55 + 0.5, 0, 255).astype(np.uint8)
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(u8)


def _resize_long(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    if max(h, w) <= side:
        return img
    f = side / max(h, w)
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _detector(fast_threshold: int = REFERENCE_FAST_THRESHOLD) -> cv2.ORB:
    return cv2.ORB_create(ORB_FEATURES, fastThreshold=fast_threshold)


def photo_features(
    img: np.ndarray, fast_threshold: int = PHOTO_FAST_THRESHOLD
) -> tuple[Sequence[cv2.KeyPoint], np.ndarray | None]:
    """ORB keypoints and descriptors of a photo's feature image.

    Corners are first taken at ``fast_threshold`` (fewer candidates to score: a third faster than
    the reference's threshold and, on CLAHE-normalised skin, the same framing); an image that
    yields too few is searched again at the reference's lower threshold.
    """
    kp, desc = _detector(fast_threshold).detectAndCompute(img, None)
    if len(kp) < ORB_FEATURES // 2 and fast_threshold > REFERENCE_FAST_THRESHOLD:
        kp, desc = _detector().detectAndCompute(img, None)
    return kp, desc


class FramingTarget:
    """The reference's features, computed once and matched against every photo or frame."""

    def __init__(self, reference_u8: np.ndarray, light: np.ndarray | None = None) -> None:
        img = _feature_image(reference_u8, light)
        self.shape = img.shape[:2]
        self.keypoints, self.descriptors = _detector().detectAndCompute(img, None)

    def framing(self, photo_u8: np.ndarray, light: np.ndarray | None = None) -> Framing:
        """Where ``photo_u8`` (any size; ``light``: its L* when known) sits relative to the reference."""
        if self.descriptors is None or len(self.keypoints) < MIN_INLIERS:
            return Framing(False, message="the reference has too little texture to compare framing")
        img = _feature_image(photo_u8, light)
        kp, desc = photo_features(img)
        if desc is None or len(kp) < MIN_INLIERS:
            return Framing(False, message="too little detail in the picture to compare framing")
        pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, self.descriptors, k=2)
        good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
        if len(good) < MIN_INLIERS:
            return Framing(False, inliers=len(good), message="the reference's skin is not in view")
        src = np.float32([kp[g.queryIdx].pt for g in good])
        dst = np.float32([self.keypoints[g.trainIdx].pt for g in good])
        sim, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX)
        inliers = int(mask.sum()) if mask is not None else 0
        if sim is None or inliers < MIN_INLIERS:
            return Framing(False, inliers=inliers, message="the reference's skin is not in view")
        h = np.vstack([sim, [0.0, 0.0, 1.0]])
        keep = mask.ravel() > 0
        if inliers >= 2 * MIN_INLIERS:
            full, _ = cv2.findHomography(src[keep], dst[keep], cv2.RANSAC, RANSAC_PX)
            if full is not None and _plausible(full):
                h = full / full[2, 2]
        return describe(h, img.shape[:2], self.shape, inliers)


def _plausible(h: np.ndarray) -> bool:
    return (
        bool(np.all(np.isfinite(h)))
        and abs(h[2, 2]) > 1e-9
        and float(np.hypot(h[2, 0], h[2, 1]) / abs(h[2, 2])) < 0.01
    )


def _corners(shape: tuple[int, int]) -> np.ndarray:
    hgt, wid = shape
    return np.array([[-0.5, -0.5], [wid - 0.5, -0.5], [wid - 0.5, hgt - 0.5], [-0.5, hgt - 0.5]], np.float32)


def describe(
    h: np.ndarray, photo_shape: tuple[int, int], ref_shape: tuple[int, int], inliers: int = 0
) -> Framing:
    """Framing from a photo -> reference homography (both at working size)."""
    quad = cv2.perspectiveTransform(_corners(photo_shape).reshape(-1, 1, 2), h.astype(np.float64)).reshape(
        -1, 2
    )
    quad = quad.astype(np.float32)
    ref = _corners(ref_shape)
    overlap = 0.0
    if abs(cv2.contourArea(quad)) > 0 and cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        inter, _ = cv2.intersectConvexConvex(ref, quad)
        overlap = min(1.0, float(inter) / max(1e-9, abs(cv2.contourArea(ref))))
    inv = np.linalg.inv(h)
    inv = inv / inv[2, 2]
    a = inv[:2, :2]
    scale = float(math.sqrt(abs(np.linalg.det(a))))
    rotation = float(math.degrees(math.atan2(a[1, 0] - a[0, 1], a[0, 0] + a[1, 1])))
    ph, pw = photo_shape
    rh, rw = ref_shape
    tilt = float(math.hypot(inv[2, 0], inv[2, 1]) * max(pw, ph))
    centre = inv @ np.array([(rw - 1) / 2.0, (rh - 1) / 2.0, 1.0])
    cx, cy = centre[0] / centre[2], centre[1] / centre[2]
    shift = (float((cx - (pw - 1) / 2.0) / pw), float((cy - (ph - 1) / 2.0) / ph))
    ref_in_photo = cv2.perspectiveTransform(_corners(ref_shape).reshape(-1, 1, 2).astype(np.float64), inv)
    outline = tuple((float((x + 0.5) / pw), float((y + 0.5) / ph)) for x, y in ref_in_photo.reshape(-1, 2))
    return Framing(True, overlap, scale, rotation, tilt, shift, inliers, outline=outline)
