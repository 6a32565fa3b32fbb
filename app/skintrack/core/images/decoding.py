"""Pixels: any photo to upright sRGB numpy (uint8, or float32 0..1), full size or reduced.

A reduced decode of a JPEG uses the DCT's own scaling (Pillow's draft mode), so a 12 MP photo
decoded for a 1500 px analysis never exists at full size in memory.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageCms

from skintrack.core.images.limits import (
    DEFAULT_MAX_DECODED_BYTES,
    DEFAULT_MAX_PIXELS,
    _check_budget,
    _open,
    decoded_bytes,
)
from skintrack.core.images.metadata import (
    ImageMeta,
    _exif_of,
    _icc,
    _is_16bit_colour,
    _is_srgb,
    _meta,
    _orientation,
)
from skintrack.errors import InvalidInputError

_JPEG_FORMATS = ("JPEG", "MPO")


@dataclass
class DecodedImage:
    """Upright sRGB pixels (uint8, or float32 in 0..1) plus the metadata of the file."""

    rgb: np.ndarray
    meta: ImageMeta


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
