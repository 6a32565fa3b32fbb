"""The tone mapping must not absorb a darkened patch that fills much of the frame (a close-up)."""

from __future__ import annotations

import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.change.tone import fit_tone
from skintrack.core.change.tone_guard import darkened_candidates, guarded_tone

SIDE = 200


def _skin(seed: int = 0) -> np.ndarray:
    """Textured skin whose brightness varies smoothly across the frame (a wide range of tones)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIDE, :SIDE] / SIDE
    shade = (0.55 + 0.45 * xx + 0.2 * np.sin(3 * yy))[..., None]
    base = np.array([0.45, 0.28, 0.2], np.float32)
    texture = np.exp(rng.normal(0, 0.03, (SIDE, SIDE, 3)))
    return np.clip(base * shade * texture, 0.005, 0.95).astype(np.float32)


def _patch(share: float = 0.25) -> np.ndarray:
    yy, xx = np.mgrid[:SIDE, :SIDE]
    r = np.sqrt(share * SIDE * SIDE / np.pi)
    return (xx - 0.3 * SIDE) ** 2 + (yy - 0.5 * SIDE) ** 2 <= r * r


def _s_curve(lin: np.ndarray, strength: float) -> np.ndarray:
    srgb = colour.linear_to_srgb(lin)
    srgb = srgb - strength / (2 * np.pi) * np.sin(2 * np.pi * srgb)
    return colour.srgb_to_linear(np.clip(srgb, 0, 1)).astype(np.float32)


def test_a_large_patch_is_found_as_a_darkened_candidate() -> None:
    ref = _skin()
    d = _patch()
    later = ref.copy()
    later[d] *= np.float32(0.85)
    cand = darkened_candidates(ref, later, np.ones((SIDE, SIDE), bool))
    assert (cand & d).sum() >= 0.9 * d.sum()
    assert (cand & ~d).sum() <= 0.2 * d.sum()


def test_no_tone_mapping_when_only_the_large_patch_needs_one() -> None:
    d = _patch()
    ref = _skin(1)
    ref[d] *= np.float32(0.45)  # a large pigmented spot: its tones occur nowhere else
    noise = np.random.default_rng(9).normal(0, 0.01, ref.shape)  # the second shot's own sensor noise
    later = (ref * np.exp(noise)).astype(np.float32)
    later[d] *= np.float32(0.85)
    skin, usable = np.ones((SIDE, SIDE), bool), np.ones((SIDE, SIDE, 3), bool)
    assert fit_tone(ref, later, skin, usable) is not None  # unguarded, the patch buys a tone curve
    tone, guarded = guarded_tone(ref, later, skin, usable)
    assert guarded and tone is None


def test_a_real_tone_curve_is_still_removed_and_the_patch_kept() -> None:
    ref = _skin(2)
    d = _patch()
    later = ref.copy()
    later[d] *= np.float32(0.85)
    later = _s_curve(later, 0.25)
    skin, usable = np.ones((SIDE, SIDE), bool), np.ones((SIDE, SIDE, 3), bool)
    tone, _ = guarded_tone(ref, later, skin, usable)
    assert tone is not None
    ratio = tone.apply(later) / ref
    assert np.median(np.abs(np.log(ratio[~d]))) < 0.02
    assert np.median(ratio[d]) == pytest.approx(0.85, abs=0.04)


def test_no_candidate_and_the_first_fit_when_nothing_changed_locally() -> None:
    ref = _skin(3)
    later = _s_curve(ref, 0.2)
    skin, usable = np.ones((SIDE, SIDE), bool), np.ones((SIDE, SIDE, 3), bool)
    assert not darkened_candidates(ref, later, skin).any()
    tone, guarded = guarded_tone(ref, later, skin, usable)
    assert tone is not None and not guarded
