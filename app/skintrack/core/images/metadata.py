"""What a photo's header says: size, orientation, date, camera, colour profile, bit depth.

Also the EXIF privacy filter used before EXIF leaves the library.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from PIL import Image, ImageCms, TiffImagePlugin

from skintrack.core.dates import MAX_OFFSET, date_problem
from skintrack.core.images.limits import (
    DEFAULT_MAX_DECODED_BYTES,
    DEFAULT_MAX_PIXELS,
    _check_budget,
    _open,
    decoded_bytes,
)
from skintrack.errors import InvalidInputError

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
    bits = im.tag_v2.get(258) if isinstance(im, TiffImagePlugin.TiffImageFile) else None
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
