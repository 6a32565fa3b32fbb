"""Timelapse GIF: one captioned frame per check-in, fixed duration, looping, no EXIF.

Frames are written one at a time (:class:`GifWriter`), so a timelapse of years of check-ins
needs the memory of one frame, not of all of them.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import GifImagePlugin, Image

from skintrack.export.frame_sink import write_frames

PALETTE_SAMPLE_PIXELS = 120_000


def _sample_step(frames: int, width: int, height: int) -> int:
    """Every ``step``-th pixel of each frame makes about PALETTE_SAMPLE_PIXELS in all."""
    return max(1, math.ceil(math.sqrt(frames * width * height / PALETTE_SAMPLE_PIXELS)))


def _palette_from(samples: Sequence[np.ndarray]) -> Image.Image:
    width = max(s.shape[1] for s in samples)
    padded = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), mode="edge") for s in samples]
    mosaic = Image.fromarray(np.vstack(padded))
    return mosaic.quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def shared_palette(images: Sequence[np.ndarray]) -> Image.Image:
    """One median-cut palette from a subsample of every frame.

    Shared by all frames, so a colour difference between two frames is a difference in the
    photos, not in their palettes (and quantising each frame is then a fast lookup).
    """
    total = sum(img.shape[0] * img.shape[1] for img in images)
    step = max(1, math.ceil(math.sqrt(total / PALETTE_SAMPLE_PIXELS)))
    return _palette_from([np.ascontiguousarray(img[::step, ::step, :3]) for img in images])


class GifWriter:
    """An endlessly looping GIF written frame by frame at flat memory.

    The shared palette needs every frame before the first can be written, so ``add`` spools each
    frame raw to an anonymous temporary file (removed by the system however the export ends)
    and keeps a subsample for the palette; ``close`` quantises and writes the frames one by one.
    ``expected_frames`` sizes the subsample (the same one :func:`shared_palette` takes).
    """

    def __init__(
        self, out: str | Path | BinaryIO, frame_ms: int, expected_frames: int, spool_dir: Path | None = None
    ) -> None:
        self.out = out
        self.frame_ms = int(frame_ms)
        self.expected = max(1, int(expected_frames))
        self.count = 0
        self._size: tuple[int, int] | None = None
        self._step = 1
        self._samples: list[np.ndarray] = []
        self._spool = tempfile.TemporaryFile(dir=spool_dir, prefix=".skintrack-gif-")  # noqa: SIM115 - lives until close

    def add(self, image: np.ndarray) -> None:
        img = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        h, w = img.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._step = _sample_step(self.expected, w, h)
        elif self._size != (w, h):
            raise ValueError("all GIF frames must have the same size")
        self._spool.write(img.tobytes())
        self._samples.append(np.ascontiguousarray(img[:: self._step, :: self._step]))
        self.count += 1

    def close(self) -> int:
        """Write the GIF; returns the number of frames."""
        try:
            if self._size is None:
                raise ValueError("a GIF needs at least one frame")
            palette = _palette_from(self._samples)
            self._samples.clear()
            if isinstance(self.out, str | Path):
                with open(self.out, "wb") as fh:
                    self._write(fh, palette)
            else:
                self._write(self.out, palette)
        finally:
            self._spool.close()
        return self.count

    def abort(self) -> None:
        self._spool.close()

    def _frames(self) -> Iterable[Image.Image]:
        assert self._size is not None
        w, h = self._size
        self._spool.seek(0)
        for _ in range(self.count):
            raw = self._spool.read(w * h * 3)
            yield Image.frombuffer("RGB", (w, h), raw, "raw", "RGB", 0, 1)

    def _write(self, fh: BinaryIO, palette: Image.Image) -> None:
        for i, frame in enumerate(self._frames()):
            q = frame.quantize(palette=palette, dither=Image.Dither.NONE)
            if i == 0:
                header, _used = GifImagePlugin.getheader(q, info={"loop": 0, "optimize": False})
                fh.writelines(header)
            fh.writelines(GifImagePlugin.getdata(q, duration=self.frame_ms, disposal=1))
        fh.write(b";")


def write_gif(out: str | Path | BinaryIO, images: Sequence[np.ndarray], frame_ms: int) -> None:
    """Write ``images`` (uint8 RGB, same size) as an endlessly looping GIF.

    GIF cannot carry EXIF, so nothing identifying leaves with it.
    """
    if not images:
        raise ValueError("a GIF needs at least one frame")
    write_frames(GifWriter(out, frame_ms, len(images)), images)
