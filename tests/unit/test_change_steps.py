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
from skintrack.core.illumination import IlluminationModel

H, W = 120, 160


def flat_pair(value: float = 0.3) -> Pair:
    ref = np.full((H, W, 3), value, np.float32)
    return Pair(ref, ref.copy(), np.ones((H, W), bool), None, None, None)


def nothing_unreliable() -> Unreliable:
    z = np.zeros((H, W), bool)
    return Unreliable(np.zeros((H, W, 3), bool), np.zeros((H, W, 3), bool), z, z.copy())


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
    assert u.later_clipped[15, 15, 0] and not u.later_clipped[15, 15, 1] and not u.ref_clipped.any()
    assert u.later_clipped[9, 9, 0] and not u.later_clipped[40, 40, 0]  # dilated by 2 px
    assert u.partial[15, 15] and not u.excluded[15, 15]  # green and blue still measure it


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
    u.specular[60, 80] = True
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


# --------------------------------------------------------------------------- clipping as censored data


def test_partly_clipped_pixels_take_lightness_from_the_other_channels() -> None:
    from skintrack.core.change.maps import lightness_from_channels

    lin = np.array([[[0.9, 0.4, 0.3]]], np.float32)
    darker = lin * 0.8
    use = np.array([[[False, True, True]]])
    d = lightness_from_channels(darker, use) - lightness_from_channels(lin, use)
    full = lightness_from_channels(darker, np.ones_like(use)) - lightness_from_channels(
        lin, np.ones_like(use)
    )
    assert d[0, 0] < -5.0 and abs(d[0, 0] - full[0, 0]) < 1.5


def test_clipped_only_in_the_earlier_photo_is_censored_not_dropped() -> None:
    from skintrack.core.change.maps import censored_pixels

    z = np.zeros((H, W, 3), bool)
    ref_clip = z.copy()
    ref_clip[:60] = True  # every channel of the top half clipped in the earlier photo
    later_clip = z.copy()
    later_clip[60:, :, 0] = True  # red clipped in the later photo on the bottom half
    u = Unreliable(ref_clip, later_clip, z[..., 0], z[..., 0])
    pair = flat_pair()
    assert censored_pixels(pair, u)[10, 10] and not censored_pixels(pair, u)[100, 10]
    assert u.partial[100, 10] and not u.excluded[100, 10]
    assert u.excluded[10, 10]  # nothing measured in both photos: only a bound on darkening remains


def test_coverage_reports_causes_and_warns_under_half() -> None:
    from skintrack.core.change.coverage import coverage

    z = np.zeros((H, W, 3), bool)
    ref_clip = z.copy()
    ref_clip[: int(0.8 * H)] = True
    u = Unreliable(ref_clip, z, z[..., 0], z[..., 0])
    pair = flat_pair()
    compared = ~u.excluded
    censored = u.earlier_only
    cov = coverage(pair, u, compared, censored, np.zeros((H, W), bool))
    assert cov.fraction == pytest.approx(0.2, abs=0.01)
    assert cov.excluded == {"clipped_earlier": pytest.approx(0.8, abs=0.01)}
    assert cov.warnings() == ["only 20 % of the area could be measured: the earlier photo is overexposed"]
    flagged = np.zeros((H, W), bool)
    flagged[:50] = True  # a proven darkening counts as measured
    assert coverage(pair, u, compared, censored, flagged).fraction == pytest.approx(0.2 + 50 / H, abs=0.01)


# --------------------------------------------------------------------------- tone mapping


