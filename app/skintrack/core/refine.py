"""Bounded dense refinement of an aligned later photo onto the reference (curved skin).

A homography is exact for a flat patch; a forearm or a cheek bends and moves a little between
photos, and the residual misregistration (1-3 px) paints false edges into a ΔL* map. After the
homography this step estimates a smooth displacement field and resamples the later photo with it:

1. Lightness (CIELAB L*) of both photos at a working size (``work_side`` px), high-passed
   (L* minus a Gaussian blur of ``highpass_sigma``) and contrast-normalised: the texture of the
   skin, without lighting, tone curve or any change of colour over an area.
2. DIS optical flow (OpenCV, reference -> later) on those texture images.
3. The field is smoothed (confidence-weighted Gaussian of ``smooth_fraction`` of the long side)
   and capped at ``max_shift_px`` (full-resolution px): skin bends smoothly, and a displacement
   cannot make an area darker, so a local darkening stays (the smoothing stops the field from
   shrinking a patch; the high-pass hides the patch's darkness from the flow in the first place).
4. It is kept only where it improves the match: the local texture residual before and after is
   compared, and the field fades to zero where the residual did not drop by ``min_gain``. When
   the whole-image residual does not improve, or the field is negligible (95th percentile below
   ``min_p95_px``), nothing is applied and the later photo is returned unchanged.

The displacement magnitude (median / 95th percentile / max, full-resolution px) is reported so the
alignment JSON can say how much the skin was bent into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from skintrack.core.align import lightness


@dataclass(frozen=True)
class RefineSettings:
    max_shift_px: float = 3.0  # cap on the displacement (full-resolution px)
    work_side: int = 800  # long side of the flow images (px)
    highpass_sigma: float = 4.0  # px at working size: texture, not lighting or colour over areas
    smooth_fraction: float = 1.0 / 40.0  # Gaussian sigma of the field, share of the long side
    min_gain: float = 0.05  # relative drop of the local residual needed to keep the field
    min_p95_px: float = 0.25  # below this the field is noise: nothing is applied


@dataclass
class Refinement:
    """The refined later photo (reference geometry, input dtype), its valid mask, the field applied
    (H, W, 2 float32, full-res px: later is sampled at x + flow(x)) and its magnitude.

    ``image`` is resampled on first use: a caller that bends its own copy of the photo with
    ``flow`` (the measurement bends linear RGB) pays nothing for it.
    """

    source: np.ndarray = field(repr=False)  # the later photo as given
    valid: np.ndarray = field(repr=False)
    flow: np.ndarray = field(repr=False)
    applied: bool
    median_px: float
    p95_px: float
    max_px: float
    residual_gain: float  # relative drop of the texture residual over the valid area
    message: str = ""

    @cached_property
    def image(self) -> np.ndarray:
        return _remap(self.source, self.flow, cv2.INTER_LINEAR) if self.applied else self.source

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": bool(self.applied),
            "median_px": round(float(self.median_px), 3),
            "p95_px": round(float(self.p95_px), 3),
            "max_px": round(float(self.max_px), 3),
            "residual_gain": round(float(self.residual_gain), 4),
            "message": self.message,
        }


def _texture(light: np.ndarray, valid: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """High-pass L* inside ``valid`` (normalised convolution, so the border of the overlap makes no
    edge; 0 outside), in units of its robust spread: as 8 bits for DIS, and as float."""
    v = valid.astype(np.float32)
    local = cv2.GaussianBlur(light * v, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(v, (0, 0), sigma), 1e-3)
    hp = np.where(valid, light - local, 0.0).astype(np.float32)
    sample = hp[::3, ::3][valid[::3, ::3]]
    if sample.size < 100:
        sample = hp.ravel()
    spread = max(1e-3, 1.4826 * float(np.median(np.abs(sample - np.median(sample)))))
    hp /= spread
    return np.clip(128.0 + hp * 32.0, 0, 255).astype(np.uint8), hp


def _smooth(field: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: a Gaussian average of ``field`` weighted by ``weight``."""
    w = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), sigma)
    out = np.empty_like(field)
    for c in range(field.shape[2]):
        out[..., c] = cv2.GaussianBlur(field[..., c] * weight, (0, 0), sigma) / np.maximum(w, 1e-6)
    return out


def _remap(img: np.ndarray, flow: np.ndarray, interpolation: int) -> np.ndarray:
    """``img`` sampled at x + flow(x); the map is built in place on one grid (no meshgrid pair)."""
    h, w = flow.shape[:2]
    maps = np.empty((h, w, 2), np.float32)
    maps[..., 0] = np.arange(w, dtype=np.float32)
    maps[..., 1] = np.arange(h, dtype=np.float32)[:, None]
    maps += flow
    return cv2.remap(img, maps, None, interpolation, borderMode=cv2.BORDER_REPLICATE)


def _unchanged(later: np.ndarray, valid: np.ndarray, gain: float, message: str) -> Refinement:
    h, w = later.shape[:2]
    return Refinement(later, valid, np.zeros((h, w, 2), np.float32), False, 0.0, 0.0, 0.0, gain, message)


