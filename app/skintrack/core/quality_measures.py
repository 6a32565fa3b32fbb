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
GLARE_LEVEL = 235  # 8-bit value the brightest channel of a specular highlight reaches
CHANNELS = ("red", "green", "blue")


def to_u8(rgb: np.ndarray) -> np.ndarray:
    """An 8-bit RGB view of an sRGB image given as uint8 or float 0..1."""
    arr = np.asarray(rgb)[..., :3]
    if arr.dtype == np.uint8:
        return arr
    return np.clip(arr.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


MAX_BILINEAR_RATIO = 1.5  # downscales by at most this factor are bilinear (see resize_long)


def resize_long(img: np.ndarray, side: int) -> np.ndarray:
    """Downscale so the long side is at most ``side`` px (never upscales).

    Area averaging in general; for a reduction by at most ``MAX_BILINEAR_RATIO`` (a 640 px
    preview frame to 512 or 480 px) bilinear sampling, which at such ratios still draws on every
    source pixel, differs from the area average by about one 8-bit level and costs a fifth of
    OpenCV's non-integer area path.
    """
    h, w = img.shape[:2]
    if max(h, w) <= side:
        return img
    f = side / max(h, w)
    how = cv2.INTER_LINEAR if 1.0 / f <= MAX_BILINEAR_RATIO else cv2.INTER_AREA
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=how)


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
    r, g, b = cv2.split(np.ascontiguousarray(rgb_u8[..., :3]))
    # in saturating uint8 arithmetic: r >= g - 6, g >= b - 12, r - b >= 8, or every channel >= 240
    mask = (cv2.subtract(g, r) <= 6) & (cv2.subtract(b, g) <= 12) & (cv2.subtract(r, b) >= 8) & (r > 35)
    mask |= cv2.min(cv2.min(r, g), b) >= 240
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


# Medians of CIELAB values come from fine histograms (OpenCV, no copies of the masked pixels):
# within one bin of the exact median, far below any threshold's resolution.
L_RANGE = (0.0, 102.4)  # L* 100 (white) must fall inside the half-open range
AB_RANGE = (-128.0, 128.0)
L_BINS = 2048  # 0.05 L* a bin
AB_BINS = 4096  # 0.0625 a*/b* a bin


def histogram_median(
    channel: np.ndarray, mask: np.ndarray | None, value_range: tuple[float, float], bins: int
) -> float:
    """Median of a float32 image's (masked) values from a histogram, interpolated within its bin.

    Exact to one bin width, (hi - lo) / bins; values outside ``value_range`` are not counted.
    """
    lo, hi = value_range
    mask_u8 = None if mask is None else mask.view(np.uint8) if mask.dtype == bool else mask
    hist = cv2.calcHist([np.ascontiguousarray(channel, np.float32)], [0], mask_u8, [bins], [lo, hi]).ravel()
    cum = np.cumsum(hist, dtype=np.float64)
    total = cum[-1]
    if total <= 0:
        return float("nan")
    half = total / 2.0
    i = int(np.searchsorted(cum, half))
    below = cum[i - 1] if i > 0 else 0.0
    return float(lo + (hi - lo) / bins * (i + (half - below) / max(hist[i], 1.0)))


def median_lightness(light: np.ndarray, mask: np.ndarray) -> float:
    """Median CIELAB L* (0..100) of the masked pixels (of all pixels when the mask is empty)."""
    use = mask if mask.any() else None
    return histogram_median(light, use, L_RANGE, L_BINS)


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

    A highlight is nearly white (brightest channel >= GLARE_LEVEL, saturation < 0.25) and stands out from
    its surroundings by more than 12 L* units (local mean over ~3 % of the frame), so evenly bright
    pale skin is not taken for glare.
    """
    n = max(1, int(mask.sum()))
    if int(rgb_u8.max()) < GLARE_LEVEL:  # no pixel bright enough: the usual case, decided at once
        return 0.0
    mx = channel_max(rgb_u8).astype(np.float32)
    mn = channel_min(rgb_u8).astype(np.float32)
    sat = (mx - mn) / np.maximum(mx, 1.0)
    h, w = light.shape[:2]
    coarse = resize_long(light, 64)  # local mean over ~3 % of the frame, computed small
    local = cv2.resize(cv2.GaussianBlur(coarse, (0, 0), 2.0), (w, h), interpolation=cv2.INTER_LINEAR)
    glare = (mx >= GLARE_LEVEL) & (sat < 0.25) & (light - local > 12.0)
    return float(np.count_nonzero(glare & mask)) / n


_LINEAR = (np.arange(256, dtype=np.float32) / np.float32(255.0)) ** np.float32(2.2)  # display gamma 2.2
# luminance contribution of each 8-bit channel value: a lookup instead of a power per pixel
_Y_OF_R, _Y_OF_G, _Y_OF_B = (np.float32(w) * _LINEAR for w in (0.2126, 0.7152, 0.0722))


def _plane_fit(a: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of ``a @ coef = target`` for three well-conditioned columns.

    The 3 x 3 normal equations are solved directly (a few microseconds, where ``lstsq``'s SVD
    costs a hundred); a degenerate design (all points on a line) falls back to ``lstsq``.
    """
    ata = a.T @ a
    if np.linalg.cond(ata) < 1e10:
        return np.linalg.solve(ata, a.T @ target)
    return np.linalg.lstsq(a, target, rcond=None)[0]


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
    y_lum = _Y_OF_R[small[..., 0]] + _Y_OF_G[small[..., 1]] + _Y_OF_B[small[..., 2]]
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
        coef = _plane_fit(a[keep], target[keep])
        res = target - a @ coef
        mad = 1.4826 * float(np.median(np.abs(res[keep] - np.median(res[keep]))))
        new_keep = np.abs(res) <= max(0.1, 2.5 * mad)
        if new_keep.sum() < 12 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    cx, cy = float(coef[1]), float(coef[2])
    return Gradient(abs(cx) + abs(cy), math.degrees(math.atan2(cy, cx)))


def median_chroma(lab: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Median CIELAB (a*, b*) of the masked pixels (of all pixels when the mask is empty)."""
    use = mask if mask.any() else None
    _, a, b = cv2.split(lab)
    return histogram_median(a, use, AB_RANGE, AB_BINS), histogram_median(b, use, AB_RANGE, AB_BINS)


def lab_image(rgb_u8: np.ndarray) -> np.ndarray:
    """CIELAB (D65, float32) of an 8-bit sRGB image via OpenCV's float conversion."""
    f = rgb_u8.astype(np.float32) * np.float32(1.0 / 255.0)
    return cv2.cvtColor(f, cv2.COLOR_RGB2Lab)
