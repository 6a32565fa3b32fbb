"""A faint region on a pigmented spot's rim is judged with the whole spot."""

from __future__ import annotations

import numpy as np

from skintrack.core.change.detection import Region
from skintrack.core.change.maps import DeltaMaps
from skintrack.core.change.spots import contrast_of_pigment, judged_by_spot, spot_extents

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


def test_spots_touching_the_border_and_each_other_keep_their_own_rims() -> None:
    import math

    import cv2

    lab = np.zeros((SIDE, SIDE, 3), np.float32)
    lab[..., 0] = 60.0
    centres = [(5, 5), (100, 190), (60, 60), (80, 80)]  # corner, edge, two whose rims overlap
    for i, (cy, cx) in enumerate(centres):
        lab[..., 0][np.hypot(XX - cx, YY - cy) <= 8 + 2 * i] = 30.0
    maps = DeltaMaps(
        lab,
        lab.copy(),
        np.zeros((SIDE, SIDE), np.float32),
        np.zeros((SIDE, SIDE), np.float32),
        np.ones((SIDE, SIDE), bool),
    )
    got = spot_extents(maps, min_area=20)
    # the definition, one full-frame dilation per spot, first label first
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (lab[..., 0] < 50).astype(np.uint8), connectivity=8
    )
    want = np.zeros((SIDE, SIDE), np.int32)
    for i in range(1, n):
        r = max(3, round(0.25 * math.sqrt(int(stats[i, cv2.CC_STAT_AREA]) / math.pi)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        grown = cv2.dilate((labels == i).astype(np.uint8), disc) > 0
        want[grown & (want == 0)] = i
    assert n == 5 and np.array_equal(got, want)


# --------------------------------------------------------------------------- contrast of pigment

CONE = np.where(SPOT, 60.0 - 30.0 * (1.0 - DIST / 40.0), 60.0)  # a spot darkest at its centre


def _cone_maps(dl: np.ndarray) -> DeltaMaps:
    lab = np.zeros((SIDE, SIDE, 3), np.float32)
    lab[..., 0] = CONE
    later = lab.copy()
    later[..., 0] += dl
    return DeltaMaps(
        lab, later, dl.astype(np.float32), np.zeros((SIDE, SIDE), np.float32), np.ones((SIDE, SIDE), bool)
    )


def _noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.3, (SIDE, SIDE))


def test_a_spot_shown_with_more_contrast_is_the_photos_not_the_skin() -> None:
    dl = 0.2 * (CONE - 60.0) + _noise(1)  # every spot pixel 20 % further from the skin
    region = _region(dl <= -3.0)
    assert contrast_of_pigment(region, _cone_maps(dl))


def test_a_spot_darkening_by_the_same_amount_everywhere_is_a_change() -> None:
    dl = np.where(SPOT, -4.0, 0.0) + _noise(2)
    assert not contrast_of_pigment(_region(SPOT), _cone_maps(dl))


def test_a_growth_ring_darkening_the_spot_edge_is_a_change() -> None:
    band = (DIST > 20) & (DIST <= 50)
    dl = np.where(band, -8.0 * np.clip((DIST - 20.0) / 15.0, 0.0, 1.0), 0.0) + _noise(3)
    assert not contrast_of_pigment(_region(band & (dl <= -3.0)), _cone_maps(dl))


def test_a_patch_beside_a_spot_is_a_change() -> None:
    patch = np.hypot(XX - 150, YY - 100) <= 25  # overlaps the spot's edge a little
    dl = np.where(patch, -4.0, 0.0) + _noise(4)
    assert not contrast_of_pigment(_region(patch), _cone_maps(dl))


def test_a_patch_on_a_spot_with_some_contrast_left_on_top_is_a_change() -> None:
    """A tone curve fitted on the skin leaves a little contrast on dark pigment; the patch's own
    darkening, the same at every depth, is most of the change and keeps it."""
    dl = np.where(SPOT, -4.0 + 0.06 * (CONE - 60.0), 0.0) + _noise(5)
    region = _region(DIST <= 25)  # the spot's pigment, 12-30 L* darker than the skin
    maps = _cone_maps(dl)
    assert not contrast_of_pigment(region, maps)
    # the same region made of contrast alone is not counted
    assert contrast_of_pigment(region, _cone_maps(np.where(SPOT, 0.25 * (CONE - 60.0), 0.0) + _noise(5)))
