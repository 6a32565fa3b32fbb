"""Synthetic skin with known ground truth, for tests, benchmarks and the demo library.

Model: a patch of skin is a linear-RGB *reflectance* image in body coordinates (the "body
plane"). A photo of it is made by a homography body -> photo (the camera pose), lighting
(gain, white balance, a smooth gradient and vignetting), specular highlights that move with
the light, a little blur and sensor noise, then sRGB encoding. Pigment change is applied to the
reflectance in CIELAB with an exact ΔL* and a b* shift that tells brown (b* up) from grey-blue
(b* down), so every photo has a true homography and a true change mask.

Everything is seeded: the same arguments always give the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from skintrack.core import colour

FloatImage = np.ndarray


# --------------------------------------------------------------------------- skin


@dataclass(frozen=True)
class SkinTone:
    """Mean CIELAB colour of the skin (D65). Defaults: light-intermediate skin (ITA ≈ 41°)."""

    L: float = 64.0
    a: float = 11.0
    b: float = 16.0


TONES: dict[str, SkinTone] = {
    "light": SkinTone(70.0, 9.0, 15.0),
    "intermediate": SkinTone(62.0, 11.0, 18.0),
    "tan": SkinTone(55.0, 12.0, 21.0),
    "brown": SkinTone(45.0, 12.0, 22.0),
}


def _noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> FloatImage:
    """Smooth zero-mean, unit-variance noise with a correlation length of ``sigma`` pixels."""
    h, w = shape
    # generate at a coarse grid and upsample: fast even for big canvases
    step = max(1.0, sigma / 2.0)
    gh, gw = max(2, int(h / step) + 2), max(2, int(w / step) + 2)
    coarse = rng.standard_normal((gh, gw)).astype(np.float32)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 1.0)
    field_ = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    std = float(field_.std()) or 1.0
    return (field_ - float(field_.mean())) / std


def _lab_to_linear(lab: FloatImage) -> FloatImage:
    return np.clip(colour.xyz_to_linear(colour.lab_to_xyz(lab)), 1e-4, 1.0).astype(np.float32)


def make_skin(
    size: tuple[int, int],
    seed: int = 0,
    tone: SkinTone | str = "intermediate",
    moles: int = 2,
    hair_density: float = 0.5,
    pores: float = 1.0,
    curvature: float = 0.25,
) -> FloatImage:
    """A linear-RGB reflectance image (H, W, 3) of skin in body coordinates.

    ``size`` is (width, height). Texture: mottling at several scales, fine creases, pores,
    moles with soft edges, hairs, and the shading of a curved limb (``curvature`` = relative
    darkening at the edges).
    """
    if isinstance(tone, str):
        tone = TONES[tone]
    w, h = size
    rng = np.random.default_rng(seed)
    scale = max(w, h) / 1000.0  # texture features scale with the canvas

    lab = np.empty((h, w, 3), np.float32)
    lab[..., 0] = tone.L + 2.2 * _noise(rng, (h, w), 60 * scale) + 1.0 * _noise(rng, (h, w), 12 * scale)
    lab[..., 1] = tone.a + 2.0 * _noise(rng, (h, w), 45 * scale) + 0.6 * _noise(rng, (h, w), 8 * scale)
    lab[..., 2] = tone.b + 1.5 * _noise(rng, (h, w), 70 * scale) + 0.5 * _noise(rng, (h, w), 10 * scale)

    # fine creases: ridges of band-passed anisotropic noise, in two directions
    for angle_sigma in ((6 * scale, 1.2 * scale), (1.2 * scale, 6 * scale)):
        n = rng.standard_normal((h, w)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), sigmaX=angle_sigma[0], sigmaY=angle_sigma[1])
        n /= float(n.std()) or 1.0
        ridge = np.clip(1.0 - np.abs(n) * 3.0, 0.0, 1.0) ** 3
        lab[..., 0] -= 3.0 * ridge

    # pores: small dark dots
    count = int(pores * w * h / (900 * scale * scale + 1))
    if count:
        pore_map = np.zeros((h, w), np.float32)
        xs = rng.integers(0, w, count)
        ys = rng.integers(0, h, count)
        pore_map[ys, xs] = 1.0
        pore_map = cv2.GaussianBlur(pore_map, (0, 0), 0.9 * scale + 0.4)
        pore_map /= float(pore_map.max()) or 1.0
        lab[..., 0] -= 9.0 * pore_map
        lab[..., 1] += 1.5 * pore_map

    # moles: soft brown ellipses
    for _ in range(moles):
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        rx = rng.uniform(6, 14) * scale
        ry = rx * rng.uniform(0.7, 1.2)
        m = np.zeros((h, w), np.float32)
        cv2.ellipse(m, (int(cx), int(cy)), (int(rx), int(ry)), float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), 1.5 * scale + 0.5)
        lab[..., 0] -= (tone.L - 38.0) * m
        lab[..., 1] += 4.0 * m
        lab[..., 2] += 6.0 * m

    # hairs: thin dark curved strokes, mostly along one direction (as on a forearm)
    hairs = int(hair_density * 250 * (w * h) / 1e6)
    if hairs:
        hair_map = np.zeros((h, w), np.float32)
        direction = rng.uniform(0, math.pi)
        for _ in range(hairs):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            theta = direction + rng.normal(0, 0.35)
            length = rng.uniform(15, 45) * scale
            curve = rng.normal(0, 0.004)
            pts = []
            for i in range(12):
                t = i / 11.0 * length
                theta_i = theta + curve * t / scale
                pts.append((x + t * math.cos(theta_i), y + t * math.sin(theta_i)))
            cv2.polylines(
                hair_map,
                [np.round(np.array(pts) * 4).astype(np.int32)],
                False,
                1.0,
                thickness=max(1, round(scale)),
                lineType=cv2.LINE_AA,
                shift=2,
            )
        hair_map = cv2.GaussianBlur(hair_map, (0, 0), 0.6)
        lab[..., 0] -= 28.0 * np.clip(hair_map, 0, 1)
        lab[..., 2] -= 3.0 * np.clip(hair_map, 0, 1)

    reflectance = _lab_to_linear(lab)

    # curvature shading of a limb: a fixed property of the body, darker towards the sides
    if curvature > 0:
        yy = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - 0.5) * 2.0
        shade = 1.0 - curvature * yy**2
        reflectance *= shade[:, None, None]
    return reflectance


# --------------------------------------------------------------------------- pigment change


@dataclass(frozen=True)
class Darkening:
    """A pigment change: exact ΔL* (negative = darker) and Δb* (brown > 0, grey-blue < 0)."""

    delta_L: float = -5.0
    kind: str = "grey-blue"  # "grey-blue" | "brown" | "neutral"
    delta_b: float | None = None  # default: 0.6·|ΔL*| with the kind's sign

    @property
    def b_shift(self) -> float:
        if self.delta_b is not None:
            return self.delta_b
        sign = {"grey-blue": -1.0, "brown": 1.0, "neutral": 0.0}[self.kind]
        return sign * 0.6 * abs(self.delta_L)


def blob_mask(
    size: tuple[int, int], seed: int, centre: tuple[float, float], radius: float, irregularity: float = 0.12
) -> FloatImage:
    """A soft irregular patch (0..1), ``centre`` and ``radius`` in pixels, as a pigment patch looks."""
    w, h = size
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    bumps = sum(
        rng.uniform(0, irregularity) * np.cos(k * angles + rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5)
    )
    r = radius * (1.0 + bumps)
    pts = np.stack([centre[0] + r * np.cos(angles), centre[1] + r * np.sin(angles)], axis=1)
    m = np.zeros((h, w), np.float32)
    cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
    edge = max(1.0, radius * 0.06)
    return cv2.GaussianBlur(m, (0, 0), edge)


def darken(reflectance: FloatImage, mask: FloatImage, change: Darkening) -> FloatImage:
    """Apply ``change`` where ``mask`` (0..1) is set; exact in CIELAB, then back to reflectance."""
    lab = colour.linear_to_lab(reflectance)
    lab[..., 0] += change.delta_L * mask
    lab[..., 2] += change.b_shift * mask
    return _lab_to_linear(lab)


def darken_uniform(reflectance: FloatImage, delta_L: float, kind: str = "grey-blue") -> FloatImage:
    """The whole skin darkens equally: only a card or a control patch elsewhere can reveal it."""
    return darken(reflectance, np.ones(reflectance.shape[:2], np.float32), Darkening(delta_L, kind))


# --------------------------------------------------------------------------- camera


@dataclass(frozen=True)
class Pose:
    """Where the camera looks: rotation (deg), scale (photo px per body px), tilt and offset."""

    rotation: float = 0.0
    scale: float = 1.0
    tilt_x: float = 0.0  # perspective terms (1/px of the photo, small: ~1e-4)
    tilt_y: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)  # photo centre offset from the body centre, body px


def body_to_photo(pose: Pose, body_size: tuple[int, int], photo_size: tuple[int, int]) -> np.ndarray:
    """Homography mapping body coordinates to photo pixel coordinates for ``pose``."""
    bw, bh = body_size
    pw, ph = photo_size
    cx, cy = (bw - 1) / 2.0 + pose.shift[0], (bh - 1) / 2.0 + pose.shift[1]
    t_body = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    th = math.radians(pose.rotation)
    rs = np.array(
        [
            [pose.scale * math.cos(th), -pose.scale * math.sin(th), 0],
            [pose.scale * math.sin(th), pose.scale * math.cos(th), 0],
            [0, 0, 1],
        ],
        np.float64,
    )
    persp = np.array([[1, 0, 0], [0, 1, 0], [pose.tilt_x, pose.tilt_y, 1]], np.float64)
    t_photo = np.array([[1, 0, (pw - 1) / 2.0], [0, 1, (ph - 1) / 2.0], [0, 0, 1]], np.float64)
    h = t_photo @ persp @ rs @ t_body
    return h / h[2, 2]


@dataclass(frozen=True)
class Lighting:
    """Illumination of one photo: overall gain, white balance, a smooth gradient and vignetting."""

    gain: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gradient: tuple[float, float] = (0.0, 0.0)  # relative change across the frame in x and y
    vignette: float = 0.0  # relative darkening in the corners

    def field(self, photo_size: tuple[int, int]) -> FloatImage:
        """The (H, W, 3) multiplicative illumination in photo coordinates."""
        w, h = photo_size
        x = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
        y = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None]
        g = 1.0 + self.gradient[0] * x + self.gradient[1] * y - self.vignette * 2.0 * (x * x + y * y)
        g = np.clip(g, 0.05, None) * self.gain
        wb = np.asarray(self.white_balance, np.float32)
        return g[..., None] * wb[None, None, :]


def photograph(
    reflectance: FloatImage,
    pose: Pose,
    photo_size: tuple[int, int],
    lighting: Lighting = Lighting(),
    seed: int = 0,
    blur: float = 0.0,
    noise: float = 1.2,
    speculars: int = 0,
    exposure: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Render a uint8 sRGB photo of the body; returns (photo, H body->photo).

    ``noise`` is the sensor noise in 8-bit sRGB units; ``speculars`` is the number of small
    highlights (they belong to the light, not the skin, so they move between photos).
    """
    pw, ph = photo_size
    bh, bw = reflectance.shape[:2]
    h_bp = body_to_photo(pose, (bw, bh), photo_size)
    # outside the body canvas: a neutral dark background (a sleeve, a wall)
    img = cv2.warpPerspective(
        reflectance,
        h_bp,
        (pw, ph),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0.05, 0.05, 0.06),
    )
    img = img * lighting.field(photo_size) * exposure
    rng = np.random.default_rng(seed + 7919)
    if speculars:
        spec = np.zeros((ph, pw), np.float32)
        for _ in range(speculars):
            cx, cy = rng.uniform(0, pw), rng.uniform(0, ph)
            r = rng.uniform(2, 6) * max(pw, ph) / 1000.0
            cv2.circle(spec, (int(cx), int(cy)), max(1, int(r)), float(rng.uniform(0.3, 0.8)), -1)
        spec = cv2.GaussianBlur(spec, (0, 0), 1.5)
        img = img + spec[..., None]
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    srgb = colour.linear_to_srgb(np.clip(img, 0.0, 1.0)) * 255.0
    if noise > 0:
        srgb = srgb + rng.normal(0.0, noise, srgb.shape).astype(np.float32)
    return np.clip(np.round(srgb), 0, 255).astype(np.uint8), h_bp


