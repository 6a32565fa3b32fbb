"""Alignments the user made: from clicked point pairs or a hand-adjusted homography."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from skintrack.core.align_checks import _sane
from skintrack.core.align_types import Alignment, _failed
from skintrack.core.homography import normalise, project


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
