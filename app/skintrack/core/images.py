"""Decoding photos into upright sRGB numpy arrays, with the metadata check-ins need.

Every photo goes through here so that orientation, colour profiles, odd pixel formats and hostile
files (decompression bombs, truncated or fake images) are handled once, the same way, with a
message that names the file. Pure Pillow/pillow-heif/OpenCV/numpy: no Qt.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import os
import re
import struct
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from skintrack.core.dates import MAX_OFFSET, date_problem
from skintrack.core.formats import SUPPORTED_SUFFIXES as SUPPORTED_SUFFIXES
from skintrack.core.fsutil import atomic_write_bytes
from skintrack.errors import InvalidInputError

DEFAULT_MAX_PIXELS = 120_000_000
# What decoding one photo may allocate (pixels x bytes per pixel of every array the decode makes,
# see ``decoded_bytes``): a small file can declare a huge, deep image.
DEFAULT_MAX_DECODED_BYTES = 1 << 30

# EXIF tags (numbers from the EXIF 2.32 specification)
TAG_ORIENTATION = 0x0112
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011

# Tags that identify a person, a device or a place; dropped before EXIF leaves the library.
_IDENTIFYING_IFD0 = (
    0x013B,  # Artist
    0x013C,  # HostComputer
    0x8298,  # Copyright (usually the owner's name)
    0x9C9B,  # XPTitle
    0x9C9C,  # XPComment
    0x9C9D,  # XPAuthor
    0x9C9E,  # XPKeywords
    0x9C9F,  # XPSubject
    0xC62F,  # CameraSerialNumber (DNG)
    0x02BC,  # XMLPacket: embedded XMP, which names its creator
)
_IDENTIFYING_EXIF_IFD = (
    0x927C,  # MakerNote (opaque, often serial numbers and GPS copies)
    0x9286,  # UserComment
    0xA420,  # ImageUniqueID
    0xA430,  # CameraOwnerName
    0xA431,  # BodySerialNumber
    0xA435,  # LensSerialNumber
)

_JPEG_FORMATS = ("JPEG", "MPO")
# Pillow warns from 89 MP on; our own pixel and decoded-byte limits decide, so the warning is
# noise (set once at import: catch_warnings() would swap the process-wide filters per thread).
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
_heif_lock = threading.Lock()
_heif_registered = False
_bomb_lock = threading.Lock()


@dataclass(frozen=True)
class ImageMeta:
    """What a photo's header says, with width/height already in upright (EXIF-oriented) terms."""

    width: int
    height: int
    format: str
    orientation: int
    taken_at: datetime | None
    camera: str | None
    icc_description: str | None
    bit_depth: int
    has_gps: bool
    taken_at_problem: str | None = None  # why an EXIF date was present but not used


@dataclass
class DecodedImage:
    """Upright sRGB pixels (uint8, or float32 in 0..1) plus the metadata of the file."""

    rgb: np.ndarray
    meta: ImageMeta


# --------------------------------------------------------------------------- opening & validation


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
    _ensure_heif()
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
    return p, im


# --------------------------------------------------------------------------- metadata


def _exif_of(im: Image.Image) -> Image.Exif | None:
    try:
        exif = im.getexif()
    except Exception:
        return None
    return exif if len(exif) else None


