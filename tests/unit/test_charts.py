"""Colour charts: a ColorChecker rendered into synthetic photos under several illuminants, the real
chart photos in ../shared/data/colorchecker/, and Skintrack's own card."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.core import chart_data, charts
from skintrack.core.card import render_card_rgb
from skintrack.core.colour import delta_e2000, linear_to_lab, linear_to_srgb, srgb_to_linear
from skintrack.demo import synth
from support.charts import render_colorchecker

REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path | None:
    env = os.environ.get("SKINTRACK_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
    return next((c for c in candidates if c.is_dir()), None)


def colorchecker_dir() -> Path:
    data = shared_data()
    if data is None or not (data / "colorchecker").is_dir():
        pytest.skip("real chart photos absent: ../shared/data/colorchecker (or $SKINTRACK_SHARED_DATA)")
    return data / "colorchecker"


# --------------------------------------------------------------------------- reference data


def test_reference_values_adapted_to_d65() -> None:
    lab = chart_data.colorchecker_lab_d65()
    assert lab.shape == (24, 3)
    # neutrals stay neutral after Bradford adaptation, and the white keeps its lightness
    assert np.all(np.abs(lab[19:, 1:]) < 1.2) and lab[18, 0] == pytest.approx(95.19, abs=0.05)
    srgb = np.round(255 * np.clip(linear_to_srgb(np.clip(chart_data.colorchecker_linear(), 0, 1)), 0, 1))
    # X-Rite's own sRGB rendering of dark skin is (115, 82, 68), of light skin (194, 150, 130)
    assert np.abs(srgb[0] - [115, 82, 68]).max() <= 5 and np.abs(srgb[1] - [194, 150, 130]).max() <= 7
    white = chart_data.bradford(chart_data.ICC_D50_WHITE, np.array([0.95047, 1.0, 1.08883]))
    assert white @ chart_data.ICC_D50_WHITE == pytest.approx([0.95047, 1.0, 1.08883], abs=1e-4)


# --------------------------------------------------------------------------- synthetic charts


ILLUMINANTS = {
    "daylight": (np.eye(3), 0.85),
    "warm": (np.diag([1.25, 1.0, 0.62]), 0.7),
    "cool": (np.diag([0.82, 1.0, 1.25]), 0.75),
    "mixed": (np.array([[1.05, 0.08, 0.0], [0.03, 0.95, 0.04], [0.0, 0.1, 0.9]]), 0.8),
}


def synthetic_photo(illuminant: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Skin with a ColorChecker, both lit by the same light; returns (sRGB uint8, skin area mask)."""
    mix, gain = ILLUMINANTS[illuminant]
    skin = synth.make_skin((1400, 1000), seed=4)
    light = mix * gain
    patches = np.clip(chart_data.colorchecker_linear(), 0, 1) @ light.T
    chart = render_colorchecker(patches)
    skin_lin = np.clip(skin[:900, :1300] @ light.T, 0, 1)
    photo = skin_lin.copy()
    ch, cw = chart.shape[:2]
    photo[60 : 60 + ch, 700 : 700 + cw] = chart
    photo = cv2.GaussianBlur(photo, (0, 0), 0.8)
    rng = np.random.default_rng(seed)
    srgb = linear_to_srgb(np.clip(photo, 0, 1)) * 255 + rng.normal(0, 1.0, photo.shape)
    mask = np.zeros(photo.shape[:2], bool)
    mask[500:850, 100:600] = True
    return np.clip(np.round(srgb), 0, 255).astype(np.uint8), mask


@pytest.mark.parametrize("illuminant", list(ILLUMINANTS))
def test_synthetic_colorchecker_found_and_corrected(illuminant: str) -> None:
    photo, _ = synthetic_photo(illuminant)
    det = charts.detect_chart(photo)
    assert det is not None and det.kind == "colorchecker-classic"
    assert det.patches_found >= 20
    assert det.residual_delta_e2000 is not None and det.residual_delta_e2000 < 1.5
    assert det.mm_scale_approximate and det.mm_per_px == pytest.approx(
        chart_data.NOMINAL_PATCH_PITCH_MM["colorchecker-classic"] / 88.0, rel=0.03
    )
    assert det.mask is not None and det.mask[200, 1000] == 255 and det.mask[700, 300] == 0
    # chart-plane mm -> image: one pitch along the top row is 88 px (80 px patch + 8 px gap)
    pitch = chart_data.NOMINAL_PATCH_PITCH_MM["colorchecker-classic"]
    pts = cv2.perspectiveTransform(np.array([[[0.0, 0.0]], [[pitch, 0.0]]]), det.homography).reshape(-1, 2)
    assert float(np.linalg.norm(pts[1] - pts[0])) == pytest.approx(88.0, rel=0.04)


