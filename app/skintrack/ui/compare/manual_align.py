"""Manual alignment: click matching points on both photos, preview with a swipe, accept.

Points are stored in full-resolution pixel coordinates (the views draw the photos at their
native size, via tiles), so the warp from ``services.manual_fit.fit_manual_alignment`` is the
same MOVING -> REFERENCE mapping the automatic aligner produces. The window stores it as a
manual AlignmentRecord, which automatic runs never overwrite.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsSimpleTextItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.core.align import Alignment
from skintrack.progress import CancelToken
from skintrack.services.manual_fit import HOMOGRAPHY_PAIRS, MODEL_WORDS, ManualFit, fit_manual_alignment
from skintrack.ui.compare.pair_view import ZoomView
from skintrack.ui.compare.source import CompareSource
from skintrack.ui.compare.swipe_view import SwipeView
from skintrack.ui.compare.tiles import Pyramid, TiledImageItem, TileSource, build_pyramid, to_qimage
from skintrack.ui.tasks import TaskHandle, run_task

MIN_PAIRS = 3  # two fix a similarity exactly; a third shows whether the clicks agree
GRAB_PX = 10  # how close (screen px) to a point a press must be to drag it
MAGNIFIER_PX = 168
MAGNIFIER_ZOOM = 4
COLOURS = [QColor(255, 214, 0), QColor(0, 229, 255), QColor(255, 64, 129), QColor(118, 255, 3)]


class PointView(ZoomView):
    """A zoomable photo where a click places a point and a point can be dragged to correct it."""

    clicked = Signal(QPointF)  # scene (= full-resolution pixel) coordinates
    pointMoved = Signal(int, QPointF)  # index of the dragged point, its new scene position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport().setMouseTracking(True)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self._press: QPoint | None = None
        self._dragging: int | None = None
        self.item: TiledImageItem | None = None
        self.markers: list[QGraphicsItem] = []
        self.on_hover: list[Callable[[QPointF], None]] = []  # every mouse move: callbacks, not a Signal

    def set_source(self, src: TileSource) -> None:
        if self.item is None:
            self.item = TiledImageItem(src)
            self.scene().addItem(self.item)
        else:
            self.item.set_source(src)
        rect = QRectF(0, 0, src.width, src.height)
        self.scene().setSceneRect(rect)
        self.setSceneRect(rect)
        self.fit()

    def marker_at(self, view_pos: QPoint) -> int | None:
        """Index of the point marker under ``view_pos`` (viewport px), nearest first."""
        best, best_d = None, float(GRAB_PX)
        for i, m in enumerate(self.markers):
            at = self.mapFromScene(m.pos())
            d = ((at.x() - view_pos.x()) ** 2 + (at.y() - view_pos.y()) ** 2) ** 0.5
            if d <= best_d:
                best, best_d = i, d
        return best

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            grabbed = self.marker_at(event.position().toPoint())
            if grabbed is not None:
                self._dragging = grabbed
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
                event.accept()
                return  # no panning while a point is dragged
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None and event.button() == Qt.MouseButton.LeftButton:
            index, self._dragging = self._dragging, None
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            self.pointMoved.emit(index, self.mapToScene(event.position().toPoint()))
            return
        super().mouseReleaseEvent(event)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        if event.button() == Qt.MouseButton.LeftButton and self._press is not None:
            moved = (event.position().toPoint() - self._press).manhattanLength()
            self._press = None
            if moved <= 4:
                self.clicked.emit(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        if self._dragging is not None:
            self.markers[self._dragging].setPos(pos)
        else:
            super().mouseMoveEvent(event)
            over = self.marker_at(event.position().toPoint()) is not None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if over else Qt.CursorShape.CrossCursor)
        for fn in self.on_hover:
            fn(pos)

    def set_markers(self, points: list[tuple[float, float]]) -> None:
        for m in self.markers:
            self.scene().removeItem(m)
        self.markers = []
        for i, (x, y) in enumerate(points):
            colour = COLOURS[i % len(COLOURS)]
            dot = QGraphicsEllipseItem(-7, -7, 14, 14)
            dot.setPen(QPen(QColor(0, 0, 0), 2))
            dot.setBrush(QBrush(colour))
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            dot.setPos(x, y)
            dot.setZValue(10)
            label = QGraphicsSimpleTextItem(str(i + 1), dot)
            font = QFont()
            font.setBold(True)
            font.setPointSize(10)
            label.setFont(font)
            label.setBrush(QBrush(QColor(255, 255, 255)))
            label.setPen(QPen(QColor(0, 0, 0), 0.6))
            label.setPos(8, -20)
            self.scene().addItem(dot)
            self.markers.append(dot)


class Magnifier(QLabel):
    """Enlarged pixels around the cursor, with a crosshair, for precise point placement."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(MAGNIFIER_PX, MAGNIFIER_PX)
        self.setStyleSheet("background: #202124; border: 1px solid #888;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("Magnifier: the pixels under the cursor, enlarged")

    def show_at(self, full: np.ndarray, x: float, y: float) -> None:
        r = MAGNIFIER_PX // (2 * MAGNIFIER_ZOOM)
        h, w = full.shape[:2]
        xi, yi = round(x), round(y)
        crop = np.zeros((2 * r + 1, 2 * r + 1, full.shape[2]), np.uint8)
        x0, y0 = max(0, xi - r), max(0, yi - r)
        x1, y1 = min(w, xi + r + 1), min(h, yi + r + 1)
        if x1 > x0 and y1 > y0:
            crop[y0 - (yi - r) : y1 - (yi - r), x0 - (xi - r) : x1 - (xi - r)] = full[y0:y1, x0:x1]
        img = to_qimage(crop).scaled(
            MAGNIFIER_PX,
            MAGNIFIER_PX,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
        pm = QPixmap.fromImage(img)
        p = QPainter(pm)
        p.setPen(QPen(QColor(255, 255, 255, 220), 1))
        c = MAGNIFIER_PX // 2
        p.drawLine(c, 0, c, c - 6)
        p.drawLine(c, c + 6, c, MAGNIFIER_PX)
        p.drawLine(0, c, c - 6, c)
        p.drawLine(c + 6, c, MAGNIFIER_PX, c)
        p.end()
        self.setPixmap(pm)


class ManualAlignDialog(QDialog):
    """Collect ≥ 4 point pairs, preview the warp in a swipe view, return the alignment."""

    previewReady = Signal()

    def __init__(
        self,
        source: CompareSource,
        ref_id: int,
        moving_id: int,
        ref_label: str = "Earlier",
        moving_label: str = "Later",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Align manually")
        self.resize(1280, 780)
        self.source = source
        self.ref_id, self.moving_id = ref_id, moving_id
        self.ref_points: list[tuple[float, float]] = []
        self.mov_points: list[tuple[float, float]] = []
        self._order: list[str] = []
        self.fit: ManualFit | None = None
        self.alignment: Alignment | None = None
        self.ref_full: np.ndarray | None = None
        self.mov_full: np.ndarray | None = None
        self._ref_src: TileSource | None = None
        self._preview_task: TaskHandle | None = None
        self._closed = False
        self.finished.connect(self._mark_closed)

        lay = QVBoxLayout(self)
        self.info = QLabel(
            "Click a sharp feature (a mole, a crease crossing, a freckle) on the earlier photo, then the "
            f"same feature on the later photo. Place at least {MIN_PAIRS} pairs, spread over the area "
            f"(from {HOMOGRAPHY_PAIRS} pairs perspective is corrected too); drag a point to move it, "
            "drag elsewhere to pan, wheel to zoom.",
            self,
        )
        self.info.setWordWrap(True)
        lay.addWidget(self.info)

        self.pages = QStackedWidget(self)
        edit = QWidget(self.pages)
        el = QHBoxLayout(edit)
        el.setContentsMargins(0, 0, 0, 0)
        self.ref_view = PointView(edit)
        self.mov_view = PointView(edit)
        self.ref_view.set_caption(f"Earlier · {ref_label}")
        self.mov_view.set_caption(f"Later · {moving_label}")
        el.addWidget(self.ref_view, 1)
        el.addWidget(self.mov_view, 1)
        side = QVBoxLayout()
        self.magnifier = Magnifier(edit)
        side.addWidget(self.magnifier)
        self.count_label = QLabel(edit)
        self.count_label.setWordWrap(True)
        side.addWidget(self.count_label)
        self.undo_button = QPushButton("Undo last point", edit)
        self.undo_button.clicked.connect(self.undo)
        self.clear_button = QPushButton("Clear all", edit)
        self.clear_button.clicked.connect(self.clear)
        side.addWidget(self.undo_button)
        side.addWidget(self.clear_button)
        side.addStretch(1)
        el.addLayout(side)
        self.pages.addWidget(edit)

        self.preview = SwipeView(self.pages)
        self.pages.addWidget(self.preview)
        lay.addWidget(self.pages, 1)

        self.buttons = QDialogButtonBox(self)
        self.preview_button = self.buttons.addButton("Preview", QDialogButtonBox.ButtonRole.ActionRole)
        self.back_button = self.buttons.addButton("Edit points", QDialogButtonBox.ButtonRole.ActionRole)
        self.ok_button = self.buttons.addButton("Use this alignment", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.preview_button.clicked.connect(self.compute_preview)
        self.back_button.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

        self.ref_view.pointMoved.connect(lambda i, p: self.move_point("ref", i, p.x(), p.y()))
        self.mov_view.pointMoved.connect(lambda i, p: self.move_point("mov", i, p.x(), p.y()))
        self.ref_view.clicked.connect(lambda p: self.add_point("ref", p.x(), p.y()))
        self.mov_view.clicked.connect(lambda p: self.add_point("mov", p.x(), p.y()))
        self.ref_view.on_hover.append(lambda p: self._magnify("ref", p))
        self.mov_view.on_hover.append(lambda p: self._magnify("mov", p))
        self._refresh()
        self._load()

    # ---------------------------------------------------------------- loading
    def _load(self) -> None:
        source, a, b = self.source, self.ref_id, self.moving_id

        def job(token: CancelToken) -> tuple[np.ndarray, np.ndarray, Pyramid, Pyramid]:
            ref = source.original(a)
            token.raise_if_cancelled()
            mov = source.original(b)
            return ref, mov, build_pyramid(ref), build_pyramid(mov)

        self._load_task = run_task(
            job, on_result=self._loaded, on_error=self._failed, name="manual-align load"
        )

    @Slot()
    def _mark_closed(self) -> None:
        self._closed = True

    def _loaded(self, out: tuple[np.ndarray, np.ndarray, Pyramid, Pyramid]) -> None:
        if self._closed:
            return
        self.ref_full, self.mov_full, pr, pm = out
        self._ref_src = TileSource(pr)
        self.ref_view.set_source(self._ref_src)
        self.mov_view.set_source(TileSource(pm))
        self._refresh()

    def _failed(self, message: str) -> None:
        if self._closed:
            return
        self.info.setText(f"<b>Could not continue:</b> {message}")

    @property
    def loaded(self) -> bool:
        return self.ref_full is not None

    # ---------------------------------------------------------------- points
    def pairs(self) -> int:
        return min(len(self.ref_points), len(self.mov_points))

    def add_point(self, side: str, x: float, y: float) -> None:
        (self.ref_points if side == "ref" else self.mov_points).append((float(x), float(y)))
        self._order.append(side)
        self.alignment = None
        self._refresh()

    def move_point(self, side: str, index: int, x: float, y: float) -> None:
        points = self.ref_points if side == "ref" else self.mov_points
        if 0 <= index < len(points):
            points[index] = (float(x), float(y))
            self.alignment = None
            self._refresh()

    def current_fit(self) -> ManualFit | None:
        """The fit of the pairs placed so far (a few points: cheap), None before the photos load."""
        if self.pairs() < MIN_PAIRS or self.ref_full is None or self.mov_full is None:
            return None
        pts = self.full_points()
        return fit_manual_alignment(
            [r for r, _ in pts], [m for _, m in pts], self.ref_full.shape, self.mov_full.shape
        )

    @Slot()
    def undo(self) -> None:
        if self._order:
            side = self._order.pop()
            (self.ref_points if side == "ref" else self.mov_points).pop()
            self.alignment = None
            self._refresh()

    @Slot()
    def clear(self) -> None:
        self.ref_points.clear()
        self.mov_points.clear()
        self._order.clear()
        self.alignment = None
        self._refresh()

    def full_points(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        n = self.pairs()
        return list(zip(self.ref_points[:n], self.mov_points[:n], strict=True))

    def _refresh(self) -> None:
        self.ref_view.set_markers(self.ref_points)
        self.mov_view.set_markers(self.mov_points)
        n = self.pairs()
        waiting = ""
        if len(self.ref_points) > len(self.mov_points):
            waiting = f"Now click point {len(self.ref_points)} on the later photo."
        elif len(self.mov_points) > len(self.ref_points):
            waiting = f"Now click point {len(self.mov_points)} on the earlier photo."
        need = max(0, MIN_PAIRS - n)
        self.fit = self.current_fit()
        self.count_label.setText(
            f"<b>{n} pair{'s' if n != 1 else ''}</b>"
            + (f" — {need} more needed." if need else " — enough; preview to check.")
            + (f"<br>{waiting}" if waiting else "")
            + self._errors_html()
        )
        self.undo_button.setEnabled(bool(self._order))
        self.clear_button.setEnabled(bool(self._order))
        self.preview_button.setEnabled(n >= MIN_PAIRS and self.fit is not None and self.fit.alignment.ok)
        self.ok_button.setEnabled(self.alignment is not None and self.alignment.ok)
        self.back_button.setVisible(self.pages.currentIndex() == 1)

    def _errors_html(self) -> str:
        """Each pair's error under the current fit, the worst one in bold, and the model used."""
        fit = self.fit
        if fit is None or not fit.errors:
            return ""
        worst = fit.worst
        rows = [
            (f"<b>pair {i + 1}: {formatting.number(e, 1)} px</b>" if i == worst else f"pair {i + 1}: "
             f"{formatting.number(e, 1)} px")
            for i, e in enumerate(fit.errors)
        ]  # fmt: skip
        head = f"<br>Fit: {MODEL_WORDS[fit.model]}, RMS {formatting.number(fit.rms, 1)} px"
        tail = "" if fit.alignment.ok else f"<br><b>Not usable yet:</b> {fit.alignment.message}"
        return head + "<br>" + "<br>".join(rows) + tail

    def _magnify(self, side: str, p: QPointF) -> None:
        full = self.ref_full if side == "ref" else self.mov_full
        if full is not None:
            self.magnifier.show_at(full, p.x(), p.y())

    # ---------------------------------------------------------------- preview
    @Slot()
    def compute_preview(self) -> None:
        """Fit the homography and warp the later photo (worker), then show the swipe preview."""
        from skintrack.core.align import warp_to_reference

        if self.pairs() < MIN_PAIRS or self.ref_full is None or self.mov_full is None:
            return
        pts = self.full_points()
        ref_pts = np.array([r for r, _ in pts], np.float64)
        mov_pts = np.array([m for _, m in pts], np.float64)
        ref, mov = self.ref_full, self.mov_full

        def job(token: CancelToken) -> tuple[Alignment, Pyramid | None]:
            alignment = fit_manual_alignment(ref_pts, mov_pts, ref.shape, mov.shape).alignment
            if not alignment.ok or alignment.homography is None:
                return alignment, None
            token.raise_if_cancelled()
            warped, _valid = warp_to_reference(mov, np.asarray(alignment.homography), ref.shape)
            return alignment, build_pyramid(warped)

        self.preview_button.setEnabled(False)
        self._preview_task = run_task(
            job, on_result=self._preview_done, on_error=self._failed, name="manual preview"
        )

    def _preview_done(self, out: tuple[Alignment, Pyramid | None]) -> None:
        if self._closed:
            return
        alignment, pyr = out
        self.alignment = alignment
        if pyr is None or self._ref_src is None:
            self.info.setText(
                "<b>These points do not define a sensible alignment</b> "
                f"({alignment.message}). Check that each pair marks the same feature."
            )
            self.alignment = None
        else:
            src = TileSource(pyr)
            rect = QRectF(0, 0, self._ref_src.width, self._ref_src.height)
            self.preview.set_images(self._ref_src, src, rect)
            self.preview.set_captions("◀ Earlier", "Later, aligned ▶")
            self.pages.setCurrentIndex(1)
            self.preview.fit()
            self.info.setText(
                "Drag the divider: features should continue straight across it. "
                "If they jump, go back and correct the points."
            )
        self._refresh()
        self.previewReady.emit()
