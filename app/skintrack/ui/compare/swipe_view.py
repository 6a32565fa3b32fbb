"""Swipe: the later photo over the earlier one, revealed right of a draggable divider."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QWidget

from skintrack.ui.compare.pair_view import ZoomView, draw_caption
from skintrack.ui.compare.tiles import TiledImageItem, TileSource

GRAB_PX = 12  # how close (screen px) a press must be to pick up the divider


class SwipeView(ZoomView):
    """Earlier photo left of the divider, later photo right of it; drag the divider or its handle."""

    positionChanged = Signal(float)  # divider as a fraction of the image width, once per drag

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position = 0.5
        self.left_caption = ""
        self.right_caption = ""
        self._dragging = False
        self.viewport().setMouseTracking(True)
        self.base_item: TiledImageItem | None = None
        self.top_item: TiledImageItem | None = None
        self.clip = QGraphicsRectItem()
        self.clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.clip.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self.clip.setZValue(1)
        self.scene().addItem(self.clip)

    def set_images(self, base: TileSource, top: TileSource, scene_rect: QRectF) -> None:
        if self.base_item is None:
            self.base_item = TiledImageItem(base)
            self.scene().addItem(self.base_item)
            self.top_item = TiledImageItem(top, self.clip)
        else:
            self.base_item.set_source(base)
            assert self.top_item is not None
            self.top_item.set_source(top)
        self.scene().setSceneRect(scene_rect)
        self.setSceneRect(scene_rect)
        self._update_clip()

    def set_captions(self, left: str, right: str) -> None:
        self.left_caption, self.right_caption = left, right
        self.viewport().update()

    def set_position(self, fraction: float, *, notify: bool = True) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if fraction == self.position:
            return
        self.position = fraction
        self._update_clip()
        if notify:
            self.positionChanged.emit(fraction)

    def divider_scene_x(self) -> float:
        return self.sceneRect().left() + self.position * self.sceneRect().width()

    def divider_viewport_x(self) -> int:
        return self.mapFromScene(QPointF(self.divider_scene_x(), self.sceneRect().center().y())).x()

    def _update_clip(self) -> None:
        r = self.sceneRect()
        x = self.divider_scene_x()
        self.clip.setRect(QRectF(x, r.top(), max(0.0, r.right() - x), r.height()))
        self.viewport().update()

    def _near_divider(self, pos: QPoint) -> bool:
        return abs(pos.x() - self.divider_viewport_x()) <= GRAB_PX

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position().toPoint()):
            self._dragging = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self._dragging:
            r = self.sceneRect()
            x = self.mapToScene(pos).x()
            self.set_position((x - r.left()) / max(1.0, r.width()), notify=False)
            event.accept()
            return
        self.viewport().setCursor(
            Qt.CursorShape.SplitHCursor if self._near_divider(pos) else Qt.CursorShape.OpenHandCursor
        )
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self._dragging = False
            event.accept()
            self.positionChanged.emit(self.position)
            return
        super().mouseReleaseEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        x = self.divider_viewport_x()
        shown = self.image_rect()
        top, bottom = (shown.top(), shown.bottom()) if not shown.isEmpty() else (0, self.viewport().height())
        painter.setPen(QPen(QColor(0, 0, 0, 120), 4))
        painter.drawLine(x, top, x, bottom)
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(x, top, x, bottom)
        cy = (top + bottom) / 2
        painter.setBrush(QColor(255, 255, 255))
        painter.setPen(QPen(QColor(0, 0, 0, 140), 1))
        painter.drawEllipse(QPointF(x, cy), 16, 16)
        painter.setBrush(QColor(60, 60, 60))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(x - 11, cy), QPointF(x - 4, cy - 6), QPointF(x - 4, cy + 6)]))
        painter.drawPolygon(QPolygonF([QPointF(x + 11, cy), QPointF(x + 4, cy - 6), QPointF(x + 4, cy + 6)]))
        left, right = self.caption_corners()
        draw_caption(painter, self.left_caption, left)
        draw_caption(painter, self.right_caption, right, align_right=True)
        painter.restore()
