"""core.change on simple synthetic, already-aligned pairs (textured skin, Lab darkening, lighting)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.change import (
    CardCalibration,
    ChangeResult,
    ChangeSettings,
    compare_aligned,
    diverging_colours,
    heatmap_image,
)
from skintrack.core.colour import ColourCorrection
from skintrack.core.compare_json import COMPARE_KEYS, PATCH_KEYS

H, W = 300, 400
DESIGN_KEYS = COMPARE_KEYS - {"alignment"}  # ChangeResult.to_json: the pipeline adds the alignment


def skin_lab(shape: tuple[int, int] = (H, W), seed: int = 0) -> np.ndarray:
    """Textured skin in CIELAB: mottling and fine grain around L* 62, a* 11, b* 17."""
    rng = np.random.default_rng(seed)
    h, w = shape
    lab = np.empty((h, w, 3), np.float32)
    for c, (mean, amp) in enumerate(((62.0, 2.5), (11.0, 1.5), (17.0, 1.5))):
        coarse = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 12)
        fine = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.5)
        lab[..., c] = mean + amp * coarse / coarse.std() + 0.5 * amp * fine / fine.std()
    return lab


def disc(shape: tuple[int, int] = (H, W), centre: tuple[int, int] = (250, 140), r: int = 45) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= r * r


def lighting(
    shape: tuple[int, int] = (H, W), gain: float = 0.85, wb=(1.05, 1.0, 0.93), grad=0.15
) -> np.ndarray:
    h, w = shape
    x = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
    y = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None]
    g = gain * (1.0 + grad * x - 0.6 * grad * y)
    return g[..., None] * np.asarray(wb, np.float32)


def photo(lab: np.ndarray, light: np.ndarray | None = None, seed: int = 1, noise: float = 1.0) -> np.ndarray:
    """Lab reflectance -> float32 sRGB 0..1 under ``light`` with 8-bit-like sensor noise."""
    lin = colour.lab_to_linear(lab)
    if light is not None:
        lin = lin * light
    srgb = colour.linear_to_srgb(np.clip(lin, 0, 1))
    rng = np.random.default_rng(seed)
    srgb = srgb + rng.normal(0, noise / 255.0, srgb.shape)
    return np.clip(np.round(srgb * 255) / 255, 0, 1).astype(np.float32)


def darkened(lab: np.ndarray, mask: np.ndarray, dL: float, db: float) -> np.ndarray:
    out = lab.copy()
    out[..., 0] += dL * mask
    out[..., 2] += db * mask
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


ONES = np.ones((H, W), bool)


@pytest.mark.parametrize(("kind", "db"), [("grey-blue", -3.0), ("brown", 3.0)])
def test_local_darkening_found_under_a_lighting_change(kind: str, db: float) -> None:
    lab = skin_lab()
    d = disc()
    ref = photo(lab, seed=1)
    later = photo(darkened(lab, d, -5.0, db), lighting(), seed=2)
    r = compare_aligned(ref, later, ONES)
    assert r.calibration == "model"
    assert r.mask.shape == (H, W) and r.mask.dtype == np.uint8
    assert iou(r.mask > 0, d) > 0.85
    assert len(r.patches) == 1
    p = r.patches[0]
    assert p.kind == kind
    assert p.mean_delta_L == pytest.approx(-5.0, abs=0.8)
    assert p.mean_delta_b == pytest.approx(db, abs=0.8)
    assert p.min_delta_L <= p.mean_delta_L
    assert abs(p.centroid[0] - 250) < 3 and abs(p.centroid[1] - 140) < 3
    x, y, w, h = p.bbox
    assert abs(x - 205) <= 3 and abs(y - 95) <= 3 and abs(w - 91) <= 5 and abs(h - 91) <= 5
    assert p.area_px == pytest.approx(d.sum(), rel=0.12)
    assert r.darkened_fraction == pytest.approx(d.sum() / (H * W), rel=0.15)
    assert r.noise_delta_L is not None and r.noise_delta_L < 1.0
    # the darkening is measured, not absorbed by the illumination model
    assert np.nanmean(r.delta_L[d]) == pytest.approx(-5.0, abs=0.8)
    assert abs(np.nanmedian(r.delta_L[~d])) < 0.3


def test_neutral_kind_when_b_does_not_move() -> None:
    lab = skin_lab(seed=3)
    d = disc()
    r = compare_aligned(photo(lab), photo(darkened(lab, d, -6.0, 0.0), seed=5), ONES)
    assert [p.kind for p in r.patches] == ["neutral"]


def test_lighting_only_flags_nothing() -> None:
    lab = skin_lab(seed=4)
    for light in (lighting(), lighting(gain=1.2, wb=(0.9, 1.0, 1.1), grad=0.3)):
        r = compare_aligned(photo(lab, seed=1), photo(lab, light, seed=2), ONES)
        assert r.patches == [] and not r.mask.any()
        assert abs(r.mean_delta_L) < 0.2


def test_uncalibrated_lighting_change_is_visible_with_none() -> None:
    lab = skin_lab(seed=4)
    s = ChangeSettings(calibration="none")
    r = compare_aligned(photo(lab), photo(lab, lighting(gain=0.7), seed=2), ONES, settings=s)
    assert r.calibration == "none" and r.mean_delta_L < -5
    assert any("none" in n for n in r.notes)


def test_uniform_darkening_model_says_not_measurable() -> None:
    lab = skin_lab(seed=5)
    ref = photo(lab)
    later = photo(darkened(lab, ONES, -5.0, -3.0), lighting(grad=0.0, gain=1.0, wb=(1, 1, 1)), seed=2)
    r = compare_aligned(ref, later, ONES)
    assert r.calibration == "model"
    assert r.uniform_change_measurable is False
    assert abs(r.mean_delta_L) < 0.5  # ~0 by construction: the field's constant absorbed it
    j = r.to_json()
    assert j["uniform_change_measurable"] is False
    assert any("NOT measurable" in n for n in j["notes"])


def test_uniform_darkening_measured_against_a_control_patch() -> None:
    lab = skin_lab(seed=6)
    ctrl = np.zeros((H, W), bool)
    ctrl[20:80, 20:100] = True  # unaffected skin
    later_lab = darkened(lab, ~ctrl, -5.0, -3.0)  # everything else darkens uniformly
    r = compare_aligned(photo(lab), photo(later_lab, lighting(), seed=2), ONES, control=ctrl)
    assert r.calibration == "control" and r.uniform_change_measurable
    assert r.mean_delta_L == pytest.approx(-5.0, abs=0.7)
    assert r.mean_delta_b == pytest.approx(-3.0, abs=0.7)
    assert not r.compared_mask[ctrl].any() and not r.mask[ctrl].any()
    assert np.isnan(r.delta_L[ctrl]).all()
    assert r.control is not None and abs(r.control["mean_delta_L"]) < 0.3
    assert r.darkened_fraction > 0.9 and r.patches and r.patches[0].kind == "grey-blue"


def test_uniform_darkening_measured_with_a_card() -> None:
    lab = skin_lab(seed=7)
    light = np.asarray([0.8, 0.75, 0.7], np.float32)  # dimmer, warmer light in the later photo
    later = photo(darkened(lab, ONES, -4.0, 2.5), np.broadcast_to(light, (H, W, 3)), seed=2)
    # the card's patches as each camera saw them -> colour corrections to the same standard
    rng = np.random.default_rng(0)
    target = rng.uniform(0.05, 0.9, (10, 3))
    ref_cc = colour.fit_colour_correction(target, target)
    later_cc = colour.fit_colour_correction(target * light, target)
    card_mask = np.zeros((H, W), bool)
    card_mask[250:, 300:] = True
    for card in (CardCalibration(ref_cc, later_cc, card_mask, 0.1), (ref_cc, later_cc, card_mask)):
        r = compare_aligned(photo(lab), later, ONES, card=card)
        assert r.calibration == "card" and r.uniform_change_measurable
        assert r.mean_delta_L == pytest.approx(-4.0, abs=0.6)
        assert r.mean_delta_b == pytest.approx(2.5, abs=0.6)
        assert not r.mask[card_mask].any()
        assert r.card is not None
    assert r.darkened_area_mm2 is None  # the tuple form carries no scale
    r = compare_aligned(photo(lab), later, ONES, card=CardCalibration(ref_cc, later_cc, card_mask, 0.1))
    assert r.darkened_area_mm2 == pytest.approx(r.darkened_area_px * 0.01)


def test_card_without_later_correction_falls_back_with_a_note() -> None:
    lab = skin_lab(seed=7)
    cc = ColourCorrection(np.eye(3), 0.0, 0.0)
    r = compare_aligned(photo(lab), photo(lab, seed=2), ONES, card=CardCalibration(cc, None))
    assert r.calibration == "model"
    assert any("card" in n for n in r.notes)


def test_roi_limits_the_compared_area_and_mask() -> None:
    lab = skin_lab(seed=8)
    d = disc(centre=(250, 140)) | disc(centre=(90, 220), r=30)
    roi = np.zeros((H, W), bool)
    roi[60:240, 170:390] = True
    r = compare_aligned(photo(lab), photo(darkened(lab, d, -6.0, -2.0), seed=2), ONES, roi=roi)
    assert not r.mask[~roi].any()
    assert np.isnan(r.delta_L[~roi]).all() and np.isnan(r.delta_b[~roi]).all()
    assert len(r.patches) == 1
    assert r.compared_mask.sum() <= roi.sum()


def test_valid_mask_and_nan_outside_the_overlap() -> None:
    lab = skin_lab(seed=9)
    valid = np.zeros((H, W), bool)
    valid[:, :300] = True
    later = photo(lab, seed=2)
    later[:, 300:] = 0.0  # outside the warp: black
    r = compare_aligned(photo(lab), later, valid)
    assert not r.mask.any()
    assert np.isnan(r.delta_L[:, 300:]).all()
    assert r.patches == []


def test_min_area_drops_small_spots_and_mm_scale() -> None:
    lab = skin_lab(seed=10)
    small = disc(centre=(100, 100), r=3)  # 29 px < 0.05 % of 120000 px? no: 60 px is the limit
    big = disc(centre=(280, 180), r=25)
    later = photo(darkened(lab, small | big, -8.0, -3.0), seed=2)
    r = compare_aligned(photo(lab), later, ONES)
    assert len(r.patches) == 1 and abs(r.patches[0].centroid[0] - 280) < 3
    # with a scale of 0.2 mm/px the minimum is 2 mm² = 50 px: the big patch (1963 px) stays
    r2 = compare_aligned(photo(lab), later, ONES, mm_per_px=0.2)
    assert r2.patches[0].area_mm2 == pytest.approx(r2.patches[0].area_px * 0.04)
    assert r2.min_area_px == pytest.approx(50.0)
    r3 = compare_aligned(photo(lab), later, ONES, mm_per_px=0.02)  # 5000 px minimum: nothing
    assert r3.patches == []


def test_threshold_rises_with_noise() -> None:
    lab = skin_lab(seed=11)
    r = compare_aligned(photo(lab, noise=12.0), photo(lab, seed=2, noise=12.0), ONES)
    assert r.noise_delta_L > 1.0
    assert r.threshold_applied_L == pytest.approx(3.0 * r.noise_delta_L, rel=1e-6)
    assert r.darkened_fraction < 0.005
    assert any("noise" in n for n in r.notes)


def test_analysis_resolution_reports_input_pixels() -> None:
    big = (900, 1200)
    lab = skin_lab(big, seed=12)
    d = disc(big, centre=(750, 420), r=135)
    ref = photo(lab)
    later = photo(darkened(lab, d, -5.0, -3.0), lighting(big), seed=2)
    r = compare_aligned(ref, later, np.ones(big, bool), settings=ChangeSettings(analysis_side=400))
    assert r.analysis_scale == pytest.approx(1 / 3, rel=0.01)
    assert r.mask.shape == big and r.delta_L.shape == big
    assert iou(r.mask > 0, d) > 0.85
    p = r.patches[0]
    assert p.area_px == pytest.approx(d.sum(), rel=0.1)
    assert abs(p.centroid[0] - 750) < 4 and abs(p.centroid[1] - 420) < 4
    xs = [c[0] for c in p.contour]
    assert min(xs) == pytest.approx(615, abs=6) and max(xs) == pytest.approx(885, abs=6)


def test_json_contract() -> None:
    lab = skin_lab(seed=13)
    d = disc()
    r = compare_aligned(photo(lab), photo(darkened(lab, d, -5.0, -3.0), seed=2), ONES)
    j = r.to_json()
    assert set(j) >= DESIGN_KEYS
    assert "alignment" not in j  # added by the service
    for extra in (
        "notes",
        "uniform_change_measurable",
        "mean_delta_a",
        "ref_ita_class",
        "later_ita_class",
        "thresholds",
    ):
        assert extra in j
    assert set(j["patches"][0]) >= PATCH_KEYS
    assert j["patches"][0]["kind"] == "grey-blue"
    assert len(j["patches"][0]["bbox"]) == 4 and len(j["patches"][0]["centroid"]) == 2
    assert j["darkened_area_mm2"] is None and j["patches"][0]["area_mm2"] is None
    assert j["ref_ita_class"] in ("very light", "light", "intermediate", "tan", "brown", "dark")
    text = json.dumps(j, allow_nan=False)  # strict JSON: no NaN anywhere
    assert json.loads(text)["calibration"] == "model"


def test_lazy_maps_and_normalised_later() -> None:
    lab = skin_lab(seed=14)
    d = disc()
    ref = photo(lab)
    r = compare_aligned(ref, photo(darkened(lab, d, -5.0, -3.0), lighting(), seed=2), ONES)
    assert isinstance(r, ChangeResult)
    for m in (r.delta_a, r.delta_ita, r.delta_e2000):
        assert m is not None and m.shape == (H, W) and m.dtype == np.float32
    assert np.nanmean(r.delta_e2000[d]) > 4
    norm = r.later_normalised
    assert norm is not None and norm.shape == ref.shape
    # lighting removed outside the patch: close to the reference there
    assert np.abs(norm[~d] - ref[~d]).mean() < 0.01


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError):
        compare_aligned(np.zeros((10, 10, 3), np.float32), np.zeros((10, 12, 3), np.float32), None)


def test_heatmap_image() -> None:
    lab = skin_lab(seed=15)
    d = disc()
    ref = photo(lab)
    r = compare_aligned(ref, photo(darkened(lab, d, -8.0, -3.0), seed=2), ONES)
    img = heatmap_image(r)
    assert img.shape == (H, W, 3) and img.dtype == np.uint8
    cy, cx = 140, 250
    centre = img[cy - 5 : cy + 5, cx - 5 : cx + 5].reshape(-1, 3).astype(int).mean(axis=0)
    assert min(centre[0], centre[2]) > centre[1] + 40  # darker = violet (red and blue over green)
    far = img[40:60, 200:220].reshape(-1, 3).astype(int)
    assert np.abs(far[:, 0] - far[:, 2]).mean() < 12  # unchanged skin stays grey
    bigger = heatmap_image(r, base_rgb=(cv2.resize(ref, (800, 600)) * 255).astype(np.uint8), legend=False)
    assert bigger.shape == (600, 800, 3)
    # the legend changes the bottom-left corner only
    plain = heatmap_image(r, legend=False)
    assert (img[-60:, :200] != plain[-60:, :200]).any() and (img[:100] == plain[:100]).all()


def test_diverging_colours() -> None:
    c = diverging_colours(np.array([-10.0, 0.0, 10.0, -50.0, np.nan]))
    assert min(c[0][0], c[0][2]) > c[0][1] + 40  # darker: violet
    assert min(c[2][1], c[2][2]) > c[2][0] + 40  # lighter: teal
    assert np.allclose(c[1], c[4]) and np.allclose(c[0], c[3])
    assert np.ptp(c[1]) < 1  # white at 0


def test_large_central_patch_does_not_bend_the_illumination_model() -> None:
    """A quarter of the frame darkening in the middle: a quadratic field could absorb it if fitted naively."""
    lab = skin_lab(seed=16)
    d = disc(centre=(200, 150), r=110)  # ~32 % of the frame
    r = compare_aligned(photo(lab), photo(darkened(lab, d, -5.0, -3.0), lighting(grad=0.3), seed=2), ONES)
    assert iou(r.mask > 0, d) > 0.85
    assert abs(np.nanmedian(r.delta_L[~d])) < 0.3
    assert r.noise_delta_L < 1.0


def test_reference_card_detection_is_completed_in_the_later_photo() -> None:
    """The service passes the reference's CardDetection: the card is found again in the warped later photo."""
    from skintrack.core import card

    h, w = 600, 800
    src = card.render_card_rgb(320 / card.CARD_SIZE_MM[0] * 25.4)
    sh, sw = src.shape[:2]
    card_lin = colour.srgb_to_linear(src.astype(np.float32) / 255.0)
    x0, y0 = w - sw - 20, h - sh - 20

    def shoot(lab: np.ndarray, light: tuple[float, float, float], seed: int) -> np.ndarray:
        lin = colour.lab_to_linear(lab).astype(np.float32)
        lin[y0 : y0 + sh, x0 : x0 + sw] = card_lin
        lin = lin * np.asarray(light, np.float32)
        noise = np.random.default_rng(seed).normal(0, 1 / 255, lin.shape)
        return np.clip(np.round((colour.linear_to_srgb(np.clip(lin, 0, 1)) + noise) * 255) / 255, 0, 1)

    lab = skin_lab((h, w), seed=3)
    ref = shoot(lab, (0.9, 0.9, 0.9), 1).astype(np.float32)
    later = shoot(darkened(lab, np.ones((h, w), bool), -4.0, -2.5), (0.75, 0.72, 0.62), 2).astype(np.float32)
    det = card.detect_card((ref * 255).astype(np.uint8))
    assert det is not None and det.colour_correction is not None
    r = compare_aligned(ref, later, np.ones((h, w), bool), card=det)
    assert r.calibration == "card" and r.uniform_change_measurable
    assert r.mean_delta_L == pytest.approx(-4.0, abs=0.6)
    assert r.mean_delta_b < -1.5
    assert r.darkened_area_mm2 == pytest.approx(r.darkened_area_px * det.mm_per_px**2, rel=1e-6)
    assert not r.mask[y0 : y0 + sh, x0 : x0 + sw].any()


