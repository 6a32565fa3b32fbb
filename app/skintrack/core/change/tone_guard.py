"""Keep the tone mapping from absorbing a large darkened patch.

The tone mapping is a function of colour, fitted robustly; a patch that fills a large share of
the frame (a close-up of the watched spot) is no longer a small minority, and when its colours
are rare elsewhere (a darkened spot) they teach the mapping "lighten these tones", which erases
the patch. So after a first fit the coherent darkened areas of the field-corrected pair are
found and the mapping is fitted again without them: when the refit no longer improves the match
of the rest enough to be used at all, the mapping's gain came from the darkened area alone, and
no tone mapping is used. Otherwise the first fit stands (a real tone curve also darkens spots).
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.change.tone import MIN_GAIN, ToneMapping, fit_tone

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Y of linear sRGB
SMOOTH = 0.01  # Gaussian sigma of the blob scale, as a share of the frame's shorter side
MIN_LOG_DROP = 0.035  # ln(Y) darker than the skin's median by this (~1 L* on skin) at least
NOISE_K = 4.0  # ... and by this many robust spreads of the smoothed residual
MIN_AREA = 0.01  # a candidate holds at least this share of the skin: smaller ones cannot steer the fit


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


def guarded_tone(
    ref: np.ndarray, later: np.ndarray, skin: np.ndarray, usable: np.ndarray, min_gain: float = MIN_GAIN
) -> tuple[ToneMapping | None, bool]:
    """The tone mapping from ``later`` (field-corrected) to ``ref`` and whether a large darkened
    area was left out of its fit (see the module docstring); ``min_gain`` as in :func:`fit_tone`."""
    first = fit_tone(ref, later, skin, usable, min_gain=min_gain)
    if first is None:
        return None, False
    cand = darkened_candidates(ref, later, skin)
    rest = skin & ~cand
    if not cand.any() or rest.sum() < 0.5 * skin.sum():
        return first, False
    if fit_tone(ref, later, rest, usable, min_gain=min_gain) is None:
        return None, True
    return first, False
