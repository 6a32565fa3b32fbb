"""The encoder interface the timelapse writers share, and the loop that feeds one a sequence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np


class FrameSink(Protocol):
    """A timelapse encoder fed one frame at a time (export.gif.GifWriter, export.mp4.Mp4Writer)."""

    def add(self, image: np.ndarray) -> None: ...
    def close(self) -> int: ...
    def abort(self) -> None: ...


def write_frames(sink: FrameSink, images: Iterable[np.ndarray]) -> int:
    """Feed every image to ``sink`` and close it; on any failure abort it, so no encoder is left running."""
    try:
        for img in images:
            sink.add(img)
    except BaseException:
        sink.abort()
        raise
    return sink.close()
