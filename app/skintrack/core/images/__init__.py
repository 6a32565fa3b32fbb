"""Decoding photos into upright sRGB numpy arrays, with the metadata check-ins need.

Every photo goes through here so that orientation, colour profiles, odd pixel formats and hostile
files (decompression bombs, truncated or fake images) are handled once, the same way, with a
message that names the file. Pure Pillow/pillow-heif/OpenCV/numpy: no Qt.

The work is split by job: ``limits`` (opening and refusing hostile files), ``metadata`` (EXIF,
ICC, bit depth and the EXIF privacy filter), ``decoding`` (pixels) and ``saving``.
"""

from skintrack.core.formats import SUPPORTED_SUFFIXES as SUPPORTED_SUFFIXES
from skintrack.core.images.decoding import DecodedImage, apply_orientation, decode, thumbnail
from skintrack.core.images.limits import DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_PIXELS, decoded_bytes
from skintrack.core.images.metadata import (
    TAG_DATETIME_ORIGINAL,
    TAG_EXIF_IFD,
    TAG_GPS_IFD,
    TAG_MAKE,
    TAG_MODEL,
    TAG_OFFSET_TIME_ORIGINAL,
    TAG_ORIENTATION,
    ImageMeta,
    filter_exif,
    read_meta,
    strip_identifying_exif,
)
from skintrack.core.images.saving import save_rgb

__all__ = [
    "DEFAULT_MAX_DECODED_BYTES",
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_SUFFIXES",
    "TAG_DATETIME_ORIGINAL",
    "TAG_EXIF_IFD",
    "TAG_GPS_IFD",
    "TAG_MAKE",
    "TAG_MODEL",
    "TAG_OFFSET_TIME_ORIGINAL",
    "TAG_ORIENTATION",
    "DecodedImage",
    "ImageMeta",
    "apply_orientation",
    "decode",
    "decoded_bytes",
    "filter_exif",
    "read_meta",
    "save_rgb",
    "strip_identifying_exif",
    "thumbnail",
]
