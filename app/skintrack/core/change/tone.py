"""A phone's tone curve and saturation between two shots: a low-order colour transform, fitted robustly.

Phones apply their own tone curve and saturation to every shot; a smooth illumination field cannot
remove that. After the field, each channel of the later photo is mapped to the reference by

    ref_c - later_c = a_c + Σ_d m_cd·u_d + q_c·u_c² + k_c·u_c³,     u_d = later_d - median

on sRGB-encoded values (where phones apply their curves): the cross terms model a saturation
change, the quadratic and cubic terms an S-curve (a smoothstep S-curve is exactly cubic). It is
a function of colour only, never of position, so it cannot paint or erase a local patch; and it
is fitted by least trimmed squares then Tukey-biweight IRLS on reliable skin, so a darkened patch
(a minority of the pixels) has no weight. It is used only when it makes the unchanged skin match
markedly better (model selection, ``ChangeSettings.tone_min_gain``); otherwise the field alone is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skintrack.core.change.pixels import linear_to_srgb_fast, srgb_to_linear_fast
from skintrack.core.change.settings import ChangeSettings

SAMPLES = 12_000  # pixels drawn (seeded) from the fit mask
MIN_GAIN = ChangeSettings().tone_min_gain  # the default share the residual spread must fall by
MIN_SAMPLES = 500


@dataclass
class ToneMapping:
    """Per-channel coefficients on [1, u_R, u_G, u_B, u_c², u_c³] (``cross`` False: u_c only)."""

    coefficients: np.ndarray  # (3, 6)
    centre: np.ndarray  # (3,) median sRGB value of the later photo's fit pixels
    cross: bool
    spread_before: float  # robust spread of the residual on unchanged skin, without / with
    spread_after: float
    low: np.ndarray | None = None  # (3,) fitted range of u per channel: held constant outside it
    high: np.ndarray | None = None

    def apply(self, lin: np.ndarray) -> np.ndarray:
        """The later photo (linear RGB, any size) mapped into the reference's tone and saturation."""
        enc = linear_to_srgb_fast(lin)
        u = enc - self.centre.astype(np.float32)
        if self.low is not None and self.high is not None:
            u = np.clip(u, self.low.astype(np.float32), self.high.astype(np.float32))
        out = np.empty_like(enc)
        for c in range(3):
            out[..., c] = enc[..., c] + _terms(u, c, self.cross) @ self.coefficients[c].astype(np.float32)
        return srgb_to_linear_fast(out)

    def supported(self, lin: np.ndarray) -> np.ndarray:
        """(H, W) bool: the later photo's colour (linear RGB, before :meth:`apply`) lies inside the
        range the mapping was fitted on. Outside it the mapping is held constant, an extrapolation
        whose error the unchanged skin never measured."""
        if self.low is None or self.high is None:
            return np.ones(lin.shape[:2], bool)
        u = linear_to_srgb_fast(lin) - self.centre.astype(np.float32)
        inside = (u >= self.low.astype(np.float32)) & (u <= self.high.astype(np.float32))
        return inside[..., 0] & inside[..., 1] & inside[..., 2]

    def describe(self) -> dict[str, object]:
        """For the result's ``normalisation``: what was fitted and how much it helped."""
        return {
            "kind": "per-channel tone curve (cubic in log) with channel cross terms"
            if self.cross
            else "per-channel tone curve (cubic in log)",
            "domain": "sRGB-encoded",
            "residual_spread_before": round(self.spread_before, 4),
            "residual_spread_after": round(self.spread_after, 4),
        }


def _terms(u: np.ndarray, c: int, cross: bool) -> np.ndarray:
    """(..., 6) basis for channel c; without cross terms the other channels' columns are zero."""
    uc = u[..., c]
    cols = [np.ones_like(uc)]
    cols += [u[..., d] if (cross or d == c) else np.zeros_like(uc) for d in range(3)]
    cols += [uc * uc, uc * uc * uc]
    return np.stack(cols, axis=-1)


