"""Feature matching: SIFT (or the fallback detector), ratio test, MAGSAC homography, polish.

The first estimate that passes the sanity checks of ``core.align_checks`` seeds ECC.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from skintrack.core.align_checks import MIN_INLIER_RATIO, MIN_INLIERS, _sane
from skintrack.core.align_working import _feature_image, _small_mask, _Work
from skintrack.core.homography import normalise, project, rescale_homography
from skintrack.progress import CancelToken

RATIO = 0.75
MAGSAC_THRESHOLD = 3.0  # px at feature scale
MAX_FEATURES = 3000  # ORB, where the OpenCV build lacks AKAZE
# SIFT keypoints per image: the brute-force match costs their square, but 2000 lost enough inliers on
# a real repeat shot (realism suite, brown -5: IoU 0.79, under its 0.8 goal) to keep 3000. FLANN would be
# faster still but its randomised trees give another match set on every call, so the same two
# photos would not align the same way twice.
SIFT_FEATURES = 3000
SIFT_CONTRAST = 0.02  # below the 0.04 default: smooth skin has low-contrast texture


@dataclass
class _Match:
    h: np.ndarray  # working moving -> working reference
    inliers: int
    ratio: float
    rms: float
    detector: str


# features of the last few feature images: a region's reference photo is matched against every
# other photo of the region, and its features are the same each time
FEATURE_CACHE_SIZE = 4
_features: OrderedDict[bytes, tuple[list[Any], np.ndarray | None]] = OrderedDict()
_features_lock = threading.Lock()


def clear_feature_cache() -> None:
    """Forget every cached feature set (a benchmark timing one cold alignment)."""
    with _features_lock:
        _features.clear()


def _key(name: str, img: np.ndarray, mask: np.ndarray | None) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for part in (img, mask):
        if part is not None:
            h.update(repr((part.shape, part.dtype.str)).encode())
            h.update(np.ascontiguousarray(part).data)
        h.update(b"|")
    h.update(name.encode())
    return h.digest()


def _detect(name: str, img: np.ndarray, mask: np.ndarray | None) -> tuple[list[Any], np.ndarray | None]:
    """Keypoints and descriptors of ``img`` (outside ``mask``), from the cache when it was seen."""
    key = _key(name, img, mask)
    with _features_lock:
        hit = _features.get(key)
        if hit is not None:
            _features.move_to_end(key)
            return hit
    keypoints, descriptors = _compute(name, img, mask)
    if descriptors is not None:
        descriptors.setflags(write=False)  # shared by every caller that gets it from the cache
    kept = (list(keypoints), descriptors)
    with _features_lock:
        _features[key] = kept
        while len(_features) > FEATURE_CACHE_SIZE:
            _features.popitem(last=False)
    return kept


def _compute(name: str, img: np.ndarray, mask: np.ndarray | None) -> tuple[Any, np.ndarray | None]:
    if name == "sift":
        det = cv2.SIFT_create(nfeatures=SIFT_FEATURES, contrastThreshold=SIFT_CONTRAST)
    elif hasattr(cv2, "AKAZE_create"):  # AKAZE left the main OpenCV 5 wheels; ORB stands in
        det = cv2.AKAZE_create(threshold=5e-4)
    else:
        det = cv2.ORB_create(nfeatures=MAX_FEATURES)
    return det.detectAndCompute(img, mask)


def _knn2(des_q: np.ndarray, des_t: np.ndarray, norm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two nearest train descriptors of every query one: (index of the nearest, its distance,
    distance of the second), as ``BFMatcher.knnMatch(k=2)`` gives them.

    SIFT descriptors hold whole numbers up to 255, so in float32 every squared distance
    |q|² + |t|² - 2 q·t is exact (all partial sums stay below 2^24) and one BLAS product gives the
    brute-force matcher's distances bit for bit, for a fraction of its CPU. Other descriptors go
    to the matcher.
    """
    n_t = len(des_t)
    exact = (
        norm == cv2.NORM_L2
        and des_q.dtype == np.float32
        and des_t.dtype == np.float32
        and n_t >= 2
        and float(max(des_q.max(initial=0), des_t.max(initial=0))) <= 255.0
        and float(min(des_q.min(initial=0), des_t.min(initial=0))) >= 0.0
        and bool(np.all(des_q == np.rint(des_q)))
        and bool(np.all(des_t == np.rint(des_t)))
    )
    if not exact:
        pairs = cv2.BFMatcher(norm).knnMatch(des_q, des_t, k=2)  # OpenCV spreads it over the cores
        best = np.array([p[0].trainIdx if len(p) == 2 else -1 for p in pairs], np.int64)
        d = np.array([[p[0].distance, p[1].distance] if len(p) == 2 else [np.inf, np.inf] for p in pairs])
        return best, d[:, 0].astype(np.float32), d[:, 1].astype(np.float32)
    sq_t = np.einsum("ij,ij->i", des_t, des_t)
    sq_q = np.einsum("ij,ij->i", des_q, des_q)
    best = np.empty(len(des_q), np.int64)
    d1 = np.empty(len(des_q), np.float32)
    d2 = np.empty(len(des_q), np.float32)
    rows_per_block = max(1, (4 << 20) // max(1, n_t))  # ~16 MB of float32 distances at a time
    for start in range(0, len(des_q), rows_per_block):
        block = des_q[start : start + rows_per_block]
        dist = block @ des_t.T  # q·t
        dist *= np.float32(-2.0)
        dist += sq_t[None, :]  # |t|² - 2 q·t: |q|² is added per row below
        rows = np.arange(len(block))
        first = dist.argmin(axis=1)  # the lowest index among equals, as the matcher keeps
        v1 = dist[rows, first]
        dist[rows, first] = np.inf
        v2 = dist.min(axis=1)
        q = sq_q[start : start + len(block)]
        best[start : start + len(block)] = first
        d1[start : start + len(block)] = np.sqrt(np.maximum(v1 + q, 0.0))
        d2[start : start + len(block)] = np.sqrt(np.maximum(v2 + q, 0.0))
    return best, d1, d2


def _label(name: str) -> str:
    return name if name == "sift" else ("akaze" if hasattr(cv2, "AKAZE_create") else "orb")


def _match(
    name: str,
    ref_img: np.ndarray,
    mov_img: np.ndarray,
    ref_mask: np.ndarray | None,
    mov_mask: np.ndarray | None = None,
) -> _Match | str:
    # one image after the other: SIFT spreads its own work over the cores, and two at once would
    # hold two scale-space pyramids (~110 MB each at 800 px) for no shorter wall time
    kp_r, des_r = _detect(name, ref_img, ref_mask)
    kp_m, des_m = _detect(name, mov_img, mov_mask)
    if des_r is None or des_m is None or len(kp_r) < MIN_INLIERS or len(kp_m) < MIN_INLIERS:
        return "too few distinctive details in one of the photos"
    norm = cv2.NORM_L2 if name == "sift" else cv2.NORM_HAMMING
    nearest, d1, d2 = _knn2(des_m, des_r, norm)
    good = np.flatnonzero((nearest >= 0) & (d1.astype(np.float64) < RATIO * d2.astype(np.float64)))
    if len(good) < MIN_INLIERS:
        return f"too few matching details ({len(good)})"
    src = np.float32([kp_m[int(i)].pt for i in good])
    dst = np.float32([kp_r[int(nearest[i])].pt for i in good])
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


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


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