def _orientation(exif: Image.Exif | None) -> int:
    if exif is None:
        return 1
    try:
        value = int(exif.get(TAG_ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def _parse_exif_datetime(value: Any, offset: Any) -> tuple[datetime | None, str | None]:
    """DateTimeOriginal (+ OffsetTimeOriginal) -> (datetime, None), or (None, why it was not used).

    A missing or blank date gives (None, None); an unreadable or implausible one gives the reason,
    so the import can say why it fell back to the file time.
    """
    if not isinstance(value, str):
        return None, None
    text = value.strip().rstrip("\x00").strip()
    if not text or set(text) <= set("0: "):  # "0000:00:00 00:00:00" means "not set"
        return None, None
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, f"EXIF date {text[:19]!r} is not a valid date"
    problem = date_problem(naive)
    if problem is not None:
        return None, f"EXIF date {text[:19]!r}: {problem}"
    if isinstance(offset, str) and offset.strip("\x00 "):
        m = _OFFSET_RE.match(offset.rstrip("\x00"))
        if not m:
            return None, f"EXIF time offset {offset.strip()!r} is not valid"
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        if int(m.group(3)) >= 60 or delta > MAX_OFFSET:
            return None, f"EXIF time offset {offset.strip()!r} is out of range"
        return naive.replace(tzinfo=timezone(-delta if m.group(1) == "-" else delta)), None
    return naive, None


def _clean(value: Any) -> str:
    return str(value).strip().strip("\x00").strip() if value is not None else ""


def _camera(exif: Image.Exif | None) -> str | None:
    if exif is None:
        return None
    make, model = _clean(exif.get(TAG_MAKE)), _clean(exif.get(TAG_MODEL))
    if make and model.lower().startswith(make.lower()):
        make = ""  # "Canon" + "Canon EOS 80D" -> "Canon EOS 80D"
    camera = f"{make} {model}".strip()
    return camera or None


def _taken_at(exif: Image.Exif | None) -> tuple[datetime | None, str | None]:
    if exif is None:
        return None, None
    try:
        sub = exif.get_ifd(TAG_EXIF_IFD)
    except Exception:
        return None, None
    return _parse_exif_datetime(sub.get(TAG_DATETIME_ORIGINAL), sub.get(TAG_OFFSET_TIME_ORIGINAL))


def _has_gps(exif: Image.Exif | None) -> bool:
    if exif is None or TAG_GPS_IFD not in exif:
        return False
    try:
        return bool(exif.get_ifd(TAG_GPS_IFD))
    except Exception:
        return True


@lru_cache(maxsize=32)
def _profile_from_bytes(icc: bytes) -> tuple[ImageCms.ImageCmsProfile | None, str | None]:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return None, None
    try:
        desc = ImageCms.getProfileDescription(profile).strip() or None
    except ImageCms.PyCMSError:
        desc = None
    return profile, desc


def _icc(im: Image.Image) -> tuple[ImageCms.ImageCmsProfile | None, str | None]:
    data = im.info.get("icc_profile")
    if not data:
        return None, None
    return _profile_from_bytes(bytes(data))


def _is_srgb(desc: str | None) -> bool:
    return bool(desc) and "srgb" in desc.lower().replace(" ", "")  # type: ignore[union-attr]


def _rawmode(im: Image.Image) -> str:
    try:
        args = im.tile[0].args if im.tile else None
    except (AttributeError, IndexError):
        return ""
    if isinstance(args, tuple):
        args = args[0] if args else ""
    return args if isinstance(args, str) else ""


def _is_16bit_colour(im: Image.Image) -> bool:
    """16-bit RGB(A) TIFF/PNG: Pillow would silently cut them to 8 bits, so OpenCV decodes them."""
    if im.mode not in ("RGB", "RGBA", "RGBX"):
        return False
    if ";16" in _rawmode(im):
        return True
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    return isinstance(bits, tuple) and bool(bits) and max(bits) > 8


def _bit_depth(im: Image.Image, deep_colour: bool) -> int:
    if im.mode == "1":
        return 1
    if im.mode.startswith("I;16") or deep_colour:
        return 16
    if im.mode in ("I", "F"):
        return 32 if im.format == "TIFF" else 16
    depth = im.info.get("bit_depth")
    return int(depth) if isinstance(depth, int) and depth > 0 else 8


def _meta(im: Image.Image, deep_colour: bool) -> ImageMeta:
    """Header metadata; ``deep_colour`` must be computed first (PNG's getexif() loads the pixels)."""
    exif = _exif_of(im)
    orientation = _orientation(exif)
    w, h = im.size
    if orientation >= 5:
        w, h = h, w
    _, desc = _icc(im)
    taken_at, taken_at_problem = _taken_at(exif)
    return ImageMeta(
        width=w,
        height=h,
        format=str(im.format or "unknown"),
        orientation=orientation,
        taken_at=taken_at,
        camera=_camera(exif),
        icc_description=desc,
        bit_depth=_bit_depth(im, deep_colour),
        has_gps=_has_gps(exif),
        taken_at_problem=taken_at_problem,
    )


def read_meta(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_bytes: int | None = DEFAULT_MAX_DECODED_BYTES,
) -> ImageMeta:
    """Header-only metadata (fast); raises InvalidInputError for files an 8-bit decode() would
    refuse up front (PNG metadata may need the pixels, so the same budget applies)."""
    p, im = _open(path, max_pixels)
    with im:
        try:
            deep_colour = _is_16bit_colour(im)
            _check_budget(p, im, decoded_bytes(im, deep_colour=deep_colour, want_float=False), max_bytes)
            return _meta(im, deep_colour)
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidInputError(p, f"damaged image metadata ({exc})") from exc


# --------------------------------------------------------------------------- pixels


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip an array (H, W, ...) from stored order to upright, like ImageOps.exif_transpose."""
    if orientation == 2:
        out = arr[:, ::-1]
    elif orientation == 3:
        out = arr[::-1, ::-1]
    elif orientation == 4:
        out = arr[::-1]
    elif orientation == 5:
        out = arr.swapaxes(0, 1)
    elif orientation == 6:
        out = np.rot90(arr, -1)
    elif orientation == 7:
        out = arr[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        out = np.rot90(arr, 1)
    else:
        return arr
    return np.ascontiguousarray(out)


@lru_cache(maxsize=16)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# (id(profile), in, out) -> (profile, transform). Holding the profile keeps its id from being reused.
_transform_cache: dict[tuple[int, str, str], tuple[ImageCms.ImageCmsProfile, ImageCms.ImageCmsTransform]] = {}
_transform_lock = threading.Lock()


def _transform(profile: ImageCms.ImageCmsProfile, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform:
    """Building an lcms transform costs ~ms; photos from one camera share a profile, so cache it."""
    key = (id(profile), in_mode, out_mode)
    with _transform_lock:
        entry = _transform_cache.get(key)
        if entry is None or entry[0] is not profile:
            tr = ImageCms.buildTransform(
                profile, _srgb_profile(), in_mode, out_mode, renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
            if len(_transform_cache) > 32:
                _transform_cache.clear()
            entry = _transform_cache[key] = (profile, tr)
    return entry[1]


def _composite_on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Transparent pixels become white paper, not black (float in, float out)."""
    a = alpha[..., None]
    return rgb * a + (1.0 - a)


def _pil_to_float_or_u8(path: Path, im: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to sRGB RGB: uint8 (8-bit sources) or float32 0..1 (deeper ones)."""
    profile, desc = _icc(im)
    mode = im.mode
    if mode == "P" or mode == "PA":
        im = im.convert("RGBA" if ("transparency" in im.info or mode == "PA") else "RGB")
        mode = im.mode
    elif mode == "1":
        im = im.convert("L")
        mode = "L"
    elif mode in ("La",):
        im = im.convert("LA")
        mode = "LA"
    elif mode in ("RGBa", "RGBX", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGBA" if mode == "RGBa" else "RGB")
        mode = im.mode

    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im)
        if mode == "F":
            grey = np.clip(arr.astype(np.float32), 0.0, 1.0)
        else:
            grey = np.clip(arr.astype(np.float32) / 65535.0, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2)

    alpha: np.ndarray | None = None
    if mode in ("RGBA", "LA"):
        alpha = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
        im = im.convert("RGB" if mode == "RGBA" else "L")
        mode = im.mode

    convert_icc = profile is not None and not _is_srgb(desc)
    if mode == "CMYK":
        if profile is not None:
            try:
                im = ImageCms.applyTransform(im, _transform(profile, "CMYK", "RGB"))
            except ImageCms.PyCMSError:
                im = im.convert("RGB")
        else:
            im = im.convert("RGB")
        convert_icc = False
    elif convert_icc and mode in ("RGB", "L"):
        try:
            im = ImageCms.applyTransform(im, _transform(profile, mode, "RGB"))  # type: ignore[arg-type]
            mode = "RGB"
        except ImageCms.PyCMSError:
            pass  # a profile lcms rejects: show the pixels as they are rather than refuse the photo
    if im.mode != "RGB":
        im = im.convert("RGB")
    rgb = np.asarray(im)
    if alpha is not None:
        rgb = _composite_on_white(rgb.astype(np.float32) / 255.0, alpha)
        return np.clip(rgb, 0.0, 1.0).astype(np.float32)
    return rgb


def _icc_lut_float(rgb: np.ndarray, profile: ImageCms.ImageCmsProfile) -> np.ndarray:
    """Apply an RGB profile to float data via a 52^3 lattice (lcms via Pillow is 8-bit only)."""
    n = 52  # 255 = 51 * 5: lattice nodes are exact 8-bit values
    levels = np.arange(n, dtype=np.uint8) * 5
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(n * n, n, 3)
    out = ImageCms.applyTransform(Image.fromarray(grid, "RGB"), _transform(profile, "RGB", "RGB"))
    lut = np.asarray(out, dtype=np.float32).reshape(n, n, n, 3) / 255.0
    pos = np.clip(rgb, 0.0, 1.0) * (n - 1)
    i0 = np.minimum(pos.astype(np.int32), n - 2)
    f = pos - i0
    result = np.zeros_like(rgb, dtype=np.float32)
    for dr in (0, 1):
        wr = f[..., 0] if dr else 1.0 - f[..., 0]
        for dg in (0, 1):
            wg = f[..., 1] if dg else 1.0 - f[..., 1]
            for db in (0, 1):
                wb = f[..., 2] if db else 1.0 - f[..., 2]
                w = (wr * wg * wb)[..., None]
                result += w * lut[i0[..., 0] + dr, i0[..., 1] + dg, i0[..., 2] + db]
    return result


def _decode_16bit_colour(path: Path, im: Image.Image) -> np.ndarray:
    """16-bit RGB(A) via OpenCV, which keeps all 16 bits; float32 RGB 0..1 out."""
    data = np.fromfile(str(path), dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise InvalidInputError(
            path, "cannot decode the 16-bit image data; the file may be truncated or damaged"
        )
    if arr.ndim == 2:
        arr = arr[..., None]
    scale = 65535.0 if arr.dtype == np.uint16 else (255.0 if arr.dtype == np.uint8 else 1.0)
    f = arr.astype(np.float32) / scale
    if f.shape[2] == 1:
        rgb = np.repeat(f, 3, axis=2)
    elif f.shape[2] >= 3:
        rgb = f[..., 2::-1] if f.shape[2] == 3 else f[..., [2, 1, 0]]
        if f.shape[2] == 4:
            rgb = _composite_on_white(rgb, np.clip(f[..., 3], 0.0, 1.0))
    else:
        raise InvalidInputError(path, f"unsupported channel count {f.shape[2]}")
    if (rgb.shape[1], rgb.shape[0]) != im.size:
        raise InvalidInputError(path, "image data does not match its header; the file may be damaged")
    rgb = np.clip(rgb, 0.0, 1.0)
    profile, desc = _icc(im)
    if profile is not None and not _is_srgb(desc):
        with contextlib.suppress(ImageCms.PyCMSError):  # lcms rejects it: keep the pixels as they are
            rgb = _icc_lut_float(rgb, profile)
    return np.ascontiguousarray(rgb, dtype=np.float32)


_REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F")


def _reduced(im: Image.Image, max_side: int | None) -> Image.Image:
    """For a preview of a big non-JPEG, box-average it down in Pillow (to >= 2 x max_side, the
    final resize does the rest) and free the full-size pixels before any array copy is made."""
    if max_side is None or im.mode not in _REDUCIBLE_MODES:
        return im
    factor = max(im.size) // (2 * int(max_side))
    if factor < 2:
        return im
    small = im.reduce(factor)
    im.close()  # the full-size pixels are the big allocation: drop them now
    return small


def _resize_max_side(arr: np.ndarray, max_side: int) -> np.ndarray:
    h, w = arr.shape[:2]
    longest = max(h, w)
    if longest <= max_side:
        return arr
    scale = max_side / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def _finish(arr: np.ndarray, dtype: Any) -> np.ndarray:
    want_float = np.dtype(dtype) == np.float32 or np.dtype(dtype).kind == "f"
    if want_float:
        if arr.dtype == np.uint8:
            return arr.astype(np.float32) * np.float32(1.0 / 255.0)
        return np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)


def decode(
    path: str | os.PathLike[str],
    *,
    dtype: Any = np.uint8,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    max_bytes: int | None = DEFAULT_MAX_DECODED_BYTES,
) -> DecodedImage:
    """Decode a photo to upright sRGB; ``max_side`` gives a fast reduced preview (JPEG draft mode).

    16-bit sources keep their precision when ``dtype`` is float32 and are read at 8 bits
    otherwise (a quarter of the memory). Raises InvalidInputError for missing, empty, truncated,
    non-image and over-sized files, and for files whose decode would take more than
    ``max_bytes`` (checked from the header first, see ``decoded_bytes``).
    """
    want_float = np.dtype(dtype).kind == "f"
    p, im = _open(path, max_pixels)
    with im:
        try:
            deep_colour = _is_16bit_colour(im)
            orientation = _orientation(_exif_of(im)) if im.format != "PNG" else 1
            cost = decoded_bytes(im, deep_colour=deep_colour, want_float=want_float, orientation=orientation)
            _check_budget(p, im, cost, max_bytes)
            meta = _meta(im, deep_colour)
            if deep_colour and want_float:
                arr = _decode_16bit_colour(p, im)
            else:
                if max_side is not None and im.format in _JPEG_FORMATS:
                    # the box follows the aspect ratio: draft keeps *both* sides >= the box, so a
                    # square box would stop a 4:3 photo from using the DCT's 1/2 scaling
                    f = min(1.0, max_side / max(im.size))
                    box = (max(1, math.ceil(im.size[0] * f)), max(1, math.ceil(im.size[1] * f)))
                    im.draft(im.mode if im.mode in ("RGB", "L") else None, box)
                im.load()
                arr = _pil_to_float_or_u8(p, _reduced(im, max_side))
        except InvalidInputError:
            raise
        except Image.DecompressionBombError as exc:
            raise InvalidInputError(p, f"image is over the pixel limit ({exc})") from exc
        except MemoryError as exc:
            raise InvalidInputError(p, "image is too large to decode in the available memory") from exc
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
            raise InvalidInputError(
                p, f"cannot decode the image data; the file may be truncated or damaged ({exc})"
            ) from exc
    arr = apply_orientation(arr, meta.orientation)
    if max_side is not None:
        arr = _resize_max_side(arr, int(max_side))
    return DecodedImage(rgb=_finish(arr, dtype), meta=meta)


def thumbnail(path: str | os.PathLike[str], size: int = 320) -> np.ndarray:
    """An upright uint8 RGB preview fitting in size x size (JPEG draft mode: a few ms for 12 MP)."""
    return decode(path, dtype=np.uint8, max_side=size).rgb


# --------------------------------------------------------------------------- writing


_SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".heic": "HEIF",
    ".heif": "HEIF",
}


def _upright_exif(exif: bytes) -> bytes:
    """Pixels we write are already upright, so an orientation tag would rotate them twice."""
    parsed = Image.Exif()
    try:
        parsed.load(exif)
    except Exception:
        return exif
    if parsed.get(TAG_ORIENTATION, 1) != 1:
        parsed[TAG_ORIENTATION] = 1
    return parsed.tobytes()


def save_rgb(
    path: str | os.PathLike[str], rgb: np.ndarray, *, quality: int = 92, exif: bytes | None = None
) -> None:
    """Write an RGB array atomically in the format of the suffix; EXIF only when explicitly given."""
    p = Path(path)
    fmt = _SAVE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot save {p.name}: unknown suffix (use one of {', '.join(sorted(_SAVE_FORMATS))})"
        )
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"save_rgb wants (H, W, 3) or (H, W), got {arr.shape}")
    im = Image.fromarray(np.ascontiguousarray(arr))
    if fmt in ("JPEG", "HEIF") and im.mode == "RGBA":
        im = im.convert("RGB")
    if fmt == "HEIF":
        _ensure_heif()
    params: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP", "HEIF"):
        params["quality"] = int(quality)
    if fmt == "JPEG":
        params["optimize"] = True
    if fmt == "PNG":
        params["compress_level"] = 6
    if fmt == "TIFF":
        params["compression"] = "tiff_deflate"
    if exif:
        params["exif"] = _upright_exif(exif)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    atomic_write_bytes(p, buf.getvalue())


def strip_identifying_exif(exif_bytes: bytes | None) -> bytes | None:
    """EXIF without GPS, serial numbers, owner names or maker notes (dates, camera model stay).

    Returns None when there is nothing usable left or the input cannot be parsed.
    """
    return filter_exif(exif_bytes)


def filter_exif(
    exif_bytes: bytes | None, *, keep_gps: bool = False, keep_identifying: bool = False
) -> bytes | None:
    """EXIF rebuilt from scratch with only what the user chose to share.

    Always dropped: the IFD1 thumbnail and the interoperability IFD. Dropped unless
    ``keep_identifying``: serial numbers, owner, artist, copyright, host computer, unique ID,
    MakerNote, user comment, Windows XP tags and embedded XMP (which names its creator). Dropped
    unless ``keep_gps``: the GPS IFD. Returns None when nothing is left or the input is unreadable.
    """
    if not exif_bytes:
        return None
    exif = Image.Exif()
    try:
        exif.load(bytes(exif_bytes))
        sub = dict(exif.get_ifd(TAG_EXIF_IFD)) if TAG_EXIF_IFD in exif else {}
        gps = dict(exif.get_ifd(TAG_GPS_IFD)) if keep_gps and TAG_GPS_IFD in exif else {}
    except Exception:
        return None
    if not keep_identifying:
        for tag in _IDENTIFYING_IFD0:
            exif.pop(tag, None)
        for tag in _IDENTIFYING_EXIF_IFD:
            sub.pop(tag, None)
    # Rebuild from scratch so no dropped IFD (GPS, IFD1 thumbnail, interop) survives inside the bytes.
    clean = Image.Exif()
    for tag, value in exif.items():
        if tag in (TAG_EXIF_IFD, TAG_GPS_IFD, 0xA005):  # sub-IFD pointers: rebuilt below or dropped
            continue
        clean[tag] = value
    sub.pop(0xA005, None)  # interoperability IFD pointer
    if sub:
        clean.get_ifd(TAG_EXIF_IFD).update(sub)
    if gps:
        clean.get_ifd(TAG_GPS_IFD).update(gps)
    if not len(clean) and not sub and not gps:
        return None
    return clean.tobytes()
