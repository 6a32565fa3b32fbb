"""Lazy thumbnails: the delegate asks, a worker makes/reads the disk cache, the view repaints.

``get(photo_id)`` returns a cached QPixmap at once or None (the delegate draws a placeholder)
and queues one ``run_task(kind="thumbs")`` per photo. The worker calls
``Library.thumbnail_path`` (which writes the on-disk cache when missing) and loads a QImage;
QPixmaps are made on the GUI thread only and kept in ``QPixmapCache`` (an LRU with a byte
budget). ``ready(photo_id)`` tells models to emit ``dataChanged`` for that row.
"""

from __future__ import annotations

import logging
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QPixmapCache

from skintrack.library.db import THUMB_SIZE as LIBRARY_THUMB_SIZE
from skintrack.progress import CancelToken
from skintrack.ui.app import fix_signal_emit_refcount
from skintrack.ui.tasks import TaskHandle, run_task

fix_signal_emit_refcount()  # PySide6 6.12: every Python emit() loses a reference to True

log = logging.getLogger(__name__)

THUMB_SIZE = LIBRARY_THUMB_SIZE  # made during import: no decode of the original on first view
CACHE_LIMIT_KB = 96 * 1024
MAX_IN_FLIGHT = 64  # older requests are dropped when the user scrolls far


class ThumbnailLoader(QObject):
    ready = Signal(int)  # photo id
    failed = Signal(int, str)

    def __init__(self, library: Any, size: int = THUMB_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.size = size
        self._pending: dict[int, TaskHandle] = {}
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
            self._pending.pop(oldest).cancel()
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

        # no Qt parent: the runnable holds the handle, so it outlives this loader if that goes first
        handle = run_task(job, name=f"thumb {photo_id}", kind="thumbs")
        if handle.done:  # SyncPool: already finished
            self._deliver(photo_id, handle)
            handle.deleteLater()
            return
        self._pending[photo_id] = handle
        handle.finished.connect(lambda pid=photo_id, h=handle: self._finished(pid, h))

    def _finished(self, photo_id: int, handle: TaskHandle) -> None:
        if not shiboken6.isValid(self):  # the loader was deleted while the job ran
            return
        if self._pending.get(photo_id) is handle:
            del self._pending[photo_id]
        self._deliver(photo_id, handle)
        handle.deleteLater()

    def _deliver(self, photo_id: int, handle: TaskHandle) -> None:
        if handle.error is not None:
            log.info("thumbnail of photo %s failed: %s", photo_id, handle.error)
            self._failed.add(photo_id)
            self.failed.emit(photo_id, handle.error)
            return
        if not isinstance(handle.result, QImage):
            return  # cancelled
        QPixmapCache.insert(self._key(photo_id), QPixmap.fromImage(handle.result))
        self.ready.emit(photo_id)

    @Slot()
    def invalidate(self) -> None:
        """Forget every cached pixmap of this loader (e.g. the library changed)."""
        self._generation += 1
        self._failed.clear()
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()

    def cancel_all(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()


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
