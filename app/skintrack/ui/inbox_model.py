"""The Inbox list's model: scanned inbox photos, sure ones first, with thumbnails and proposals.

``scan_job`` is the worker side (scan and match on the work pool, thumbnails included);
``InboxModel`` is what the panel's list view shows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from skintrack.core import formatting
from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services import inbox
from skintrack.services.inbox import InboxItem
from skintrack.ui.image_convert import rgb_to_qimage
from skintrack.ui.tasks import Job

THUMB = 96


@dataclass(frozen=True)
class ScanResult:
    """What a scan found: every inbox item, and a thumbnail for each readable one."""

    items: list[InboxItem]
    thumbs: dict[Path, np.ndarray]


def scan_job(lib: Library) -> Job:
    """The inbox scan of ``lib``: progress while matching, then the items and their thumbnails."""

    def job(token: CancelToken) -> Generator[Progress, None, ScanResult]:
        from skintrack.core import images

        items = yield from inbox.scan(lib, token=token)
        thumbs: dict[Path, np.ndarray] = {}
        for item in items:
            token.raise_if_cancelled()
            if item.error is None:
                # a thumbnail is decoration; without one the row still shows the file name
                with contextlib.suppress(Exception):
                    thumbs[item.path] = images.thumbnail(item.path, size=THUMB)
        return ScanResult(items, thumbs)

    return job


class InboxModel(QAbstractListModel):
    """Inbox items, sure ones first, each with its thumbnail and a one-line proposal."""

    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[InboxItem] = []
        self._icons: dict[Path, QIcon] = {}

    def set_result(self, result: ScanResult) -> None:
        self.beginResetModel()
        self._items = sorted(
            result.items, key=lambda it: (not it.sure, it.match is None or it.match.proposed is None)
        )
        self._icons = {p: QIcon(QPixmap.fromImage(rgb_to_qimage(rgb))) for p, rgb in result.thumbs.items()}
        self.endResetModel()

    def remove_paths(self, paths: set[Path]) -> None:
        rows = [i for i, it in enumerate(self._items) if it.path in paths]
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._items[row]
            self.endRemoveRows()

    @property
    def items(self) -> list[InboxItem]:
        return list(self._items)

    def sure_items(self) -> list[InboxItem]:
        return [it for it in self._items if it.sure]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def item(self, row: int) -> InboxItem:
        return self._items[row]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{it.path.name}\n{describe(it)}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(it.path) or _placeholder_icon()
        if role == Qt.ItemDataRole.ToolTipRole:
            when = "date unknown" if it.taken_at is None else formatting.day_time(it.taken_at)
            source = " (from the photo)" if it.taken_at_source == "exif" else " (file date)"
            return f"{it.path}\nTaken {when}{source if it.taken_at else ''}\n{describe(it)}"
        if role == Qt.ItemDataRole.ForegroundRole and not it.sure:
            return QColor(Qt.GlobalColor.darkYellow) if it.match and it.match.proposed else None
        if role == self.ItemRole:
            return it
        return None


def describe(it: InboxItem) -> str:
    """One line about an item's proposal, as the list shows it."""
    if it.error:
        return f"Cannot read: {it.error}"
    m = it.match
    if m is None or m.proposed is None:
        names = " or ".join(c.name for c in (m.candidates if m else [])[:2])
        return "No matching region" + (f" (closest: {names})" if names else "")
    if m.sure:
        return f"✓ {m.proposed.name} ({m.confidence:.0%})"
    return f"? {m.proposed.name} ({m.confidence:.0%}), please check"


_PLACEHOLDER: QIcon | None = None


def _placeholder_icon() -> QIcon:
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        pm = QPixmap(THUMB, THUMB * 3 // 4)
        pm.fill(QColor(128, 128, 128, 60))
        p = QPainter(pm)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "?")
        p.end()
        _PLACEHOLDER = QIcon(pm)
    return _PLACEHOLDER
