"""ChartLegend: the trend chart's legend as a Qt widget under the canvas.

Qt lays out and paints a row of labels far faster than matplotlib renders a figure legend, and
the legend then no longer takes part in the figure's layout; both count on every region switch.
Entries come from :func:`skintrack.export.chart.legend_entries` (the handles the figure drew).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.artist import Artist
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

SWATCH_W = 26
GAP = 6  # between swatch and text
SPACING = 16  # between entries
ROW_PAD = 4

_DASHES = {
    "--": Qt.PenStyle.DashLine,
    "dashed": Qt.PenStyle.DashLine,
    ":": Qt.PenStyle.DotLine,
    "dotted": Qt.PenStyle.DotLine,
    "-.": Qt.PenStyle.DashDotLine,
    "dashdot": Qt.PenStyle.DashDotLine,
}


@dataclass(frozen=True)
class LegendEntry:
    """What one legend swatch shows: a line and/or a marker, or a filled box."""

    label: str
    colour: QColor
    line: Qt.PenStyle | None = None  # None: no line
    marker: str = ""  # matplotlib marker code: "o", "D", "s", "v", "*" or ""
    filled: bool = False  # a box (bars, bands)


def _qcolor(value: object, alpha: float | None = None) -> QColor:
    r, g, b, a = to_rgba(value)  # type: ignore[arg-type]
    return QColor.fromRgbF(r, g, b, a if alpha is None else alpha)


def entry_for(handle: Artist, label: str) -> LegendEntry:
    """A legend entry looking like the matplotlib artist ``handle``."""
    if isinstance(handle, Line2D):
        style = str(handle.get_linestyle())
        line = None if style in ("None", "none", "", " ") else _DASHES.get(style, Qt.PenStyle.SolidLine)
        marker = str(handle.get_marker() or "")
        return LegendEntry(label, _qcolor(handle.get_color(), handle.get_alpha()), line,
                           "" if marker in ("None", "none", " ") else marker)  # fmt: skip
    faces = handle.get_facecolor() if isinstance(handle, (Collection, Patch)) else None
    colour = faces[0] if faces is not None and len(faces) and not isinstance(faces[0], float) else faces
    return LegendEntry(label, _qcolor(colour if colour is not None else "grey"), filled=True)


class ChartLegend(QWidget):
    """Legend entries laid out in rows that wrap with the widget's width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[LegendEntry] = []
        self.text_colour = QColor("#222222")
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_entries(self, entries: list[LegendEntry], text_colour: QColor) -> None:
        if entries == self.entries and text_colour == self.text_colour:
            return
        self.entries = list(entries)
        self.text_colour = text_colour
        self.setAccessibleName("Legend: " + ", ".join(e.label for e in entries))
        self.updateGeometry()
        self.update()

    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    # ---------------------------------------------------------------- layout
    def _rows(self, width: int) -> list[list[tuple[LegendEntry, int]]]:
        fm = self.fontMetrics()
        rows: list[list[tuple[LegendEntry, int]]] = [[]]
        used = 0
        for e in self.entries:
            w = SWATCH_W + GAP + fm.horizontalAdvance(e.label)
            if rows[-1] and used + SPACING + w > width:
                rows.append([])
                used = 0
            used += (SPACING if rows[-1] else 0) + w
            rows[-1].append((e, w))
        return [r for r in rows if r]

    def _row_height(self) -> int:
        return self.fontMetrics().height() + ROW_PAD

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return len(self._rows(max(1, width))) * self._row_height() + ROW_PAD

    def sizeHint(self) -> QSize:
        return QSize(400, self.heightForWidth(max(self.width(), 400)))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.heightForWidth(max(self.width(), 1)))

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.height() != self.heightForWidth(self.width()):
            self.updateGeometry()

    # ---------------------------------------------------------------- painting
    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        rh = self._row_height()
        for r, row in enumerate(self._rows(self.width())):
            total = sum(w for _e, w in row) + SPACING * (len(row) - 1)
            x = max(0, (self.width() - total) // 2)
            y = ROW_PAD // 2 + r * rh
            for e, w in row:
                self._swatch(p, QRectF(x, y, SWATCH_W, rh - ROW_PAD), e)
                p.setPen(self.text_colour)
                base = y + (rh - ROW_PAD + fm.ascent() - fm.descent()) / 2
                p.drawText(QPointF(x + SWATCH_W + GAP, base), e.label)
                x += w + SPACING
        p.end()

    @staticmethod
    def _swatch(p: QPainter, box: QRectF, e: LegendEntry) -> None:
        cy = box.center().y()
        if e.filled:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(e.colour)
            p.drawRect(QRectF(box.left() + 2, cy - 5, box.width() - 4, 10))
            return
        if e.line is not None:
            pen = QPen(e.colour, 1.8, e.line)
            p.setPen(pen)
            p.drawLine(QPointF(box.left(), cy), QPointF(box.right(), cy))
        if e.marker:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(e.colour)
            _marker(p, QPointF(box.center().x(), cy), e.marker, 4.5)


def _marker(p: QPainter, c: QPointF, marker: str, r: float) -> None:
    if marker == "s":
        p.drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r))
    elif marker == "D":
        p.drawPolygon(QPolygonF([QPointF(c.x(), c.y() - r), QPointF(c.x() + r, c.y()),
                                 QPointF(c.x(), c.y() + r), QPointF(c.x() - r, c.y())]))  # fmt: skip
    elif marker == "v":
        p.drawPolygon(QPolygonF([QPointF(c.x() - r, c.y() - r * 0.7), QPointF(c.x() + r, c.y() - r * 0.7),
                                 QPointF(c.x(), c.y() + r)]))  # fmt: skip
    elif marker == "*":
        pts = []
        for k in range(10):
            rad = r * 1.2 if k % 2 == 0 else r * 0.5
            a = math.pi / 2 + k * math.pi / 5
            pts.append(QPointF(c.x() + rad * math.cos(a), c.y() - rad * math.sin(a)))
        p.drawPolygon(QPolygonF(pts))
    else:
        p.drawEllipse(c, r, r)
