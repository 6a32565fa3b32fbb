"""Colour science for skin measurements: sRGB <-> linear <-> XYZ (D65) <-> CIELAB and friends.

Everything is vectorised over leading axes (the last axis holds the 3 channels) and works on
float arrays. Arithmetic that models light (gains, colour correction, illumination fields) is done
on *linear* RGB, never on gamma-encoded values (DESIGN.md, measurement definitions).

Conventions: IEC 61966-2-1 sRGB transfer function; sRGB primaries with the D65 white
(X, Y, Z) = (0.95047, 1, 1.08883), so sRGB white maps to L* = 100, a* = b* = 0 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray

D65_WHITE = np.array([0.95047, 1.0, 1.08883])
# sRGB (linear) -> XYZ, D65, rows sum to D65_WHITE (Lindbloom's matrix, 7 decimals).
M_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
M_XYZ_TO_RGB = np.linalg.inv(M_RGB_TO_XYZ)

_EPS = 216.0 / 24389.0  # CIE epsilon (6/29)^3
_KAPPA = 24389.0 / 27.0  # CIE kappa


def _float(x: FloatArray) -> FloatArray:
    a = np.asarray(x)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    return a


# --------------------------------------------------------------------------- transfer function


def srgb_to_linear(rgb: FloatArray) -> FloatArray:
    """Decode sRGB values in 0..1 to linear light (IEC 61966-2-1 piecewise curve)."""
    c = _float(rgb)
    lo = c * (1.0 / 12.92)
    hi = np.power((np.maximum(c, 0.04045) + 0.055) / 1.055, 2.4)
    return np.where(c <= 0.04045, lo, hi).astype(c.dtype, copy=False)


def linear_to_srgb(linear: FloatArray) -> FloatArray:
    """Encode linear light to sRGB 0..1 (values outside 0..1 are extrapolated, not clipped)."""
    c = _float(linear)
    lo = c * 12.92
    hi = 1.055 * np.power(np.maximum(c, 0.0031308), 1.0 / 2.4) - 0.055
    return np.where(c <= 0.0031308, lo, hi).astype(c.dtype, copy=False)


# --------------------------------------------------------------------------- XYZ and CIELAB


def _matmul(x: FloatArray, m: np.ndarray) -> FloatArray:
    a = _float(x)
    return (a @ m.T.astype(a.dtype)).astype(a.dtype, copy=False)


def linear_to_xyz(linear: FloatArray) -> FloatArray:
    """Linear sRGB -> CIE XYZ (D65, Y of white = 1)."""
    return _matmul(linear, M_RGB_TO_XYZ)


def xyz_to_linear(xyz: FloatArray) -> FloatArray:
    """CIE XYZ (D65) -> linear sRGB (may leave 0..1 for out-of-gamut colours)."""
    return _matmul(xyz, M_XYZ_TO_RGB)


def _f(t: FloatArray) -> FloatArray:
    out = np.cbrt(t)
    low = t <= _EPS  # the linear segment near black: rare in photos, so patched in place
    if np.any(low):
        out[low] = (_KAPPA * t[low] + 16.0) / 116.0
    return out


def _f_inv(f: FloatArray) -> FloatArray:
    out = f * f * f
    low = out <= _EPS
    if np.any(low):
        out[low] = (116.0 * f[low] - 16.0) / _KAPPA
    return out


def xyz_to_lab(xyz: FloatArray, white: FloatArray = D65_WHITE) -> FloatArray:
    """CIE XYZ -> CIELAB (CIE 15 with the exact epsilon/kappa constants)."""
    a = _float(xyz)
    f = _f(a * (1.0 / np.asarray(white, np.float64)).astype(a.dtype))
    # L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz): one small matrix product (fast on images)
    out = f @ _F_TO_LAB.T.astype(a.dtype)
    out[..., 0] -= 16.0
    return out


_F_TO_LAB = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])


def lab_to_xyz(lab: FloatArray, white: FloatArray = D65_WHITE) -> FloatArray:
    """CIELAB -> CIE XYZ (inverse of :func:`xyz_to_lab`)."""
    a = _float(lab)
    fy = (a[..., 0] + 16.0) / 116.0
    fx = fy + a[..., 1] / 500.0
    fz = fy - a[..., 2] / 200.0
    out = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1)
    return (out * np.asarray(white, a.dtype)).astype(a.dtype, copy=False)


def linear_to_lab(linear: FloatArray) -> FloatArray:
    """Linear sRGB -> CIELAB (D65); the same arithmetic as ``xyz_to_lab(linear_to_xyz(linear))``,
    done in place on the XYZ temporary so an image costs one float array less at its peak."""
    xyz = linear_to_xyz(linear)
    xyz *= (1.0 / D65_WHITE).astype(xyz.dtype)
    low = xyz <= _EPS
    t_low = xyz[low] if np.any(low) else None
    f = np.cbrt(xyz, out=xyz)
    if t_low is not None:
        f[low] = (_KAPPA * t_low + 16.0) / 116.0
    out = f @ _F_TO_LAB.T.astype(f.dtype)
    out[..., 0] -= 16.0
    return out


def lab_to_linear(lab: FloatArray) -> FloatArray:
    """CIELAB (D65) -> linear sRGB."""
    return xyz_to_linear(lab_to_xyz(lab))


def srgb_to_lab(rgb: FloatArray) -> FloatArray:
    """sRGB 0..1 -> CIELAB (D65)."""
    return linear_to_lab(srgb_to_linear(rgb))


def lab_to_srgb(lab: FloatArray) -> FloatArray:
    """CIELAB (D65) -> sRGB 0..1 (not clipped)."""
    return linear_to_srgb(lab_to_linear(lab))


# --------------------------------------------------------------------------- skin descriptors

ITA_CLASSES: tuple[tuple[float, str], ...] = (
    (55.0, "very light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)


def ita(L: FloatArray, b: FloatArray) -> FloatArray:
    """Individual typology angle ITA° = atan2(L* - 50, b*) in degrees (Chardon 1991)."""
    return np.degrees(np.arctan2(np.asarray(L, np.float64) - 50.0, np.asarray(b, np.float64)))


def ita_class(ita_deg: float) -> str:
    """Del Bino 2006 skin class of an ITA° value (boundaries belong to the darker class)."""
    v = float(ita_deg)
    for limit, name in ITA_CLASSES:
        if v > limit:
            return name
    return "dark"


def hue_angle(a: FloatArray, b: FloatArray) -> FloatArray:
    """CIELAB hue angle h_ab = atan2(b*, a*) in degrees, 0..360."""
    return np.mod(np.degrees(np.arctan2(np.asarray(b, np.float64), np.asarray(a, np.float64))), 360.0)


def delta_e2000(
    lab1: FloatArray, lab2: FloatArray, kL: float = 1.0, kC: float = 1.0, kH: float = 1.0
) -> FloatArray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005 formulation), vectorised."""
    l1 = np.asarray(lab1, np.float64)
    l2 = np.asarray(lab2, np.float64)
    L1, a1, b1 = l1[..., 0], l1[..., 1], l1[..., 2]
    L2, a2, b2 = l2[..., 0], l2[..., 1], l2[..., 2]
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(cbar7 / (cbar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.mod(np.degrees(np.arctan2(b1, a1p)), 360.0)
    h2p = np.mod(np.degrees(np.arctan2(b2, a2p)), 360.0)
    zero = (c1p * c2p) == 0.0

    dLp = L2 - L1
    dCp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(zero, 0.0, dh)
    dHp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))

    Lbar = (L1 + L2) / 2.0
    cbarp = (c1p + c2p) / 2.0
    hsum = h1p + h2p
    hbar = np.where(
        np.abs(h1p - h2p) <= 180.0,
        hsum / 2.0,
        np.where(hsum < 360.0, (hsum + 360.0) / 2.0, (hsum - 360.0) / 2.0),
    )
    hbar = np.where(zero, hsum, hbar)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(hbar - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * hbar))
        + 0.32 * np.cos(np.radians(3.0 * hbar + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * hbar - 63.0))
    )
    dtheta = 30.0 * np.exp(-(((hbar - 275.0) / 25.0) ** 2))
    cbarp7 = cbarp**7
    rc = 2.0 * np.sqrt(cbarp7 / (cbarp7 + 25.0**7))
    lb50 = (Lbar - 50.0) ** 2
    sl = 1.0 + 0.015 * lb50 / np.sqrt(20.0 + lb50)
    sc = 1.0 + 0.045 * cbarp
    sh = 1.0 + 0.015 * cbarp * t
    rt = -np.sin(np.radians(2.0 * dtheta)) * rc
    tl, tc, th = dLp / (kL * sl), dCp / (kC * sc), dHp / (kH * sh)
    return np.sqrt(tl * tl + tc * tc + th * th + rt * tc * th)


