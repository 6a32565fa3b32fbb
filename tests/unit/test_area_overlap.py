"""services.areas.overlap_fraction: the share of the control patch also painted as watched area."""

from __future__ import annotations

import numpy as np

from skintrack.services.areas import overlap_fraction


def test_overlap_fraction() -> None:
    watched = np.zeros((10, 10), np.uint8)
    control = np.zeros((10, 10), np.uint8)
    assert overlap_fraction(watched, control) == 0.0  # no control: nothing to overlap
    control[0:4, 0:5] = 255  # 20 px
    watched[0:2, 0:5] = 255  # covers 10 of them
    assert overlap_fraction(watched, control) == 0.5
    watched[:] = 0
    watched[6:, 6:] = 255
    assert overlap_fraction(watched, control) == 0.0
