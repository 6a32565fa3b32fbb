"""Each step of core.change alone: settings schema, prepare, calibration, noise, detection, patches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from skintrack.core.change import ChangeSettings, setting_fields
from skintrack.core.change.calibration import Normalised, by_control, choose_method, fit_masks, shape_only
from skintrack.core.change.detection import Region, candidate_mask, find_regions, min_area_px
from skintrack.core.change.maps import DeltaMaps, compared_pixels, delta_maps, mean_change
from skintrack.core.change.noise import NoiseEstimate, estimate_noise, robust_noise
from skintrack.core.change.patches import build_patches, kind_of, split_by_kind
from skintrack.core.change.prepare import (
    Geometry,
    Pair,
    Unreliable,
    analysis_geometry,
    find_unreliable,
    prepare_frame,
    prepare_pair,
)
from skintrack.core.change.result import CardCalibration
from skintrack.core.colour import IlluminationModel

H, W = 120, 160


def flat_pair(value: float = 0.3) -> Pair:
    ref = np.full((H, W, 3), value, np.float32)
    return Pair(ref, ref.copy(), np.ones((H, W), bool), None, None, None)


def nothing_unreliable() -> Unreliable:
    z = np.zeros((H, W), bool)
    return Unreliable(z, z, z, z)


def disc(r: int = 25, centre: tuple[int, int] = (80, 60)) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= r * r


# --------------------------------------------------------------------------- settings


def test_every_setting_is_documented_with_a_label_unit_help_and_range() -> None:
    for f in setting_fields():
        assert f.metadata["label"] and f.metadata["help"], f.name
        assert "choices" in f.metadata or ("min" in f.metadata and "max" in f.metadata), f.name
        assert f.metadata["min"] <= f.default <= f.metadata["max"] if "min" in f.metadata else True


@pytest.mark.parametrize(
    ("key", "bad"),
    [("threshold_L", 0.0), ("noise_k", 50.0), ("calibration", "guess"), ("hysteresis", float("nan"))],
)
def test_invalid_settings_are_refused_naming_the_key(key: str, bad: object) -> None:
    with pytest.raises(ValueError, match=key):
        ChangeSettings(**{key: bad})


def test_settings_from_stored_strings_round_trip() -> None:
    s = ChangeSettings.from_mapping(
        {"threshold_L": "2.5", "analysis_side": "1200", "calibration": "Model", "x": 1}
    )
    assert s.threshold_L == 2.5 and s.analysis_side == 1200 and s.calibration == "model"
    assert ChangeSettings.from_mapping(s.to_mapping()) == s
    assert set(s.to_mapping()) == {f.name for f in dataclasses.fields(ChangeSettings)}
    with pytest.raises(ValueError, match="analysis_side"):
        ChangeSettings.from_mapping({"analysis_side": "12.5"})


def test_changed_attribute_is_checked_by_validate() -> None:
    s = ChangeSettings()
    s.min_area_fraction = 2.0
    with pytest.raises(ValueError, match="min_area_fraction"):
        s.validate()


# --------------------------------------------------------------------------- prepare


def test_analysis_geometry_reduces_the_longest_side_only() -> None:
    frame = prepare_frame(
        np.zeros((300, 600, 3), np.float32), np.zeros((300, 600, 3), np.float32), None, None, None, None, 0.1
    )
    geo = analysis_geometry(frame, ChangeSettings(analysis_side=300))
    assert (geo.w, geo.h) == (300, 150) and geo.area_scale == pytest.approx(4.0)
    assert analysis_geometry(frame, ChangeSettings(analysis_side=0)).w == 600
    assert geo.mm_per_px == 0.1


def test_prepare_frame_refuses_different_shapes() -> None:
    with pytest.raises(ValueError, match="same"):
        prepare_frame(np.zeros((10, 10, 3)), np.zeros((10, 12, 3)), None, None, None, None, None)


def test_prepare_pair_erodes_the_overlap_rim() -> None:
    img = np.full((H, W, 3), 0.5, np.float32)
    valid = np.zeros((H, W), bool)
    valid[20:100, 20:140] = True
    frame = prepare_frame(img, img, valid, None, None, None, None)
    pair = prepare_pair(frame, analysis_geometry(frame, ChangeSettings()), ChangeSettings())
    assert pair.valid[60, 80] and not pair.valid[20, 80] and not pair.valid[60, 21]
    assert pair.ref[60, 80, 0] == pytest.approx(0.214, abs=0.002)  # linear light of sRGB 0.5


def test_find_unreliable_marks_clipped_pixels_per_photo() -> None:
    pair = flat_pair(0.3)
    pair.later[10:20, 10:20, 0] = 1.0
    notes: list[str] = []
    u = find_unreliable(pair, Geometry(W, H, 1.0, 1.0, None), notes)
    assert u.later_clipped[15, 15] and not u.ref_clipped.any()
    assert u.excluded[15, 15] and u.excluded[9, 9] and not u.excluded[40, 40]  # dilated by 2 px


# --------------------------------------------------------------------------- calibration


def test_choose_method_strongest_first_and_notes_when_asked_for_the_impossible() -> None:
    pair = flat_pair()
    notes: list[str] = []
    assert choose_method(pair, None, ChangeSettings(), notes) == "model" and notes == []
    assert choose_method(pair, None, ChangeSettings(calibration="card"), notes) == "model"
    assert "card calibration requested" in notes[0]
    pair.control = disc(10)
    assert choose_method(pair, None, ChangeSettings(), []) == "control"
    half = CardCalibration(None, None)
    notes = []
    assert (
        choose_method(pair, half, ChangeSettings(), notes) == "control" and "not used for colour" in notes[0]
    )


def test_control_gains_match_the_control_patch_and_keep_a_uniform_darkening() -> None:
    pair = flat_pair(0.3)
    pair.later *= np.array([0.8, 0.9, 1.1], np.float32)
    pair.control = disc(12, (30, 30))
    pair.later[~pair.control] *= 0.8  # everything but the control darkens
    _, outside = fit_masks(pair, nothing_unreliable())
    norm = by_control(pair, nothing_unreliable(), outside, 0, [])
    assert norm.later[30, 30] == pytest.approx(pair.ref[30, 30], rel=1e-4)
    assert norm.later[100, 140] == pytest.approx(0.8 * pair.ref[100, 140], rel=1e-3)
    assert norm.normaliser()(pair.later)[30, 30] == pytest.approx(pair.ref[30, 30], rel=1e-4)


def test_shape_only_zeroes_the_field_at_the_anchor() -> None:
    coef = np.zeros((3, 6))
    coef[:, 0] = 0.3
    coef[:, 1] = 0.1
    m = shape_only(IlluminationModel(coef, 2, (H, W), 1.0, 0.0), disc(8, (80, 60)))
    assert np.abs(m.log_gain((H, W))[disc(8, (80, 60))].mean(axis=0)).max() < 1e-6


# --------------------------------------------------------------------------- maps and noise


def test_delta_maps_are_nan_outside_the_compared_pixels() -> None:
    pair = flat_pair(0.3)
    pair.roi = disc(40)
    u = nothing_unreliable()
    u.excluded[60, 80] = True
    compared = compared_pixels(pair, u)
    later = pair.later * 0.9
    maps = delta_maps(Normalised("model", pair.ref, later), compared)
    assert np.isnan(maps.dL[0, 0]) and np.isnan(maps.dL[60, 80]) and maps.dL[60, 90] < -2.0
    mean_dl = mean_change(maps, maps.sample()).L
    assert mean_dl == pytest.approx(float(np.nanmean(maps.dL)), abs=1e-4)


def test_robust_noise_ignores_a_changed_minority() -> None:
    rng = np.random.default_rng(0)
    dl = np.concatenate([rng.normal(0.0, 0.5, 9000), np.full(1000, -6.0)])
    med, s = robust_noise(dl, 3.0, 3.0)
    assert abs(med) < 0.05 and s == pytest.approx(0.5, rel=0.08)


def test_threshold_rises_with_noise_and_says_so() -> None:
    rng = np.random.default_rng(1)
    notes: list[str] = []
    est = estimate_noise(rng.normal(0, 1.5, 20000), ChangeSettings(), notes)
    assert est.threshold == pytest.approx(4.5, rel=0.08) and "raised" in notes[0]
    quiet = estimate_noise(rng.normal(0, 0.3, 20000), ChangeSettings(), [])
    assert quiet.threshold == 3.0


# --------------------------------------------------------------------------- detection and patches


def test_min_area_by_scale_or_fraction() -> None:
    s = ChangeSettings()
    assert min_area_px(s, Geometry(W, H, 1.0, 1.0, None), 100_000) == pytest.approx(50.0)
    assert min_area_px(s, Geometry(W, H, 0.5, 0.5, 0.1), 100_000) == pytest.approx(50.0)  # 2 mm² at 0.2 mm
    assert min_area_px(s, Geometry(W, H, 1.0, 1.0, None), 10) == 4.0


def test_candidate_mask_drops_isolated_pixels() -> None:
    dl = np.zeros((H, W), np.float32)
    dl[5, 5] = -9.0
    dl[disc(10)] = -5.0
    m = candidate_mask(dl, np.ones((H, W), bool), 2.0)
    assert m[5, 5] == 0 and m[60, 80] == 1


def test_find_regions_needs_a_core_and_keeps_the_patch_edge() -> None:
    dl = np.zeros((H, W), np.float32)
    d = disc(20)
    dl[d] = -5.0
    dl[5:15, 5:40] = -2.0  # above the hysteresis level but without core
    noise = NoiseEstimate(0.0, 0.3, 3.0)
    regions = find_regions(dl, np.ones((H, W), bool), noise, ChangeSettings(), 20.0)
    assert len(regions) == 1
    found = np.zeros((H, W), bool)
    found[regions[0].win] = regions[0].sel
    assert (found & d).sum() / (found | d).sum() > 0.95


def test_kind_and_split_by_kind() -> None:
    assert (kind_of(-2.0), kind_of(2.0), kind_of(0.5)) == ("grey-blue", "brown", "neutral")
    sel = np.zeros((H, W), bool)
    sel[40:80, 40:120] = True
    db = np.zeros((H, W), np.float32)
    db[:, :80] = -3.0
    db[:, 80:] = 3.0
    parts = split_by_kind(sel, db, 20.0)
    assert len(parts) == 2 and all(p.sum() == 1600 for p in parts)
    assert len(split_by_kind(sel, np.full((H, W), 3.0, np.float32), 20.0)) == 1


def test_build_patches_reports_input_pixels() -> None:
    lab = np.zeros((H, W, 3), np.float32)
    lab[..., 0] = 60.0
    later = lab.copy()
    d = disc(20)
    later[d, 0] -= 5.0
    later[d, 2] += 3.0
    dl = later[..., 0] - lab[..., 0]
    db = later[..., 2] - lab[..., 2]
    maps = DeltaMaps(lab, later, dl, db, np.ones((H, W), bool))
    geo = Geometry(W, H, 0.5, 0.5, None)  # the input was twice the analysis size
    patches, mask = build_patches([Region((slice(0, H), slice(0, W)), d)], maps, geo, 10.0)
    assert len(patches) == 1 and patches[0].kind == "brown"
    assert patches[0].area_px == pytest.approx(4 * d.sum())
    assert patches[0].centroid == pytest.approx((160.5, 120.5), abs=0.6)
    assert patches[0].mean_delta_L == pytest.approx(-5.0) and mask[60, 80] == 255
