"""Zoomable photo views, their synchronisation, and the side-by-side pair.

Every mode of the compare window is a :class:`ZoomView`; one :class:`ViewSync` keeps all of them
on the same transform and scene centre, so the two halves of the side-by-side page move as one
and switching modes keeps the zoom and the place you were looking at.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from skintrack.ui.compare.tiles import TiledImageItem, TileSource

MIN_SCALE = 0.02
MAX_SCALE = 32.0
STEP = 1.25
BACKGROUND = QColor(32, 33, 36)


def draw_caption(painter: QPainter, text: str, corner: QPoint, *, align_right: bool = False) -> None:
    """A readable label on top of a photo: white text on a translucent dark pill."""
    if not text:
        return
    painter.save()
    font = QFont(painter.font())
    font.setPointSizeF(max(9.0, font.pointSizeF()))
    font.setBold(True)
    painter.setFont(font)
    fm = painter.fontMetrics()
    w = fm.horizontalAdvance(text) + 16
    h = fm.height() + 8
    x = corner.x() - w if align_right else corner.x()
    rect = QRectF(x, corner.y(), w, h)
    path = QPainterPath()
    path.addRoundedRect(rect, 6, 6)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.fillPath(path, QColor(0, 0, 0, 160))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


class ZoomView(QGraphicsView):
    """QGraphicsView with wheel/keyboard zoom around the cursor, hand panning and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(BACKGROUND)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.caption = ""
        self.caption_right = ""
        self.fit_mode = True
        # plain callbacks, not a Qt signal: this fires on every scroll step, and each Python-side
        # Signal.emit() under PySide6 6.12 + Python 3.11 drops a reference to True (see report)
        self.listeners: list[Callable[[], None]] = []
        self.horizontalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    # ---- zoom -------------------------------------------------------------------------------
    def current_scale(self) -> float:
        return float(self.transform().m11())

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom keeping the scene point under ``anchor`` (viewport px) fixed; view centre if None."""
        target = max(MIN_SCALE, min(MAX_SCALE, self.current_scale() * factor))
        factor = target / max(self.current_scale(), 1e-9)
        if abs(factor - 1.0) < 1e-6:
            return
        self.fit_mode = False
        if anchor is None:
            anchor = self.viewport().rect().center()
        before = self.mapToScene(anchor)
        old = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        self.setTransformationAnchor(old)
        self._keep_anchor(anchor, before)
        self.notify()

    def _keep_anchor(self, anchor: QPoint, scene_pt: QPointF) -> None:
        """Scroll so ``scene_pt`` sits under ``anchor`` again (translate() is ignored with scrollbars)."""
        now = self.mapFromScene(scene_pt)
        dx = now.x() - anchor.x()
        dy = now.y() - anchor.y()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + dx)
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + dy)

    def zoom_in(self) -> None:
        self.zoom_by(STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / STEP)

    def actual_size(self) -> None:
        """100 %: one photo pixel per device-independent screen pixel, centred where we were."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.fit_mode = False
        self.setTransform(QTransform())
        self.centerOn(centre)
        self.notify()

    def fit(self) -> None:
        if self.sceneRect().isEmpty():
            return
        self.fit_mode = True
        self._fit_photo()
        self.notify()

    def _fit_photo(self) -> None:
        """The whole photo, as large as the viewport allows (fitInView would keep a 2 px margin)."""
        rect, port = self.sceneRect(), self.viewport().rect()
        if rect.isEmpty() or port.isEmpty():
            return
        # a hundredth of a pixel short of the viewport, so rounding never calls up scroll bars
        scale = min((port.width() - 0.01) / rect.width(), (port.height() - 0.01) / rect.height())
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(rect.center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return super().wheelEvent(event)
        self.zoom_by(STEP**steps, event.position().toPoint())
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.NativeGesture
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            self.zoom_by(1.0 + event.value(), event.position().toPoint())
            return True
        return super().viewportEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self._fit_photo()

    @Slot()
    def _scrolled(self) -> None:
        self.notify()

    def notify(self) -> None:
        """Transform or scroll position changed (by the user or by code)."""
        for fn in self.listeners:
            fn()

    # ---- captions ----------------------------------------------------------------------------
    def set_caption(self, left: str, right: str = "") -> None:
        self.caption = left
        self.caption_right = right
        self.viewport().update()

    def image_rect(self) -> QRect:
        """Where the photo is drawn, in viewport pixels, clipped to the viewport."""
        shown = self.mapFromScene(self.sceneRect()).boundingRect()
        return shown.intersected(self.viewport().rect())

    def caption_corners(self) -> tuple[QPoint, QPoint]:
        """Top-left and top-right anchors of the captions: on the photo, not on the empty band."""
        r = self.image_rect()
        if r.isEmpty():
            r = self.viewport().rect()
        return QPoint(r.left() + 10, r.top() + 10), QPoint(r.right() - 9, r.top() + 10)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        left, right = self.caption_corners()
        draw_caption(painter, self.caption, left)
        draw_caption(painter, self.caption_right, right, align_right=True)
        painter.restore()


class ViewSync(QObject):
    """Keeps a set of views on one transform and one centre."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views: list[ZoomView] = []
        self._busy = False

    def add(self, view: ZoomView) -> None:
        self.views.append(view)
        view.listeners.append(lambda v=view: self.sync_from(v))

    def sync_from(self, src: ZoomView) -> None:
        if self._busy or not src.isVisible():
            return
        self._busy = True
        try:
            t = src.transform()
            centre = src.mapToScene(src.viewport().rect().center())
            hs, vs = src.horizontalScrollBar().value(), src.verticalScrollBar().value()
            for v in self.views:
                if v is src:
                    continue
                v.fit_mode = src.fit_mode
                v.setTransform(t)
                if v.viewport().size() == src.viewport().size() and v.sceneRect() == src.sceneRect():
                    v.horizontalScrollBar().setValue(hs)
                    v.verticalScrollBar().setValue(vs)
                else:
                    v.centerOn(centre)
        finally:
            self._busy = False


class PairView(QWidget):
    """Side by side: earlier photo first, later photo second, one zoom and pan.

    The pair sits left and right, or one above the other when that shows the photos larger
    (landscape photos in a tall, narrow view), so at Fit the photos fill the view's height or
    width instead of leaving half of it as empty bands.
    """

    def __init__(self, sync: ViewSync, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(2)
        self.left = ZoomView(self)
        self.right = ZoomView(self)
        self.left.setObjectName("compareLeft")
        self.right.setObjectName("compareRight")
        self.box.addWidget(self.left, 1)
        self.box.addWidget(self.right, 1)
        sync.add(self.left)
        sync.add(self.right)
        self.left_item: TiledImageItem | None = None
        self.right_item: TiledImageItem | None = None
        self._fitted = True
        self.left.listeners.append(self._view_changed)

    def stacked(self) -> bool:
        return self.box.direction() == QBoxLayout.Direction.TopToBottom

    def _arrange(self) -> None:
        """Left and right, or top and bottom: whichever fits the photos larger; at Fit the views
        shrink to their photos (centred) so the page, not the views, holds the spare room."""
        photo = self.left.sceneRect()
        w, h = self.width(), self.height()
        if photo.isEmpty() or w < 2 or h < 2:
            return
        gap = self.box.spacing()
        across = min((w - gap) / 2 / photo.width(), h / photo.height())
        above = min(w / photo.width(), (h - gap) / 2 / photo.height())
        stacked = above > across * 1.02
        direction = QBoxLayout.Direction.TopToBottom if stacked else QBoxLayout.Direction.LeftToRight
        if direction != self.box.direction():
            self.box.setDirection(direction)
        self._fitted = self.left.fit_mode
        if not self._fitted:
            self.box.setContentsMargins(0, 0, 0, 0)
        else:
            scale = above if stacked else across
            vw, vh = int(photo.width() * scale), int(photo.height() * scale)
            used_w = vw if stacked else 2 * vw + gap
            used_h = 2 * vh + gap if stacked else vh
            mx, my = max(0, (w - used_w) // 2), max(0, (h - used_h) // 2)
            self.box.setContentsMargins(mx, my, max(0, w - used_w - mx), max(0, h - used_h - my))
        self.box.activate()

    def _view_changed(self) -> None:
        if self.left.fit_mode != self._fitted:
            self._arrange()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def content_rect(self) -> QRect:
        """The part of the pair that shows photo (both halves), in this widget's pixels."""
        out = QRect()
        for view in self.views():
            r = view.image_rect()
            if not r.isEmpty():
                out = out.united(QRect(view.viewport().mapTo(self, r.topLeft()), r.size()))
        return out if not out.isEmpty() else self.rect()

    def views(self) -> list[ZoomView]:
        return [self.left, self.right]

    def set_images(self, left: TileSource, right: TileSource, scene_rect: QRectF) -> None:
        self.left_item = self._show(self.left, self.left_item, src=left, scene_rect=scene_rect)
        self.right_item = self._show(self.right, self.right_item, src=right, scene_rect=scene_rect)
        self._arrange()

    @staticmethod
    def _show(
        view: ZoomView, item: TiledImageItem | None, *, src: TileSource, scene_rect: QRectF
    ) -> TiledImageItem:
        """``src`` in ``view``: a new item the first time, the same item with a new source after."""
        if item is None:
            item = TiledImageItem(src)
            view.scene().addItem(item)
        else:
            item.set_source(src)
        view.scene().setSceneRect(scene_rect)
        view.setSceneRect(scene_rect)
        return item

    def set_captions(self, left: str, right: str) -> None:
        self.left.set_caption(left)
        self.right.set_caption(right)
