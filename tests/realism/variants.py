"""Pairs (reference, later, truth) for every phenomenon of the realism suite.

A pair is two renders of one scene: the reference shot, and a later shot of the same skin in
which a pigment patch may have darkened (exact ΔL* and Δb* in CIELAB on the linear body:
grey-blue lowers b*, brown raises it, DESIGN.md) while other things differ without any skin
change: exposure that clips a channel on most of the skin, the phone's tone curve and
saturation, a non-rigid displacement, hair lying elsewhere, moved glints, a mole rendered with
more contrast, pen marks, a close-up at 2x or 2.5x, an overview at 0.4x. The truth mask is in
reference geometry, restricted to the part of the reference the later photo also shows
(``footprint``).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from realism import render
from realism.sources import Scene
from skintrack.core import colour
from skintrack.demo import synth

REFERENCE_SIDE = 560  # px: long side of a reference photo
CLIPPED_SHARE = 0.58  # share of the skin on which the over-exposed photo clips a channel
HAIR_COLOUR = np.array([0.035, 0.022, 0.016], np.float32)  # linear dark brown
INK_COLOUR = np.array([0.05, 0.06, 0.24], np.float32)  # linear blue ballpoint
DELTAS = (-2.0, -3.0, -5.0, -8.0)
KINDS = ("brown", "grey-blue")
RADII = (0.02, 0.04, 0.08, 0.12)  # patch radius as a fraction of the reference frame


@dataclass(frozen=True)
class Variant:
    """What differs between the two shots besides the skin (all: the later shot unless named)."""

    name: str
    clip: str = ""  # "earlier" | "later": that shot over-exposed until a channel clips on most skin
    tone: float = 0.0  # S-curve strength of the later shot (sRGB)
    saturation: float = 0.0
    displacement: float = 0.0  # px, non-rigid
    hair: bool = False  # synthetic hair in both shots, at different positions
    glints: int = 0  # glints in both shots, at different positions
    mole_contrast: float = 0.0  # relative contrast increase of pigmented spots (no skin change)
    pen: bool = False  # pen marks in the later shot only
    zoom: float = 1.0  # later scale / reference scale


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("plain"),
        Variant("clip-earlier", clip="earlier"),
        Variant("clip-later", clip="later"),
        Variant("tone+sat", tone=0.25, saturation=0.15),
        Variant("tone-sat", tone=-0.25, saturation=-0.15),
        Variant("non-rigid", displacement=2.5),
        Variant("hair-moved", hair=True),
        Variant("glints-moved", glints=10),
        Variant("mole-contrast", mole_contrast=0.35),
        Variant("pen-marks", pen=True),
        Variant("close-up-2x", zoom=2.0),
        Variant("close-up-2.5x", zoom=2.5),
        Variant("overview-0.4x", zoom=0.4),
        Variant(
            "repeat-shot",
            tone=0.12,
            saturation=0.08,
            displacement=2.0,
            hair=True,
            glints=6,
            mole_contrast=0.2,
        ),
    )
}


@dataclass
class Pair:
    """Two photos (uint8 sRGB) and the truth in reference geometry."""

    name: str
    scene: str
    variant: str
    change: synth.Darkening | None
    radius: float  # patch radius / reference frame (0 without a patch)
    reference: np.ndarray
    later: np.ndarray
    h_later_to_reference: np.ndarray
    truth: np.ndarray  # bool: the patch, where the later photo shows it
    footprint: np.ndarray  # bool: reference pixels the later photo shows
    info: dict[str, float] = field(default_factory=dict)
    shape: str = "patch"  # "patch" | "ring" (a pigmented spot growing)

    @property
    def label(self) -> str:
        if self.change is None:
            return "no change"
        ring = "ring " if self.shape == "ring" else ""
        return f"{ring}{self.change.kind} {self.change.delta_L:+.0f}"


def pair_seed(*parts: object) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


# --------------------------------------------------------------------------- body edits


def hair_map(size: tuple[int, int], seed: int, per_megapixel: float = 110.0) -> np.ndarray:
    """Coverage (0..1) of thin curved hairs, mostly along one direction, at seeded positions."""
    w, h = size
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w), np.float32)
    direction = rng.uniform(0, math.pi)
    thickness = max(2, round(2.5 * max(w, h) / 1200))
    for _ in range(int(per_megapixel * w * h / 1e6)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        theta = direction + rng.normal(0, 0.4)
        length = rng.uniform(40, 120) * max(w, h) / 1200
        bend = rng.normal(0, 0.006)
        t = np.linspace(0, length, 16)
        angles = theta + bend * t
        pts = np.stack([x + t * np.cos(angles), y + t * np.sin(angles)], axis=1)
        cv2.polylines(out, [np.round(pts * 4).astype(np.int32)], False, 1.0, thickness, cv2.LINE_AA, 2)
    return np.clip(cv2.GaussianBlur(out, (0, 0), 0.7), 0.0, 1.0)


def pen_map(size: tuple[int, int], seed: int, around: np.ndarray | None) -> np.ndarray:
    """Coverage (0..1) of ballpoint marks: an open circle around a spot and two short dashes."""
    w, h = size
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w), np.float32)
    thickness = max(3, round(4 * max(w, h) / 1200))
    if around is not None and around.any():
        ys, xs = np.nonzero(around)
        cx, cy = float(xs.mean()), float(ys.mean())
        r = 0.6 * math.sqrt(float(around.sum()) / math.pi) + 0.06 * min(w, h)
    else:
        cx, cy, r = w / 2.0, h / 2.0, 0.12 * min(w, h)
    start = float(rng.uniform(0, 360))
    cv2.ellipse(out, (int(cx), int(cy)), (int(r), int(r * 0.9)), 0, start, start + 300, 1.0, thickness)
    for _ in range(2):
        x, y = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h
        a = rng.uniform(0, math.pi)
        d = rng.uniform(0.04, 0.08) * min(w, h)
        p0 = (int(x), int(y))
        p1 = (int(x + d * math.cos(a)), int(y + d * math.sin(a)))
        cv2.line(out, p0, p1, 1.0, thickness, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(out, (0, 0), 0.8), 0.0, 1.0) * np.float32(0.9)


def paint(body: np.ndarray, coverage: np.ndarray, colour_linear: np.ndarray) -> np.ndarray:
    """Something opaque lying on the skin (hair, ink) with the given coverage."""
    a = coverage[..., None]
    return body * (1.0 - a) + a * colour_linear[None, None, :]


def more_contrast(body: np.ndarray, moles: np.ndarray, amount: float) -> np.ndarray:
    """Pigmented spots rendered with ``amount`` more contrast against the skin around them (Lab)."""
    if amount == 0.0 or not moles.any():
        return body
    lab = colour.linear_to_lab(body).astype(np.float32)
    grown = cv2.dilate(moles.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    outside = (grown == 0).astype(np.float32)
    sigma = 0.03 * max(body.shape[:2])
    weight = cv2.GaussianBlur(outside, (0, 0), sigma) + 1e-6
    background = np.stack(
        [cv2.GaussianBlur(lab[..., c] * outside, (0, 0), sigma) / weight for c in range(3)], axis=-1
    )
    w = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 2.0)[..., None]
    lab = lab + np.float32(amount) * w * (lab - background)
    return np.clip(colour.lab_to_linear(lab), 1e-4, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- cameras


def cameras(scene: Scene, variant: Variant, seed: int) -> tuple[render.Camera, render.Camera]:
    """Reference and later camera for ``variant`` (later: other pose, light and, per variant, more)."""
    bw, bh = scene.size
    rng = np.random.default_rng(seed)
    if variant.zoom == 1.0:
        s_ref = min(1.0, REFERENCE_SIDE / (0.8 * max(bw, bh)))
        side = round(0.8 * max(bw, bh) * s_ref)
        rot, scale = float(rng.uniform(-5, 5)), float(rng.uniform(0.96, 1.06))
        shift = tuple(float(v) for v in rng.uniform(-0.04, 0.04, 2) * max(bw, bh))
        tilt = tuple(float(v) for v in rng.uniform(-4e-5, 4e-5, 2))
    elif variant.zoom > 1.0:  # a close-up: the later shot sees the middle of the reference's field
        s_ref = min(1.0, REFERENCE_SIDE / (0.9 * max(bw, bh)))
        side = round(0.9 * max(bw, bh) * s_ref)
        rot, scale = float(rng.uniform(-4, 4)), variant.zoom
        shift = tuple(float(v) for v in rng.uniform(-0.02, 0.02, 2) * max(bw, bh))
        tilt = (0.0, 0.0)
    else:  # an overview: the reference is the close-up, the later shot sees all of it and more
        s_later = min(variant.zoom, REFERENCE_SIDE / (0.9 * max(bw, bh)))
        side = round(0.9 * max(bw, bh) * s_later)
        s_ref = s_later / variant.zoom
        rot, scale = float(rng.uniform(-4, 4)), variant.zoom
        shift = tuple(float(v) for v in rng.uniform(-0.02, 0.02, 2) * max(bw, bh))
        tilt = (0.0, 0.0)
    ref = render.Camera(
        synth.Pose(scale=s_ref),
        (side, side),
        seed=seed + 1,
        gradient=(-0.04, 0.03),
        glints=variant.glints,
    )
    later = render.Camera(
        synth.Pose(rot, s_ref * scale, tilt[0], tilt[1], shift),
        (side, side),
        seed=seed + 2,
        gain=0.93,
        white_balance=(1.04, 1.0, 0.95),
        gradient=(0.10, -0.06),
        tone=variant.tone,
        saturation=variant.saturation,
        displacement=variant.displacement,
        glints=variant.glints,
    )
    return ref, later


def clipping_gain(body: np.ndarray, camera: render.Camera, share: float = CLIPPED_SHARE) -> float:
    """The exposure gain at which the brightest channel clips on ``share`` of the photo."""
    brightest = render.expose(body, replace(camera, glints=0)).max(axis=2)
    return float(1.0 / max(1e-3, np.quantile(brightest, 1.0 - share)))


# --------------------------------------------------------------------------- pairs


def patch_mask(
    scene: Scene, ref: render.Camera, radius: float, seed: int, spread: float
) -> tuple[np.ndarray, float]:
    """A soft irregular patch in body coordinates near the reference centre; radius in body px."""
    bw, bh = scene.size
    rng = np.random.default_rng(seed + 17)
    s = ref.pose.scale
    r_body = radius * min(ref.size) / s
    off = rng.uniform(-spread, spread, 2) * min(ref.size) / s
    centre = (bw / 2.0 + ref.pose.shift[0] + off[0], bh / 2.0 + ref.pose.shift[1] + off[1])
    return synth.blob_mask((bw, bh), seed + 3, centre, r_body), r_body


def growth_ring(scene: Scene, ref: render.Camera) -> np.ndarray | None:
    """A soft ring (body coordinates) around the largest pigmented spot near the reference's
    centre, as wide as half the spot's radius (at least 8 px): the spot grows. None without one."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(scene.moles.astype(np.uint8))
    bw, bh = scene.size
    reach = 0.3 * min(ref.size) / ref.pose.scale
    cx, cy = bw / 2.0 + ref.pose.shift[0], bh / 2.0 + ref.pose.shift[1]
    best, best_area = 0, 0
    for i in range(1, n):
        near = abs(centroids[i][0] - cx) < reach and abs(centroids[i][1] - cy) < reach
        if near and stats[i, cv2.CC_STAT_AREA] > best_area:
            best, best_area = i, int(stats[i, cv2.CC_STAT_AREA])
    if best_area < 150:
        return None
    spot = (labels == best).astype(np.uint8)
    width = max(8, round(0.5 * math.sqrt(best_area / math.pi)))
    grown = cv2.dilate(spot, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1)))
    ring = (grown > 0) & (spot == 0)
    return cv2.GaussianBlur(ring.astype(np.float32), (0, 0), 1.5)


