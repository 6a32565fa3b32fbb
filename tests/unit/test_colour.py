"""core.colour against published data (Sharma's CIEDE2000 pairs) and colour-science references."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from skintrack.core import colour as c
from skintrack.core import illumination

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import colour as colour_science
    except ImportError:  # pragma: no cover - a test extra
        colour_science = None

needs_cs = pytest.mark.skipif(colour_science is None, reason="needs colour-science")

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Table 1: L1 a1 b1 L2 a2 b2 ΔE00.
SHARMA = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def _sharma() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.array(SHARMA)
    return t[:, :3], t[:, 3:6], t[:, 6]


def test_sharma_table_has_34_pairs() -> None:
    assert len(SHARMA) == 34


def test_ciede2000_matches_sharma_to_4_decimals() -> None:
    lab1, lab2, expected = _sharma()
    got = c.delta_e2000(lab1, lab2)
    assert got.shape == (34,)
    np.testing.assert_array_equal(np.round(got, 4), expected)
    # symmetric, and zero for identical colours
    np.testing.assert_allclose(c.delta_e2000(lab2, lab1), got, atol=1e-12)
    assert np.all(c.delta_e2000(lab1, lab1) == 0)


def test_ciede2000_broadcasts_over_images() -> None:
    lab1, lab2, expected = _sharma()
    img1 = np.broadcast_to(lab1[None], (5, 34, 3))
    img2 = np.broadcast_to(lab2[None], (5, 34, 3))
    got = c.delta_e2000(img1, img2)
    assert got.shape == (5, 34)
    np.testing.assert_allclose(got[3], expected, atol=5e-5)


@needs_cs
def test_ciede2000_agrees_with_colour_science() -> None:
    rng = np.random.default_rng(1)
    lab1 = np.column_stack([rng.uniform(0, 100, 500), rng.uniform(-80, 80, 500), rng.uniform(-80, 80, 500)])
    lab2 = lab1 + rng.normal(0, 6, lab1.shape)
    ref = colour_science.difference.delta_E_CIE2000(lab1, lab2)
    np.testing.assert_allclose(c.delta_e2000(lab1, lab2), ref, atol=1e-9)
    lab1s, lab2s, _ = _sharma()
    np.testing.assert_allclose(
        c.delta_e2000(lab1s, lab2s), colour_science.difference.delta_E_CIE2000(lab1s, lab2s), atol=1e-9
    )


def test_srgb_transfer_function_reference_values() -> None:
    # IEC 61966-2-1: linear segment below 0.04045, 2.4 power above; 18 % grey encodes to 0.4613
    np.testing.assert_allclose(
        c.srgb_to_linear(np.array([0.0, 0.04045, 0.5, 1.0])), [0, 0.0031308, 0.2140411, 1.0], atol=1e-6
    )
    np.testing.assert_allclose(c.linear_to_srgb(np.array([0.18])), [0.4613561], atol=1e-6)
    x = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(c.linear_to_srgb(c.srgb_to_linear(x)), x, atol=1e-12)


def test_float32_in_float32_out() -> None:
    img = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    for fn in (c.srgb_to_linear, c.linear_to_srgb, c.linear_to_xyz, c.srgb_to_lab, c.linear_to_lab):
        assert fn(img).dtype == np.float32
    assert c.srgb_to_lab(img).shape == (4, 5, 3)


def test_white_and_black_map_to_lab_endpoints() -> None:
    np.testing.assert_allclose(c.srgb_to_lab(np.array([1.0, 1.0, 1.0])), [100, 0, 0], atol=1e-4)
    np.testing.assert_allclose(c.srgb_to_lab(np.array([0.0, 0.0, 0.0])), [0, 0, 0], atol=1e-9)
    np.testing.assert_allclose(c.linear_to_xyz(np.array([1.0, 1.0, 1.0])), c.D65_WHITE, atol=1e-6)


@needs_cs
def test_conversions_agree_with_colour_science() -> None:
    rng = np.random.default_rng(2)
    rgb = rng.random((200, 3))
    cs = colour_science
    np.testing.assert_allclose(c.srgb_to_linear(rgb), cs.models.eotf_sRGB(rgb), atol=1e-12)
    np.testing.assert_allclose(c.linear_to_srgb(rgb), cs.models.eotf_inverse_sRGB(rgb), atol=1e-12)
    # colour-science derives its sRGB matrix from the primaries; the 7-decimal matrix differs < 2e-4
    xyz_cs = cs.RGB_to_XYZ(rgb, cs.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True)
    np.testing.assert_allclose(c.linear_to_xyz(c.srgb_to_linear(rgb)), xyz_cs, atol=2e-4)
    white_xy = cs.XYZ_to_xy(c.D65_WHITE)
    xyz = rng.random((200, 3)) * c.D65_WHITE
    lab_cs = cs.XYZ_to_Lab(xyz, white_xy)
    np.testing.assert_allclose(c.xyz_to_lab(xyz), lab_cs, atol=1e-9)
    np.testing.assert_allclose(c.lab_to_xyz(lab_cs), cs.Lab_to_XYZ(lab_cs, white_xy), atol=1e-9)
    # including the dark linear segment of L*
    dark = xyz * 0.005
    np.testing.assert_allclose(c.xyz_to_lab(dark), cs.XYZ_to_Lab(dark, white_xy), atol=1e-9)
    # end to end within 0.05 L* units of colour-science's own sRGB
    lab_e2e = cs.XYZ_to_Lab(xyz_cs, cs.RGB_COLOURSPACES["sRGB"].whitepoint)
    np.testing.assert_allclose(c.srgb_to_lab(rgb), lab_e2e, atol=0.05)


def test_round_trips() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.random((100, 3))
    np.testing.assert_allclose(c.lab_to_srgb(c.srgb_to_lab(rgb)), rgb, atol=1e-9)
    np.testing.assert_allclose(c.xyz_to_linear(c.linear_to_xyz(rgb)), rgb, atol=1e-12)


def test_ita_and_classes() -> None:
    assert c.ita(50.0, 10.0) == pytest.approx(0.0)
    assert c.ita(60.0, 10.0) == pytest.approx(45.0)
    assert c.ita(40.0, 10.0) == pytest.approx(-45.0)
    expected = {
        70: "very light",
        55.01: "very light",
        55: "light",
        41.01: "light",
        41: "intermediate",
        30: "intermediate",
        28: "tan",
        15: "tan",
        10: "brown",
        -29.9: "brown",
        -30: "dark",
        -60: "dark",
    }
    for value, name in expected.items():
        assert c.ita_class(value) == name, value


def test_hue_angle() -> None:
    np.testing.assert_allclose(
        c.hue_angle(np.array([1, 0, -1, 0]), np.array([0, 1, 0, -1])), [0, 90, 180, 270]
    )


def test_melanin_and_erythema_indices() -> None:
    rgb = np.array([[0.5, 0.25, 0.2], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(c.melanin_index(rgb), [100 * np.log10(2), 0.0])
    np.testing.assert_allclose(c.erythema_index(rgb), [100 * np.log10(2), 0.0])
    assert "estimated from RGB" in (c.melanin_index.__doc__ or "")
    assert "estimated from RGB" in (c.erythema_index.__doc__ or "")


def test_colour_correction_recovers_a_known_matrix() -> None:
    rng = np.random.default_rng(4)
    target = rng.uniform(0.02, 0.9, (12, 3))
    cast = np.array([[0.9, 0.05, 0.0], [0.02, 0.8, 0.05], [0.0, 0.1, 0.7]])
    measured = target @ np.linalg.inv(cast).T  # what a camera under this light records
    cc = c.fit_colour_correction(measured, target)
    np.testing.assert_allclose(cc.matrix, cast, atol=1e-9)
    assert cc.residual_delta_e_max < 1e-6
    img = measured.reshape(3, 4, 3).astype(np.float32)
    np.testing.assert_allclose(c.apply_colour_correction(img, cc), target.reshape(3, 4, 3), atol=1e-5)


def test_colour_correction_white_constraint_and_residuals() -> None:
    rng = np.random.default_rng(5)
    target = rng.uniform(0.05, 0.8, (8, 3))
    target[0] = [0.9, 0.9, 0.9]
    measured = target * [1.1, 1.0, 0.8] + rng.normal(0, 0.01, target.shape)
    cc = c.fit_colour_correction(measured, target, white_index=0)
    np.testing.assert_allclose(measured[0] @ cc.matrix.T, target[0], atol=1e-9)
    assert 0 < cc.residual_delta_e_mean <= cc.residual_delta_e_max < 5
    weighted = c.fit_colour_correction(measured, target, weights=np.r_[100.0, np.ones(7)])
    assert np.abs(measured[0] @ weighted.matrix.T - target[0]).max() < 0.01


def _field(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    xn, yn = x / w * 2 - 1, y / h * 2 - 1
    return np.stack(
        [0.9 * (1 + 0.15 * xn - 0.1 * yn), 0.85 * (1 + 0.15 * xn), 0.8 * (1 - 0.1 * yn * xn)], axis=-1
    )


def test_illumination_model_ignores_a_local_darkening() -> None:
    rng = np.random.default_rng(6)
    h, w = 300, 400
    ref = (0.35 + 0.1 * rng.random((h, w, 3))).astype(np.float32)
    truth = ref * _field(h, w)
    mov = truth.copy()
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - 260) ** 2 + (yy - 120) ** 2 < 60**2  # ~9 % of the frame, 30 % darker
    mov[disc] *= 0.7
    model = illumination.fit_illumination_model(ref, mov, np.ones((h, w), bool))
    corrected = model.apply(mov)
    # outside the disc the light is removed; inside the darkening survives
    np.testing.assert_allclose(corrected[~disc], ref[~disc], rtol=0.01)
    ratio = corrected[disc] / ref[disc]
    assert abs(float(np.median(ratio)) - 0.7) < 0.01
    assert 0.85 < model.inlier_fraction < 0.95


def test_illumination_model_absorbs_uniform_change() -> None:
    """Documented limitation: a uniform darkening is indistinguishable from a dimmer light."""
    rng = np.random.default_rng(7)
    ref = (0.3 + 0.2 * rng.random((120, 160, 3))).astype(np.float32)
    model = illumination.fit_illumination_model(ref, ref * 0.8, None, degree=1)
    np.testing.assert_allclose(model.apply(ref * 0.8), ref, rtol=1e-4)
    assert "UNIFORM" in (illumination.IlluminationModel.__doc__ or "")


def test_illumination_field_rescales_to_other_sizes() -> None:
    h, w = 200, 300
    ref = np.full((h, w, 3), 0.4, np.float32)
    mov = ref * _field(h, w)
    model = illumination.fit_illumination_model(ref, mov, None)
    big = model.log_gain((400, 600))
    small = model.log_gain()
    np.testing.assert_allclose(big[::2, ::2], small, atol=0.01)


def test_illumination_model_survives_a_large_central_patch() -> None:
    rng = np.random.default_rng(8)
    h, w = 240, 320
    ref = (0.35 + 0.1 * rng.random((h, w, 3))).astype(np.float32)
    mov = ref * _field(h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    blob = (xx - 160) ** 2 + (yy - 120) ** 2 < 95**2  # ~37 % of the frame, in the middle
    mov[blob] *= 0.8
    corrected = illumination.fit_illumination_model(ref, mov, None).apply(mov)
    np.testing.assert_allclose(corrected[~blob], ref[~blob], rtol=0.01)
