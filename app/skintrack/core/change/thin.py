"""Hair, pen marks and other thin dark structures: found in both photos and left out of the comparison.

Hair lying differently, pen marks and fine creases differ between two photos without any change of
the skin; on real repeat shots they make most false alarms. They are found as DullRazor does
(Lee et al. 1997): the morphological black-hat (closing minus image) of the lightness with a
structuring element a little wider than a hair picks out dark structures thinner than it; of those,
only the line-like ones (thin over most of their length, long against their width) are kept, so a
darkened area or the rim of a growing mole is never removed. Either photo's structures are left out
(dilated by a pixel); the cause is reported as ``thin_structures``.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.parallel import both

WIDTH = 0.004  # the widest structure removed, as a fraction of the image's longest side (>= 2.5 px)
MIN_CONTRAST_L = 4.0  # L* darker than the closing (the skin around) to count
ELONGATION = 6.0  # a structure's length must be at least this many times the widest allowed


def lightness(lin: np.ndarray) -> np.ndarray:
    """L* (float32) of linear sRGB."""
    y = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    return (116.0 * np.cbrt(np.maximum(y, 0.008856)) - 16.0).astype(np.float32)


def black_hat(light: np.ndarray, width: float) -> np.ndarray:
    """How much darker (L*) each pixel is than a closing with a disc just wider than ``width``."""
    k = 2 * int(np.ceil(width)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, kernel)


def line_like(mask: np.ndarray, width: float) -> np.ndarray:
    """The connected parts of ``mask`` that are thin (<= ``width``) and long (>= ELONGATION widths)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    dt = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    thick = np.bincount(labels[dt > 0.5 * width + 0.5], minlength=n)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    keep = (thick <= 0.2 * area) & (extent >= ELONGATION * width) & (area >= 2.0 * width * width)
    keep[0] = False
    return keep[labels]


def thin_structures(light: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Line-like dark structures (hair, pen) of one photo's lightness (bool, same size)."""
    width = max(2.5, WIDTH * max(light.shape[:2]))
    hat = black_hat(light, width)
    dark = hat >= MIN_CONTRAST_L
    if valid is not None:
        dark &= valid
    return line_like(dark, width)


def thin_in_either(ref_lin: np.ndarray, later_lin: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Thin structures of either photo (linear RGB, same geometry), dilated by one pixel."""
    a, b = both(lambda lin: thin_structures(lightness(lin), valid), ref_lin, later_lin)
    out = (a | b).astype(np.uint8)
    if out.any():
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return out.view(bool)
