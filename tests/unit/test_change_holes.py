"""Things that differ without a skin change, each alone: holes, unfitted colours, shade, hair, blur.

A darkened patch perforated by glints or clipped pixels is still an area (the depth test looks
through the holes); a faint size-aware patch whose colours lie outside the tone mapping's fitted
range is not reported, since the mapping's error there was never measured; a band rims a spot
only against the skin around it, and hair is no spot; the sharper photo is blurred to the
coarser one's resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core.change.compare import detect, rims_a_spot, without_lines
from skintrack.core.change.detection import Region
from skintrack.core.change.maps import DeltaMaps
from skintrack.core.change.prepare import Geometry, match_resolution
from skintrack.core.change.scales import area_like
from skintrack.core.change.settings import ChangeSettings
from skintrack.core.change.tone import ToneMapping

SIDE = 320


def _disc(r: float, centre: tuple[float, float] = (160, 160), side: int = SIDE) -> np.ndarray:
    yy, xx = np.mgrid[:side, :side]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= r * r


def _holes(side: int = SIDE, step: int = 6) -> np.ndarray:
    out = np.zeros((side, side), bool)
    out[::step, ::step] = True
    out[1::step, ::step] = True
    out[::step, 1::step] = True
    return out


def test_a_perforated_disc_is_an_area_when_its_holes_are_known() -> None:
    disc = _disc(12)
    holes = _holes() & disc
    sel = disc & ~(np.roll(holes, 1, 0) | np.roll(holes, 1, 1) | holes)
    assert not area_like(sel, 4.0)
    assert area_like(sel, 4.0, holes=disc & ~sel)
    lines = np.zeros((SIDE, SIDE), bool)
    lines[::10] = lines[1::10] = True
    assert not area_like(lines, 4.0, holes=np.zeros_like(lines))


def test_tone_mapping_supports_only_the_colours_it_was_fitted_on() -> None:
    tone = ToneMapping(
        np.zeros((3, 6)), np.full(3, 0.7), True, 0.01, 0.005, np.full(3, -0.1), np.full(3, 0.1)
    )
    lin = np.empty((1, 2, 3), np.float32)
    lin[0, 0] = 0.45  # sRGB ~0.70: inside
    lin[0, 1] = 0.05  # sRGB ~0.25: a dark spot the skin-fitted curve never saw
    assert tone.supported(lin).tolist() == [[True, False]]


def _maps(dl: np.ndarray) -> DeltaMaps:
    lab = np.zeros((*dl.shape, 3), np.float32)
    lab[..., 0] = 60.0
    return DeltaMaps(lab, lab.copy(), dl, np.zeros_like(dl), np.ones(dl.shape, bool))


def test_a_faint_patch_outside_the_tone_mappings_colours_is_not_reported() -> None:
    rng = np.random.default_rng(2)
    patch = _disc(40)
    dl = rng.normal(0.0, 0.4, (SIDE, SIDE)).astype(np.float32)
    dl[patch] -= 2.2  # fainter than the per-pixel threshold, found by the size-aware search
    geo = Geometry(SIDE, SIDE, 1.0, 1.0, None)
    s = ChangeSettings()
    seen = detect(_maps(dl), geo, s, [], tone_support=np.ones(dl.shape, bool))
    assert seen.patches and (seen.mask_small[patch] > 0).mean() > 0.5
    unsupported = detect(_maps(dl), geo, s, [], tone_support=~patch)
    assert not unsupported.patches


def _lab_maps(light: np.ndarray) -> DeltaMaps:
    lab = np.zeros((*light.shape, 3), np.float32)
    lab[..., 0] = light
    dl = np.zeros(light.shape, np.float32)
    return DeltaMaps(lab, lab.copy(), dl, dl.copy(), np.ones(light.shape, bool))


def _band(inner: float, outer: float, centre: tuple[float, float]) -> Region:
    sel = _disc(outer, centre) & ~_disc(inner, centre)
    ys, xs = np.nonzero(sel)
    win = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return Region(win, sel[win])


def test_a_band_in_the_shade_does_not_rim_a_spot() -> None:
    light = np.full((SIDE, SIDE), 70.0, np.float32)
    light[:, :120] = 55.0  # one side of the limb in shade, no spot anywhere
    assert not rims_a_spot(_band(10, 16, (60, 160)), _lab_maps(light))
    light[_disc(10, (60, 160))] = 40.0  # a pigmented spot in the shade: its rim does
    assert rims_a_spot(_band(10, 16, (60, 160)), _lab_maps(light))


def test_hair_is_not_a_spot_to_rim() -> None:
    light = np.full((SIDE, SIDE), 70.0, np.float32)
    hair = np.zeros((SIDE, SIDE), bool)
    hair[:, 158:163] = True
    light[hair] = 45.0
    sel = np.zeros((120, 14), bool)
    sel[:, 5:10] = True  # a band along the hair's right side
    band = Region((slice(100, 220), slice(158, 172)), sel)
    assert rims_a_spot(band, _lab_maps(light))
    assert not rims_a_spot(band, _lab_maps(light), lines=hair)


def test_the_sharper_photo_is_blurred_to_the_coarser_ones_resolution() -> None:
    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.normal(0, 0.05, (SIDE, SIDE)).astype(np.float32), (0, 0), 0.8)
    ref = np.clip(0.4 + texture, 0.01, 1)[..., None].repeat(3, axis=2)
    coarse = cv2.GaussianBlur(ref, (0, 0), 2.0)
    valid = np.ones((SIDE, SIDE), bool)
    a, b, info = match_resolution(ref, coarse, valid)
    assert b is coarse and not np.array_equal(a, ref)
    assert info is not None and info["blurred"] == "reference" and 1.0 <= float(info["sigma_px"]) <= 3.0
    assert np.abs(a - b).mean() < 0.5 * np.abs(ref - coarse).mean()
    brighter = ref + np.float32(0.001)
    same_a, same_b, none = match_resolution(ref, brighter, valid)
    assert same_a is ref and same_b is brighter and none is None  # one resolution keeps its detail


def test_a_hair_touching_a_patch_is_cut_off_it() -> None:
    sel = _disc(14, (40, 40), 120)
    sel[38:42, 54:110] = True  # a 4 px line (a darkened hair) running off the patch
    region = Region((slice(0, 120), slice(0, 120)), sel)
    parts = without_lines(region, 4.0)
    kept = np.zeros(sel.shape, bool)
    for p in parts:
        kept[p.win] |= p.sel
    assert len(parts) == 1 and not kept[:, 60:].any()
    assert kept[_disc(12, (40, 40), 120)].all()  # the area itself stays


def test_the_resolution_match_is_reported_with_the_normalisation() -> None:
    from skintrack.core.change import compare_aligned

    rng = np.random.default_rng(6)
    texture = cv2.GaussianBlur(rng.normal(0, 0.05, (SIDE, SIDE)).astype(np.float32), (0, 0), 0.8)
    ref = np.clip(0.4 + texture, 0.01, 1)[..., None].repeat(3, axis=2)
    coarse = cv2.GaussianBlur(ref, (0, 0), 2.0)
    result = compare_aligned(ref, coarse, np.ones((SIDE, SIDE), bool))
    assert result.to_json()["normalisation"]["resolution_match"]["blurred"] == "reference"
    same = compare_aligned(ref, ref.copy(), np.ones((SIDE, SIDE), bool))
    assert same.to_json()["normalisation"]["resolution_match"] is None


def test_resolution_matching_follows_its_settings() -> None:
    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.normal(0, 0.05, (SIDE, SIDE)).astype(np.float32), (0, 0), 0.8)
    ref = np.clip(0.4 + texture, 0.01, 1)[..., None].repeat(3, axis=2)
    noise = rng.normal(0, 0.004, (SIDE, SIDE, 1)).astype(np.float32)  # the coarser photo's own noise
    coarse = np.clip(cv2.GaussianBlur(ref, (0, 0), 2.0) + noise, 0.01, 1)
    valid = np.ones((SIDE, SIDE), bool)
    assert match_resolution(ref, coarse, valid)[2] is not None
    assert match_resolution(ref, coarse, valid, sigmas=())[2] is None  # match_max_sigma 0: no blur
    assert match_resolution(ref, coarse, valid, gain=0.9)[2] is None  # a gain no blur reaches
    info = match_resolution(ref, coarse, valid, sigmas=(0.5, 1.0))[2]
    assert info is not None and float(info["sigma_px"]) <= 1.0
    small = match_resolution(ref, coarse, valid, window=96)[2]
    assert small is not None and small["blurred"] == "reference"
