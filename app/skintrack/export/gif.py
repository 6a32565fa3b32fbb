"""Timelapse GIF: one captioned frame per check-in, fixed duration, looping, no EXIF."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

PALETTE_SAMPLE_PIXELS = 120_000


def shared_palette(images: Sequence[np.ndarray]) -> Image.Image:
    """One median-cut palette from a subsample of every frame.

    Shared by all frames, so a colour difference between two frames is a difference in the
    photos, not in their palettes (and quantising each frame is then a fast lookup).
    """
    total = sum(img.shape[0] * img.shape[1] for img in images)
    step = max(1, math.ceil(math.sqrt(total / PALETTE_SAMPLE_PIXELS)))
    sample = [np.ascontiguousarray(img[::step, ::step, :3]) for img in images]
    width = max(s.shape[1] for s in sample)
    padded = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), mode="edge") for s in sample]
    mosaic = Image.fromarray(np.vstack(padded))
    return mosaic.quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def write_gif(out: str | Path | BinaryIO, images: Sequence[np.ndarray], frame_ms: int) -> None:
    """Write ``images`` (uint8 RGB, same size) as an endlessly looping GIF.

    GIF cannot carry EXIF, so nothing identifying leaves with it.
    """
    if not images:
        raise ValueError("a GIF needs at least one frame")
    palette = shared_palette(images)
    frames = [
        Image.fromarray(np.ascontiguousarray(img[..., :3])).quantize(
            palette=palette, dither=Image.Dither.NONE
        )
        for img in images
    ]
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=int(frame_ms),
        loop=0,
        disposal=1,
        optimize=False,
    )
