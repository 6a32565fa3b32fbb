"""The export dialog's preview box: a still or a short animation, and a caption saying what it is.

It only shows what ``services.export_preview`` rendered in a worker; frames are rescaled from
the rendered pixels when the box resizes, never rendered again here.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

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
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
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

    def show_text(self, text: str, caption: str = "") -> None:
        self._stop()
        self.current = None
        self.preview.setPixmap(QPixmap())
        self.preview.setText(text)
        self.caption.setText(caption)

    def show_preview(self, result: ExportPreview, frame_ms: int) -> None:
        """A still, or the frames played every ``frame_ms`` when the preview is an animation."""
        if not result.images:
            self.show_text(result.text or result.caption, result.caption if result.text else "")
            return
        self._stop()
        self.current = result
        self.frames = [self._fit(rgb_pixmap(img)) for img in result.images]
        self.frame_index = 0
        self.preview.setText("")
        self.preview.setPixmap(self.frames[0])
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
