"""The timeline's list view: a grid of check-in tiles that keeps the current one in view."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget


class TimelineView(QListView):
    """Icon-mode list whose current tile stays in view when the tiles re-flow.

    A resize (the window clamped to the screen, a splitter moved, tiles refitted to the width)
    changes how many tiles fit in a row, and the same scroll offset then shows other check-ins:
    the selected one, usually the latest, slid out of view.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def doItemsLayout(self) -> None:
        current = self.currentIndex()
        was_in_view = current.isValid() and self._rows_in_view(self.visualRect(current))
        super().doItemsLayout()
        if was_in_view and not self.viewport().rect().contains(self.visualRect(current)):
            self.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)

    def _rows_in_view(self, rect: QRect) -> bool:
        """Whether ``rect`` (laid out for the old width) overlaps the rows in view: only the
        vertical extent counts, since a narrower viewport may already cut its column off."""
        return rect.bottom() >= 0 and rect.top() <= self.viewport().height()
