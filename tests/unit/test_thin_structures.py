"""core.thin_structures: hair and pen marks are found, areas of the same darkness are not.

Images are generated here: skin-coloured texture (smooth mottling, pixel noise, pores) with
hairs, ink strokes, a round patch and a mole drawn in linear light at known positions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.thin_structures import (
    default_width,
    find_thin_structures,
    inpaint_thin,
    thin_components,
)

SIZE = 600
SKIN = np.array([0.42, 0.27, 0.20], np.float32)  # linear light, light-intermediate skin


def skin(seed: int = 0) -> np.ndarray:
    """Linear skin with mottling, fine texture and pores."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.standard_normal((12, 12)).astype(np.float32), (SIZE, SIZE), cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.standard_normal((SIZE, SIZE)).astype(np.float32), (0, 0), 1.0)
    shade = 1.0 + 0.06 * coarse / coarse.std() + 0.03 * fine / fine.std()
    img = SKIN[None, None, :] * shade[..., None]
    for _ in range(300):  # pores: dots ~3 px across, half as bright (dark enough, but not lines)
        x, y = rng.integers(5, SIZE - 5, 2)
        cv2.circle(img, (int(x), int(y)), 1, (SKIN * 0.5).tolist(), -1)
    return img


def hairs(seed: int, n: int = 25, thickness: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(n):
        x, y = rng.uniform(40, SIZE - 40, 2)
        a = rng.uniform(0, math.pi)
        t = np.linspace(0, rng.uniform(50, 120), 12)
        bend = rng.normal(0, 0.01)
        pts = np.stack([x + t * np.cos(a + bend * t), y + t * np.sin(a + bend * t)], axis=1)
        cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 1.0, thickness, cv2.LINE_AA)
    return np.clip(m, 0, 1)


def paint(img: np.ndarray, coverage: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    a = coverage[..., None]
    return img * (1 - a) + a * np.asarray(rgb, np.float32)


def to_srgb8(linear: np.ndarray, seed: int = 1) -> np.ndarray:
    s = colour.linear_to_srgb(np.clip(linear, 0, 1)) * 255
    s = s + np.random.default_rng(seed).normal(0, 1.2, s.shape)
    return np.clip(np.round(s), 0, 255).astype(np.uint8)


HAIR = (0.03, 0.02, 0.015)
INK = (0.05, 0.06, 0.24)


def test_hair_is_found_and_the_skin_around_it_is_not() -> None:
    h = hairs(1)
    photo = to_srgb8(paint(skin(), h, HAIR))
    r = find_thin_structures(photo)
    core = h > 0.6
    assert r.mask[core].mean() > 0.9
    near = cv2.dilate((h > 0.05).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert r.mask[~near].mean() < 0.005  # pores and texture are not hair
    assert r.coverage < 0.1 and r.width_px == default_width(photo.shape)


def test_pen_marks_are_found() -> None:
    m = np.zeros((SIZE, SIZE), np.float32)
    cv2.ellipse(m, (300, 300), (90, 80), 0, 20, 320, 1.0, 3, cv2.LINE_AA)
    cv2.line(m, (80, 500), (170, 470), 1.0, 3, cv2.LINE_AA)
    photo = to_srgb8(paint(skin(2), m * 0.9, INK))
    r = find_thin_structures(photo)
    assert r.mask[m > 0.6].mean() > 0.9


@pytest.mark.parametrize("radius", [12, 40])
def test_a_round_patch_of_the_same_darkness_is_not_found(radius: int) -> None:
    """A pigment patch or mole as dark as a hair is an area, not a line: it must stay visible."""
    patch = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(patch, (300, 300), radius, 1.0, -1, cv2.LINE_AA)
    patch = cv2.GaussianBlur(patch, (0, 0), 1.0)
    h = hairs(3)
    photo = to_srgb8(paint(paint(skin(3), patch, HAIR), h, HAIR))
    r = find_thin_structures(photo)
    inside = cv2.erode((patch > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    away_from_hair = inside & ~(cv2.dilate((h > 0.05).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)
    assert r.mask[away_from_hair].mean() < 0.02
    assert r.mask[h > 0.6].mean() > 0.85  # the hairs next to and across it still are


def test_faint_lines_below_the_darkness_level_are_left_alone() -> None:
    h = hairs(4)
    faint = to_srgb8(paint(skin(4), h * 0.15, HAIR))  # ~15 % darker: a crease, not a hair
    assert find_thin_structures(faint).mask[h > 0.6].mean() < 0.1


def test_uint8_and_float_input_agree_and_valid_limits_the_search() -> None:
    h = hairs(5)
    photo = to_srgb8(paint(skin(5), h, HAIR))
    a = find_thin_structures(photo).mask
    b = find_thin_structures(photo.astype(np.float32) / 255.0).mask
    assert (a ^ b).mean() < 0.001
    valid = np.zeros(a.shape, bool)
    valid[:, : SIZE // 2] = True
    c = find_thin_structures(photo, valid=valid).mask
    assert not c[:, SIZE // 2 :].any() and c[:, : SIZE // 2 - 10].sum() > 0.8 * a[:, : SIZE // 2 - 10].sum()


def test_flat_skin_has_no_thin_structures() -> None:
    flat = np.full((200, 300, 3), 170, np.uint8)
    r = find_thin_structures(flat, inpaint=True)
    assert not r.mask.any() and r.coverage == 0.0
    assert np.array_equal(r.inpainted, flat)


def test_inpainting_replaces_hair_with_the_skin_around_it() -> None:
    base = skin(6)
    h = hairs(6)
    photo = to_srgb8(paint(base, h, HAIR))
    clean = to_srgb8(base)
    r = find_thin_structures(photo, inpaint=True)
    assert r.inpainted is not None and r.inpainted.dtype == np.uint8
    lab_clean = colour.srgb_to_lab(clean.astype(np.float32) / 255)[..., 0]
    lab_hairy = colour.srgb_to_lab(photo.astype(np.float32) / 255)[..., 0]
    lab_fixed = colour.srgb_to_lab(r.inpainted.astype(np.float32) / 255)[..., 0]
    core = h > 0.6
    assert np.abs(lab_hairy - lab_clean)[core].mean() > 20
    assert np.abs(lab_fixed - lab_clean)[core].mean() < 3
    assert np.array_equal(r.inpainted[~r.mask], photo[~r.mask])  # nothing else is touched
    f = inpaint_thin(photo.astype(np.float32) / 255, r.mask, r.width_px)
    assert f.dtype == np.float32 and np.abs(f * 255 - r.inpainted).max() < 2


def test_thin_components_keeps_lines_and_drops_blobs() -> None:
    m = np.zeros((200, 200), np.uint8)
    cv2.line(m, (10, 10), (150, 40), 1, 3)  # a line
    cv2.circle(m, (100, 140), 25, 1, -1)  # a blob
    cv2.line(m, (100, 140), (190, 190), 1, 3)  # a line touching the blob
    cv2.circle(m, (30, 170), 2, 1, -1)  # a dot
    keep = thin_components(m, 3.0)
    assert keep[25, 50] or keep[20, 45] or keep[10:40, 40:120].sum() > 100
    assert not keep[140, 100] and not keep[170, 30]
    assert keep[175:190, 165:190].any()
