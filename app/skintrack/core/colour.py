"""Colour science for skin measurements: sRGB <-> linear <-> XYZ (D65) <-> CIELAB and friends.

Everything is vectorised over leading axes (the last axis holds the 3 channels) and works on
float arrays. Arithmetic that models light (gains, colour correction, illumination fields) is done
on *linear* RGB, never on gamma-encoded values (DESIGN.md, measurement definitions).

Conventions: IEC 61966-2-1 sRGB transfer function; sRGB primaries with the D65 white
(X, Y, Z) = (0.95047, 1, 1.08883), so sRGB white maps to L* = 100, a* = b* = 0 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
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


# --------------------------------------------------------------------------- illumination model


def _poly_terms(degree: int) -> list[tuple[int, int]]:
    return [(i, j) for total in range(degree + 1) for j in range(total + 1) for i in [total - j]]


@dataclass
class IlluminationModel:
    """Per-channel smooth log-gain field: log(moving / reference) ≈ Σ c_ij x^i y^j.

    x and y are normalised to -1..1 over the image (``shape`` = (H, W)). The constant term
    absorbs any UNIFORM change of the whole frame (exposure, or skin that darkened everywhere):
    with this model alone a uniform darkening is not measurable, only local patches are.
    """

    coefficients: np.ndarray  # (3, n_terms)
    degree: int
    shape: tuple[int, int]
    inlier_fraction: float = 1.0
    residual_sigma: float = 0.0

    def log_gain(self, shape: tuple[int, int] | None = None) -> FloatArray:
        """The (H, W, 3) float32 log-gain field, evaluated on ``shape`` (default: the fitted shape).

        A different shape samples the same field scaled to the new size (pixel-centre convention).
        """
        h, w = shape or self.shape
        x = _norm_coords(w).astype(np.float32)
        y = _norm_coords(h).astype(np.float32)
        # each channel summed term by term in a plane of its own (contiguous passes), then interleaved
        planes = [np.zeros((h, w), np.float32) for _ in range(3)]
        for k, (i, j) in enumerate(_poly_terms(self.degree)):
            basis = np.outer(y**j, x**i)
            for c in range(3):
                coef = float(self.coefficients[c, k])
                if coef:
                    planes[c] += coef * basis
        return np.dstack(planes)

    def apply(self, mov_linear: FloatArray) -> FloatArray:
        """Divide the fitted illumination out of ``mov_linear`` (any size: the field is rescaled).

        Above 4 MP (display-size renders, not measurements) the smooth field is evaluated on a grid
        1/8 the size and interpolated: relative error < 1e-3 (~0.03 L*), only at the frame edges.
        """
        h, w = mov_linear.shape[:2]
        if h * w > 4_000_000:
            small = (max(2, h // 8), max(2, w // 8))
            g = cv2.resize(np.exp(-self.log_gain(small)), (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            g = np.exp(-self.log_gain((h, w)))
        return (np.asarray(mov_linear, np.float32) * g).astype(np.float32, copy=False)


def _norm_coords(n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.float64) + 0.5) / n * 2.0 - 1.0


def fit_illumination_model(
    ref_linear: FloatArray,
    mov_linear: FloatArray,
    weight_mask: FloatArray | None,
    degree: int = 2,
    iterations: int = 5,
    max_side: int = 160,
) -> IlluminationModel:
    """Fit the smooth field taking ``ref_linear`` to ``mov_linear`` robustly (IRLS, Tukey biweight).

    Both images are block-averaged to ``max_side`` (the samples: averaging also suppresses noise
    and residual misregistration); only blocks fully inside ``weight_mask`` and neither clipped
    nor black are used. Pixels whose log-ratio departs from the field (the changed skin) get
    weight 0 after a few iterations, so a localised darkening does not bend the field.
    """
    h, w = ref_linear.shape[:2]
    f = min(1.0, max_side / max(h, w))
    sw, sh = max(4, round(w * f)), max(4, round(h * f))
    ref_s = cv2.resize(np.asarray(ref_linear, np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    mov_s = cv2.resize(np.asarray(mov_linear, np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    if weight_mask is None:
        wm = np.ones((sh, sw), np.float32)
    else:
        wm = cv2.resize(
            (np.asarray(weight_mask) > 0).astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA
        )
    ok = (wm > 0.999) & np.all((ref_s > 0.003) & (mov_s > 0.003) & (ref_s < 0.97) & (mov_s < 0.97), axis=2)
    ys, xs = np.nonzero(ok)
    terms = _poly_terms(degree)
    if len(ys) < 4 * len(terms):
        return IlluminationModel(np.zeros((3, len(terms))), degree, (h, w), 0.0, 0.0)
    r = np.log(mov_s[ys, xs].astype(np.float64)) - np.log(ref_s[ys, xs].astype(np.float64))  # (N, 3)
    xn = (xs + 0.5) / sw * 2.0 - 1.0
    yn = (ys + 0.5) / sh * 2.0 - 1.0
    a = np.stack([xn**i * yn**j for i, j in terms], axis=1)  # (N, T)

    # robust start: least trimmed squares (C-steps on the best half) from three starts: the plain
    # least-squares fit, the per-channel median and a least-median-of-squares fit to tile medians
    # (random minimal subsets); the lowest trimmed cost wins. A large changed patch (up to ~40 %
    # of the samples) cannot pull it, whereas plain IRLS from a bent start settles on a compromise
    starts = [_lstsq(a, r), np.zeros((3, len(terms))), _lmeds_tiles(xn, yn, r, terms)]
    starts[1][:, 0] = np.median(r, axis=0)
    fits = [_lts(a, r, s0) for s0 in starts if s0 is not None]
    coef = min(fits, key=lambda cf: _trimmed_cost(a, r, cf))
    # then Tukey-biweight IRLS for efficiency on the inliers
    weights = np.ones(len(r))
    sigma = 0.0
    for _ in range(max(1, iterations)):
        res = r - a @ coef.T
        dev = _max_abs3(res)
        sigma = max(1.4826 * float(np.median(dev)), 0.004)
        u = dev / (4.685 * sigma)
        weights = np.where(u < 1.0, (1.0 - u * u) ** 2, 0.0)
        if weights.sum() < 4 * len(terms):
            break
        coef = _lstsq(a, r, weights)
    return IlluminationModel(coef, degree, (h, w), float(np.mean(weights > 0)), float(sigma))


def _max_abs3(x: np.ndarray) -> np.ndarray:
    """Largest absolute value over the last axis of length 3: ``np.max(np.abs(x), axis=-1)``, the
    same values, without numpy's slow reduction over a 3-long inner axis."""
    a = np.abs(x)
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])


