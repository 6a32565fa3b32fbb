"""Opening a photo safely: missing, empty, non-image and over-sized files refused with a message.

A small file can declare a huge, deep image, so the pixel count and the bytes a decode would
allocate are checked from the header before any pixel is read.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from skintrack.errors import InvalidInputError

DEFAULT_MAX_PIXELS = 120_000_000
# What decoding one photo may allocate (pixels x bytes per pixel of every array the decode makes,
# see ``decoded_bytes``): a small file can declare a huge, deep image.
DEFAULT_MAX_DECODED_BYTES = 1 << 30

# Pillow warns from 89 MP on; our own pixel and decoded-byte limits decide, so the warning is
# noise (set once at import: catch_warnings() would swap the process-wide filters per thread).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
_heif_lock = threading.Lock()
_heif_registered = False
_bomb_lock = threading.Lock()


def _ensure_heif() -> None:
    """Register the HEIF opener on first use (importing it costs ~50 ms we don't pay for JPEGs).

    pillow-heif is the dependency; the standalone bundle ships pi-heif instead, the same API built
    for decoding only (no 23 MB HEVC encoder: Skintrack reads phone photos, it never writes HEIC).
    """
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            for module in ("pillow_heif", "pi_heif"):
                try:
                    importlib.import_module(module).register_heif_opener()
                    break
                except ImportError:
                    continue
            _heif_registered = True


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidInputError(path, "file not found")
    if path.is_dir():
        raise InvalidInputError(path, "is a folder, not an image file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise InvalidInputError(path, "file is empty (0 bytes)")


def _megapixels(pixels: int) -> str:
    mp = pixels / 1e6
    if mp >= 10:
        return f"{mp:.0f}"
    return f"{mp:.1f}" if mp >= 1 else f"{mp:.2g}"


def _check_pixels(path: Path, width: int, height: int, max_pixels: int | None) -> None:
    if width <= 0 or height <= 0:
        raise InvalidInputError(path, f"image header gives an impossible size {width}x{height}")
    if max_pixels is not None and width * height > max_pixels:
        raise InvalidInputError(
            path,
            f"image is {width}x{height} = {_megapixels(width * height)} MP, "
            f"over the {_megapixels(max_pixels)} MP limit",
        )


def decoded_bytes(im: Image.Image, *, deep_colour: bool, want_float: bool, orientation: int = 1) -> int:
    """Bytes a decode of ``im`` allocates at its peak, counting channels and bit depth.

    8-bit output (also from 16-bit sources, which only then lose their low bits): Pillow's
    pixels (1 byte per band for one band, 4 for several), our RGB array, a rotated copy when the
    photo is not upright. Float output adds float32 RGB; 16-bit sources decoded at full depth
    take OpenCV's 16-bit array and two float32 RGB arrays instead.
    """
    pixels = int(im.width) * int(im.height)
    bands = len(im.getbands())
    if deep_colour and want_float:
        per_pixel = 2 * max(bands, 3) + 2 * 3 * 4
    else:
        wide = im.mode.startswith("I;16") or im.mode in ("I", "F")
        per_pixel = (4 if bands > 1 or wide else 1) + 3
        if orientation != 1:
            per_pixel += 3
        if want_float:
            per_pixel += 3 * 4
    return pixels * per_pixel


def _gigabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def _check_budget(path: Path, im: Image.Image, cost: int, max_bytes: int | None) -> None:
    if max_bytes is not None and cost > max_bytes:
        raise InvalidInputError(
            path,
            f"image is {im.width}x{im.height} ({im.mode}); decoding it would take about "
            f"{_gigabytes(cost)} of memory, over the {_gigabytes(max_bytes)} limit",
        )


def _open(path: str | os.PathLike[str], max_pixels: int | None) -> tuple[Path, Image.Image]:
    """Open lazily (header only) and refuse missing, empty, non-image and over-sized files."""
    p = Path(path)
    _check_file(p)
    if _is_iso_media(p):
        _ensure_heif()
    try:
        return p, _open_checked(p, max_pixels)
    except InvalidInputError as exc:
        if _heif_registered or not isinstance(exc.__cause__, UnidentifiedImageError):
            raise
    _ensure_heif()  # a HEIF file whose first box is not ftyp: let its opener have a look
    return p, _open_checked(p, max_pixels)


def _is_iso_media(path: Path) -> bool:
    """HEIF/HEIC/AVIF files are ISO media files: an ``ftyp`` box first. Only those need the HEIF
    opener, whose import a JPEG-only command (``compare`` of two phone JPEGs) need not pay."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return True  # let the open below report it
    return head[4:8] == b"ftyp"


def _open_checked(p: Path, max_pixels: int | None) -> Image.Image:
    try:
        # Between Pillow's MAX_IMAGE_PIXELS (89 MP) and ours Pillow only warns; no catch_warnings()
        # here because it swaps the process-wide filter list and the check-in decodes on threads.
        im = Image.open(p)
    except Image.DecompressionBombError:
        # Pillow's own guard (2 x MAX_IMAGE_PIXELS) fired before ours could: re-read just the header
        # with it off so the message gives the real size, and so callers may raise max_pixels above it.
        with _bomb_lock:
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                im = Image.open(p)
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                raise InvalidInputError(p, f"unreadable image header ({exc})") from exc
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except UnidentifiedImageError as exc:
        raise InvalidInputError(
            p, "not an image Skintrack can read (supported: JPEG, PNG, TIFF, WebP, HEIC)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInputError(p, f"damaged image header ({exc})") from exc
    try:
        _check_pixels(p, im.width, im.height, max_pixels)
    except InvalidInputError:
        im.close()
        raise
    return im
