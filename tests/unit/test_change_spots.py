"""A faint region on a pigmented spot's rim is judged with the whole spot."""

from __future__ import annotations

import numpy as np

from skintrack.core.change.detection import Region
from skintrack.core.change.maps import DeltaMaps
from skintrack.core.change.spots import judged_by_spot, spot_extents

SIDE = 200
YY, XX = np.mgrid[:SIDE, :SIDE]
DIST = np.hypot(XX - 100, YY - 100)
SPOT = DIST <= 40


def _maps(dl: np.ndarray) -> DeltaMaps:
    lab = np.zeros((SIDE, SIDE, 3), np.float32)
    lab[..., 0] = np.where(SPOT, 30.0, 60.0)
    later = lab.copy()
    later[..., 0] += dl
    return DeltaMaps(
        lab, later, dl.astype(np.float32), np.zeros((SIDE, SIDE), np.float32), np.ones((SIDE, SIDE), bool)
    )


def _region(mask: np.ndarray) -> Region:
    return Region((slice(0, SIDE), slice(0, SIDE)), mask)


def test_a_spot_both_photos_show_is_found_with_its_rim() -> None:
    spots = spot_extents(_maps(np.zeros((SIDE, SIDE))), min_area=50)
    assert (spots[SPOT] > 0).all()
    assert (spots[(DIST > 42) & (DIST <= 48)] > 0).all()  # the rim beyond the spot
    assert not (spots[DIST > 60] > 0).any()


def test_a_crescent_on_an_unchanged_spot_is_not_a_change() -> None:
    crescent = (DIST > 30) & (DIST <= 48) & (XX < 85)
    dl = np.where(crescent, -1.5, 0.0)
    maps = _maps(dl)
    assert judged_by_spot(_region(crescent), maps, spot_extents(maps, 50))


def test_a_spot_darkening_all_over_is_kept() -> None:
    whole = DIST <= 44
    dl = np.where(whole, -2.5, 0.0)
    maps = _maps(dl)
    assert not judged_by_spot(_region(whole), maps, spot_extents(maps, 50))


def test_a_faint_patch_on_plain_skin_is_not_judged_by_a_spot() -> None:
    patch = np.hypot(XX - 170, YY - 170) <= 15
    dl = np.where(patch, -1.5, 0.0)
    maps = _maps(dl)
    assert not judged_by_spot(_region(patch), maps, spot_extents(maps, 50))


def test_a_faint_patch_deep_inside_a_spot_is_measured_as_on_skin() -> None:
    patch = np.hypot(XX - 100, YY - 100) <= 12
    dl = np.where(patch, -1.5, 0.0)
    maps = _maps(dl)
    assert not judged_by_spot(_region(patch), maps, spot_extents(maps, 50))
