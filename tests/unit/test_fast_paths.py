"""The fast paths of a comparison give the numbers of the plain ones, to the bit.

The pipeline hands ``core.change`` the decoded uint8 photos instead of float copies, sRGB is
linearised with one OpenCV table pass, CIELAB is computed in place and the dense refinement
resamples its image only when asked: each must leave every measured value unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from skintrack.core import colour, illumination
from skintrack.core.change import compare_aligned
from skintrack.core.change.pixels import srgb_to_linear_fast
from skintrack.core.refine import refine
from skintrack.demo import synth

U8 = np.float32(1.0 / 255.0)


def test_uint8_linearisation_matches_the_float_path_for_every_level() -> None:
    levels = np.arange(256, dtype=np.uint8)
    img = np.stack([*np.meshgrid(levels, levels, indexing="ij"), levels[::-1][:, None].repeat(256, 1)], -1)
    fast = srgb_to_linear_fast(img)
    assert fast.dtype == np.float32 and fast.shape == img.shape
    assert np.array_equal(fast, srgb_to_linear_fast(img.astype(np.float32) * U8))
    assert np.array_equal(srgb_to_linear_fast(img[..., 0]), fast[..., 0])  # one channel: table path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_lab_is_the_composition_of_its_steps(dtype: type) -> None:
    rng = np.random.default_rng(3)
    lin = rng.random((60, 80, 3)).astype(dtype)
    lin[0, :8] = 1e-4  # the linear segment near black
    lin[1, :4] = 0.0
    expected = colour.xyz_to_lab(colour.linear_to_xyz(lin))
    got = colour.linear_to_lab(lin)
    assert got.dtype == dtype and np.array_equal(got, expected)
    one = lin[5, 5]
    assert np.array_equal(colour.linear_to_lab(one), colour.xyz_to_lab(colour.linear_to_xyz(one)))


def test_compare_of_uint8_photos_equals_compare_of_their_float_copies() -> None:
    pair = synth.make_pair(5, (480, 360), change=synth.Darkening(-6.0, "brown"), speculars=4)
    valid = np.ones(pair.reference.shape[:2], bool)
    a = compare_aligned(pair.reference, pair.later, valid)
    b = compare_aligned(pair.reference.astype(np.float32) * U8, pair.later.astype(np.float32) * U8, valid)
    assert a.to_json() == b.to_json()
    assert np.array_equal(np.asarray(a.mask), np.asarray(b.mask))
    assert a.darkened_fraction > 0.01  # the patch was found, so the comparison was not trivial


def _remapped(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        img, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def test_refined_image_is_resampled_on_demand_with_the_reported_field() -> None:
    pair = synth.make_pair(8, (400, 300))
    yy, xx = np.mgrid[0:300, 0:400].astype(np.float32)
    bend = np.dstack([2.0 * np.sin(xx / 70.0), 2.0 * np.cos(yy / 60.0)]).astype(np.float32)
    later = _remapped(pair.later, bend)
    r = refine(pair.reference, later, np.ones((300, 400), bool))
    assert r.applied, r.message
    assert np.array_equal(r.image, _remapped(later, r.flow))


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_log_gain_field_equals_the_term_by_term_sum(degree: int) -> None:
    """The separable product sums in another order: equal to float32 rounding (~1e-7 of a log gain)."""
    n = len(illumination._poly_terms(degree))
    coefficients = np.random.default_rng(degree).normal(0.0, 0.1, (3, n))
    coefficients[1, n - 1] = 0.0
    model = illumination.IlluminationModel(coefficients, degree, (90, 120))
    for shape in ((90, 120), (31, 47)):
        h, w = shape
        x = illumination._norm_coords(w).astype(np.float32)
        y = illumination._norm_coords(h).astype(np.float32)
        expected = np.zeros((h, w, 3), np.float32)
        for k, (i, j) in enumerate(illumination._poly_terms(degree)):
            for c in range(3):
                if coefficients[c, k]:
                    expected[..., c] += float(coefficients[c, k]) * np.outer(y**j, x**i)
        field = model.log_gain(shape)
        assert field.dtype == np.float32 and field.shape == (h, w, 3)
        np.testing.assert_allclose(field, expected, rtol=0, atol=2e-6)
