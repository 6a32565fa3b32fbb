"""Small random JPEGs to import into a test library: unique bytes (and hash) per seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_jpeg(path: Path, seed: int = 0, size: tuple[int, int] = (64, 48)) -> Path:
    """Write a ``size`` (width, height) JPEG of seeded noise at ``path``, creating its folder."""
    rgb = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, quality=90)
    return path
