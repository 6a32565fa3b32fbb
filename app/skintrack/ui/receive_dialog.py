""" "Receive from phone": a QR code of a one-time upload URL, served only while this dialog is open.

The server (``services.receiver.PhoneReceiver``) stops when the dialog closes or after ten
minutes. This is the app's only network use, inbound only; the dialog says so.
"""

from __future__ import annotations

import time
from pathlib import Path

import segno
from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from skintrack.services.receiver import PhoneReceiver

QR_PIXELS = 280

PRIVACY_TEXT = (
    "This is Skintrack's only use of the network: while this window is open, your phone can send "
    "photos to this computer over your local network (inbound only; nothing leaves this computer, "
    "no cloud, no account). Closing the window, or ten minutes, stops it."
)


def qr_image(text: str, pixels: int = QR_PIXELS) -> QImage:
    """A QR code (error correction M, 4-module quiet zone) drawn crisp at about ``pixels`` px."""
    matrix = segno.make(text, error="m", micro=False).matrix
    n = len(matrix) + 8
    scale = max(1, pixels // n)
    image = QImage(n * scale, n * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("black"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                p.drawRect(QRectF((x + 4) * scale, (y + 4) * scale, scale, scale))
    p.end()
    return image


class ReceiveDialog(QDialog):
    """Starts the receiver on ``start()``; stops it when closed (or when it times out)."""

    photosReceived = Signal(int)
    _received = Signal(int)  # from the server thread, queued to the GUI thread
    _stopped = Signal()

    def __init__(self, target_dir: Path, parent: QWidget | None = None, *, host: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receiveDialog")
        self.setWindowTitle("Receive from phone")
        self.receiver = PhoneReceiver(
            target_dir,
            host=host,
            on_received=lambda paths: self._received.emit(len(paths)),
            on_stopped=self._stopped.emit,
        )
        self.count = 0
        self._received.connect(self._on_received, Qt.ConnectionType.QueuedConnection)
        self._stopped.connect(self._on_stopped, Qt.ConnectionType.QueuedConnection)

        self.intro = QLabel("Scan this code with your phone's camera, then take or choose photos.", self)
        self.intro.setWordWrap(True)
        self.qr = QLabel(self)
        self.qr.setObjectName("receiveQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PIXELS, QR_PIXELS)
        self.url = QLabel(self)
        self.url.setObjectName("receiveUrl")
        self.url.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = QLabel(self)
        self.state.setObjectName("receiveState")
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy = QLabel(PRIVACY_TEXT, self)
        self.privacy.setObjectName("receivePrivacy")
        self.privacy.setWordWrap(True)
        f = self.privacy.font()
        f.setPointSizeF(f.pointSizeF() * 0.9)
        self.privacy.setFont(f)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.qr)
        layout.addWidget(self.url)
        layout.addWidget(self.state)
        layout.addWidget(self.privacy)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self._update_state)

    def start(self) -> bool:
        """Start serving; shows the reason instead of a code when there is no local network."""
        try:
            url = self.receiver.start()
        except OSError as exc:
            self.qr.setText("No local network")
            self.url.setText("")
            self.state.setText(f"Cannot receive photos: {exc.strerror or exc}")
            return False
        self.qr.setPixmap(QPixmap.fromImage(qr_image(url)))
        self.url.setText(url)
        self.tick.start()
        self._update_state()
        return True

    @Slot()
    def _update_state(self) -> None:
        if not self.receiver.running or self.receiver.deadline is None:
            return
        left = max(0, int(self.receiver.deadline - time.monotonic()))
        received = f"{self.count} photo{'s' if self.count != 1 else ''} received. " if self.count else ""
        self.state.setText(f"{received}Stops in {left // 60}:{left % 60:02d}.")

    @Slot(int)
    def _on_received(self, n: int) -> None:
        self.count += n
        self._update_state()
        self.photosReceived.emit(n)

    @Slot()
    def _on_stopped(self) -> None:
        self.tick.stop()
        self.qr.setPixmap(QPixmap())
        self.qr.setText("Stopped")
        received = f"{self.count} photo(s) received; they are in the Inbox. " if self.count else ""
        self.state.setText(received + "Receiving has stopped; close and reopen this window to send more.")

    def done(self, result: int) -> None:
        self.tick.stop()
        self.receiver.stop()
        super().done(result)

    def closeEvent(self, event: object) -> None:  # type: ignore[override]
        self.receiver.stop()
        super().closeEvent(event)  # type: ignore[arg-type]