def _skin_like(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([0.45, 0.28, 0.2], np.float32)
    shade = np.exp(rng.normal(0, 0.35, (H, W, 1))).astype(np.float32)
    return np.clip(base * shade * np.exp(rng.normal(0, 0.05, (H, W, 3))), 0.005, 0.9).astype(np.float32)


def _s_curve(lin: np.ndarray, strength: float, saturation: float) -> np.ndarray:
    from skintrack.core import colour

    srgb = colour.linear_to_srgb(lin)
    srgb = srgb - strength / (2 * np.pi) * np.sin(2 * np.pi * srgb)
    luma = (srgb @ np.array([0.2126, 0.7152, 0.0722]))[..., None]
    return colour.srgb_to_linear(np.clip(luma + (1 + saturation) * (srgb - luma), 0, 1)).astype(np.float32)


def test_tone_curve_and_saturation_are_removed_but_a_patch_is_not() -> None:
    from skintrack.core.change.tone import fit_tone

    ref = _skin_like()
    d = disc(25)
    later = ref.copy()
    later[d] *= 0.8  # a darkened patch
    later = _s_curve(later, 0.25, 0.15)
    usable = np.ones((H, W, 3), bool)
    tone = fit_tone(ref, later, np.ones((H, W), bool), usable)
    assert tone is not None and tone.spread_after < 0.5 * tone.spread_before
    mapped = tone.apply(later)
    ratio = mapped / ref
    assert np.median(np.abs(np.log(ratio[~d]))) < 0.01
    assert np.median(ratio[d]) == pytest.approx(0.8, abs=0.03)


def test_tone_mapping_is_not_used_when_it_does_not_help() -> None:
    from skintrack.core.change.tone import fit_tone

    ref = _skin_like(1)
    later = ref * np.exp(np.random.default_rng(2).normal(0, 0.02, ref.shape)).astype(np.float32)
    assert fit_tone(ref, later, np.ones((H, W), bool), np.ones((H, W, 3), bool)) is None


# --------------------------------------------------------------------------- size-aware detection


def test_noise_of_the_mean_falls_with_area_and_sets_the_detection_limit() -> None:
    from skintrack.core.change.scales import detection_limits, measure_scale_noise, scale_maps

    rng = np.random.default_rng(3)
    dl = rng.normal(0, 1.3, (300, 400)).astype(np.float32)
    compared = np.ones(dl.shape, bool)
    maps = scale_maps(dl, compared)
    sn = measure_scale_noise(dl, compared, maps, 1.3, 1.2, ChangeSettings())
    assert all(a < b for a, b in zip(sn.areas, sn.areas[1:], strict=False))
    assert sn.noise[-1] < 0.2 * sn.noise[0]
    assert sn.limit(10.0) == pytest.approx(3.9, rel=0.1) and sn.limit(50_000.0) == 1.5  # floor: 0.5 T
    limits = detection_limits(sn, dl.size, 1.0, None, 60.0)
    assert list(limits) == ["0.1 %", "1 %", "10 %"] and limits["10 %"] == -1.5
    cm = detection_limits(sn, dl.size, 1.0, 0.05, 60.0)  # 0.05 mm per px: 1 cm² = 40 000 px
    assert set(cm) == {"0.25 cm2", "1 cm2", "4 cm2"} and cm["4 cm2"] is None  # larger than the photo


def test_a_large_faint_patch_is_found_in_noise_that_hides_it_per_pixel() -> None:
    from skintrack.core.change.scales import find_scale_regions, measure_scale_noise, scale_maps

    rng = np.random.default_rng(4)
    dl = rng.normal(0, 1.3, (H, W)).astype(np.float32)
    d = disc(30)
    dl[d] -= 2.5  # below 3 noise per pixel, far above the noise of its mean
    compared = np.ones(dl.shape, bool)
    maps = scale_maps(dl, compared)
    sn = measure_scale_noise(dl, compared, maps, 1.3, 1.2, ChangeSettings())
    regions = find_scale_regions(dl, compared, compared, sn, maps, 20.0, np.zeros(dl.shape, bool))
    found = np.zeros(dl.shape, bool)
    for r in regions:
        found[r.win] |= r.sel
    assert (found & d).sum() / (found | d).sum() > 0.6


def test_lines_are_not_areas() -> None:
    from skintrack.core.change.scales import area_like

    lines = np.zeros((H, W), bool)
    lines[::10, :] = True
    lines[1::10, :] = True
    assert not area_like(lines, 2.0) and area_like(disc(20), 2.0)


# --------------------------------------------------------------------------- hair and curved skin


def _texture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.clip(0.3 + 0.05 * rng.standard_normal((240, 320)).astype(np.float32), 0.05, 0.9)
    import cv2

    t = cv2.GaussianBlur(t, (0, 0), 1.5)
    return np.repeat(t[..., None], 3, axis=2) * np.array([1.0, 0.7, 0.55], np.float32)


def test_thin_of_finds_hair_but_not_a_round_patch() -> None:
    import cv2

    from skintrack.core.change.thin import grown, thin_of

    img = _texture()
    yy, xx = np.mgrid[:240, :320]
    img[(xx - 80) ** 2 + (yy - 120) ** 2 < 30**2] *= 0.4  # a dark round patch
    cv2.line(img, (150, 20), (300, 220), (0.02, 0.015, 0.01), 2)  # a hair
    mask = thin_of(img, np.ones((240, 320), bool))
    assert mask[120, 225] or mask[121, 225] or mask[119, 225]
    assert not mask[120, 80]
    assert grown(mask, 1.2).sum() > mask.sum()


def test_refinement_reports_in_input_pixels_and_leaves_an_aligned_pair_alone() -> None:
    import cv2

    from skintrack.core.change.registration import refine_pair

    img = _texture(1)
    pair = Pair(img, img.copy(), np.ones((240, 320), bool), None, None, None)
    same, report = refine_pair(pair, Geometry(320, 240, 0.5, 0.5, None), None)
    assert not report["applied"] and same.later is pair.later
    xs, ys = np.meshgrid(np.arange(320, dtype=np.float32), np.arange(240, dtype=np.float32))
    bend = 2.0 * np.sin(xs / 320 * np.pi).astype(np.float32)
    bent = cv2.remap(img, xs, ys + bend, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    moved, report = refine_pair(
        Pair(img, bent, np.ones((240, 320), bool), None, None, None), Geometry(320, 240, 0.5, 0.5, None), None
    )
    assert report["applied"]
    assert report["max_px"] == pytest.approx(4.0, abs=0.3)  # 2 analysis px = 4 input px
    assert report["max_px"] >= report["p95_px"] >= report["median_px"] > 0.0
    err_before = np.abs(bent - img)[20:-20, 20:-20].mean()
    assert np.abs(moved.later - img)[20:-20, 20:-20].mean() < 0.3 * err_before


def test_a_band_around_a_dark_spot_counts_as_an_area_and_a_lone_band_does_not() -> None:
    from skintrack.core.change.compare import rims_a_spot

    lab = np.zeros((H, W, 3), np.float32)
    lab[..., 0] = 60.0
    spot = disc(15)
    lab[spot, 0] = 35.0  # a pigmented spot in the reference
    ring = disc(19) & ~spot
    maps = DeltaMaps(
        lab, lab, np.zeros((H, W), np.float32), np.zeros((H, W), np.float32), np.ones((H, W), bool)
    )
    assert rims_a_spot(Region((slice(0, H), slice(0, W)), ring), maps)
    band = np.zeros((H, W), bool)
    band[10:14, 10:150] = True  # a line elsewhere (a hair)
    assert not rims_a_spot(Region((slice(0, H), slice(0, W)), band), maps)


def test_a_closed_ring_around_a_faint_spot_grows_it_and_an_open_arc_does_not() -> None:
    from skintrack.core.change.compare import rims_a_spot

    lab = np.zeros((H, W, 3), np.float32)
    lab[..., 0] = 60.0
    spot = disc(12)
    lab[spot, 0] = 52.0  # a faint spot: 8 L* darker, under the 10 L* a rim needs
    ring = disc(18) & ~disc(13)  # a closed band a pixel off the spot's edge
    maps = DeltaMaps(
        lab, lab, np.zeros((H, W), np.float32), np.zeros((H, W), np.float32), np.ones((H, W), bool)
    )
    whole = (slice(0, H), slice(0, W))
    assert rims_a_spot(Region(whole, ring), maps)
    arc = ring.copy()
    arc[: H // 2 + 4, :] = False  # the same band, open: a crescent
    assert not rims_a_spot(Region(whole, arc), maps)
    plain = lab.copy()
    plain[spot, 0] = 60.0  # the same ring around plain skin: an annulus, judged as an area elsewhere
    flat = DeltaMaps(
        plain, plain, np.zeros((H, W), np.float32), np.zeros((H, W), np.float32), np.ones((H, W), bool)
    )
    assert not rims_a_spot(Region(whole, ring), flat)


def test_the_tone_curve_needs_the_gain_the_settings_ask_for() -> None:
    from skintrack.core.change.tone import fit_tone

    ref = _skin_like()
    later = _s_curve(ref.copy(), 0.25, 0.15)
    later *= np.exp(np.random.default_rng(3).normal(0, 0.03, later.shape)).astype(np.float32)
    usable = np.ones((H, W, 3), bool)
    everywhere = np.ones((H, W), bool)
    tone = fit_tone(ref, later, everywhere, usable, min_gain=0.12)
    assert tone is not None
    gain = 1.0 - tone.spread_after / tone.spread_before
    assert 0.12 <= gain < 0.85
    assert fit_tone(ref, later, everywhere, usable, min_gain=min(0.9, gain + 0.02)) is None


def test_every_setting_is_listed_in_the_measurement_settings_page() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "MEASUREMENT.md").read_text(encoding="utf-8")
    missing = [f.name for f in setting_fields() if f"`{f.name}`" not in page]
    assert not missing, f"docs/MEASUREMENT.md does not list {missing}"
