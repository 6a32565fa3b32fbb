"""Writing an RGB array as a photo file, atomically, in the format its suffix names."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from skintrack.core.fsutil import atomic_write_bytes
from skintrack.core.images.limits import _ensure_heif
from skintrack.core.images.metadata import _upright_exif

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
