"""The framing guide over the live picture: where the reference's frame is, and which way to move.

A transparent layer on top of the :class:`~skintrack.ui.ghost_overlay.GhostOverlay`: it draws the
reference's frame as the framing check found it in the live picture (an outline to line up with
the picture's edges) and, when the framing is off, an arrow from the centre of the picture
towards where the reference's centre is (point the camera that way). Only drawing here.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from skintrack.ui.ghost_overlay import GhostOverlay
from skintrack.ui.theme import DARKENING, STABLE, WATCH

GUIDE_COLOURS = {"pass": STABLE, "warn": WATCH, "fail": DARKENING}


class FramingGuide(QWidget):
    """Paints the framing guide for the overlay it covers (same geometry, mouse passes through)."""

    def __init__(self, overlay: GhostOverlay) -> None:
        super().__init__(overlay)
        self.setObjectName("framingGuide")
        self.overlay = overlay
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.status: str | None = None
        self.outline: list[tuple[float, float]] = []
        self.shift: tuple[float, float] = (0.0, 0.0)
        self.hint = ""
        self.resize(overlay.size())
        overlay.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.overlay and event.type() == QEvent.Type.Resize:
            self.resize(self.overlay.size())
        return False

    def set_framing(self, status: str | None, details: dict[str, Any] | None) -> None:
        """Show a framing check's result (None hides the guide)."""
        self.status = status
        details = details or {}
        self.outline = [(float(x), float(y)) for x, y in details.get("outline", [])]
        sx, sy = details.get("shift", (0.0, 0.0))
        self.shift = (float(sx), float(sy))
        self.update()

    def arrow_vector(self) -> tuple[float, float]:
        """The arrow in frame fractions (0, 0 when framing passes or is unknown)."""
        if self.status in (None, "pass"):
            return (0.0, 0.0)
        return self.shift

    def _frame_rect(self) -> QRectF:
        frame = self.overlay.frame
        return self.overlay.target_rect(frame.size()) if not frame.isNull() else QRectF(self.rect())

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.status is None:
            return
        rect = self._frame_rect()
        colour = QColor(GUIDE_COLOURS.get(self.status, WATCH))
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if len(self.outline) == 4:
            poly = QPolygonF(
                [QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height()) for x, y in self.outline]
            )
            pen = QPen(colour, 2.0, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolygon(poly)
        dx, dy = self.arrow_vector()
        length = math.hypot(dx * rect.width(), dy * rect.height())
        if length > 6:
            centre = rect.center()
            scale = min(1.0, 0.35 * min(rect.width(), rect.height()) / length)
            tip = QPointF(centre.x() + dx * rect.width() * scale, centre.y() + dy * rect.height() * scale)
            self._arrow(p, centre, tip, colour)
        p.end()

    @staticmethod
    def _arrow(p: QPainter, start: QPointF, tip: QPointF, colour: QColor) -> None:
        shadow = QPen(QColor(0, 0, 0, 140), 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen = QPen(colour, 4.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        angle = math.atan2(tip.y() - start.y(), tip.x() - start.x())
        head = 16.0
        left = QPointF(tip.x() - head * math.cos(angle - 0.5), tip.y() - head * math.sin(angle - 0.5))
        right = QPointF(tip.x() - head * math.cos(angle + 0.5), tip.y() - head * math.sin(angle + 0.5))
        for style in (shadow, pen):
            p.setPen(style)
            p.drawLine(start, tip)
            p.drawLine(tip, left)
            p.drawLine(tip, right)
