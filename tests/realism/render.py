"""A phone photographing skin: geometry, non-rigid displacement, exposure, tone, glints, noise.

Order of operations follows a camera pipeline: the body (linear reflectance) is seen through a
homography (pose) plus a smooth non-rigid displacement (a curved limb that moved), lit by a field
(gain, white balance, gradient), gets specular glints (light, not skin: they sit in photo
coordinates), is clipped at the sensor's full well, encoded to sRGB, then the phone's own
rendering applies a tone curve and a saturation change, and sensor noise is added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.demo import synth

REC709 = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class Camera:
    """One shot. ``tone``: S-curve strength in sRGB (mid-tone slope 1 + tone, ends 1 − tone);
    ``saturation``: relative chroma change in sRGB; ``displacement``: largest non-rigid shift (px)."""

    pose: synth.Pose
    size: tuple[int, int]  # (width, height) of the photo
    seed: int = 0
    gain: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gradient: tuple[float, float] = (0.0, 0.0)
    tone: float = 0.0
    saturation: float = 0.0
    displacement: float = 0.0
    glints: int = 0
    noise: float = 1.0  # 8-bit sRGB units


def tone_curve(srgb: np.ndarray, strength: float) -> np.ndarray:
    """Monotone S-curve on sRGB 0..1: y = x − s/(2π)·sin(2πx); s > 0 adds contrast, s < 0 removes it."""
    if strength == 0.0:
        return srgb
    return srgb - np.float32(strength / (2.0 * math.pi)) * np.sin(np.float32(2.0 * math.pi) * srgb)


def saturate(srgb: np.ndarray, amount: float) -> np.ndarray:
    """Scale the distance of each pixel from its Rec. 709 luma by 1 + ``amount`` (sRGB, as phones do)."""
    if amount == 0.0:
        return srgb
    luma = (srgb @ REC709)[..., None]
    return luma + np.float32(1.0 + amount) * (srgb - luma)


def displacement_field(size: tuple[int, int], magnitude: float, seed: int) -> np.ndarray:
    """A smooth (H, W, 2) displacement whose largest length is ``magnitude`` px (zero for 0)."""
    w, h = size
    if magnitude <= 0:
        return np.zeros((h, w, 2), np.float32)
    rng = np.random.default_rng(seed)
    coarse = rng.standard_normal((4, 4, 2)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    field -= field.reshape(-1, 2).mean(axis=0)  # a global shift is the homography's job
    length = np.sqrt((field**2).sum(axis=2))
    return field * np.float32(magnitude / max(1e-6, float(length.max())))


def light_field(camera: Camera) -> np.ndarray:
    lighting = synth.Lighting(gain=camera.gain, white_balance=camera.white_balance, gradient=camera.gradient)
    return lighting.field(camera.size)


def glint_map(camera: Camera) -> np.ndarray:
    """Specular glints (linear, added to every channel) at positions set by the camera's seed."""
    w, h = camera.size
    spec = np.zeros((h, w), np.float32)
    rng = np.random.default_rng(camera.seed + 104729)
    for _ in range(camera.glints):
        cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(0.05, 0.95) * h
        r = rng.uniform(2.0, 6.0) * max(w, h) / 1000.0
        axes = (max(1, int(r * rng.uniform(1.0, 3.0))), max(1, int(r)))
        cv2.ellipse(spec, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    if camera.glints:
        spec = cv2.GaussianBlur(spec, (0, 0), 1.2) * np.float32(0.9)
    return spec


def body_to_photo(camera: Camera, body_size: tuple[int, int]) -> np.ndarray:
    return synth.body_to_photo(camera.pose, body_size, camera.size)


def sample(body: np.ndarray, camera: Camera, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """The body as the camera sees it (geometry only): homography, then the displacement."""
    bh, bw = body.shape[:2]
    w, h = camera.size
    h_bp = body_to_photo(camera, (bw, bh))
    if camera.pose.scale < 0.95 and body.ndim == 3:  # anti-alias a downscaling view
        body = cv2.GaussianBlur(body, (0, 0), 0.45 / camera.pose.scale)
    d = displacement_field(camera.size, camera.displacement, camera.seed + 31)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    pts = np.stack([xs + d[..., 0], ys + d[..., 1]], axis=-1).reshape(-1, 1, 2)
    src = cv2.perspectiveTransform(pts, np.linalg.inv(h_bp)).reshape(h, w, 2)
    return cv2.remap(body, src[..., 0], src[..., 1], interpolation, borderMode=cv2.BORDER_REFLECT_101)


def expose(body: np.ndarray, camera: Camera) -> np.ndarray:
    """Linear sensor values before clipping (geometry, light, glints)."""
    img = sample(body, camera) * light_field(camera)
    if camera.glints:
        img = img + glint_map(camera)[..., None]
    return img


def finish(linear: np.ndarray, camera: Camera) -> np.ndarray:
    """Sensor values -> the phone's uint8 sRGB: clip, encode, tone curve, saturation, noise."""
    srgb = colour.linear_to_srgb(np.clip(linear, 0.0, 1.0)).astype(np.float32)
    srgb = np.clip(saturate(tone_curve(srgb, camera.tone), camera.saturation), 0.0, 1.0) * 255.0
    if camera.noise > 0:
        rng = np.random.default_rng(camera.seed + 7919)
        srgb = srgb + rng.normal(0.0, camera.noise, srgb.shape).astype(np.float32)
    return np.clip(np.round(srgb), 0, 255).astype(np.uint8)


def photograph(body: np.ndarray, camera: Camera) -> np.ndarray:
    return finish(expose(body, camera), camera)


def clipped_fraction(linear: np.ndarray, channel: int | None = None) -> float:
    """Fraction of pixels where ``channel`` (None: any channel) reaches the sensor's full well."""
    values = linear.max(axis=2) if channel is None else linear[..., channel]
    return float((values >= 1.0).mean())
