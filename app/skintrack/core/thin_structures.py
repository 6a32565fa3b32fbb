"""Hair, pen marks and other thin dark structures in a skin photo (DullRazor-style).

Such structures differ between two photos without any change of the skin (hair lies differently,
a pen mark is added or washed off), so a comparison leaves them out or inpaints them. Detection:

1. A morphological black-hat of log luminance (closing minus image) with a disc a little wider
   than the widest structure sought (``width_px``): it answers to anything dark and narrower than
   the disc, and not to dark areas wider than it (a pigment patch, a big mole). In log units the
   response is a contrast ratio, the same for a hair on pale skin and in a shadow. Bright specks
   are opened away first (shiny micro-relief would make every crease respond).
2. Threshold at ``darkness`` (a structure at least that much darker than the skin around it,
   0.35 = 35 %), grown by hysteresis into connected pixels above 0.7 of that level (a hair's fading
   ends; lower would link hair to the skin's crease network). Hair and ink reach it everywhere.
3. Shape test: parts wider than ``width_px`` + 2 are removed (morphological opening), then each
   remaining component must be *elongated*: area / (π·half-width²) >= ``min_elongation``, with
   the half-width from the distance transform (1 for a disc, ~0.64·length/half-width for a
   line). Pores, dots and small moles fail it; hairs, crossing hairs, creases and strokes pass.
4. The kept mask is grown by ``grow_px`` (the antialiased halo of a hair).

``thin_components`` exposes the shape test so a change detector can refuse line-like patches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from skintrack.core.colour import srgb_to_linear

DEFAULT_WIDTH_FRACTION = 1.0 / 200.0  # widest structure sought, as a share of the long side
MIN_WIDTH_PX = 4
DARKNESS = 0.35  # a structure is at least 35 % darker (luminance) than the skin around it
REC709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
MIN_ELONGATION = 3.0
GROW_PX = 1
HYSTERESIS = 0.7  # a structure extends over connected pixels above this share of the level


@dataclass
class ThinStructures:
    """``mask``: bool, True on thin dark structures; ``inpainted``: the photo with them filled in
    from the surrounding skin (None unless asked for); ``coverage``: share of the image masked."""

    mask: np.ndarray
    width_px: int
    darkness: float
    inpainted: np.ndarray | None = None

    @property
    def coverage(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0


def default_width(shape: tuple[int, ...]) -> int:
    """Widest hair or stroke expected (px): 1/200 of the long side, at least 4 px."""
    return max(MIN_WIDTH_PX, round(max(shape[:2]) * DEFAULT_WIDTH_FRACTION))


LOG_STEPS = 50.0  # 8-bit log luminance: 0.02 per step (a structure's level is ~0.43), 5.1 decades e


_LINEAR_8BIT = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0).astype(np.float32)


def log_luminance(rgb: np.ndarray) -> np.ndarray:
    """Log of the relative luminance Y of an sRGB image (uint8, or float 0..1) as 8 bits:
    255 + 50·ln(Y), clipped; morphology on 8 bits is several times faster than on floats."""
    if rgb.dtype == np.uint8:
        lin = _LINEAR_8BIT
        y = lin[rgb[..., 0]] * REC709[0] + lin[rgb[..., 1]] * REC709[1] + lin[rgb[..., 2]] * REC709[2]
    else:
        y = srgb_to_linear(np.clip(rgb[..., :3].astype(np.float32), 0.0, 1.0)) @ REC709
    log_y = np.log(np.maximum(y, np.float32(1e-4)))
    return np.clip(255.0 + LOG_STEPS * log_y + 0.5, 0, 255).astype(np.uint8)


def black_hat(image: np.ndarray, width_px: int) -> np.ndarray:
    """Dark structures narrower than a disc of diameter 2·width + 1: its closing minus the image
    (in the image's units; for ``log_luminance`` divide by LOG_STEPS for natural-log contrast).

    The closing is taken of the image opened at half that width first: on shiny skin the bright
    micro-relief between creases would otherwise lift the closing and make every crease respond.
    """
    size = 2 * int(width_px) + 1
    speck = 2 * (int(width_px) // 2) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    small = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (speck, speck))
    base = cv2.morphologyEx(image, cv2.MORPH_OPEN, small)
    return cv2.subtract(cv2.morphologyEx(base, cv2.MORPH_CLOSE, disc), image)


def thin_components(
    mask: np.ndarray, max_half_width: float, min_elongation: float = MIN_ELONGATION
) -> np.ndarray:
    """The line-like parts of ``mask`` (bool): what remains after removing the parts wider than
    2·``max_half_width`` (a morphological opening finds those, so a hair touching a blob is kept
    and the blob is not), restricted to components that are elongated."""
    m = (np.asarray(mask) > 0).astype(np.uint8)
    if not m.any():
        return np.zeros(m.shape, bool)
    size = 2 * math.ceil(max_half_width) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    wide = cv2.dilate(cv2.morphologyEx(m, cv2.MORPH_OPEN, disc), np.ones((3, 3), np.uint8))
    thin = m & (wide == 0)
    n, labels = cv2.connectedComponents(thin, connectivity=8)  # areas by bincount: 4x cheaper than stats
    if n <= 1:
        return np.zeros(m.shape, bool)
    dist = cv2.distanceTransform(thin, cv2.DIST_L2, 3)
    on = labels > 0
    half_width = np.zeros(n, np.float32)
    np.maximum.at(half_width, labels[on], dist[on])
    area = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    elongation = area / (math.pi * np.maximum(half_width, 0.5) ** 2)
    keep = elongation >= min_elongation
    keep[0] = False
    return keep[labels]


def find_thin_structures(
    rgb: np.ndarray,
    *,
    width_px: int | None = None,
    darkness: float = DARKNESS,
    min_elongation: float = MIN_ELONGATION,
    grow_px: int = GROW_PX,
    valid: np.ndarray | None = None,
    inpaint: bool = False,
) -> ThinStructures:
    """Thin dark structures of an sRGB photo (uint8, or float 0..1); ``valid`` limits the search."""
    width = int(width_px) if width_px else default_width(rgb.shape)
    response = black_hat(log_luminance(rgb), width)
    if valid is not None:
        response[~np.asarray(valid, bool)] = 0
    level = -math.log(1.0 - min(0.95, max(0.01, darkness))) * LOG_STEPS
    strong = (response >= level).astype(np.uint8)
    weak = (response >= HYSTERESIS * level).astype(np.uint8)
    # hysteresis: weak pixels connected to a strong one
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    seeded = np.zeros(n, bool)
    seeded[labels[strong > 0]] = True
    seeded[0] = False
    candidate = seeded[labels]
    mask = thin_components(candidate, width / 2.0 + 1.0, min_elongation)
    if grow_px > 0 and mask.any():
        k = 2 * int(grow_px) + 1
        mask = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    if valid is not None:
        mask &= np.asarray(valid, bool)
    result = ThinStructures(mask, width, darkness)
    if inpaint:
        result.inpainted = inpaint_thin(rgb, mask, width)
    return result


def inpaint_thin(rgb: np.ndarray, mask: np.ndarray, width_px: int) -> np.ndarray:
    """``rgb`` with the masked pixels filled from the skin around them (Telea), same dtype."""
    if not np.asarray(mask).any():
        return rgb.copy()
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    radius = 3  # px of skin around each masked pixel that fill it; wider only costs time
    if rgb.dtype == np.uint8:
        return cv2.inpaint(np.ascontiguousarray(rgb[..., :3]), m, radius, cv2.INPAINT_TELEA)
    # Telea works on 8-bit images: fill an 8-bit copy, keep full precision outside the mask
    u8 = np.clip(rgb[..., :3].astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    filled = cv2.inpaint(u8, m, radius, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    out = rgb[..., :3].astype(np.float32).copy()
    out[m > 0] = filled[m > 0]
    return out.astype(rgb.dtype, copy=False)