def _lstsq(a: np.ndarray, r: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(3, T) coefficients of the (weighted) least-squares fit of r (N, 3) on the basis a (N, T)."""
    aw = a if weights is None else a * weights[:, None]
    return np.linalg.solve(aw.T @ a + 1e-9 * np.eye(a.shape[1]), aw.T @ r).T


def _trimmed_cost(a: np.ndarray, r: np.ndarray, coef: np.ndarray, keep: float = 0.5) -> float:
    dev = _max_abs3(r - a @ coef.T)
    k = max(1, int(keep * len(dev)))
    return float(np.sum(np.partition(dev, k - 1)[:k] ** 2))


def _lts(a: np.ndarray, r: np.ndarray, coef: np.ndarray, keep: float = 0.5, steps: int = 10) -> np.ndarray:
    """Least-trimmed-squares concentration steps: refit on the ``keep`` best-fitting samples."""
    k = max(a.shape[1] * 2, int(keep * len(r)))
    prev = None
    for _ in range(steps):
        dev = _max_abs3(r - a @ coef.T)
        idx = np.argpartition(dev, k - 1)[:k]
        key = np.sort(idx)
        if prev is not None and np.array_equal(key, prev):
            break
        prev = key
        coef = _lstsq(a[idx], r[idx])
    return coef


def _tile_medians(v: np.ndarray, tile: np.ndarray, counts: np.ndarray, used: np.ndarray) -> np.ndarray:
    """``np.median`` of ``v`` within each ``used`` tile (in tile order), from one sort of all values."""
    sv = v[np.lexsort((v, tile))]
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))[used]
    c = counts[used]
    hi = sv[start + c // 2]
    lo = sv[start + (c - 1) // 2]  # the same element when the count is odd
    return np.where(c % 2 == 1, hi, (lo + hi) / 2.0)


def _lmeds_tiles(
    xn: np.ndarray,
    yn: np.ndarray,
    r: np.ndarray,
    terms: list[tuple[int, int]],
    grid: int = 10,
    trials: int = 400,
) -> np.ndarray | None:
    """Least-median-of-squares polynomial through per-tile median log-ratios (seeded, deterministic).

    Tiles make the spatial compactness of pigment patches work for us: a patch spoils a few tiles,
    and random minimal subsets of clean tiles find the light's field.
    """
    tx = np.clip(((xn + 1.0) / 2.0 * grid).astype(int), 0, grid - 1)
    ty = np.clip(((yn + 1.0) / 2.0 * grid).astype(int), 0, grid - 1)
    tile = ty * grid + tx
    counts = np.bincount(tile, minlength=grid * grid)
    used = counts >= 5
    n_terms = len(terms)
    if int(used.sum()) < 2 * n_terms:
        return None
    cx_a, cy_a = _tile_medians(xn, tile, counts, used), _tile_medians(yn, tile, counts, used)
    m = np.stack([_tile_medians(r[:, c], tile, counts, used) for c in range(r.shape[1])], axis=1)
    basis = np.stack([cx_a**i * cy_a**j for i, j in terms], axis=1)
    rng = np.random.default_rng(12345)
    picks = np.argsort(rng.random((trials, len(m))), axis=1)[:, :n_terms]  # distinct tiles per trial
    subs = basis[picks]  # (T, n, n)
    scale = np.abs(subs).max(axis=(1, 2)) ** n_terms
    ok = np.abs(np.linalg.det(subs)) > 1e-9 * np.maximum(scale, 1e-12)
    if not ok.any():
        return None
    coefs = np.linalg.solve(subs[ok], m[picks[ok]])  # (T', n, 3)
    dev = _max_abs3(m[None] - basis[None] @ coefs)  # (T', tiles)
    best = coefs[int(np.argmin(np.median(dev, axis=1)))].T
    return best
