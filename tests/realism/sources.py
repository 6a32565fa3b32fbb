"""Skin to photograph: real smartphone photos (PAD-UFES-20) and synthetic skin, as linear RGB.

A scene's ``body`` is linear RGB (float32, 0..1) in body coordinates; the real photos are taken as
the skin itself (their own hair, freckles, lesion and lighting become part of the body, which both
photos of a pair then share). Pigmented spots (``moles``) are found the same way in both kinds.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.demo import synth

REPO = Path(__file__).resolve().parents[2]
PAD_FOLDER = "pad-ufes-20"
SYNTHETIC_TONES = ("light", "intermediate", "brown")
BODY_SIDE = 1200  # long side of a scene's body (px): real photos are at most 1200 px


def shared_data() -> Path | None:
    """The shared data folder: $SKINTRACK_SHARED_DATA, else ``shared/data`` beside the checkout
    (or beside a folder holding it, as for worktrees); None when absent."""
    env = os.environ.get("SKINTRACK_SHARED_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for parent in REPO.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def real_photo_paths() -> list[Path]:
    """The real smartphone photos, sorted by name (empty when the shared folder is absent)."""
    root = shared_data()
    if root is None or not (root / PAD_FOLDER).is_dir():
        return []
    return sorted((root / PAD_FOLDER).glob("*.jpg"))


MISSING_REAL = (
    "real smartphone photos not found: put the shared data folder beside the checkout "
    f"(../shared/data/{PAD_FOLDER}) or set SKINTRACK_SHARED_DATA"
)


@dataclass(frozen=True)
class Scene:
    """Skin in body coordinates: ``body`` linear RGB, ``moles`` bool mask of pigmented spots."""

    name: str
    kind: str  # "real" | "synthetic"
    body: np.ndarray
    moles: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.body.shape[1], self.body.shape[0]


def find_moles(linear: np.ndarray) -> np.ndarray:
    """Pigmented spots and lesions: areas more than 8 L* darker than the median skin within a
    sixth of the frame around them, at least 40 px."""
    light = colour.linear_to_lab(linear)[..., 0].astype(np.float32)
    small = cv2.resize(light, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    k = min(255, (max(small.shape) // 6) | 1)
    background = cv2.medianBlur(np.clip(small * 2.55, 0, 255).astype(np.uint8), k)
    background = cv2.resize(background.astype(np.float32) / 2.55, (light.shape[1], light.shape[0]))
    dark = (light < background - 8.0).astype(np.uint8)
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 40
    return keep[labels]


@functools.lru_cache(maxsize=16)
def real_scene(index: int) -> Scene:
    """Real photo number ``index`` (sorted by name) as a scene; IndexError when there is none."""
    path = real_photo_paths()[index]
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: not a readable image")
    srgb = bgr[..., ::-1].astype(np.float32) / 255.0
    f = BODY_SIDE / max(srgb.shape[:2])
    if f < 1.0:
        srgb = cv2.resize(srgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    linear = np.ascontiguousarray(colour.srgb_to_linear(srgb), dtype=np.float32)
    return Scene(path.stem, "real", linear, find_moles(linear))


@functools.lru_cache(maxsize=8)
def synthetic_scene(index: int, side: int = BODY_SIDE) -> Scene:
    """Synthetic skin number ``index`` (tone cycles through SYNTHETIC_TONES), fixed seed."""
    tone = SYNTHETIC_TONES[index % len(SYNTHETIC_TONES)]
    body = synth.make_skin((side, side), seed=500 + index, tone=tone, moles=3, hair_density=0.5)
    body = np.ascontiguousarray(body, dtype=np.float32)
    return Scene(f"synth-{tone}-{index}", "synthetic", body, find_moles(body))


def scenes(real: int, synthetic: int) -> list[Scene]:
    """Up to ``real`` real scenes (fewer when the photos are absent) and ``synthetic`` synthetic ones."""
    n_real = min(real, len(real_photo_paths()))
    return [real_scene(i) for i in range(n_real)] + [synthetic_scene(i) for i in range(synthetic)]
