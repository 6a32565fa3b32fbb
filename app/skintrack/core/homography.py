"""Pixel geometry of homographies: exact rescaling, projection, overlap, local scale, warping.

Coordinates: pixel centres, the centre of the top-left pixel is (0, 0). ``cv2.resize`` maps a
full-resolution coordinate x to (x + 0.5)·s − 0.5 at scale s (this also holds for JPEG DCT
scaling), so the scaling matrix is S = [[sx, 0, (sx−1)/2], [0, sy, (sy−1)/2], [0, 0, 1]] and
H_full = S_ref⁻¹ · H_work · S_mov is exact (a plain diag(s, s, 1) would be off by (1/s − 1)/2 px).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

RESAMPLE_ABOVE = 1.4  # scale ratio beyond which the finer photo is resampled to the coarser one


def scale_matrix(sx: float, sy: float) -> np.ndarray:
    """Full-resolution -> scaled pixel-centre coordinates for a resize by (sx, sy)."""
    return np.array([[sx, 0.0, (sx - 1.0) / 2.0], [0.0, sy, (sy - 1.0) / 2.0], [0.0, 0.0, 1.0]])


def normalise(h: np.ndarray) -> np.ndarray:
    """``h`` as float64 scaled so h[2, 2] = 1 (unchanged when that entry is ~0)."""
    h = np.asarray(h, np.float64)
    return h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h


def rescale_homography(h: np.ndarray, s_ref: np.ndarray, s_mov: np.ndarray) -> np.ndarray:
    """Homography between scaled images -> between the originals: S_ref⁻¹ · H · S_mov."""
    return normalise(np.linalg.inv(s_ref) @ h @ s_mov)


def project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (N, 2) mapped through ``h``."""
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    p = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, np.float64).T
    return p[:, :2] / p[:, 2:3]


def frame_corners(shape: tuple[int, ...]) -> np.ndarray:
    """The outer corners of an image of ``shape`` (pixel edges, not centres)."""
    h, w = shape[:2]
    return np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]], np.float64)


def overlap_fraction(h: np.ndarray, ref_shape: tuple[int, ...], mov_shape: tuple[int, ...]) -> float:
    """Area shared by the reference and the projected moving image, over the smaller of the two."""
    quad = project(h, frame_corners(mov_shape)).astype(np.float32)
    ref = frame_corners(ref_shape).astype(np.float32)
    proj_area = abs(cv2.contourArea(quad))
    ref_area = abs(cv2.contourArea(ref))
    if proj_area <= 0 or not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return 0.0
    inter, _ = cv2.intersectConvexConvex(ref, quad)
    return float(inter) / max(1e-9, min(ref_area, proj_area))


def resize_by(img: np.ndarray, factor: float) -> tuple[np.ndarray, float, float]:
    """Downscale by ``factor`` (never up); returns (image, sx, sy) with the exact achieved scales."""
    h, w = img.shape[:2]
    if factor >= 1.0:
        return img, 1.0, 1.0
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA), nw / w, nh / h


def pixel_grid(shape: tuple[int, ...], n: int) -> np.ndarray:
    """An n x n grid of pixel centres spanning an image of ``shape``."""
    h, w = shape[:2]
    xs = np.linspace(0, w - 1, n)
    ys = np.linspace(0, h - 1, n)
    return np.array([[x, y] for y in ys for x in xs], np.float64)


def relative_scale(h: np.ndarray, moving_shape: tuple[int, ...]) -> float:
    """Reference pixels per moving pixel at the moving image's centre (sqrt of the Jacobian's det)."""
    h = normalise(h)
    cx, cy = (moving_shape[1] - 1) / 2.0, (moving_shape[0] - 1) / 2.0
    p = np.array([cx, cy, 1.0])
    w = float(h[2] @ p)
    u, v = float(h[0] @ p), float(h[1] @ p)
    jac = np.array(
        [
            [(h[0, 0] * w - u * h[2, 0]) / w**2, (h[0, 1] * w - u * h[2, 1]) / w**2],
            [(h[1, 0] * w - v * h[2, 0]) / w**2, (h[1, 1] * w - v * h[2, 1]) / w**2],
        ]
    )
    return math.sqrt(abs(float(np.linalg.det(jac))))


def warp_to_reference(
    moving_rgb: np.ndarray, h: np.ndarray, reference_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The moving image in reference geometry and its valid mask (bool, eroded by 2 px).

    A finer moving photo (a close-up) is first area-downsampled to the reference's pixel size, so
    the comparison runs at the coarser resolution without aliasing its texture into false edges.
    """
    size = (int(reference_shape[1]), int(reference_shape[0]))
    hm = normalise(np.asarray(h, np.float64))
    scale = relative_scale(hm, moving_rgb.shape)
    if scale < 1.0 / RESAMPLE_ABOVE:
        moving_rgb, sx, sy = resize_by(moving_rgb, scale)
        hm = normalise(hm @ np.linalg.inv(scale_matrix(sx, sy)))
    warped = cv2.warpPerspective(
        moving_rgb, hm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    ones = np.full(moving_rgb.shape[:2], 255, np.uint8)
    valid = cv2.warpPerspective(ones, hm, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    valid = cv2.erode(valid, np.ones((5, 5), np.uint8))
    return warped, valid > 0


def transfer_error(
    h_est: np.ndarray | None,
    h_true: np.ndarray,
    shape: tuple[int, ...],
    moving_shape: tuple[int, ...] | None = None,
) -> float:
    """Mean distance (reference px) between where ``h_est`` and ``h_true`` send a 20×20 grid of moving
    pixels, over the grid points whose true position lands inside the reference (``shape``)."""
    if h_est is None:
        return float("inf")
    grid = pixel_grid(moving_shape or shape, 20)
    true = project(h_true, grid)
    h, w = shape[:2]
    inside = (true[:, 0] >= 0) & (true[:, 0] <= w - 1) & (true[:, 1] >= 0) & (true[:, 1] <= h - 1)
    if not inside.any():
        return float("inf")
    est = project(h_est, grid[inside])
    return float(np.mean(np.linalg.norm(est - true[inside], axis=1)))
