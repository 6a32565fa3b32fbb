"""The smooth illumination field between two photos: a per-channel low-order log-gain polynomial,
fitted robustly (tile medians, least median of squares, then trimmed least squares) on linear RGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FloatArray = np.ndarray


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
        The polynomial is separable, Σ_j y^j (Σ_i c_ij x^i), so the whole interleaved field is one
        (H, J) x (J, 3W) matrix product: one pass over the output instead of one per term.
        """
        h, w = shape or self.shape
        x = _norm_coords(w)
        y = _norm_coords(h)
        powers = range(self.degree + 1)
        rows = np.zeros((self.degree + 1, w, 3))  # rows[j, :, c] = Σ_i c_ij x^i
        for k, (i, j) in enumerate(_poly_terms(self.degree)):
            rows[j] += np.outer(x**i, self.coefficients[:, k])
        y_powers = np.stack([y**j for j in powers], axis=1).astype(np.float32)  # (H, J)
        field = y_powers @ rows.reshape(self.degree + 1, 3 * w).astype(np.float32)
        return field.reshape(h, w, 3)

    def gain(self, shape: tuple[int, int]) -> FloatArray:
        """exp(-field): the (H, W, 3) float32 factor that divides the illumination out."""
        g = self.log_gain(shape)
        np.negative(g, out=g)
        return np.exp(g, out=g)

    def apply(self, mov_linear: FloatArray) -> FloatArray:
        """Divide the fitted illumination out of ``mov_linear`` (any size: the field is rescaled).

        Above 4 MP (display-size renders, not measurements) the smooth field is evaluated on a grid
        1/8 the size and interpolated: relative error < 1e-3 (~0.03 L*), only at the frame edges.
        """
        h, w = mov_linear.shape[:2]
        if h * w > 4_000_000:
            small = (max(2, h // 8), max(2, w // 8))
            g = cv2.resize(self.gain(small), (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            g = self.gain((h, w))
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
