"""Thumbnail cache: ``cache/thumbs/<sha[:2]>/<sha>_<size>.jpg``, disposable and rebuilt on demand.

Thumbnails are keyed by content hash, so they never go stale; deleting the whole cache folder
is always safe. Writes are atomic but not fsynced (a lost thumbnail is simply made again).
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from skintrack.core.fsutil import atomic_write_bytes
from skintrack.library.store import InvalidOriginalNameError

if TYPE_CHECKING:
    import numpy as np

THUMB_QUALITY = 85
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class ThumbnailCache:
    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "thumbs"

    def path_for(self, sha256: str, size: int) -> Path:
        """Built from a validated hash only, so no row can point it outside the cache."""
        if not _SHA_RE.match(str(sha256)):
            raise InvalidOriginalNameError(f"invalid photo hash for a thumbnail: {str(sha256)[:80]!r}")
        return self.root / sha256[:2] / f"{sha256}_{int(size)}.jpg"

    def ensure(self, original: Path, sha256: str, size: int = 320) -> Path:
        """The cached thumbnail of ``original``, generated first if missing."""
        path = self.path_for(sha256, size)
        if path.exists():
            return path
        from skintrack.core import images  # imported late: decoding stack is heavy

        return self.store(sha256, size, images.thumbnail(original, size=size))

    def store(self, sha256: str, size: int, rgb: np.ndarray) -> Path:
        """Cache an already computed thumbnail (uint8 RGB), e.g. the one made while importing."""
        from PIL import Image

        path = self.path_for(sha256, size)
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=THUMB_QUALITY)
        atomic_write_bytes(path, buf.getvalue(), durable=False)
        return path

    def remove_for(self, sha256: str) -> None:
        """Drop every cached size of one photo (after its original was deleted)."""
        folder = self.path_for(sha256, 0).parent
        if folder.is_dir():
            for path in folder.glob(f"{sha256}_*.jpg"):
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
