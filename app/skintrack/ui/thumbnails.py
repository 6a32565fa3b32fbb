"""Lazy thumbnails: the delegate asks, a worker makes/reads the disk cache, the view repaints.

``get(photo_id)`` returns a cached QPixmap at once or None (the delegate draws a placeholder)
and queues one ``run_task(pool=Pool.THUMBS)`` per photo. The worker calls
``Library.thumbnail_path`` (which writes the on-disk cache when missing) and loads a QImage;
QPixmaps are made on the GUI thread only and kept in ``QPixmapCache`` (an LRU with a byte
budget). ``ready(photo_id)`` tells models to emit ``dataChanged`` for that row.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QPixmapCache

from skintrack.library import Library
from skintrack.library.db import THUMB_SIZE as LIBRARY_THUMB_SIZE
from skintrack.progress import CancelToken
from skintrack.ui.tasks import Pool, TaskHandle, run_task

log = logging.getLogger(__name__)

THUMB_SIZE = LIBRARY_THUMB_SIZE  # made during import: no decode of the original on first view
CACHE_LIMIT_KB = 96 * 1024
MAX_IN_FLIGHT = 64  # older requests are dropped when the user scrolls far


class ThumbnailLoader(QObject):
    ready = Signal(int)  # photo id
    failed = Signal(int, str)

    def __init__(self, library: Library, size: int = THUMB_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.size = size
        self._pending: dict[int, tuple[int, TaskHandle]] = {}  # photo id -> (request number, task)
        self._serial = 0
        self._last_dropped = 0  # requests up to this number were cancelled
        self._failed: set[int] = set()
        self._generation = 0
        if QPixmapCache.cacheLimit() < CACHE_LIMIT_KB:
            QPixmapCache.setCacheLimit(CACHE_LIMIT_KB)

    def _key(self, photo_id: int) -> str:
        return f"skintrack-thumb:{id(self.library)}:{self._generation}:{photo_id}:{self.size}"

    def cached(self, photo_id: int) -> QPixmap | None:
        pm = QPixmap()
        return pm if QPixmapCache.find(self._key(photo_id), pm) else None

    def get(self, photo_id: int | None) -> QPixmap | None:
        """The thumbnail if cached, else None after queuing a load (never blocks)."""
        if photo_id is None:
            return None
        pm = self.cached(photo_id)
        if pm is not None:
            return pm
        if photo_id not in self._pending and photo_id not in self._failed:
            self._request(photo_id)
        return None

    def is_failed(self, photo_id: int) -> bool:
        return photo_id in self._failed

    def pending_count(self) -> int:
        return len(self._pending)

    def _request(self, photo_id: int) -> None:
        if len(self._pending) >= MAX_IN_FLIGHT:  # drop the oldest: the user scrolled past it
            oldest = next(iter(self._pending))
            self._pending.pop(oldest)[1].cancel()
        lib, size = self.library, self.size

        def job(token: CancelToken) -> QImage:
            token.raise_if_cancelled()
            photo = lib.photo(photo_id)
            path = lib.thumbnail_path(photo, size)
            token.raise_if_cancelled()
            img = QImage(str(path))
            if img.isNull():
                raise OSError(f"cannot read thumbnail {path}")
            return img

        self._serial += 1
        serial = self._serial
        handle = run_task(
            job,
            on_result=lambda img, pid=photo_id, n=serial: self._loaded(pid, n, img),
            on_error=lambda msg, pid=photo_id, n=serial: self._failed_load(pid, n, msg),
            on_finished=lambda pid=photo_id, n=serial: self._settled(pid, n),
            pool=Pool.THUMBS,
            name=f"thumb {photo_id}",
        )
        if not handle.done:  # a synchronous pool has delivered already
            self._pending[photo_id] = (serial, handle)

    def _current(self, photo_id: int, serial: int) -> bool:
        """The request is still wanted (the loader lives, and neither cancelled nor invalidated it)."""
        return shiboken6.isValid(self) and serial > self._last_dropped

    def _settled(self, photo_id: int, serial: int) -> None:
        if shiboken6.isValid(self) and self._pending.get(photo_id, (0, None))[0] == serial:
            del self._pending[photo_id]

    def _loaded(self, photo_id: int, serial: int, image: QImage) -> None:
        if self._current(photo_id, serial):
            QPixmapCache.insert(self._key(photo_id), QPixmap.fromImage(image))
            self.ready.emit(photo_id)

    def _failed_load(self, photo_id: int, serial: int, message: str) -> None:
        if self._current(photo_id, serial):
            log.info("thumbnail of photo %s failed: %s", photo_id, message)
            self._failed.add(photo_id)
            self.failed.emit(photo_id, message)

    @Slot()
    def invalidate(self) -> None:
        """Forget every cached pixmap of this loader (e.g. the library changed)."""
        self._generation += 1
        self._failed.clear()
        self.cancel_all()

    def cancel_all(self) -> None:
        """Cancel every queued load; their late results are ignored."""
        for _serial, handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        self._last_dropped = self._serial


_placeholders: dict[tuple[int, int, str], QPixmap] = {}


def placeholder(width: int, height: int, colour: QColor) -> QPixmap:
    """A quiet rounded tile shown while a thumbnail loads."""
    key = (width, height, colour.name())
    if key not in _placeholders:
        pm = QPixmap(max(1, width), max(1, height))
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(0, 0, width, height, 6, 6)
        p.end()
        _placeholders[key] = pm
    return _placeholders[key]
