"""The fast paths of the capture-quality checks give the plain computations' answers.

Each fast path (histogram medians, uint8 skin rule, gamma lookup and 3 x 3 plane fit, bilinear
small downscales, glare early exit, the chart answer reused between live frames) is compared with
the straightforward version it replaces, within the tolerance stated in each test.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import pytest

from skintrack.core import quality as q
from skintrack.core import quality_framing as qf
from skintrack.core import quality_measures as qm
from skintrack.core.align import lightness
from skintrack.core.card import render_card_rgb
from skintrack.demo import synth
from skintrack.services.quality import LiveChart, assess_frame

FRAME = (640, 480)


@pytest.fixture(scope="module")
def skin() -> np.ndarray:
    return synth.make_skin((1200, 900), seed=11)


@pytest.fixture(scope="module")
def frame(skin: np.ndarray) -> np.ndarray:
    return synth.photograph(skin, synth.Pose(), FRAME, seed=5)[0]


def test_histogram_median_is_within_one_bin_of_numpy_median() -> None:
    rng = np.random.default_rng(1)
    lo, hi, bins = qm.AB_RANGE[0], qm.AB_RANGE[1], qm.AB_BINS
    for spread in (0.3, 5.0, 25.0):  # inside the range, as a*, b* of sRGB always are
        values = rng.normal(12.0, spread, (240, 320)).astype(np.float32)
        mask = rng.random((240, 320)) < 0.6
        fast = qm.histogram_median(values, mask, (lo, hi), bins)
        assert abs(fast - float(np.median(values[mask]))) <= (hi - lo) / bins


def test_median_chroma_and_lightness_match_numpy_medians(frame: np.ndarray) -> None:
    """Tolerance: one histogram bin (0.0625 a*/b*, 0.05 L*), far below the cast threshold (3 ΔC)."""
    small = qm.resize_long(frame, q.SMALL_SIDE)
    lab = qm.lab_image(small)
    mask = qm.skin_mask(small)
    a, b = qm.median_chroma(lab, mask)
    assert abs(a - float(np.median(lab[..., 1][mask]))) <= 0.0625
    assert abs(b - float(np.median(lab[..., 2][mask]))) <= 0.0625
    assert abs(qm.median_lightness(lab[..., 0], mask) - float(np.median(lab[..., 0][mask]))) <= 0.05
    white = np.full((40, 40), 100.0, np.float32)  # clipped white: L* 100 exactly is counted
    assert abs(qm.median_lightness(white, np.ones(white.shape, bool)) - 100.0) <= 0.05


def _signed_skin_rule(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., c].astype(np.int16) for c in range(3))
    return ((r >= g - 6) & (g >= b - 12) & (r - b >= 8) & (r > 35)) | (rgb.min(axis=2) >= 240)


def test_skin_mask_equals_the_signed_rule() -> None:
    """Exact: the saturating uint8 form is the same rule."""
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    rgb[:100] = np.clip(rgb[:100].astype(np.int16) // 4 + (150, 110, 90), 0, 255).astype(
        np.uint8
    )  # skin-like
    mask = qm.skin_mask(rgb)
    expected = _signed_skin_rule(rgb)
    assert expected.mean() >= 0.2  # the rule itself is used, not the whole-frame fallback
    assert np.array_equal(mask, expected)


def _plain_gradient(rgb_u8: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """The gradient fit with a per-pixel power and SVD least squares."""
    small = cv2.resize(
        rgb_u8, (64, round(64 * rgb_u8.shape[0] / rgb_u8.shape[1])), interpolation=cv2.INTER_AREA
    )
    m = (
        cv2.resize(mask.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        > 0
    )
    lin = (small.astype(np.float32) / 255.0) ** 2.2
    y_lum = 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]
    log_y = np.log2(np.maximum(y_lum, 1e-4))
    h, w = log_y.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    use = m & (y_lum > 1e-3)
    a = np.stack([np.ones(use.sum()), xx[use] / (w - 1) - 0.5, yy[use] / (h - 1) - 0.5], axis=1)
    target = log_y[use]
    keep = np.ones(len(target), bool)
    for _ in range(3):
        coef = np.linalg.lstsq(a[keep], target[keep], rcond=None)[0]
        res = target - a @ coef
        mad = 1.4826 * float(np.median(np.abs(res[keep] - np.median(res[keep]))))
        new_keep = np.abs(res) <= max(0.1, 2.5 * mad)
        if new_keep.sum() < 12 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return abs(coef[1]) + abs(coef[2]), math.degrees(math.atan2(coef[2], coef[1]))


@pytest.mark.parametrize("gradient", [0.0, 0.4, 0.75])
def test_lighting_gradient_matches_power_and_lstsq(skin: np.ndarray, gradient: float) -> None:
    """Tolerance 1e-4 stops and 0.01 degrees (same lookup values, 3 x 3 solve instead of SVD)."""
    lighting = synth.Lighting(gradient=(gradient, 0.3 * gradient))
    img = synth.photograph(skin, synth.Pose(), FRAME, lighting, seed=6)[0]
    small = qm.resize_long(img, q.SMALL_SIDE)
    mask = qm.skin_mask(small)
    fast = qm.lighting_gradient(small, mask)
    stops, angle = _plain_gradient(small, mask)
    assert fast.stops == pytest.approx(stops, abs=1e-4)
    if stops > 0.05:
        assert fast.angle_deg == pytest.approx(angle, abs=0.01)


@pytest.mark.parametrize("blur", [0.0, 1.5, 3.0])
def test_bilinear_small_downscale_matches_area_averaging(skin: np.ndarray, blur: float) -> None:
    """A 640 px frame to 512 px: pixels within 1.5 levels on average, blur index within 4 %.

    Bilinear sampling keeps a little more detail than area averaging, so a heavily blurred frame
    reads up to ~3 % sharper; a 1024 px or larger photo (a whole-factor reduction) is unaffected.
    """
    img = synth.photograph(skin, synth.Pose(), FRAME, seed=7, blur=blur)[0]
    fast = qm.resize_long(img, q.WORK_SIDE)
    area = cv2.resize(img, fast.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert fast.shape == area.shape == (384, 512, 3)
    assert float(np.abs(fast.astype(np.int16) - area).mean()) <= 1.5
    scale = q.BLUR_UNIT_SIDE / q.WORK_SIDE
    plain = qm.blur_sigma(lightness(area), scale)
    assert qm.blur_sigma(lightness(fast), scale) == pytest.approx(plain, rel=0.04)


def test_glare_needs_a_bright_pixel_and_is_found_when_there_is_one(frame: np.ndarray) -> None:
    work = qm.resize_long(frame, q.WORK_SIDE)
    dim = np.minimum(work, 234)
    assert qm.glare_fraction(dim, lightness(dim), qm.skin_mask(dim)) == 0.0
    shiny = dim.copy()
    cv2.circle(shiny, (256, 192), 12, (255, 255, 255), -1)
    assert qm.glare_fraction(shiny, lightness(shiny), qm.skin_mask(shiny)) > 0.001


def test_live_chart_is_searched_every_third_frame_and_reuse_is_stated(frame: np.ndarray) -> None:
    card = render_card_rgb(dpi=100, supersample=1)
    img = frame.copy()
    img[20 : 20 + card.shape[0], 20 : 20 + card.shape[1]] = card
    live = LiveChart(every=3)
    frames = [img, frame, frame, frame, img]
    checks = [assess_frame(f, None, live_chart=live).checks["chart"] for f in frames]
    assert assess_frame(img, None).checks["chart"].details["chart"] == "skintrack-card"
    assert [c.details.get("searched", True) for c in checks] == [True, False, False, True, False]
    assert [c.details.get("searched_frames_ago") for c in checks] == [None, 1, 2, None, 1]
    # the reused answer is the last search's, said so; the next search sees the card is gone
    assert [c.details["chart"] for c in checks] == [
        "skintrack-card",
        "skintrack-card",
        "skintrack-card",
        None,
        None,
    ]


@pytest.mark.parametrize(
    "pose",
    [
        synth.Pose(shift=(60, 20)),
        synth.Pose(shift=(-150, 80)),
        synth.Pose(scale=1.2),
        synth.Pose(rotation=15),
        synth.Pose(scale=0.8, rotation=-10, shift=(40, -40)),
    ],
)
def test_framing_with_the_photo_corner_threshold_matches_the_thorough_one(
    skin: np.ndarray, frame: np.ndarray, pose: synth.Pose, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both recover the known pose (scale within 4 %, rotation within 1 degree) and agree on the
    overlap within 0.03: guidance, not measurement; the pose is only known up to RANSAC's jitter."""
    target = qf.FramingTarget(qm.resize_long(frame, q.SMALL_SIDE))
    photo = qm.resize_long(synth.photograph(skin, pose, FRAME, seed=12)[0], q.SMALL_SIDE)
    fast = target.framing(photo)
    thorough_features = functools.partial(qf.photo_features, fast_threshold=qf.REFERENCE_FAST_THRESHOLD)
    monkeypatch.setattr(qf, "photo_features", thorough_features)
    thorough = target.framing(photo)
    for found in (fast, thorough):
        assert found.aligned
        assert found.scale == pytest.approx(pose.scale, rel=0.04)
        assert found.rotation_deg == pytest.approx(pose.rotation, abs=1.0)
    assert fast.overlap == pytest.approx(thorough.overlap, abs=0.03)


def test_a_low_contrast_photo_falls_back_to_the_thorough_corner_threshold(frame: np.ndarray) -> None:
    flat = cv2.GaussianBlur(qm.resize_long(frame, q.SMALL_SIDE), (0, 0), 3.0)
    grey = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
    strict = qf._detector(qf.PHOTO_FAST_THRESHOLD).detect(grey)
    assert len(strict) < qf.ORB_FEATURES // 2  # the strict threshold alone finds too few
    kp, _ = qf.photo_features(grey)
    assert len(kp) > len(strict)
