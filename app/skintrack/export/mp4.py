"""Timelapse MP4: H.264 in yuv420p with +faststart, so it plays in browsers and on phones.

OpenCV's VideoWriter cannot make H.264 everywhere; imageio-ffmpeg ships an ffmpeg binary as a
Python package. yuv420p needs even dimensions, so frames are padded (never scaled) to even size.

ffmpeg runs as a child process we watch ourselves: a non-zero exit status (full disk, broken
binary) or a result that does not read back with every frame raises Mp4Error, so the caller
never renames a broken file over a good earlier export.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from skintrack.errors import SkintrackError

GREY = 20
_STDERR_LIMIT = 2000


class Mp4Error(SkintrackError):
    """ffmpeg failed or wrote a file that does not hold the frames it was given."""


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


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def write_mp4(path: str | Path, images: Iterable[np.ndarray], frame_ms: int) -> int:
    """Encode ``images`` (uint8 RGB, same size) to ``path``; returns the number of frames written.

    The container is forced to mp4 (``path`` may be a temporary name without the suffix). Each
    picture is shown for ``frame_ms``: the video runs at 1000/frame_ms fps. Raises Mp4Error when
    ffmpeg fails or the file does not read back with all frames.
    """
    it = iter(images)
    first = next(it, None)
    if first is None:
        raise ValueError("an MP4 needs at least one frame")
    first = pad_even(first)
    h, w = first.shape[:2]
    fps = 1000.0 / float(frame_ms)
    cmd = [
        _ffmpeg(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        f"{fps:.6f}",
        "-i",
        "-",
        "-an",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        "20",
        "-preset",
        "veryfast",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(path),
    ]
    n = 0
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as exc:
        raise Mp4Error(f"cannot start ffmpeg ({exc.strerror or exc})") from exc
    assert proc.stdin is not None and proc.stderr is not None
    errors = proc.stderr
    messages: list[bytes] = []
    drain = threading.Thread(target=lambda: messages.append(errors.read()), daemon=True)
    drain.start()  # a full stderr pipe would block ffmpeg, and us with it
    try:
        for img in _chain(first, it):
            frame = pad_even(img)
            if frame.shape[:2] != (h, w):
                raise ValueError("all MP4 frames must have the same size")
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            n += 1
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg quit early; its exit status says why
    except BaseException:
        proc.kill()
        proc.wait()
        drain.join()
        raise
    status = proc.wait()
    drain.join()
    if status != 0:
        text = b"".join(messages).decode("utf-8", "replace").strip()[-_STDERR_LIMIT:] or "no message"
        raise Mp4Error(f"ffmpeg failed with exit status {status}: {text}")
    found = count_frames(Path(path))
    if found != n:
        raise Mp4Error(f"the MP4 holds {found} of {n} frames; the file is incomplete")
    return n


def count_frames(path: Path) -> int:
    """Frames in the first video stream, found by decoding the file (reads it back completely)."""
    import imageio_ffmpeg

    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        frames, _seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError) as exc:
        raise Mp4Error(f"the MP4 does not read back: {str(exc)[-_STDERR_LIMIT:]}") from exc
    return int(frames or 0)


def _chain(first: np.ndarray, rest: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    yield first
    yield from rest