def _solve(a: np.ndarray, r: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted least squares by the normal equations (a few columns: cheap and exact enough)."""
    aw = a if w is None else a * w[:, None]
    return np.linalg.solve(aw.T @ a + 1e-9 * np.eye(a.shape[1]), aw.T @ r)


def _robust_fit(a: np.ndarray, r: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, float]:
    """Coefficients and robust residual spread: LTS (best half, from least squares) then Tukey IRLS."""
    cols = np.flatnonzero(np.abs(a).sum(axis=0) > 0)
    coef = np.zeros(a.shape[1])
    sub = a[:, cols]
    c = _solve(sub, r)
    keep = max(4 * len(cols), len(r) // 2)
    prev = None
    for _ in range(8):
        idx = np.sort(np.argpartition(np.abs(r - sub @ c), keep - 1)[:keep])
        if prev is not None and np.array_equal(idx, prev):
            break
        prev = idx
        c = _solve(sub[idx], r[idx])
    for _ in range(iterations):
        res = r - sub @ c
        sigma = max(1.4826 * float(np.median(np.abs(res))), 1e-3)
        t = res / (4.685 * sigma)
        w = np.where(np.abs(t) < 1.0, (1.0 - t * t) ** 2, 0.0)
        if w.sum() < 4 * len(cols):
            break
        c = _solve(sub, r, w)
    coef[cols] = c
    res = r - sub @ c
    return coef, 1.4826 * float(np.median(np.abs(res - np.median(res))))


def fit_tone(
    ref: np.ndarray,
    later: np.ndarray,
    fit: np.ndarray,
    usable: np.ndarray,
    seed: int = 0,
    min_gain: float = MIN_GAIN,
) -> ToneMapping | None:
    """Fit :class:`ToneMapping` from ``later`` to ``ref`` (linear RGB) on skin pixels ``fit`` (H, W)
    whose channels are ``usable`` (H, W, 3) in both photos.

    Returns None when there are too few samples or when the transform does not improve the match
    of unchanged skin by ``min_gain``. When fewer than half the skin pixels have every channel, each
    channel is fitted alone on the pixels where it is usable (no cross terms).
    """
    all_ok = (fit & usable[..., 0] & usable[..., 1] & usable[..., 2]).ravel()
    any_ok = fit & (usable[..., 0] | usable[..., 1] | usable[..., 2])
    cross = int(all_ok.sum()) >= max(MIN_SAMPLES, 0.5 * int(any_ok.sum()))
    rng = np.random.default_rng(seed)
    flat_ref, flat_later = ref.reshape(-1, 3), later.reshape(-1, 3)
    picks = []
    for c in range(3):
        ok = all_ok if cross else (fit & usable[..., c]).ravel()
        idx = np.flatnonzero(ok)
        if len(idx) < MIN_SAMPLES:
            return None
        picks.append(np.sort(rng.choice(idx, min(SAMPLES, len(idx)), replace=False)))
    centre = np.array([np.median(linear_to_srgb_fast(flat_later[p, c])) for c, p in enumerate(picks)])
    coefs = np.zeros((3, 6))
    low, high = np.full(3, np.inf), np.full(3, -np.inf)
    before = after = 0.0
    for c, idx in enumerate(picks):
        lr, ll = linear_to_srgb_fast(flat_ref[idx]), linear_to_srgb_fast(flat_later[idx])
        for d in range(3) if cross else (c,):
            lo, hi = np.percentile(ll[:, d] - centre[d], [0.5, 99.5])
            low[d], high[d] = min(low[d], lo), max(high[d], hi)
        r = lr[:, c] - ll[:, c]
        coefs[c], spread = _robust_fit(_terms(ll - centre, c, cross), r)
        before += 1.4826 * float(np.median(np.abs(r - np.median(r))))
        after += spread
    if after > (1.0 - min_gain) * before:
        return None
    return ToneMapping(coefs, centre, bool(cross), before / 3.0, after / 3.0, low, high)
