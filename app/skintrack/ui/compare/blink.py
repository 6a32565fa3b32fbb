"""Blink: the two aligned photos alternate in place, automatically or on Space."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, QTimer, Slot
from PySide6.QtWidgets import QWidget

from skintrack.ui.compare.pair_view import ZoomView
from skintrack.ui.compare.tiles import TiledImageItem, TileSource

DEFAULT_RATE_HZ = 1.5


class BlinkView(ZoomView):
    """Shows the earlier photo, then the later one, in the same place; the eye catches what changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.showing_later = False
        self.captions = ("", "")
        # called with True while the later photo shows; callbacks, not a Signal, because this
        # fires several times a second for as long as auto-blink runs (see pair_view.ZoomView)
        self.on_toggle: list[Callable[[bool], None]] = []
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.toggle)
        self.set_rate(DEFAULT_RATE_HZ)
        self.first_item: TiledImageItem | None = None
        self.second_item: TiledImageItem | None = None

    def set_images(self, first: TileSource, second: TileSource, scene_rect: QRectF) -> None:
        if self.first_item is None:
            self.first_item = TiledImageItem(first)
            self.second_item = TiledImageItem(second)
            self.second_item.setZValue(1)
            self.scene().addItem(self.first_item)
            self.scene().addItem(self.second_item)
        else:
            self.first_item.set_source(first)
            assert self.second_item is not None
            self.second_item.set_source(second)
        self.scene().setSceneRect(scene_rect)
        self.setSceneRect(scene_rect)
        self._apply()

    def set_captions(self, first: str, second: str) -> None:
        self.captions = (first, second)
        self._apply()

    def set_rate(self, hz: float) -> None:
        """Toggles per second (each toggle swaps the photo)."""
        self.rate_hz = max(0.1, float(hz))
        self.timer.setInterval(round(1000.0 / self.rate_hz))

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    @Slot()
    def toggle(self) -> None:
        self.showing_later = not self.showing_later
        self._apply()
        for fn in self.on_toggle:
            fn(self.showing_later)

    def _apply(self) -> None:
        if self.second_item is not None:
            self.second_item.setVisible(self.showing_later)
        self.set_caption(self.captions[1] if self.showing_later else self.captions[0])