def refine(
    reference: np.ndarray,
    later_warped: np.ndarray,
    valid: np.ndarray,
    *,
    ignore: np.ndarray | None = None,
    settings: RefineSettings | None = None,
) -> Refinement:
    """Bend ``later_warped`` (already in reference geometry) onto ``reference`` within the cap.

    ``valid`` marks pixels both photos cover; ``ignore`` (optional) marks pixels that must not
    steer the field (glints, hair, a card) although they are still resampled.
    """
    s = settings or RefineSettings()
    h, w = reference.shape[:2]
    valid = np.asarray(valid, bool)
    if later_warped.shape[:2] != (h, w) or valid.shape != (h, w):
        raise ValueError("reference, later photo and valid mask must have the same size")
    if valid.sum() < 1000:
        return _unchanged(later_warped, valid, 0.0, "overlap too small to refine")
    f = min(1.0, s.work_side / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    fx, fy = size[0] / w, size[1] / h

    def small(img: np.ndarray) -> np.ndarray:
        return img if f == 1.0 else cv2.resize(img, size, interpolation=cv2.INTER_AREA)

    ok = valid if ignore is None else valid & ~np.asarray(ignore, bool)
    ok_s = cv2.erode((small(ok.astype(np.uint8) * 255) > 254).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # the field is trusted away from the border of the overlap only (DIS cannot see past it)
    margin = 2 * round(2 * s.highpass_sigma) + 1
    inner = cv2.erode(ok_s.astype(np.uint8), np.ones((margin, margin), np.uint8)) > 0
    if inner.sum() < 500:
        return _unchanged(later_warped, valid, 0.0, "overlap too small to refine")
    ref_u8, ref_t = _texture(lightness(small(reference)), ok_s, s.highpass_sigma)
    lat_u8, lat_t = _texture(lightness(small(later_warped)), ok_s, s.highpass_sigma)

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    flow = dis.calc(ref_u8, lat_u8, None).astype(np.float32)  # reference(x) ~ later(x + flow)
    # the field is smooth: it is smoothed, tested and capped on a grid 4x coarser
    grid = (max(1, size[0] // 4), max(1, size[1] // 4))

    def coarse(img: np.ndarray) -> np.ndarray:
        return cv2.resize(img, grid, interpolation=cv2.INTER_AREA)

    sigma = max(1.0, s.smooth_fraction * max(grid))
    ok_c = coarse(inner.astype(np.float32))
    field = _smooth(coarse(flow), ok_c, sigma)
    cap = s.max_shift_px * f
    length = np.sqrt((field**2).sum(axis=2))
    field *= np.minimum(1.0, cap / np.maximum(length, 1e-6))[..., None]

    def residual(moved: np.ndarray) -> np.ndarray:
        d = coarse(np.where(inner, (ref_t - moved) ** 2, 0.0).astype(np.float32))
        return cv2.GaussianBlur(d, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(ok_c, (0, 0), sigma), 1e-6)

    def upsampled(c: np.ndarray) -> np.ndarray:
        return cv2.resize(c, size, interpolation=cv2.INTER_LINEAR)

    before = residual(lat_t)
    after = residual(_remap(lat_t, upsampled(field), cv2.INTER_LINEAR))
    gain_map = (before - after) / np.maximum(before, 1e-6)
    keep = cv2.GaussianBlur(np.clip(gain_map / s.min_gain - 1.0, 0.0, 1.0).astype(np.float32), (0, 0), sigma)
    field *= keep[..., None]
    flow = upsampled(field)
    after = residual(_remap(lat_t, flow, cv2.INTER_LINEAR))
    inside = ok_c > 0.99
    if not inside.any():
        return _unchanged(later_warped, valid, 0.0, "overlap too small to refine")
    total_before = float(before[inside].mean())
    gain = (total_before - float(after[inside].mean())) / max(total_before, 1e-9)

    full = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) if f != 1.0 else flow
    full[..., 0] /= fx
    full[..., 1] /= fy
    full[~valid] = 0.0
    mag = np.sqrt((full[::2, ::2] ** 2).sum(axis=2))[valid[::2, ::2]]
    p95 = float(np.percentile(mag, 95)) if mag.size else 0.0
    if gain <= 0.0:
        return _unchanged(later_warped, valid, gain, "dense refinement did not improve the match")
    if p95 < s.min_p95_px:
        return _unchanged(later_warped, valid, gain, f"residual misregistration negligible ({p95:.2f} px)")
    moved_valid = _remap(valid.astype(np.uint8), full, cv2.INTER_NEAREST) > 0
    out_valid = valid & moved_valid
    median, peak = float(np.median(mag)), float(mag.max()) if mag.size else 0.0
    message = f"skin bent into place by {median:.2f} px median, {p95:.2f} px p95 (max {peak:.2f})"
    return Refinement(later_warped, out_valid, full, True, median, p95, peak, gain, message)