def photo_to_reference(h_body_to_ref: np.ndarray, h_body_to_photo: np.ndarray) -> np.ndarray:
    """The true homography mapping a photo's pixels onto the reference photo's pixels."""
    h = h_body_to_ref @ np.linalg.inv(h_body_to_photo)
    return h / h[2, 2]


def mask_in_photo(
    mask_body: FloatImage, h_body_to_photo: np.ndarray, photo_size: tuple[int, int]
) -> FloatImage:
    """A body-plane mask seen in a photo."""
    return cv2.warpPerspective(
        mask_body.astype(np.float32), h_body_to_photo, photo_size, flags=cv2.INTER_LINEAR
    )


# --------------------------------------------------------------------------- ready-made pairs


@dataclass
class SynthPair:
    """A reference photo, a later photo, and the truth about them."""

    reference: np.ndarray  # uint8 sRGB
    later: np.ndarray  # uint8 sRGB
    h_later_to_reference: np.ndarray  # 3x3, later pixel -> reference pixel
    change_mask: np.ndarray  # bool, reference geometry: where the later photo shows the change
    change: Darkening | None
    uniform: bool = False
    info: dict[str, object] = field(default_factory=dict)


def make_pair(
    seed: int = 0,
    size: tuple[int, int] = (800, 600),
    *,
    tone: SkinTone | str = "intermediate",
    later_pose: Pose = Pose(),
    reference_pose: Pose = Pose(),
    reference_lighting: Lighting = Lighting(),
    later_lighting: Lighting = Lighting(gain=0.92, white_balance=(1.04, 1.0, 0.95), gradient=(0.12, -0.08)),
    change: Darkening | None = None,
    patch_radius: float | None = None,
    patch_centre: tuple[float, float] | None = None,
    uniform_change: bool = False,
    lesion_growth: float = 0.0,
    blur: float = 0.0,
    speculars: int = 0,
    hair_density: float = 0.5,
    noise: float = 1.2,
) -> SynthPair:
    """Two photos of the same skin on two dates, with their true homography and change mask.

    The body canvas is 1.6× the photo so rotated/scaled framings stay filled. ``change`` darkens a
    patch (or the whole skin with ``uniform_change``); ``lesion_growth`` > 0 enlarges one mole in
    the later photo (a change that alignment must ignore and detection must see).
    """
    pw, ph = size
    bw, bh = int(pw * 1.6), int(ph * 1.6)
    skin = make_skin((bw, bh), seed=seed, tone=tone, hair_density=hair_density)
    later_skin = skin
    mask_body = np.zeros((bh, bw), np.float32)
    if change is not None:
        if uniform_change:
            mask_body[:] = 1.0
        else:
            rng = np.random.default_rng(seed + 17)
            radius = patch_radius if patch_radius is not None else 0.09 * min(pw, ph)
            if patch_centre is None:
                cx = bw / 2 + rng.uniform(-0.18, 0.18) * pw
                cy = bh / 2 + rng.uniform(-0.18, 0.18) * ph
            else:
                cx, cy = bw / 2 + patch_centre[0], bh / 2 + patch_centre[1]
            mask_body = blob_mask((bw, bh), seed + 3, (cx, cy), radius)
        later_skin = darken(later_skin, mask_body, change)
    if lesion_growth > 0:
        rng = np.random.default_rng(seed + 29)
        cx, cy = bw / 2 + rng.uniform(-0.2, 0.2) * pw, bh / 2 + rng.uniform(-0.2, 0.2) * ph
        grown = blob_mask((bw, bh), seed + 5, (cx, cy), lesion_growth * min(pw, ph) * 0.05, 0.1)
        later_skin = darken(later_skin, grown, Darkening(-25.0, "brown"))
        mask_body = np.maximum(mask_body, grown)

    ref, h_ref = photograph(skin, reference_pose, size, reference_lighting, seed=seed + 1, noise=noise)
    later, h_later = photograph(
        later_skin,
        later_pose,
        size,
        later_lighting,
        seed=seed + 2,
        blur=blur,
        speculars=speculars,
        noise=noise,
    )
    h_true = photo_to_reference(h_ref, h_later)
    truth = mask_in_photo(mask_body, h_ref, size) >= 0.5
    return SynthPair(ref, later, h_true, truth, change, uniform_change, {"seed": seed})
