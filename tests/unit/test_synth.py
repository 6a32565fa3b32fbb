"""The synthetic-skin generator tells the truth about its photos."""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.demo import synth


def test_same_arguments_same_pixels() -> None:
    a = synth.make_skin((300, 200), seed=4)
    b = synth.make_skin((300, 200), seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, synth.make_skin((300, 200), seed=5))


def test_skin_tone_is_close_to_requested_lab() -> None:
    skin = synth.make_skin((400, 300), seed=1, tone="intermediate", moles=0, hair_density=0, curvature=0)
    lab = colour.linear_to_lab(skin).reshape(-1, 3)
    median = np.median(lab, axis=0)
    tone = synth.TONES["intermediate"]
    assert abs(median[0] - tone.L) < 3.0
    assert abs(median[1] - tone.a) < 2.0
    assert abs(median[2] - tone.b) < 2.0


def test_darkening_is_exact_in_lab() -> None:
    skin = synth.make_skin((200, 150), seed=2, moles=0, hair_density=0)
    mask = np.zeros((150, 200), np.float32)
    mask[50:100, 60:140] = 1.0
    for kind, b_sign in (("grey-blue", -1), ("brown", 1)):
        later = synth.darken(skin, mask, synth.Darkening(-5.0, kind))
        d = colour.linear_to_lab(later) - colour.linear_to_lab(skin)
        inside = mask > 0.5
        assert np.allclose(d[..., 0][inside], -5.0, atol=0.05)
        assert np.allclose(d[..., 2][inside], b_sign * 3.0, atol=0.05)
        assert np.allclose(d[~inside], 0.0, atol=1e-3)


def test_true_homography_registers_the_later_photo() -> None:
    pair = synth.make_pair(
        seed=3,
        size=(400, 300),
        later_pose=synth.Pose(rotation=12, scale=1.1, shift=(15, -10)),
        later_lighting=synth.Lighting(),
        noise=0.0,
    )
    h, w = pair.reference.shape[:2]
    warped = cv2.warpPerspective(pair.later, pair.h_later_to_reference, (w, h))
    valid = cv2.warpPerspective(np.ones_like(pair.later[..., 0]), pair.h_later_to_reference, (w, h)) > 0
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    diff = np.abs(warped.astype(np.float32) - pair.reference.astype(np.float32))[valid]
    assert valid.mean() > 0.6
    assert float(np.median(diff)) < 3.0  # resampling only: same skin, same light, no noise


def test_change_mask_marks_the_darkened_patch() -> None:
    pair = synth.make_pair(
        seed=5,
        size=(400, 300),
        change=synth.Darkening(-8.0, "grey-blue"),
        later_lighting=synth.Lighting(),
        noise=0.0,
    )
    assert 0.005 < pair.change_mask.mean() < 0.2
    ref_lab = colour.srgb_to_lab(pair.reference / 255.0)
    h, w = pair.reference.shape[:2]
    warped = cv2.warpPerspective(pair.later, pair.h_later_to_reference, (w, h))
    later_lab = colour.srgb_to_lab(warped / 255.0)
    inner = cv2.erode(pair.change_mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    d_l = np.median((later_lab - ref_lab)[..., 0][inner])
    d_b = np.median((later_lab - ref_lab)[..., 2][inner])
    assert -9.0 < d_l < -7.0
    assert d_b < -3.0
