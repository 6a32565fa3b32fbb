"""Timelapse GIF: one captioned frame per check-in, fixed duration, looping, no EXIF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image


def write_gif(out: str | Path | BinaryIO, images: Sequence[np.ndarray], frame_ms: int) -> None:
    """Write ``images`` (uint8 RGB, same size) as an endlessly looping GIF.

    Each frame gets its own adaptive palette (skin tones need the colours); GIF cannot carry
    EXIF, so nothing identifying leaves with it.
    """
    if not images:
        raise ValueError("a GIF needs at least one frame")
    frames = [
        Image.fromarray(np.ascontiguousarray(img)).quantize(
            256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
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
