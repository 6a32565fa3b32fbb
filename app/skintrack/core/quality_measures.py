"""The raw measurements behind the capture-quality checks: small pure functions, one per defect.

Each function takes prepared working images (see :mod:`skintrack.core.quality`) and returns plain
numbers; judging them against thresholds and wording advice happens in ``quality``. Units are in
each docstring. All of them run on downscaled images so that a whole assessment stays within a
few tens of milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

CLIP_LEVEL = 250  # 8-bit value at or above which a channel is taken as clipped
CRUSH_LEVEL = 12  # 8-bit value at or below which every channel of a pixel is crushed shadow
MAX_BLUR = 10.0  # px: the blur index of a featureless image
CHANNELS = ("red", "green", "blue")


def to_u8(rgb: np.ndarray) -> np.ndarray:
    """An 8-bit RGB view of an sRGB image given as uint8 or float 0..1."""
    arr = np.asarray(rgb)[..., :3]
    if arr.dtype == np.uint8:
        return arr
    return np.clip(arr.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def resize_long(img: np.ndarray, side: int) -> np.ndarray:
    """Area-averaged downscale so the long side is at most ``side`` px (never upscales)."""
    h, w = img.shape[:2]
    if max(h, w) <= side:
        return img
    f = side / max(h, w)
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def channel_max(rgb_u8: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over R, G, B (uint8); numpy's reduction over a 3-long axis is slow."""
    return cv2.max(cv2.max(rgb_u8[..., 0], rgb_u8[..., 1]), rgb_u8[..., 2])


def channel_min(rgb_u8: np.ndarray) -> np.ndarray:
    """Per-pixel minimum over R, G, B (uint8)."""
    return cv2.min(cv2.min(rgb_u8[..., 0], rgb_u8[..., 1]), rgb_u8[..., 2])