def test_synthetic_skin_agrees_across_illuminants() -> None:
    """The same skin under four lights reads the same colour after each photo's chart correction."""
    labs = []
    for illuminant in ILLUMINANTS:
        photo, mask = synthetic_photo(illuminant)
        det = charts.detect_chart(photo)
        assert det is not None and det.colour_correction is not None
        lin = np.asarray(srgb_to_linear(photo[mask].astype(np.float64) / 255.0))
        corrected = det.colour_correction.apply(lin)
        labs.append(linear_to_lab(np.median(corrected, axis=0)))
    uncorrected = [
        linear_to_lab(np.median(srgb_to_linear(synthetic_photo(i)[0][mask] / 255.0), axis=0))
        for i in ILLUMINANTS
    ]
    spread = max(float(delta_e2000(a, b)) for a in labs for b in labs)
    raw_spread = max(float(delta_e2000(a, b)) for a in uncorrected for b in uncorrected)
    assert spread < 1.5 < raw_spread


def test_upside_down_chart_reads_in_the_right_order() -> None:
    photo, _ = synthetic_photo("warm")
    det = charts.detect_chart(np.ascontiguousarray(photo[::-1, ::-1]))
    assert det is not None and det.residual_delta_e2000 < 1.5


def test_no_chart_in_plain_skin() -> None:
    skin = synth.photograph(synth.make_skin((900, 700), seed=2), synth.Pose(), (800, 600), seed=1)[0]
    assert charts.detect_chart(skin) is None


# --------------------------------------------------------------------------- real photos


REAL = ["classic_daylight_fabric.jpg", "classic_warm_fabric.jpg", "passport_box.jpg"]


@pytest.fixture(scope="module")
def real_detections() -> dict[str, tuple[np.ndarray, charts.ChartDetection | None]]:
    from skintrack.core.images import decode

    folder = colorchecker_dir()
    out = {}
    for name in REAL:
        rgb = decode(folder / name).rgb
        out[name] = (rgb, charts.detect_chart(rgb))
    return out


@pytest.mark.parametrize("name", REAL)
def test_real_chart_found_with_small_residual(real_detections: dict, name: str) -> None:
    _rgb, det = real_detections[name]
    assert det is not None, f"no chart found in {name}"
    expected = "colorchecker-passport" if name.startswith("passport") else "colorchecker-classic"
    assert det.kind == expected
    assert det.patches_found >= 18 and det.residual_delta_e2000 < 3.0
    assert det.mm_per_px is not None and det.mm_per_px > 0


def test_real_classic_photos_agree_after_correction(real_detections: dict) -> None:
    """The same chart under daylight and under warm light: corrected patches agree to ΔE2000 < 2."""
    corrected = []
    for name in ("classic_daylight_fabric.jpg", "classic_warm_fabric.jpg"):
        det = real_detections[name][1]
        assert det is not None and det.colour_correction is not None
        corrected.append(linear_to_lab(np.clip(det.colour_correction.apply(det.patch_linear), 0, None)))
    de = np.asarray(delta_e2000(corrected[0], corrected[1]))
    both = ~np.isnan(de)
    assert both.sum() >= 18 and float(np.mean(de[both])) < 2.0
    raw = [
        linear_to_lab(real_detections[n][1].patch_linear)
        for n in ("classic_daylight_fabric.jpg", "classic_warm_fabric.jpg")
    ]
    assert float(np.nanmean(delta_e2000(raw[0], raw[1]))) > 2.0  # the lights really differ


# --------------------------------------------------------------------------- Skintrack card


