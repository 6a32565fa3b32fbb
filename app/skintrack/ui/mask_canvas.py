"""Paint two mask layers (watched area, control patch) over a photo: brush, eraser, polygon; zoom, pan.

The canvas works in the pixels of the image it shows (usually a reduced preview of the reference);
the region editor scales polygons to reference pixels. Strokes are QPainter drawing into one
ARGB layer image per mask (cheap); turning masks into polygons happens in a worker
(:mod:`skintrack.services.areas`).

Every stroke, closed polygon and clear is one :class:`LayerEdit` on the canvas's
``undo_stack``: it keeps the layer's pixels before and after, cropped to the rectangle the edit
touched, so undo and redo are a blit and a long session stays small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QUndoCommand,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

WATCHED, CONTROL = "watched", "control"
LAYER_COLOURS = {WATCHED: QColor(255, 140, 0), CONTROL: QColor(40, 200, 90)}
LAYER_OPACITY = 0.45
BRUSH, ERASER, POLYGON = "brush", "eraser", "polygon"
UNDO_LIMIT = 100  # edits kept per layer session; each holds only the pixels it touched
EDIT_NAMES = {BRUSH: "painting", ERASER: "erasing", POLYGON: "polygon"}
LAYER_NAMES = {WATCHED: "watched area", CONTROL: "control patch"}


class LayerEdit(QUndoCommand):
    """One change of one layer: its pixels inside ``rect`` before and after."""

    def __init__(self, canvas: MaskCanvas, layer: str, rect: QRect, before: QImage, text: str) -> None:
        super().__init__(text)
        self.canvas, self.layer, self.rect = canvas, layer, rect
        self.before = before
        self.after = canvas.layers[layer].copy(rect)
        self._applied = True  # pushed after the canvas already shows the edit

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.canvas._blit(self.layer, self.rect, self.after)

    def undo(self) -> None:
        self.canvas._blit(self.layer, self.rect, self.before)


class MaskCanvas(QGraphicsView):
    """A QGraphicsView with a photo and two paintable, translucent mask layers."""

    maskChanged = Signal(str)  # layer name
    polygonChanged = Signal(int)  # points of the polygon being drawn (0: none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskCanvas")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.photo_item = QGraphicsPixmapItem()
        self.scene().addItem(self.photo_item)
        self.layers: dict[str, QImage] = {}
        self.layer_items: dict[str, QGraphicsPixmapItem] = {}
        for z, name in enumerate((CONTROL, WATCHED), start=1):
            item = QGraphicsPixmapItem()
            item.setOpacity(LAYER_OPACITY)
            item.setZValue(z)
            self.scene().addItem(item)
            self.layer_items[name] = item
        self.cursor_item = QGraphicsEllipseItem()
        self.cursor_item.setPen(QPen(QColor(255, 255, 255), 0))
        self.cursor_item.setZValue(10)
        self.cursor_item.hide()
        self.scene().addItem(self.cursor_item)
        self.poly_item = QGraphicsPathItem()
        self.poly_item.setZValue(11)
        self.scene().addItem(self.poly_item)
        self.layer = WATCHED
        self.tool = BRUSH
        self.brush_size = 30.0  # image pixels
        self.poly_points: list[QPointF] = []
        self._last: QPointF | None = None
        self._panning: QPointF | None = None
        self._stroke_before: QImage | None = None
        self._stroke_rect = QRect()
        self.fit_mode = True
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.set_image(QImage())

    # ------------------------------------------------------------------ image and layers
    def set_image(self, image: QImage) -> None:
        """Show a new photo; both layers are cleared to its size."""
        self.photo_item.setPixmap(QPixmap.fromImage(image) if not image.isNull() else QPixmap())
        self.scene().setSceneRect(QRectF(0, 0, max(1, image.width()), max(1, image.height())))
        for name in (WATCHED, CONTROL):
            layer = QImage(
                max(1, image.width()), max(1, image.height()), QImage.Format.Format_ARGB32_Premultiplied
            )
            layer.fill(Qt.GlobalColor.transparent)
            self.layers[name] = layer
            self._refresh(name)
        self.poly_points = []
        self._update_poly_preview()
        self.undo_stack.clear()  # edits of another photo's pixels cannot be replayed here
        self.fit()

    def image_size(self) -> tuple[int, int]:
        img = self.layers[WATCHED]
        return img.width(), img.height()

    def fit(self) -> None:
        """Show the whole photo; it stays fitted as the view resizes until the user zooms."""
        self.fit_mode = True
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _refresh(self, name: str) -> None:
        self.layer_items[name].setPixmap(QPixmap.fromImage(self.layers[name]))

    def _full_rect(self) -> QRect:
        return self.layers[WATCHED].rect()

    def _blit(self, name: str, rect: QRect, pixels: QImage) -> None:
        """Put saved pixels back into a layer (undo/redo)."""
        painter = QPainter(self.layers[name])
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(rect.topLeft(), pixels)
        painter.end()
        self._refresh(name)
        self.maskChanged.emit(name)

    def _push(self, name: str, rect: QRect, before: QImage, what: str) -> None:
        self.undo_stack.push(LayerEdit(self, name, rect, before, f"{what} ({LAYER_NAMES[name]})"))

    def clear(self, name: str | None = None) -> None:
        """Clear one layer (default: the active one); undoable."""
        name = name or self.layer
        if self.is_empty(name):
            return
        rect = self._full_rect()
        before = self.layers[name].copy(rect)
        self.layers[name].fill(Qt.GlobalColor.transparent)
        self._refresh(name)
        self._push(name, rect, before, "clearing")
        self.maskChanged.emit(name)

    def set_polygons(
        self, name: str, polygons: Sequence[Sequence[Sequence[float]]] | None, scale: float = 1.0
    ) -> None:
        """Replace a layer with filled polygons given in image pixels x ``scale`` (the stored areas:
        the starting point of the undo history, not an edit)."""
        layer = self.layers[name]
        layer.fill(Qt.GlobalColor.transparent)
        painter = QPainter(layer)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LAYER_COLOURS[name])
        for poly in polygons or []:
            painter.drawPolygon(
                QPolygonF([QPointF(x * scale, y * scale) for x, y in poly]), Qt.FillRule.WindingFill
            )
        painter.end()
        self._refresh(name)

    def mask(self, name: str) -> np.ndarray:
        """The layer as a uint8 0/255 mask (a copy of the alpha channel; no maths)."""
        img = self.layers[name]
        h, w = img.height(), img.width()
        buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
        alpha = buf[:, : w * 4].reshape(h, w, 4)[..., 3]  # ARGB32 little-endian: B, G, R, A
        out = np.empty((h, w), np.uint8)
        np.greater(alpha, 127, out=out.view(bool))
        out *= 255
        return out

    def is_empty(self, name: str) -> bool:
        img = self.layers[name]
        buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
        return not buf.any()

    # ------------------------------------------------------------------ tools
    def set_layer(self, name: str) -> None:
        self.layer = name
        self._update_poly_preview()

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        if tool != POLYGON:
            self.cancel_polygon()

    def set_brush_size(self, size: float) -> None:
        self.brush_size = max(1.0, float(size))

    def _paint_segment(self, a: QPointF, b: QPointF) -> None:
        layer = self.layers[self.layer]
        painter = QPainter(layer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self.tool == ERASER:
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        pen = QPen(LAYER_COLOURS[self.layer], self.brush_size)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        if a == b:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(LAYER_COLOURS[self.layer])
            r = self.brush_size / 2
            painter.drawEllipse(a, r, r)
        else:
            painter.drawLine(a, b)
        painter.end()
        r = int(self.brush_size / 2) + 2
        touched = QRectF(a, b).normalized().toAlignedRect().adjusted(-r, -r, r, r)
        self._stroke_rect = self._stroke_rect.united(touched)
        self._refresh(self.layer)

    def _begin_stroke(self) -> None:
        self._stroke_before = self.layers[self.layer].copy()
        self._stroke_rect = QRect()

    def _end_stroke(self) -> None:
        before, self._stroke_before = self._stroke_before, None
        rect = self._stroke_rect.intersected(self._full_rect())
        if before is None or rect.isEmpty():
            return
        self._push(self.layer, rect, before.copy(rect), EDIT_NAMES[self.tool].capitalize())

    def close_polygon(self) -> None:
        """Fill the polygon being drawn into the active layer (needs 3 points)."""
        points, self.poly_points = self.poly_points, []
        self._update_poly_preview()
        self.polygonChanged.emit(0)
        if len(points) < 3:
            return
        polygon = QPolygonF(points)
        rect = polygon.boundingRect().toAlignedRect().adjusted(-1, -1, 1, 1).intersected(self._full_rect())
        if rect.isEmpty():
            return
        before = self.layers[self.layer].copy(rect)
        painter = QPainter(self.layers[self.layer])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LAYER_COLOURS[self.layer])
        painter.drawPolygon(polygon)
        painter.end()
        self._refresh(self.layer)
        self._push(self.layer, rect, before, "Polygon")
        self.maskChanged.emit(self.layer)

    def cancel_polygon(self) -> bool:
        """Drop the polygon being drawn; False when there was none."""
        if not self.poly_points:
            return False
        self.poly_points = []
        self._update_poly_preview()
        self.polygonChanged.emit(0)
        return True

    def _update_poly_preview(self) -> None:
        path = QPainterPath()
        if self.poly_points:
            path.moveTo(self.poly_points[0])
            for p in self.poly_points[1:]:
                path.lineTo(p)
        colour = LAYER_COLOURS.get(self.layer, QColor("white"))
        pen = QPen(colour, 0)
        pen.setWidthF(2)
        pen.setCosmetic(True)
        self.poly_item.setPen(pen)
        self.poly_item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.poly_item.setPath(path)

    # ------------------------------------------------------------------ events
    def _scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self._scene_pos(event)
        if self.tool == POLYGON:
            self.poly_points.append(pos)
            self._update_poly_preview()
            self.polygonChanged.emit(len(self.poly_points))
            return
        self._last = pos
        self._begin_stroke()
        self._paint_segment(pos, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self._scene_pos(event)
        r = self.brush_size / 2
        self.cursor_item.setRect(pos.x() - r, pos.y() - r, 2 * r, 2 * r)
        self.cursor_item.setVisible(self.tool != POLYGON)
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        if self._last is not None:
            self._paint_segment(self._last, pos)
            self._last = pos

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            self._panning = None
            self.viewport().unsetCursor()
            return
        if self._last is not None:
            self._last = None
            self._end_stroke()
            self.maskChanged.emit(self.layer)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool == POLYGON:
            pos = self._scene_pos(event)
            last = self.poly_points[-1] if self.poly_points else None
            if last is None or (self.mapFromScene(last) - event.position().toPoint()).manhattanLength() > 3:
                self.poly_points.append(pos)  # a double-click that was not preceded by its own press
            self.close_polygon()
        else:
            super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.tool == POLYGON and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close_polygon()
        elif self.tool == POLYGON and event.key() == Qt.Key.Key_Escape and self.poly_points:
            self.cancel_polygon()
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.fit_mode = False
        self.scale(factor, factor)

    def leaveEvent(self, event: object) -> None:
        self.cursor_item.hide()
        super().leaveEvent(event)  # type: ignore[arg-type]
