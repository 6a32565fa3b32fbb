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

from skintrack.core.change.pixels import linear_to_srgb_fast
from skintrack.core.parallel import both
from skintrack.core.thin_structures import find_thin_structures


def thin_in_either(
    ref_lin: np.ndarray, later_lin: np.ndarray, valid: np.ndarray, halo: float = 1.2
) -> np.ndarray:
    """Thin dark structures of either photo (linear RGB at analysis size, same geometry): bool.

    Grown by 1.5 ``halo`` (the pre-smoothing sigma, px): smoothing spreads a hair's darkness that far.
    """

    def find(lin: np.ndarray) -> np.ndarray:
        return find_thin_structures(linear_to_srgb_fast(lin), valid=valid).mask

    a, b = both(find, ref_lin, later_lin)
    out = (a | b).view(np.uint8)
    r = round(1.5 * halo)
    if r > 0 and out.any():
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return out.view(bool)
