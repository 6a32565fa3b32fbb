"""The live camera frame with a translucent "ghost" of the reference photo (or its outline) on top.

Only drawing here: the ghost and outline images are prepared in a worker
(:mod:`skintrack.services.ghost`); this widget scales and blends them in ``paintEvent``.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class GhostOverlay(QWidget):
    """Draws the latest frame letterboxed, then the reference at ``opacity`` (photo or outline)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ghostOverlay")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.frame = QImage()
        self.reference = QImage()
        self.outline_image = QImage()
        self.opacity = 0.4
        self.outline = False
        self.frames_shown = 0

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    @Slot(QImage)
    def set_frame(self, frame: QImage) -> None:
        self.frame = frame
        self.frames_shown += 1
        self.update()

    def set_ghost(self, reference: QImage | None, outline: QImage | None) -> None:
        self.reference = reference if reference is not None else QImage()
        self.outline_image = outline if outline is not None else QImage()
        self.update()

    @Slot(float)
    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(1.0, max(0.0, float(opacity)))
        self.update()

    @Slot(bool)
    def set_outline(self, on: bool) -> None:
        self.outline = bool(on)
        self.update()

    def ghost_image(self) -> QImage:
        """What is drawn over the frame now (empty when there is no reference)."""
        return self.outline_image if self.outline else self.reference

    def target_rect(self, size: QSize) -> QRectF:
        """Letterbox ``size`` into the widget, centred."""
        if size.isEmpty():
            return QRectF(self.rect())
        scaled = size.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = (self.width() - scaled.width()) / 2
        y = (self.height() - scaled.height()) / 2
        return QRectF(x, y, scaled.width(), scaled.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 24))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        base = self.frame if not self.frame.isNull() else self.reference
        rect = self.target_rect(base.size()) if not base.isNull() else QRectF(self.rect())
        if not self.frame.isNull():
            p.drawImage(rect, self.frame)
        ghost = self.ghost_image()
        if not ghost.isNull() and self.opacity > 0:
            p.setOpacity(self.opacity if not self.outline else max(self.opacity, 0.15))
            p.drawImage(rect, ghost)  # stretched to the frame: same framing, whatever the sizes
        p.end()
