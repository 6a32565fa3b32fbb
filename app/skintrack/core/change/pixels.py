"""Pixel plumbing shared by the measurement steps: fast sRGB tables, resizing, masks, highlights."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.change.settings import HIGHLIGHT_L

_LUT_N = 65536
_SRGB_LUT: np.ndarray | None = None
_ENC_LUT: np.ndarray | None = None
_ENC8_LUT: np.ndarray | None = None


def srgb_to_linear_fast(rgb: np.ndarray) -> np.ndarray:
    """sRGB -> linear float32 via a 16-bit table (exact to 1/65535; several times faster)."""
    global _SRGB_LUT
    if _SRGB_LUT is None:
        _SRGB_LUT = colour.srgb_to_linear(np.linspace(0.0, 1.0, _LUT_N)).astype(np.float32)
    a = np.asarray(rgb)
    if a.dtype == np.uint8:
        if a.ndim == 3 and a.shape[2] <= 4:  # one GIL-free pass over the photo, the same values
            return cv2.LUT(a, _SRGB_LUT[np.arange(256, dtype=np.uint16) * np.uint16(257)])
        return _SRGB_LUT[a.astype(np.uint16) * np.uint16(257)]
    idx = a.astype(np.float32) * np.float32(_LUT_N - 1)
    idx += np.float32(0.5)
    np.clip(idx, 0, _LUT_N - 1, out=idx)
    return _SRGB_LUT[idx.astype(np.uint16)]


def linear_to_srgb_fast(linear: np.ndarray) -> np.ndarray:
    """Linear -> sRGB float32 0..1 (clipped) via a 16-bit table: < 3e-4 error, for display."""
    global _ENC_LUT
    if _ENC_LUT is None:
        _ENC_LUT = colour.linear_to_srgb(np.linspace(0.0, 1.0, _LUT_N)).astype(np.float32)
    return _ENC_LUT[_enc_index(linear)]


def _enc_index(linear: np.ndarray) -> np.ndarray:
    idx = np.asarray(linear, np.float32) * np.float32(_LUT_N - 1)
    idx += np.float32(0.5)
    np.clip(idx, 0, _LUT_N - 1, out=idx)
    return idx.astype(np.uint16)


def linear_to_srgb_u8(linear: np.ndarray) -> np.ndarray:
    """Linear -> 8-bit sRGB: ``linear_to_srgb_fast(x) * 255 + 0.5`` truncated, in one table look-up."""
    global _ENC8_LUT
    if _ENC8_LUT is None:
        linear_to_srgb_fast(np.zeros(1, np.float32))
        assert _ENC_LUT is not None
        _ENC8_LUT = (_ENC_LUT * np.float32(255.0) + np.float32(0.5)).astype(np.uint8)
    return _ENC8_LUT[_enc_index(linear)]


def cbrt32(x: np.ndarray) -> np.ndarray:
    """Cube root of a non-negative float32 array, ~10x faster than ``np.cbrt`` (error < 2e-7)."""
    a = np.ascontiguousarray(x, np.float32)
    if a.ndim > 3 or a.size == 0 or (a.ndim == 3 and a.shape[2] > 4):
        return np.cbrt(a)
    return cv2.pow(a, 1.0 / 3.0)


_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def linear_to_lab32(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (H, W, 3) -> CIELAB (D65), float32: ``colour.linear_to_lab`` of the input clipped
    at 1e-5, with the cube root of :func:`cbrt32` (L* within 1e-4 of it, at a sixth of the cost)."""
    xyz = colour.linear_to_xyz(np.maximum(np.asarray(linear, np.float32), np.float32(1e-5)))
    xyz *= (1.0 / colour.D65_WHITE).astype(np.float32)
    low = xyz <= _EPS
    t_low = xyz[low] if low.any() else None
    f = cbrt32(xyz)
    del xyz  # one frame fewer while the Lab frame is made: both photos are converted at once
    if t_low is not None:
        f[low] = (_KAPPA * t_low + 16.0) / 116.0
    out = cv2.transform(f, _F_TO_LAB32) if f.ndim == 3 else f @ _F_TO_LAB32.T
    out[..., 0] -= np.float32(16.0)
    return out


_F_TO_LAB32 = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]], np.float32)


