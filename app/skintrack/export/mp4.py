"""Timelapse MP4: H.264 in yuv420p with +faststart, so it plays in browsers and on phones.

OpenCV's VideoWriter cannot make H.264 everywhere; imageio-ffmpeg ships an ffmpeg binary as a
Python package. yuv420p needs even dimensions, so frames are padded (never scaled) to even size.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

GREY = 20


def even_size(width: int, height: int) -> tuple[int, int]:
    return width + (width % 2), height + (height % 2)


def pad_even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    ew, eh = even_size(w, h)
    if (ew, eh) == (w, h):
        return np.ascontiguousarray(img)
    out = np.full((eh, ew, 3), GREY, np.uint8)
    out[:h, :w] = img
    return out


def write_mp4(path: str | Path, images: Iterable[np.ndarray], frame_ms: int) -> int:
    """Encode ``images`` (uint8 RGB, same size) to ``path``; returns the number of frames written.

    The container is forced to mp4 (``path`` may be a temporary name without the suffix). Each
    picture is shown for ``frame_ms``: the video runs at 1000/frame_ms fps.
    """
    import imageio_ffmpeg

    it = iter(images)
    first = next(it, None)
    if first is None:
        raise ValueError("an MP4 needs at least one frame")
    first = pad_even(first)
    h, w = first.shape[:2]
    fps = 1000.0 / float(frame_ms)
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        fps=fps,
        codec="libx264",
        quality=None,
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart", "-f", "mp4"],
    )
    writer.send(None)  # start ffmpeg
    n = 0
    try:
        for img in _chain(first, it):
            frame = pad_even(img)
            if frame.shape[:2] != (h, w):
                raise ValueError("all MP4 frames must have the same size")
            writer.send(frame)
            n += 1
    finally:
        writer.close()
    return n


def _chain(first: np.ndarray, rest: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    yield first
    yield from rest