def build(
    scene: Scene,
    variant: Variant,
    change: synth.Darkening | None = None,
    radius: float = 0.06,
    seed: int | None = None,
    shape: str = "patch",
) -> Pair:
    """The pair of ``variant`` on ``scene``, with ``change`` (None: nothing changed) on a patch of
    ``radius``, or with ``shape="ring"`` on a ring around a pigmented spot (ValueError without one)."""
    ring = shape == "ring" and change is not None
    label = "none" if change is None else f"{'ring-' if ring else ''}{change.kind}{change.delta_L:+.0f}"
    seed = pair_seed(scene.name, variant.name, label, radius) if seed is None else seed
    ref_cam, later_cam = cameras(scene, variant, seed)
    ref_body, later_body = scene.body, scene.body
    info: dict[str, float] = {}
    mask_body = np.zeros(scene.body.shape[:2], np.float32)
    if ring:
        grown = growth_ring(scene, ref_cam)
        if grown is None:
            raise ValueError(f"{scene.name}: no pigmented spot near the centre to grow")
        mask_body = grown
        later_body = synth.darken(later_body, mask_body, change)
    elif change is not None:
        spread = 0.12 if variant.zoom == 1.0 else 0.03
        mask_body, _ = patch_mask(scene, ref_cam, radius, seed, spread)
        later_body = synth.darken(later_body, mask_body, change)
    if variant.mole_contrast:
        later_body = more_contrast(later_body, scene.moles, variant.mole_contrast)
        info["mole_px"] = float(scene.moles.sum())
    if variant.hair:
        ref_hair = hair_map(scene.size, seed + 101)
        later_hair = hair_map(scene.size, seed + 202)
        ref_body = paint(ref_body, ref_hair, HAIR_COLOUR)
        later_body = paint(later_body, later_hair, HAIR_COLOUR)
        both = float(np.minimum(ref_hair, later_hair).sum()) / max(1e-6, float(later_hair.sum()))
        info["hair_shared"] = both
    if variant.pen:
        later_body = paint(later_body, pen_map(scene.size, seed + 303, scene.moles), INK_COLOUR)
    if variant.clip == "earlier":
        ref_cam = replace(ref_cam, gain=ref_cam.gain * clipping_gain(ref_body, ref_cam))
    elif variant.clip == "later":
        later_cam = replace(later_cam, gain=later_cam.gain * clipping_gain(later_body, later_cam))
    ref_linear = render.expose(ref_body, ref_cam)
    later_linear = render.expose(later_body, later_cam)
    info["clipped_reference"] = render.clipped_fraction(ref_linear)
    info["clipped_later"] = render.clipped_fraction(later_linear)
    reference = render.finish(ref_linear, ref_cam)
    later = render.finish(later_linear, later_cam)

    body_size = scene.size
    h_ref = render.body_to_photo(ref_cam, body_size)
    h_later = render.body_to_photo(later_cam, body_size)
    h_l2r = synth.photo_to_reference(h_ref, h_later)
    w, h = ref_cam.size
    seen = cv2.warpPerspective(
        np.full(later.shape[:2], 255, np.uint8), h_l2r, (w, h), flags=cv2.INTER_NEAREST
    )
    footprint = cv2.erode(seen, np.ones((7, 7), np.uint8)) > 0
    truth = (synth.mask_in_photo(mask_body, h_ref, (w, h)) >= 0.5) & footprint
    name = f"{scene.name}/{variant.name}/{label}" + (
        f"/r{radius:.2f}" if change is not None and not ring else ""
    )
    return Pair(
        name,
        scene.name,
        variant.name,
        change,
        radius if change is not None and not ring else 0.0,
        reference,
        later,
        h_l2r,
        truth,
        footprint,
        info,
        "ring" if ring else "patch",
    )