def resize(img: np.ndarray, size: tuple[int, int], interp: int) -> np.ndarray:
    """``cv2.resize`` to ``size`` = (width, height) that returns the input when it already fits."""
    if (img.shape[1], img.shape[0]) == tuple(size):
        return img
    return cv2.resize(img, size, interpolation=interp)


def to_analysis_linear(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Linear RGB at analysis ``size``, area-averaged in linear light.

    Inputs more than twice the analysis size are area-reduced in sRGB before linearising: the
    gamma error of averaging small blocks of skin texture is a small bias shared by both photos
    (it cancels in ΔL*), and it keeps a 12 MP compare fast.
    """
    a = np.asarray(rgb)
    w, h = size
    if a.shape[1] > 2 * w and a.shape[0] > 2 * h:
        return srgb_to_linear_fast(cv2.resize(a, size, interpolation=cv2.INTER_AREA))
    return resize(srgb_to_linear_fast(a), size, cv2.INTER_AREA)


def highlights(lin: np.ndarray) -> np.ndarray:
    """Specular reflections that are not clipped: brighter than the surrounding skin and whiter.

    They belong to the light, not to the skin, and move between photos; a highlight in the
    reference would otherwise read as "darkening" in every later photo. The channels are split
    into contiguous planes first: every step below is then one fast pass.
    """
    r, g, b = cv2.split(np.ascontiguousarray(lin, np.float32))
    term = g * 0.7152  # in place below: a photo's planes, not a dozen temporaries at once
    luminance = r * 0.2126
    luminance += term
    np.multiply(b, 0.0722, out=term)
    luminance += term
    np.clip(luminance, 0.008856, None, out=luminance)
    light = cbrt32(luminance)
    light *= 116.0
    light -= 16.0  # L* (exact above L* = 8)
    top = np.maximum(r, g, out=luminance)
    np.maximum(top, b, out=top)
    saturation = np.minimum(r, g, out=term)
    np.minimum(saturation, b, out=saturation)
    np.subtract(top, saturation, out=saturation)
    saturation /= np.maximum(top, np.float32(1e-4), out=top)
    del r, g, b
    kernel = max(15, round(max(lin.shape[:2]) * 0.02)) | 1
    light8 = np.clip(light * 2.55, 0, 255).astype(np.uint8)
    sat8 = np.clip(saturation * 255, 0, 255).astype(np.uint8)
    # both backgrounds in one median pass (OpenCV filters the channels of one image together)
    background = local_median(cv2.merge([light8, sat8, sat8]), kernel)
    brighter = light8.astype(np.int16) - background[..., 0] > HIGHLIGHT_L * 2.55
    whiter = sat8.astype(np.float32) < 0.8 * background[..., 1]
    return brighter & whiter


def local_median(img8: np.ndarray, kernel: int) -> np.ndarray:
    """The surrounding skin's median over ``kernel`` px: the background a highlight stands out from.

    Large kernels are taken at half resolution and interpolated back (the background is smooth),
    which is four times cheaper than a full-size median of the same reach. ``img8``: uint8 with
    1, 3 or 4 channels, each filtered on its own.
    """
    h, w = img8.shape[:2]
    if kernel < 31 or min(h, w) < 64:
        return cv2.medianBlur(img8, kernel)
    half = cv2.resize(img8, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.medianBlur(half, (kernel // 2) | 1), (w, h), interpolation=cv2.INTER_LINEAR)


def as_mask(m: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """Any mask-like (bool/uint8/float, 2D or 3D) as bool of ``shape`` (None stays None)."""
    if m is None:
        return None
    a = np.asarray(m)
    if a.ndim == 3:
        a = a.max(axis=2)
    b = a > (127 if a.dtype == np.uint8 and a.max() > 1 else 0)
    if b.shape != shape:
        b = cv2.resize(b.astype(np.uint8) * 255, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 127
    return b


def down_mask(m: np.ndarray, size: tuple[int, int], strict: bool) -> np.ndarray:
    """Bool mask to analysis size; ``strict`` keeps only pixels fully inside (for the overlap)."""
    if (m.shape[1], m.shape[0]) == tuple(size):
        return m
    f = cv2.resize(m.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA)
    return f >= 255 if strict else f > 127


def rounded(v: float | None, nd: int = 3) -> float | None:
    """``v`` rounded for JSON, None for None, NaN and infinities."""
    if v is None:
        return None
    f = float(v)
    return None if not np.isfinite(f) else round(f, nd)