def reduce_integer(img: np.ndarray, side: int) -> np.ndarray:
    """Downscale by the smallest whole factor that brings the long side to at most ``side`` px.

    OpenCV's area averaging has a fast path for whole factors (about 3x faster on a 12 MP photo
    than an arbitrary ratio), and the exact size does not matter to the checks.
    """
    long_side = max(img.shape[:2])
    k = -(-long_side // side)
    if k <= 1:
        return img
    return cv2.resize(img, None, fx=1.0 / k, fy=1.0 / k, interpolation=cv2.INTER_AREA)


def skin_mask(rgb_u8: np.ndarray) -> np.ndarray:
    """Pixels that may be skin (or clipped skin): a lenient colour rule, True = use.

    Skin of every tone has R >= G >= B within a few units and is redder than it is blue once white
    balance is near right; white (clipped) pixels pass too, so overexposed skin is still counted.
    Backgrounds that fail the rule (a blue wall, a green sleeve) are left out. When fewer than
    20 % of the pixels pass (odd white balance, an unusual scene) the whole frame is used
    instead, so nothing is silently skipped.
    """
    r = rgb_u8[..., 0].astype(np.int16)
    g = rgb_u8[..., 1].astype(np.int16)
    b = rgb_u8[..., 2].astype(np.int16)
    mask = ((r >= g - 6) & (g >= b - 12) & (r - b >= 8) & (r > 35)) | (channel_min(rgb_u8) >= 240)
    if mask.mean() < 0.2:
        return np.ones(mask.shape, bool)
    return mask


def clipped_fractions(rgb_u8: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    """Fraction (0..1) of the masked pixels at or above CLIP_LEVEL, per channel (R, G, B)."""
    n = max(1, int(mask.sum()))
    return tuple(float(np.count_nonzero((rgb_u8[..., c] >= CLIP_LEVEL) & mask)) / n for c in range(3))  # type: ignore[return-value]


def crushed_fraction(rgb_u8: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Fraction (0..1) of pixels whose brightest channel is at or below CRUSH_LEVEL (lost shadow)."""
    dark = channel_max(rgb_u8) <= CRUSH_LEVEL
    if mask is None:
        return float(dark.mean())
    return float(np.count_nonzero(dark & mask)) / max(1, int(mask.sum()))


def median_lightness(light: np.ndarray, mask: np.ndarray) -> float:
    """Median CIELAB L* (0..100) of the masked pixels."""
    values = light[mask]
    return float(np.median(values)) if values.size else float(np.median(light))


def _laplacian_energy(light: np.ndarray, sigma: float) -> float:
    blurred = cv2.GaussianBlur(light, (0, 0), sigma)
    return float(cv2.Laplacian(blurred, cv2.CV_32F, ksize=1).var())


def blur_sigma(light: np.ndarray, px_scale: float = 1.0) -> float:
    """Blur index of a lightness image, in px (Gaussian sigma equivalent; larger is blurrier).

    For texture with a flat spectrum, the Laplacian energy after a Gaussian blur of total width s
    falls as s^-6. Re-blurring by 1 px and by 2 px (which also drowns sensor noise) gives
    r = E(1) / E(2) = ((b² + 4) / (b² + 1))³ for an existing blur b, solved here for b and
    multiplied by ``px_scale`` (to state it in the pixels of a larger image). Skin is not
    flat-spectrum, so a sharp photo does not read 0: the value is an index that grows
    monotonically with blur and barely with content or exposure, not an optical measurement.
    """
    e1 = _laplacian_energy(light, 1.0)
    e2 = _laplacian_energy(light, 2.0)
    if e1 <= 1e-12 or e2 <= 1e-12:
        return MAX_BLUR
    q = (e1 / e2) ** (1.0 / 3.0)
    if q <= 1.0 + 1e-6:
        return MAX_BLUR
    return float(min(MAX_BLUR, px_scale * math.sqrt(max(0.0, (4.0 - q) / (q - 1.0)))))


def glare_fraction(rgb_u8: np.ndarray, light: np.ndarray, mask: np.ndarray) -> float:
    """Fraction (0..1) of the masked pixels that are specular highlights.

    A highlight is nearly white (brightest channel >= 235, saturation < 0.25) and stands out from
    its surroundings by more than 12 L* units (local mean over ~3 % of the frame), so evenly bright
    pale skin is not taken for glare.
    """
    mx = channel_max(rgb_u8).astype(np.float32)
    mn = channel_min(rgb_u8).astype(np.float32)
    sat = (mx - mn) / np.maximum(mx, 1.0)
    h, w = light.shape[:2]
    coarse = resize_long(light, 64)  # local mean over ~3 % of the frame, computed small
    local = cv2.resize(cv2.GaussianBlur(coarse, (0, 0), 2.0), (w, h), interpolation=cv2.INTER_LINEAR)
    glare = (mx >= 235) & (sat < 0.25) & (light - local > 12.0)
    return float(np.count_nonzero(glare & mask)) / max(1, int(mask.sum()))


@dataclass(frozen=True)
class Gradient:
    """A plane fitted to log2 luminance: ``stops`` from the darkest to the brightest frame edge."""

    stops: float
    angle_deg: float  # direction towards the brighter side: 0 = right, 90 = down (image axes)


def lighting_gradient(rgb_u8: np.ndarray, mask: np.ndarray) -> Gradient:
    """Illumination gradient across the frame, in photographic stops (log2 of a brightness ratio).

    Fits log2(Y) = c0 + cx·x + cy·y (x, y from −0.5 to 0.5 across the frame) by least squares on a
    64-px image of the masked pixels, refitted without outliers (moles, lesions, highlights); the
    frame spans |cx| + |cy| stops. Skin texture and hair average out at this scale; a lit side does not.
    """
    small = cv2.resize(
        rgb_u8, (64, max(2, round(64 * rgb_u8.shape[0] / rgb_u8.shape[1]))), interpolation=cv2.INTER_AREA
    )
    m = (
        cv2.resize(mask.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        > 0
    )
    lin = (small.astype(np.float32) / 255.0) ** 2.2
    y_lum = 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]
    log_y = np.log2(np.maximum(y_lum, 1e-4))
    h, w = log_y.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx = xx / max(1, w - 1) - 0.5
    yy = yy / max(1, h - 1) - 0.5
    use = m & (y_lum > 1e-3)
    if use.sum() < 12:
        return Gradient(0.0, 0.0)
    a = np.stack([np.ones(use.sum()), xx[use], yy[use]], axis=1)
    target = log_y[use]
    keep = np.ones(len(target), bool)
    for _ in range(3):  # refit without outliers: a dark mole or a bright highlight is not the light
        coef, *_ = np.linalg.lstsq(a[keep], target[keep], rcond=None)
        res = target - a @ coef
        mad = 1.4826 * float(np.median(np.abs(res[keep] - np.median(res[keep]))))
        new_keep = np.abs(res) <= max(0.1, 2.5 * mad)
        if new_keep.sum() < 12 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    cx, cy = float(coef[1]), float(coef[2])
    return Gradient(abs(cx) + abs(cy), math.degrees(math.atan2(cy, cx)))


def median_chroma(lab: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Median CIELAB (a*, b*) of the masked pixels."""
    px = lab[mask] if mask.any() else lab.reshape(-1, 3)
    return float(np.median(px[:, 1])), float(np.median(px[:, 2]))


def lab_image(rgb_u8: np.ndarray) -> np.ndarray:
    """CIELAB (D65, float32) of an 8-bit sRGB image via OpenCV's float conversion."""
    f = rgb_u8.astype(np.float32) * np.float32(1.0 / 255.0)
    return cv2.cvtColor(f, cv2.COLOR_RGB2Lab)
