"""Heatmap overlay: ΔL* as colour over the reference photo, a legend, clickable patch outlines.

The overlay's RGBA comes from ``skintrack.core.heatmap`` (computed in the worker with the rest of
the pair preparation), the same colour map as the exports, so the legend and the overlay agree.
Darker (ΔL* < 0) is violet, lighter is teal, no change is transparent so the skin shows through;
skin that could not be compared is hatched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QWidget,
)

from skintrack.core import formatting, heatmap
from skintrack.core.change import Patch
from skintrack.ui.compare.pair_view import ZoomView
from skintrack.ui.compare.tiles import TiledImageItem, TileSource

DEFAULT_LIMIT = heatmap.HEATMAP_CLIP_L  # ΔL* at full colour
PATCH_PEN = QColor(255, 230, 0)
PATCH_SELECTED = QColor(0, 255, 200)


def patch_value(patch: Patch | Mapping[str, Any], name: str, default: object = None) -> Any:
    """Patches may be core.change.Patch objects or their JSON dicts (stored measurements)."""
    if isinstance(patch, Mapping):
        return patch.get(name, default)
    return getattr(patch, name, default)


def legend_stops(n: int = 11) -> list[tuple[float, QColor]]:
    """Gradient stops for the legend, from the same colour map as the overlay."""
    return [(pos, QColor(*rgb)) for pos, rgb in heatmap.legend_stops(n)]


def legend_ticks(limit: float) -> list[tuple[float, str]]:
    """The colour legend's ticks and their labels, signed like every figure in the app."""
    return [(v, formatting.signed(v, 0)) for v in (-limit, -limit / 2, 0.0, limit / 2, limit)]


class PatchItem(QGraphicsPathItem):
    """Outline of one darkened patch; click to see its statistics, hover to highlight."""

    def __init__(self, index: int, contour: Sequence[Sequence[float]], view: HeatmapView) -> None:
        path = QPainterPath()
        pts = [QPointF(float(x), float(y)) for x, y in contour]
        if pts:
            path.moveTo(pts[0])
            for p in pts[1:]:
                path.lineTo(p)
            path.closeSubpath()
        super().__init__(path)
        self.index = index
        self._view = view
        self.selected = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(10)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self._restyle(False)

    def _restyle(self, hover: bool) -> None:
        colour = PATCH_SELECTED if self.selected else PATCH_PEN
        pen = QPen(colour, 3.0 if (hover or self.selected) else 2.0)
        pen.setCosmetic(True)
        self.setPen(pen)
        fill = QColor(colour)
        fill.setAlpha(35 if hover or self.selected else 0)
        self.setBrush(fill)

    def set_selected(self, on: bool) -> None:
        self.selected = on
        self._restyle(False)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._restyle(True)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._restyle(False)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self._view.select_patch(self.index)
        else:
            super().mousePressEvent(event)


class HeatmapView(ZoomView):
    """Reference photo, the ΔL* overlay at adjustable opacity, patch outlines and a legend."""

    patchClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.limit = DEFAULT_LIMIT
        self.overlay_opacity = 0.7
        self.overlay_visible = True
        self.base_item: TiledImageItem | None = None
        self.overlay_item: TiledImageItem | None = None
        self.patch_items: list[PatchItem] = []
        self.selected_patch: int | None = None

    def set_images(self, base: TileSource, overlay: TileSource | None, scene_rect: QRectF) -> None:
        if self.base_item is None:
            self.base_item = TiledImageItem(base)
            self.scene().addItem(self.base_item)
        else:
            self.base_item.set_source(base)
        if overlay is None:
            if self.overlay_item is not None:
                self.overlay_item.setVisible(False)
        else:
            if self.overlay_item is None:
                self.overlay_item = TiledImageItem(overlay)
                self.overlay_item.setZValue(5)
                self.scene().addItem(self.overlay_item)
            else:
                self.overlay_item.set_source(overlay)
        self.scene().setSceneRect(scene_rect)
        self.setSceneRect(scene_rect)
        self._apply_overlay()

    def set_patches(self, patches: Sequence[Patch | Mapping[str, Any]]) -> None:
        for item in self.patch_items:
            self.scene().removeItem(item)
        self.patch_items = []
        self.selected_patch = None
        for i, p in enumerate(patches):
            contour = patch_value(p, "contour") or []
            if len(contour) < 3:
                x, y, w, h = patch_value(p, "bbox", (0, 0, 0, 0))
                contour = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            item = PatchItem(i, contour, self)
            item.setVisible(self.overlay_visible)
            self.scene().addItem(item)
            self.patch_items.append(item)

    def select_patch(self, index: int | None) -> None:
        self.selected_patch = index
        for item in self.patch_items:
            item.set_selected(item.index == index)
        if index is not None:
            self.patchClicked.emit(index)

    def set_overlay_opacity(self, opacity: float) -> None:
        self.overlay_opacity = max(0.0, min(1.0, opacity))
        self._apply_overlay()

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay_visible = on
        self._apply_overlay()

    def _apply_overlay(self) -> None:
        if self.overlay_item is not None:
            self.overlay_item.setOpacity(self.overlay_opacity)
            self.overlay_item.setVisible(self.overlay_visible)
        for item in self.patch_items:
            item.setVisible(self.overlay_visible)
        self.viewport().update()

    def legend_box(self) -> QRect:
        """Where the colour legend goes: the photo's bottom-right corner when it has room, so an
        exported view cut to the photo keeps its legend."""
        shown = self.image_rect()
        return shown if shown.width() >= 320 and shown.height() >= 120 else self.viewport().rect()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if not self.overlay_visible or self.overlay_item is None:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box = self.legend_box()
        bar_w, bar_h = min(260, box.width() - 40), 12
        x0, y0 = box.right() + 1 - bar_w - 20, box.bottom() + 1 - 62
        panel = QPainterPath()
        panel.addRoundedRect(QRectF(x0 - 12, y0 - 26, bar_w + 24, 70), 8, 8)
        painter.fillPath(panel, QColor(0, 0, 0, 170))
        grad = QLinearGradient(x0, 0, x0 + bar_w, 0)
        for pos, col in legend_stops():
            grad.setColorAt(pos, col)
        painter.fillRect(QRectF(x0, y0, bar_w, bar_h), grad)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(QRectF(x0, y0 - 22, bar_w, 18), Qt.AlignmentFlag.AlignCenter, "ΔL* (L* units)")
        fm = painter.fontMetrics()
        for v, label in legend_ticks(self.limit):
            tx = x0 + (v + self.limit) / (2 * self.limit) * bar_w
            painter.drawLine(QPointF(tx, y0 + bar_h), QPointF(tx, y0 + bar_h + 4))
            painter.drawText(
                QPointF(tx - fm.horizontalAdvance(label) / 2, y0 + bar_h + 6 + fm.ascent()), label
            )
        small = painter.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        painter.setPen(QColor(220, 220, 220))
        painter.drawText(QRectF(x0, y0 + bar_h + 22, bar_w, 16), Qt.AlignmentFlag.AlignLeft, "darker")
        painter.drawText(QRectF(x0, y0 + bar_h + 22, bar_w, 16), Qt.AlignmentFlag.AlignRight, "lighter")
        painter.restore()
