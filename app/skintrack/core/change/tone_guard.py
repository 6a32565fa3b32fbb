"""Keep the tone mapping from absorbing a large darkened patch.

The tone mapping is a function of colour, fitted robustly; a patch that fills a large share of
the frame (a close-up of the watched spot) is no longer a small minority, and its darker colours
teach the mapping "lighten these tones", which erases the patch. So after a first fit the
coherent darkened areas of the field-corrected pair are found, the mapping is fitted again without
them. When the refit no longer improves the match of the rest enough to be used at all, the
mapping's gain came from the darkened area alone, and no tone mapping is used. Otherwise the
refit is used when the rest of the skin shows the excluded colours too (it then knows those
tones from unchanged skin, not by extrapolation), and the first fit when it does not.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.change.pixels import linear_to_srgb_fast
from skintrack.core.change.tone import ToneMapping, fit_tone

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Y of linear sRGB
SMOOTH = 0.01  # Gaussian sigma of the blob scale, as a share of the frame's shorter side
MIN_LOG_DROP = 0.035  # ln(Y) darker than the skin's median by this (~1 L* on skin) at least
NOISE_K = 4.0  # ... and by this many robust spreads of the smoothed residual
MIN_AREA = 0.01  # a candidate holds at least this share of the skin: smaller ones cannot steer the fit
COLOUR_LEVELS = 16  # sRGB quantisation per channel of the colour-support histogram
MIN_BIN = 20  # a colour is known from the rest of the skin when its bin holds this many pixels there
MIN_SUPPORTED = 0.6  # share of the candidate's pixels whose colour the rest of the skin shows


def darkened_candidates(ref: np.ndarray, later: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(H, W) bool: large, spatially coherent areas where ``later`` is darker than ``ref``."""
    h, w = skin.shape
    sigma = max(1.0, SMOOTH * min(h, w))
    y_ref = np.maximum(ref @ LUMA, 1e-4)
    y_later = np.maximum(later @ LUMA, 1e-4)
    d = np.where(skin, np.log(y_later) - np.log(y_ref), 0.0).astype(np.float32)
    wsum = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma)
    smooth = cv2.GaussianBlur(d, (0, 0), sigma) / np.maximum(wsum, 1e-3)
    vals = smooth[skin & (wsum > 0.5)]
    if vals.size < 100:
        return np.zeros_like(skin)
    centre = float(np.median(vals))
    spread = 1.4826 * float(np.median(np.abs(vals - centre)))
    low = smooth < centre - max(MIN_LOG_DROP, NOISE_K * spread)
    low &= skin & (wsum > 0.5)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(low.astype(np.uint8), connectivity=8)
    big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= MIN_AREA * int(skin.sum())) + 1
    if big.size == 0:
        return np.zeros_like(skin)
    cand = np.isin(labels, big)
    r = round(sigma)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(cand.astype(np.uint8), kernel).astype(bool) & skin


def colour_supported(later: np.ndarray, cand: np.ndarray, rest: np.ndarray) -> float:
    """Share of ``cand`` pixels whose (quantised sRGB) colour is common on the ``rest`` of the skin."""
    q = np.minimum((linear_to_srgb_fast(later) * COLOUR_LEVELS).astype(np.int32), COLOUR_LEVELS - 1)
    code = (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]
    counts = np.bincount(code[rest], minlength=COLOUR_LEVELS**3)
    inside = code[cand]
    return float((counts[inside] >= MIN_BIN).mean()) if inside.size else 0.0


def guarded_tone(
    ref: np.ndarray, later: np.ndarray, skin: np.ndarray, usable: np.ndarray
) -> tuple[ToneMapping | None, bool]:
    """The tone mapping from ``later`` (field-corrected) to ``ref`` and whether a large darkened
    area was left out of its fit (see the module docstring)."""
    first = fit_tone(ref, later, skin, usable)
    if first is None:
        return None, False
    cand = darkened_candidates(ref, later, skin)
    rest = skin & ~cand
    if not cand.any() or rest.sum() < 0.5 * skin.sum():
        return first, False
    refit = fit_tone(ref, later, rest, usable)
    if refit is None:
        return None, True
    if colour_supported(later, cand, rest) < MIN_SUPPORTED:
        return first, False
    return refit, True