def melanin_index(linear_rgb: FloatArray) -> FloatArray:
    """Melanin index MI = 100·log10(1/R), estimated from RGB (white-referenced linear red channel).

    A camera is not a narrow-band reflectance meter: this is an RGB estimate for trends only.
    """
    r = np.clip(np.asarray(linear_rgb, np.float64)[..., 0], 1e-6, None)
    return 100.0 * np.log10(1.0 / r)


def erythema_index(linear_rgb: FloatArray) -> FloatArray:
    """Erythema index EI = 100·log10(R/G), estimated from RGB (white-referenced linear values)."""
    c = np.clip(np.asarray(linear_rgb, np.float64), 1e-6, None)
    return 100.0 * np.log10(c[..., 0] / c[..., 1])


# --------------------------------------------------------------------------- colour correction


@dataclass
class ColourCorrection:
    """A 3x3 matrix on linear RGB (``corrected = measured @ matrix.T``) and its fit quality.

    The residuals are CIEDE2000 differences between the corrected patches and their targets.
    """

    matrix: np.ndarray
    residual_delta_e_mean: float
    residual_delta_e_max: float

    def apply(self, linear: FloatArray) -> FloatArray:
        return apply_colour_correction(linear, self)


def fit_colour_correction(
    measured_linear: FloatArray,
    target_linear: FloatArray,
    weights: FloatArray | None = None,
    white_index: int | None = None,
) -> ColourCorrection:
    """Least-squares 3x3 matrix mapping measured patch colours to their known colours (linear RGB).

    ``weights`` (N,) weight the patches; ``white_index`` makes that patch (the white one) map
    exactly onto its target (equality-constrained least squares), so whites stay neutral.
    """
    m = np.asarray(measured_linear, np.float64).reshape(-1, 3)
    t = np.asarray(target_linear, np.float64).reshape(-1, 3)
    if len(m) < 3:
        raise ValueError("a colour correction needs at least 3 patches")
    w = np.ones(len(m)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    sw = np.sqrt(np.clip(w, 0.0, None))[:, None]
    a, y = m * sw, t * sw
    if white_index is None:
        mat, *_ = np.linalg.lstsq(a, y, rcond=None)
        matrix = mat.T
    else:
        # KKT system: minimise |A x - y|^2 subject to m_white . x = t_white (per output channel)
        c = m[white_index][None, :]
        kkt = np.zeros((4, 4))
        kkt[:3, :3] = 2.0 * a.T @ a
        kkt[:3, 3:] = c.T
        kkt[3:, :3] = c
        rhs = np.zeros((4, 3))
        rhs[:3] = 2.0 * a.T @ y
        rhs[3] = t[white_index]
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
        matrix = sol[:3].T
    corrected = m @ matrix.T
    de = delta_e2000(linear_to_lab(np.clip(corrected, 0.0, None)), linear_to_lab(np.clip(t, 0.0, None)))
    return ColourCorrection(matrix, float(np.mean(de)), float(np.max(de)))


def apply_colour_correction(linear: FloatArray, cc: ColourCorrection) -> FloatArray:
    """Apply a :class:`ColourCorrection` to linear RGB (any leading shape)."""
    return _matmul(linear, np.asarray(cc.matrix, np.float64))
