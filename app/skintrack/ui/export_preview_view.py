"""The export dialog's preview box: a still or a short animation, and a caption saying what it is.

It only shows what ``services.export_preview`` rendered in a worker; frames are rescaled from
the rendered pixels when the box resizes, never rendered again here. CSV rows show as a table,
JSON as monospaced text, messages centred.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QFontDatabase, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skintrack.services.export_preview import ExportPreview

PREVIEW_SIZE = QSize(420, 320)


def rgb_pixmap(rgb: np.ndarray) -> QPixmap:
    arr = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = arr.shape[:2]
    image = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # own the pixels
    return QPixmap.fromImage(image)


class ExportPreviewView(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Preview", parent)
        self.preview = QLabel("Preview…", self)
        self.preview.setObjectName("exportPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_SIZE)
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QLabel("", self)
        self.caption.setObjectName("exportPreviewCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(self)
        self.table.setObjectName("exportPreviewTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.data = QPlainTextEdit(self)
        self.data.setObjectName("exportPreviewText")
        self.data.setReadOnly(True)
        self.data.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.data.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.pages = QStackedWidget(self)
        for page in (self.preview, self.table, self.data):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.caption)
        self.current: ExportPreview | None = None
        self.frames: list[QPixmap] = []
        self.frame_index = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._next_frame)

    def show_busy(self, text: str) -> None:
        self._stop()
        self.preview.setPixmap(QPixmap())
        self.preview.setText(text)
        self.pages.setCurrentWidget(self.preview)

    def show_text(self, text: str, caption: str = "") -> None:
        """A message (centred) in place of a picture."""
        self._stop()
        self.current = None
        self.preview.setPixmap(QPixmap())
        self.preview.setText(text)
        self.pages.setCurrentWidget(self.preview)
        self.caption.setText(caption)

    def show_data(self, result: ExportPreview) -> None:
        """The first lines of the data: a table for CSV rows, monospaced text otherwise."""
        self._stop()
        self.current = None
        self.caption.setText(result.caption)
        if result.rows:
            header, body = result.rows[0], result.rows[1:]
            self.table.clear()
            self.table.setColumnCount(len(header))
            self.table.setRowCount(len(body))
            self.table.setHorizontalHeaderLabels(header)
            for r, row in enumerate(body):
                for c, value in enumerate(row[: len(header)]):
                    self.table.setItem(r, c, QTableWidgetItem(value))
            self.table.resizeColumnsToContents()
            self.pages.setCurrentWidget(self.table)
        else:
            self.data.setPlainText(result.text)
            self.pages.setCurrentWidget(self.data)

    def shown_text(self) -> str:
        """What the box shows as text: the message, or the data (CSV joined back with commas)."""
        page = self.pages.currentWidget()
        if page is self.table:
            head = [self.table.horizontalHeaderItem(c).text() for c in range(self.table.columnCount())]
            return ",".join(head)
        if page is self.data:
            return self.data.toPlainText()
        return self.preview.text()

    def show_preview(self, result: ExportPreview, frame_ms: int) -> None:
        """A still, or the frames played every ``frame_ms`` when the preview is an animation."""
        if not result.images:
            if result.text:
                self.show_data(result)
            else:
                self.show_text(result.caption)
            return
        self._stop()
        self.current = result
        self.frames = [self._fit(rgb_pixmap(img)) for img in result.images]
        self.frame_index = 0
        self.preview.setText("")
        self.preview.setPixmap(self.frames[0])
        self.pages.setCurrentWidget(self.preview)
        self.caption.setText(result.caption + (f"\n{result.text}" if result.text else ""))
        if result.frame_ms > 0 and len(self.frames) > 1:
            self.timer.start(frame_ms)

    def set_frame_ms(self, ms: int) -> None:
        if self.timer.isActive():
            self.timer.setInterval(ms)

    def has_image(self) -> bool:
        pix = self.preview.pixmap()
        return pix is not None and not pix.isNull()

    def stop(self) -> None:
        self._stop()

    def _stop(self) -> None:
        self.timer.stop()
        self.frames = []

    def _fit(self, pix: QPixmap) -> QPixmap:
        return pix.scaled(
            self.preview.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )

    @Slot()
    def _next_frame(self) -> None:
        if not self.frames:
            self.timer.stop()
            return
        self.frame_index = (self.frame_index + 1) % len(self.frames)
        self.preview.setPixmap(self.frames[self.frame_index])

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the picture as large as the box (rescaled from the rendered frames)."""
        super().resizeEvent(event)
        if self.current is not None and self.frames:
            self.frames = [self._fit(rgb_pixmap(img)) for img in self.current.images]
            self.preview.setPixmap(self.frames[self.frame_index % len(self.frames)])
