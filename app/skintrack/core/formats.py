"""The photo file types Skintrack imports, shared by decoding, the library's store and the GUI."""

from __future__ import annotations

SUPPORTED_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif")
