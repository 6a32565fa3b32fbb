"""Timelapse MP4: H.264 in yuv420p with +faststart, so it plays in browsers and on phones.

OpenCV's VideoWriter cannot make H.264 everywhere; imageio-ffmpeg ships an ffmpeg binary as a
Python package. yuv420p needs even dimensions, so frames are padded (never scaled) to even size.

ffmpeg runs as a child process we watch ourselves: a non-zero exit status (full disk, broken
binary) or a result that does not read back with every frame raises Mp4Error, so the caller
never renames a broken file over a good earlier export.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from skintrack.errors import SkintrackError
from skintrack.export.frame_sink import write_frames

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


class Mp4Writer:
    """An MP4 fed one frame at a time: ffmpeg reads each frame from a pipe as it comes, so the
    memory is one frame's whatever the number of check-ins."""

    def __init__(self, path: str | Path, frame_ms: int) -> None:
        self.path = Path(path)
        self.fps = 1000.0 / float(frame_ms)
        self.count = 0
        self._size: tuple[int, int] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._drain: threading.Thread | None = None
        self._messages: list[bytes] = []
        self._broken = False

    def _start(self, w: int, h: int) -> None:
        cmd = [
            _ffmpeg(), "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{self.fps:.6f}", "-i", "-",
            "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20", "-preset", "veryfast",
            "-movflags", "+faststart", "-f", "mp4", str(self.path),
        ]  # fmt: skip
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise Mp4Error(f"cannot start ffmpeg ({exc.strerror or exc})") from exc
        assert proc.stdin is not None and proc.stderr is not None
        errors = proc.stderr
        self._drain = threading.Thread(target=lambda: self._messages.append(errors.read()), daemon=True)
        self._drain.start()  # a full stderr pipe would block ffmpeg, and us with it
        self._proc = proc

    def add(self, image: np.ndarray) -> None:
        frame = pad_even(image)
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._start(w, h)
        elif self._size != (w, h):
            raise ValueError("all MP4 frames must have the same size")
        assert self._proc is not None and self._proc.stdin is not None
        self.count += 1
        if self._broken:
            return
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self._broken = True  # ffmpeg quit early; its exit status says why

    def close(self) -> int:
        """Finish the file; returns the frames written. Raises Mp4Error when ffmpeg failed or the
        file does not read back with every frame."""
        if self._proc is None:
            raise ValueError("an MP4 needs at least one frame")
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # ffmpeg quit early: its status says why
            self._proc.stdin.close()
        status = self._proc.wait()
        if self._drain is not None:
            self._drain.join()
        if status != 0:
            text = (
                b"".join(self._messages).decode("utf-8", "replace").strip()[-_STDERR_LIMIT:] or "no message"
            )
            raise Mp4Error(f"ffmpeg failed with exit status {status}: {text}")
        found = count_frames(self.path)
        if found != self.count:
            raise Mp4Error(f"the MP4 holds {found} of {self.count} frames; the file is incomplete")
        return self.count

    def abort(self) -> None:
        """Stop ffmpeg (cancelled or failed export); the caller removes the file."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._drain is not None:
                self._drain.join()


def write_mp4(path: str | Path, images: Iterable[np.ndarray], frame_ms: int) -> int:
    """Encode ``images`` (uint8 RGB, same size) to ``path``; returns the number of frames written.

    The container is forced to mp4 (``path`` may be a temporary name without the suffix). Each
    picture is shown for ``frame_ms``: the video runs at 1000/frame_ms fps. ``images`` may be a
    generator: frames are encoded as they come. Raises Mp4Error when ffmpeg fails or the file
    does not read back with all frames.
    """
    return write_frames(Mp4Writer(path, frame_ms), images)


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