def card_photo(light: np.ndarray, printer: np.ndarray) -> np.ndarray:
    """Skin with the card taped beside it; ``printer`` distorts the card's printed colours."""
    card = srgb_to_linear(render_card_rgb(dpi=200, supersample=2) / 255.0)
    card = np.clip(card @ printer.T, 0, 1)
    skin = synth.make_skin((1400, 1000), seed=4)[:900, :1300]
    photo = skin.copy()
    photo[40 : 40 + card.shape[0], 600 : 600 + card.shape[1]] = card
    photo = np.clip(photo @ light.T, 0, 1)
    return np.clip(np.round(linear_to_srgb(photo) * 255), 0, 255).astype(np.uint8)


def test_card_detected_with_scale() -> None:
    det = charts.detect_chart(card_photo(np.eye(3) * 0.8, np.eye(3)))
    assert det is not None and det.kind == "skintrack-card" and not det.mm_scale_approximate
    assert det.mm_per_px == pytest.approx(25.4 / 200, rel=0.02)
    assert det.to_json()["chart"] == "skintrack-card" and det.patches_found >= 8


def test_card_relative_to_reference_cancels_the_printer() -> None:
    """A badly printed card: fitted to its stated colours the error stays; fitted to the reference
    photo's card it cancels, and the correction recovers the change of light."""
    printer = np.array([[0.92, 0.05, 0.0], [0.0, 0.85, 0.06], [0.02, 0.0, 0.8]])
    ref_light = np.eye(3) * 0.8
    new_light = np.diag([0.95, 0.8, 0.6])
    ref = charts.detect_chart(card_photo(ref_light, printer))
    new = charts.detect_chart(card_photo(new_light, printer))
    assert ref is not None and new is not None
    rel = charts.relative_correction(new, ref)
    assert rel.residual_delta_e_mean < 0.5
    expected = ref_light @ np.linalg.inv(new_light)
    assert np.abs(rel.matrix - expected).max() < 0.05  # 8-bit quantisation of dark patches
    assert new.residual_delta_e2000 is not None and new.residual_delta_e2000 > rel.residual_delta_e_mean


def test_relative_correction_refuses_different_charts() -> None:
    card = charts.detect_chart(card_photo(np.eye(3) * 0.8, np.eye(3)))
    checker = charts.detect_chart(synthetic_photo("daylight")[0])
    assert card is not None and checker is not None
    with pytest.raises(ValueError, match="reference"):
        charts.relative_correction(card, checker)


@pytest.mark.parametrize("name", REAL)
def test_chart_name_on_real_photos(real_detections: dict, name: str) -> None:
    rgb, det = real_detections[name]
    assert det is not None and charts.chart_name(rgb) == det.kind


def test_chart_name_card_and_nothing() -> None:
    assert charts.chart_name(card_photo(np.eye(3) * 0.8, np.eye(3))) == "skintrack-card"
    skin = synth.photograph(synth.make_skin((900, 700), seed=2), synth.Pose(), (800, 600), seed=1)[0]
    assert charts.chart_name(skin) is None


@pytest.mark.parametrize("name", ["classic_daylight_fabric.jpg", "passport_box.jpg"])
def test_real_chart_found_at_analysis_resolution(name: str) -> None:
    """A real chart at the analysis size (1500 px long side), and shrunk to a third of the frame
    in a wide shot: the reduced-size search still finds it and corrects it to ΔE2000 < 3."""
    from skintrack.core.images import decode

    rgb = decode(colorchecker_dir() / name).rgb
    h, w = rgb.shape[:2]
    f = 1500 / max(h, w)
    big = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC)
    skin = np.clip(np.round(linear_to_srgb(synth.make_skin((1500, 1100), seed=2)) * 255), 0, 255)
    wide = skin.astype(np.uint8)[: big.shape[0], : big.shape[1]].copy()
    small = cv2.resize(big, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    wide[40 : 40 + small.shape[0], 60 : 60 + small.shape[1]] = small
    for photo in (big, wide):
        assert max(photo.shape[:2]) > charts.MCC_SIDE  # the search really runs reduced
        det = charts.detect_chart(photo)
        assert det is not None, f"no chart found in {name} at {photo.shape[1]}x{photo.shape[0]}"
        assert det.patches_found >= 18 and det.residual_delta_e2000 < 3.0
