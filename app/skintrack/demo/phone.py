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

import numpy as np
from PIL import Image

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
    lighting = synth.Lighting(
        gain=float(rng.uniform(0.75, 1.2)),
        white_balance=(float(rng.uniform(0.9, 1.1)), 1.0, float(rng.uniform(0.9, 1.1))),
        gradient=(float(rng.uniform(-0.3, 0.3)), float(rng.uniform(-0.3, 0.3))),
        vignette=float(rng.uniform(0.0, 0.2)),
    )
    img, _ = synth.photograph(skin, pose, size, lighting, seed=seed, blur=float(rng.uniform(0.0, 0.8)))
    return img


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
