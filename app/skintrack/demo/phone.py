"""Synthetic phone photos for the inbox: regions photographed again with new framing and light.

Used by the demo, the inbox tests and the region-matching benchmark, so all of them see the same
kind of data: each region is a patch of synthetic skin; a later photo re-frames it (rotation,
scale, shift up to a third of the frame) under another lighting and white balance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skintrack.core import colour
from skintrack.demo import synth

TONE_CYCLE = ("light", "intermediate", "tan", "brown")
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003


def skin_for(seed: int, size: tuple[int, int]) -> np.ndarray:
    """The body-plane reflectance of one region (1.6× the photo so re-framings stay filled)."""
    w, h = size
    return synth.make_skin((int(w * 1.6), int(h * 1.6)), seed=seed, tone=TONE_CYCLE[seed % len(TONE_CYCLE)])


def reference_photo(skin: np.ndarray, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    img, _ = synth.photograph(skin, synth.Pose(), size, synth.Lighting(), seed=seed)
    return img


def later_photo(skin: np.ndarray, size: tuple[int, int], seed: int) -> np.ndarray:
    """A new framing (±25°, scale 0.8-1.25, shift ≤ 30 %) under new lighting."""
    rng = np.random.default_rng(seed)
    w, h = size
    r, phi = float(rng.uniform(0.0, 0.3)), float(rng.uniform(0.0, 2 * math.pi))
    pose = synth.Pose(
        float(rng.uniform(-25, 25)),
        float(math.exp(rng.uniform(math.log(0.8), math.log(1.25)))),
        float(rng.uniform(-8e-5, 8e-5)),
        float(rng.uniform(-8e-5, 8e-5)),
        (r * math.cos(phi) * w, r * math.sin(phi) * h),
    )
    img, _ = synth.photograph(
        skin, pose, size, _random_lighting(rng), seed=seed, blur=float(rng.uniform(0.0, 0.8))
    )
    return img


def _random_lighting(rng: np.random.Generator) -> synth.Lighting:
    return synth.Lighting(
        gain=float(rng.uniform(0.75, 1.2)),
        white_balance=(float(rng.uniform(0.9, 1.1)), 1.0, float(rng.uniform(0.9, 1.1))),
        gradient=(float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.3, 0.3))),
        vignette=float(rng.uniform(0.0, 0.2)),
    )


def reframe(photo: np.ndarray, window: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """A re-take of ``window`` (x, y, w, h) of a real photo: new framing and lighting.

    The whole photo is rotated (±20°), scaled (0.85-1.2) and shifted (≤ 15 % of the window) about
    the window's centre, so the re-take sees the surrounding skin where a crop would show black.
    """
    rng = np.random.default_rng(seed)
    x, y, w, h = window
    cx, cy = x + w / 2.0, y + h / 2.0
    angle = float(rng.uniform(-20, 20))
    scale = float(math.exp(rng.uniform(math.log(0.85), math.log(1.2))))
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[0, 2] += float(rng.uniform(-0.15, 0.15)) * w - x
    m[1, 2] += float(rng.uniform(-0.15, 0.15)) * h - y
    shot = cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    linear = colour.srgb_to_linear(shot.astype(np.float32) / 255.0) * _random_lighting(rng).field((w, h))
    srgb = colour.linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255.0
    srgb = srgb + rng.normal(0.0, 1.5, srgb.shape).astype(np.float32)
    return np.clip(np.rint(srgb), 0, 255).astype(np.uint8)


def save_jpeg(path: Path, rgb: np.ndarray, taken_at: datetime | None = None, quality: int = 90) -> Path:
    """A JPEG as a phone writes it: EXIF DateTimeOriginal when ``taken_at`` is given."""
    exif = Image.Exif()
    if taken_at is not None:
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="JPEG", quality=quality, exif=exif.tobytes())
    return path


@dataclass(frozen=True)
class InboxScenario:
    """Files written for an inbox test: region references and inbox photos with their truth."""

    references: dict[str, Path]  # region name -> reference photo file
    truth: dict[Path, str | None]  # inbox photo -> region name it shows (None: unrelated skin)


def write_scenario(
    ref_dir: Path,
    inbox_dir: Path,
    regions: int,
    later_per_region: int,
    unrelated: int,
    size: tuple[int, int] = (800, 600),
    seed: int = 0,
    start: datetime = datetime(2026, 3, 2, 9, 30),
) -> InboxScenario:
    """Reference photos (``ref_dir``) and later/unrelated photos (``inbox_dir``) of synthetic skin."""
    references: dict[str, Path] = {}
    truth: dict[Path, str | None] = {}
    for r in range(regions):
        name = f"Region {r + 1}"
        skin = skin_for(seed + 100 + r, size)
        references[name] = save_jpeg(ref_dir / f"ref_{r + 1:02d}.jpg", reference_photo(skin, size, seed + r))
        for k in range(later_per_region):
            taken = start.replace(day=min(28, 2 + k), hour=9 + r % 10)
            img = later_photo(skin, size, seed + 1000 + 37 * r + k)
            truth[save_jpeg(inbox_dir / f"IMG_{r + 1:02d}{k + 1:02d}.jpg", img, taken)] = name
    for u in range(unrelated):
        skin = skin_for(seed + 5000 + u, size)
        img = later_photo(skin, size, seed + 7000 + u)
        truth[save_jpeg(inbox_dir / f"IMG_9{u + 1:03d}.jpg", img, start)] = None
    return InboxScenario(references, truth)


@dataclass
class MatchCase:
    """In-memory regions and photos with the truth, for matching benchmarks and tests."""

    regions: list[tuple[int, str, np.ndarray]]  # (region id, name, reference photo)
    photos: list[tuple[np.ndarray, str | None]]  # (photo, region name it shows or None)


def synthetic_case(
    regions: int, later_per_region: int, unrelated: int, size: tuple[int, int] = (800, 600), seed: int = 0
) -> MatchCase:
    case = MatchCase([], [])
    for r in range(regions):
        skin = skin_for(seed + 100 + r, size)
        name = f"Synthetic {r + 1}"
        case.regions.append((r + 1, name, reference_photo(skin, size, seed + r)))
        for k in range(later_per_region):
            case.photos.append((later_photo(skin, size, seed + 1000 + 37 * r + k), name))
    for u in range(unrelated):
        case.photos.append((later_photo(skin_for(seed + 5000 + u, size), size, seed + 7000 + u), None))
    return case


def _halves(photo: np.ndarray) -> list[tuple[int, int, int, int]]:
    h, w = photo.shape[:2]
    return [(0, 0, w // 2, h), (w // 2, 0, w - w // 2, h)]


def real_case(
    photos: list[np.ndarray], region_photos: int, later_per_region: int, unrelated: int, seed: int = 0
) -> MatchCase:
    """Regions from the left and right halves of real photos; unrelated photos from the others.

    Two halves of one photo share skin tone, lighting and camera, so they are the hardest pair of
    regions to tell apart. The first ``region_photos`` photos give 2 regions each; re-takes of the
    halves of the remaining photos are the unrelated ones.
    """
    case = MatchCase([], [])
    for p, photo in enumerate(photos[:region_photos]):
        for side, window in zip(("left", "right"), _halves(photo), strict=True):
            x, y, w, h = window
            name = f"Real {p + 1} {side}"
            case.regions.append(
                (len(case.regions) + 1, name, np.ascontiguousarray(photo[y : y + h, x : x + w]))
            )
            for k in range(later_per_region):
                case.photos.append((reframe(photo, window, seed + 97 * len(case.regions) + k), name))
    others = [(photo, window) for photo in photos[region_photos:] for window in _halves(photo)]
    for u in range(unrelated if others else 0):
        photo, window = others[u % len(others)]
        case.photos.append((reframe(photo, window, seed + 50_000 + u), None))
    return case
