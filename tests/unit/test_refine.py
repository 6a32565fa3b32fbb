"""core.refine: a bounded dense refinement undoes a smooth non-rigid warp and nothing else.

Skin comes from ``skintrack.demo.synth``; warps are smooth random displacement fields of known
size, so the recovered field can be compared with the truth.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.align import lightness
from skintrack.core.refine import RefineSettings, refine
from skintrack.demo import synth

W, H = 640, 560


@functools.lru_cache(maxsize=2)
def body(seed: int = 3) -> np.ndarray:
    out = synth.make_skin((W, H), seed=seed)
    out.flags.writeable = False
    return out


def srgb8(linear: np.ndarray, noise_seed: int | None = None) -> np.ndarray:
    s = colour.linear_to_srgb(np.clip(linear, 0, 1)) * 255
    if noise_seed is not None:
        s = s + np.random.default_rng(noise_seed).normal(0, 1.0, s.shape)
    return np.clip(np.round(s), 0, 255).astype(np.uint8)


def field(magnitude: float, seed: int = 4) -> np.ndarray:
    """A smooth (H, W, 2) displacement with largest length ``magnitude`` px."""
    coarse = np.random.default_rng(seed).standard_normal((4, 4, 2)).astype(np.float32)
    f = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    f -= f.reshape(-1, 2).mean(axis=0)
    return f * np.float32(magnitude / np.sqrt((f**2).sum(axis=2)).max())


def warp(img: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``img`` seen through the displacement: out(x) = img(x + d(x))."""
    xs, ys = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return cv2.remap(img, xs + d[..., 0], ys + d[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


ALL = np.ones((H, W), bool)
INNER = (slice(40, -40), slice(40, -40))


def test_a_smooth_2_5_px_non_rigid_warp_is_undone() -> None:
    ref = srgb8(body(), 1)
    d = field(2.5)
    later = warp(srgb8(body(), 2), d)
    r = refine(ref, later, ALL)
    assert r.applied, r.message
    # the field sends each reference pixel to where the later photo shows it: -d to first order
    err = np.sqrt(((r.flow + d) ** 2).sum(axis=2))[INNER]
    assert float(np.median(err)) < 0.3 and float(np.percentile(err, 95)) < 0.6
    before = np.abs(lightness(later) - lightness(ref))[INNER].mean()
    after = np.abs(lightness(r.image) - lightness(ref))[INNER].mean()
    assert after < 0.75 * before
    assert 0.5 < r.median_px < 2.5 and 1.0 < r.p95_px <= 3.0 and r.max_px <= 3.0 + 1e-3
    assert r.valid.mean() > 0.95 and r.image.dtype == np.uint8


@pytest.mark.parametrize("warped", [False, True], ids=["aligned", "warped-2.5px"])
def test_a_real_local_darkening_is_not_warped_away(warped: bool) -> None:
    mask = synth.blob_mask((W, H), 1, (320, 280), 55)
    ref = srgb8(body(), 1)
    later = srgb8(synth.darken(body(), mask, synth.Darkening(-5.0, "grey-blue")), 2)
    d = field(2.5)
    if warped:
        later = warp(later, d)
    r = refine(ref, later, ALL)
    assert r.applied == warped, r.message
    dl = lightness(r.image) - lightness(ref)
    core = mask > 0.99
    assert float(dl[core].mean()) == pytest.approx(-5.0, abs=0.3)
    found = cv2.medianBlur((dl < -2.5).astype(np.uint8), 5) > 0
    truth = mask > 0.5
    assert (found & truth).sum() / (found | truth).sum() > 0.9  # same patch, same size
    if warped:  # the field around the patch follows the skin's warp, not the patch
        err = np.sqrt(((r.flow + d) ** 2).sum(axis=2))[
            cv2.dilate(truth.astype(np.uint8), np.ones((41, 41))) > 0
        ]
        assert float(np.median(err)) < 0.4


def test_no_change_input_stays_unchanged() -> None:
    ref = srgb8(body(), 1)
    same = refine(ref, ref.copy(), ALL)
    assert not same.applied and np.array_equal(same.image, ref) and not same.flow.any()
    noisy = srgb8(body(), 2)  # the same skin, another shot's sensor noise, perfectly aligned
    r = refine(ref, noisy, ALL)
    assert not r.applied, r.message
    assert np.array_equal(r.image, noisy) and r.p95_px == 0.0
    assert set(r.to_json()) == {"applied", "median_px", "p95_px", "max_px", "residual_gain", "message"}


def test_the_border_of_the_overlap_does_not_pull_the_field() -> None:
    """An aligned later photo is black outside a rotated overlap: that edge is not skin texture."""
    ref = srgb8(body(), 1)
    valid = np.zeros((H, W), np.uint8)
    box = cv2.boxPoints(((W / 2, H / 2), (W * 0.85, H * 0.8), 7.0))
    cv2.fillPoly(valid, [np.round(box).astype(np.int32)], 1)
    later = srgb8(body(), 2) * valid[..., None]
    r = refine(ref, later, valid > 0)
    assert not r.applied, r.message
    assert r.p95_px == 0.0 and np.array_equal(r.image, later)


def test_the_displacement_is_capped() -> None:
    ref = srgb8(body(), 1)
    later = warp(srgb8(body(), 2), field(6.0))
    r = refine(ref, later, ALL, settings=RefineSettings(max_shift_px=2.0))
    assert r.max_px <= 2.0 + 1e-3
    assert r.applied and r.p95_px > 1.0


def test_valid_mask_bounds_the_field_and_bad_sizes_are_refused() -> None:
    ref = srgb8(body(), 1)
    later = warp(srgb8(body(), 2), field(2.5))
    valid = np.zeros((H, W), bool)
    valid[:, : W // 2] = True
    r = refine(ref, later, valid)
    assert r.applied and not r.flow[:, W // 2 :].any()
    assert not (r.valid & ~valid).any()
    with pytest.raises(ValueError):
        refine(ref, later[:100], valid)
    tiny = np.zeros((H, W), bool)
    tiny[:10, :10] = True
    assert not refine(ref, later, tiny).applied