def test_touching_grey_blue_and_brown_patches_are_reported_separately() -> None:
    lab = skin_lab(seed=17)
    gb = disc(centre=(170, 150), r=45)
    br = disc(centre=(250, 150), r=45) & ~gb
    later = darkened(darkened(lab, gb, -5.0, -3.0), br, -6.0, 4.0)
    r = compare_aligned(photo(lab), photo(later, seed=2), ONES)
    kinds = sorted(p.kind for p in r.patches)
    assert kinds == ["brown", "grey-blue"]
    by_kind = {p.kind: p for p in r.patches}
    assert by_kind["grey-blue"].centroid[0] < 185 and by_kind["brown"].centroid[0] > 235
    assert by_kind["brown"].mean_delta_b > 2 and by_kind["grey-blue"].mean_delta_b < -2
    assert iou(r.mask > 0, gb | br) > 0.85


def test_later_normalised_with_a_card_is_in_the_reference_colours() -> None:
    lab = skin_lab(seed=18)
    rng = np.random.default_rng(1)
    target = rng.uniform(0.05, 0.9, (10, 3))
    ref_light, later_light = np.array([0.9, 0.85, 0.8]), np.array([0.7, 0.72, 0.8])
    ref_cc = colour.fit_colour_correction(target * ref_light, target)
    later_cc = colour.fit_colour_correction(target * later_light, target)
    ref = photo(lab, np.broadcast_to(ref_light.astype(np.float32), (H, W, 3)), seed=1)
    later = photo(lab, np.broadcast_to(later_light.astype(np.float32), (H, W, 3)), seed=2)
    r = compare_aligned(ref, later, ONES, card=CardCalibration(ref_cc, later_cc))
    assert r.calibration == "card" and abs(r.mean_delta_L) < 0.3
    assert np.abs(r.later_normalised - ref).mean() < 0.01
