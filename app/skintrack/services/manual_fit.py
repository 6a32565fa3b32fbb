"""Fit a manual alignment from clicked point pairs with a model the number of pairs can carry.

Roughly clicked pairs do not define a perspective warp: a homography through 4 or 5 slightly
wrong pairs easily folds the image. So a few pairs fit a similarity (rotation, scale, shift)
or an affine warp by least squares, and a homography is fitted only from HOMOGRAPHY_PAIRS on,
falling back to the affine fit when it would be implausible. Each pair's error is reported so
the person can correct the worst one.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from skintrack.core.align import Alignment, alignment_from_homography

MIN_PAIRS = 2  # a similarity needs two pairs
AFFINE_PAIRS = 4  # from here an affine fit (with one pair to spare to show clicking errors)
HOMOGRAPHY_PAIRS = 8  # from here a homography (perspective) fit, when it is plausible
MODEL_DOF = {"similarity": 2, "affine": 3, "homography": 4}  # pairs that make a fit exact
MODEL_WORDS = {
    "similarity": "rotation, scale and shift",
    "affine": "rotation, scale, shear and shift",
    "homography": "perspective",
}


@dataclass
class ManualFit:
    """The alignment (ok or not), the model used and each pair's error in reference pixels."""

    alignment: Alignment
    model: str
    errors: list[float] = field(default_factory=list)

    @property
    def rms(self) -> float:
        return math.sqrt(sum(e * e for e in self.errors) / len(self.errors)) if self.errors else 0.0

    @property
    def worst(self) -> int | None:
        """Index of the pair that disagrees most, when more pairs than the model needs exist."""
        if len(self.errors) <= MODEL_DOF.get(self.model, 0) or not self.errors:
            return None
        return int(np.argmax(self.errors))


def model_for(pairs: int) -> str:
    if pairs >= HOMOGRAPHY_PAIRS:
        return "homography"
    if pairs >= AFFINE_PAIRS:
        return "affine"
    return "similarity"


def _similarity(mov: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + shift (Umeyama), moving -> reference, 3x3."""
    mu_m, mu_r = mov.mean(axis=0), ref.mean(axis=0)
    m, r = mov - mu_m, ref - mu_r
    u, s, vt = np.linalg.svd(r.T @ m / len(mov))
    d = np.diag([1.0, 1.0 if np.linalg.det(u @ vt) > 0 else -1.0])
    rot = u @ d @ vt
    var = float((m**2).sum() / len(mov))
    scale = float(np.trace(np.diag(s) @ d)) / var if var > 0 else 1.0
    h = np.eye(3)
    h[:2, :2] = scale * rot
    h[:2, 2] = mu_r - scale * rot @ mu_m
    return h


def _affine(mov: np.ndarray, ref: np.ndarray) -> np.ndarray:
    a = np.c_[mov, np.ones(len(mov))]
    sol, *_ = np.linalg.lstsq(a, ref, rcond=None)
    h = np.eye(3)
    h[:2, :] = sol.T
    return h


def _homography(mov: np.ndarray, ref: np.ndarray) -> np.ndarray | None:
    h, _ = cv2.findHomography(mov, ref, 0)
    return None if h is None or not np.all(np.isfinite(h)) else h / h[2, 2]


def pair_errors(h: np.ndarray, ref: np.ndarray, mov: np.ndarray) -> list[float]:
    p = np.c_[mov, np.ones(len(mov))] @ np.asarray(h, float).T
    proj = p[:, :2] / p[:, 2:3]
    return [float(v) for v in np.linalg.norm(proj - ref, axis=1)]


def _failed(message: str, model: str, errors: list[float] | None = None) -> ManualFit:
    return ManualFit(Alignment(False, None, 0.0, "manual", 0, message), model, errors or [])


def fit_manual_alignment(
    ref_pts: np.ndarray | list[tuple[float, float]],
    mov_pts: np.ndarray | list[tuple[float, float]],
    reference_shape: tuple[int, ...],
    moving_shape: tuple[int, ...],
) -> ManualFit:
    """Fit MOVING -> REFERENCE (full-resolution px) from point pairs; never a folded warp."""
    ref = np.asarray(ref_pts, np.float64).reshape(-1, 2)
    mov = np.asarray(mov_pts, np.float64).reshape(-1, 2)
    n = min(len(ref), len(mov))
    ref, mov = ref[:n], mov[:n]
    model = model_for(n)
    if n < MIN_PAIRS:
        return _failed(f"need at least {MIN_PAIRS} point pairs, got {n}", model)
    for pts in (ref, mov):
        if float(np.ptp(pts, axis=0).max()) < 10.0:
            return _failed("the points are too close together: spread them over the area", model)
        if n >= 3 and model != "similarity":
            sv = np.linalg.svd(pts - pts.mean(axis=0), compute_uv=False)
            if sv[1] < 1e-2 * sv[0]:
                model = "similarity"  # on one line: only rotation, scale and shift are defined
    h = _homography(mov, ref) if model == "homography" else None
    note = ""
    if model == "homography":
        checked = None if h is None else alignment_from_homography(h, reference_shape, moving_shape)
        if checked is None or not checked.ok:
            model, h = "affine", None
            note = "; a perspective fit through these points would be implausible, so an affine one is used"
    if h is None:
        h = _similarity(mov, ref) if model == "similarity" else _affine(mov, ref)
    errors = pair_errors(h, ref, mov)
    checked = alignment_from_homography(h, reference_shape, moving_shape)
    if not checked.ok:
        return _failed(f"these points do not give a plausible alignment ({checked.message})", model, errors)
    fit = ManualFit(checked, model, errors)
    extent = float(np.ptp(ref, axis=0).max())
    if fit.rms > max(8.0, 0.02 * extent):
        worst = fit.worst
        which = f"; pair {worst + 1} is off by {errors[worst]:.0f} px" if worst is not None else ""
        return _failed(f"the points disagree (RMS {fit.rms:.1f} px){which}: check each pair", model, errors)
    exact = n <= MODEL_DOF[model]
    quality = 1.0 / (1.0 + (fit.rms / 3.0) ** 2)
    msg = (
        f"manual alignment from {n} point pairs ({MODEL_WORDS[model]}), RMS {fit.rms:.2f} px"
        + (f" (exact fit: {n} pairs cannot show clicking errors)" if exact else "")
        + note
    )
    fit.alignment = dataclasses.replace(checked, quality=quality, inliers=n, message=msg)
    return fit
