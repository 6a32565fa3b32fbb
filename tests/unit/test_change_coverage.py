"""compare_aligned end to end on what real photos do: clipping, tone curves, hair, patch size."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.change import compare_aligned, heatmap_image
from skintrack.core.heatmap import HATCH_RGB

H, W = 300, 400


def skin(seed: int = 0, base=(66.0, 12.0, 16.0)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = np.empty((H, W, 3), np.float32)
    for c, (mean, amp) in enumerate(zip(base, (2.5, 1.5, 1.5), strict=True)):
        coarse = cv2.GaussianBlur(rng.standard_normal((H, W)).astype(np.float32), (0, 0), 12)
        fine = cv2.GaussianBlur(rng.standard_normal((H, W)).astype(np.float32), (0, 0), 1.5)
        lab[..., c] = mean + amp * coarse / coarse.std() + 0.5 * amp * fine / fine.std()
    return lab


def disc(r: int = 50, c: tuple[int, int] = (200, 150)) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r


def shoot(lab: np.ndarray, gain: float = 1.0, seed: int = 1) -> np.ndarray:
    lin = np.clip(colour.lab_to_linear(lab) * gain, 0, 1)
    srgb = colour.linear_to_srgb(lin) + np.random.default_rng(seed).normal(0, 1 / 255, lin.shape)
    return np.clip(np.round(srgb * 255) / 255, 0, 1).astype(np.float32)


def darker(lab: np.ndarray, m: np.ndarray, dl: float, db: float) -> np.ndarray:
    out = lab.copy()
    out[..., 0] += dl * m
    out[..., 2] += db * m
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


ONES = np.ones((H, W), bool)


def test_overexposed_earlier_photo_still_proves_a_darkening() -> None:
    lab = skin()
    d = disc()
    ref = shoot(lab, gain=3.0)  # red and green clip on most of the skin, every channel on some
    later = shoot(darker(lab, d, -8.0, -4.0), gain=1.0, seed=2)
    assert (ref.max(axis=2) >= 0.98).mean() > 0.5
    r = compare_aligned(ref, later, ONES)  # the lighting model takes the exposure out
    assert iou(r.mask > 0, d) > 0.6 and r.patches[0].mean_delta_L < -5.0
    assert r.excluded.get("clipped_earlier", 0.0) > 0.0 and r.compared_fraction > 0.3
    j = r.to_json()
    assert {"compared_fraction", "excluded", "detection_limit_L", "warnings", "normalisation"} <= set(j)


def test_mostly_unmeasurable_area_gives_a_warning_and_hatching() -> None:
    lab = skin(1)
    ref = shoot(lab, seed=1)
    later = shoot(lab, gain=4.0, seed=2)  # the later photo is white: nothing can be measured
    r = compare_aligned(ref, later, ONES)
    assert r.compared_fraction < 0.5 and r.patches == []
    assert r.warnings and "the later photo is overexposed" in r.warnings[0]
    assert max(r.excluded, key=r.excluded.get) == "clipped_later"
    img = heatmap_image(r, legend=False)
    assert (img.reshape(-1, 3) == np.array(HATCH_RGB, np.uint8)).all(axis=1).mean() > 0.1


def test_a_large_faint_patch_is_found_and_limits_fall_with_area() -> None:
    lab = skin(2)
    rng = np.random.default_rng(5)
    lab[..., 0] += rng.normal(0, 1.2, (H, W)).astype(np.float32)  # coarse texture noise
    d = disc(90)
    r = compare_aligned(shoot(lab), shoot(darker(lab, d, -2.5, 1.5), seed=3), ONES)
    assert iou(r.mask > 0, d) > 0.6
    limits = [v for v in r.detection_limit_L.values() if v is not None]
    assert len(limits) >= 2 and all(a <= b for a, b in itertools.pairwise(limits))


def test_hair_moved_between_photos_is_not_a_change() -> None:
    lab = skin(3)
    ref, later = shoot(lab), shoot(lab, seed=4)
    rng = np.random.default_rng(9)
    for img in (ref, later):
        for _ in range(25):
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            a = rng.uniform(0, np.pi)
            p1 = (int(x + 60 * np.cos(a)), int(y + 60 * np.sin(a)))
            cv2.line(img, (int(x), int(y)), p1, (0.12, 0.08, 0.06), 2, cv2.LINE_AA)
    r = compare_aligned(ref, later, ONES)
    assert (r.mask > 0).mean() < 0.005
    assert r.excluded.get("thin_structures", 0.0) > 0.01


@pytest.mark.parametrize("strength", [0.25, -0.25])
def test_phone_tone_curve_is_removed_and_reported(strength: float) -> None:
    lab = skin(4)
    d = disc(45)
    later = shoot(darker(lab, d, -5.0, -3.0), seed=5)
    later = np.clip(later - strength / (2 * np.pi) * np.sin(2 * np.pi * later), 0, 1)
    luma = (later @ np.array([0.2126, 0.7152, 0.0722], np.float32))[..., None]
    later = np.clip(luma + 1.15 * (later - luma), 0, 1).astype(np.float32)
    r = compare_aligned(shoot(lab), later, ONES)
    assert iou(r.mask > 0, d) > 0.8 and r.patches[0].kind == "grey-blue"
    assert r.normalisation["tone_mapping"] is not None
