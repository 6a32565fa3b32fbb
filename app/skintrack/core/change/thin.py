"""Hair, pen marks and other thin dark structures of both photos, left out of the comparison.

Hair lying differently and pen marks differ between two photos without any change of the skin; on
real repeat shots they make most false alarms. They are found by ``skintrack.core.thin_structures``
(a DullRazor-style black-hat and a line test, so a round patch or mole of the same darkness stays)
in each photo at the analysis resolution; either photo's structures are left out of fitting and
comparing, reported as the cause ``thin_structures``.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.change.pixels import linear_to_srgb_u8
from skintrack.core.parallel import both
from skintrack.core.thin_structures import find_thin_structures


def thin_of(lin: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Thin dark structures of one photo (linear RGB at analysis size): bool."""
    return find_thin_structures(linear_to_srgb_u8(lin), valid=valid).mask


def grown(mask: np.ndarray, halo: float) -> np.ndarray:
    """``mask`` grown by 1.5 ``halo`` px (the pre-smoothing sigma: it spreads a hair's darkness)."""
    out = mask.view(np.uint8)
    r = round(1.5 * halo)
    if r > 0 and out.any():
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return out.view(bool)


def thin_in_either(
    ref_lin: np.ndarray, later_lin: np.ndarray, valid: np.ndarray, halo: float = 1.2
) -> np.ndarray:
    """Thin dark structures of either photo (linear RGB at analysis size, same geometry), grown."""
    a, b = both(lambda lin: thin_of(lin, valid), ref_lin, later_lin)
    return grown(a | b, halo)
