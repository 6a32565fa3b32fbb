"""The check-in camera tab: live preview with a ghost of the reference photo, and full-resolution capture.

While the preview runs, :class:`~skintrack.ui.live_quality.LiveQualityMonitor` checks downscaled
frames a few times a second in a worker; badges beside the picture show each check, a framing
guide over it points towards the reference's framing, and the optional auto-capture takes the
photo once framing and quality have passed for half a second.

Frames come from a :class:`FrameSource`: :class:`QtCameraSource` (QtMultimedia: QCamera ->
QMediaCaptureSession -> QVideoSink, stills through ``QImageCapture.captureToFile``) or, in
tests, :class:`FakeFrameSource` (a QTimer emitting generated images). QtMultimedia is only
touched when the tab is first shown, so the dialog opens fast and works without any camera.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from skintrack.core.quality import QualityReport
from skintrack.progress import CancelToken
from skintrack.ui.framing_guide import FramingGuide
from skintrack.ui.ghost_overlay import GhostOverlay
from skintrack.ui.live_quality import AutoCapture, LiveQualityMonitor
from skintrack.ui.quality_badges import QualityBadges
from skintrack.ui.tasks import Pool, TaskHandle, run_task

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QCameraDevice, QVideoFrame

log = logging.getLogger(__name__)

GHOST_SIDE = 1280  # the ghost is drawn over a preview; no need for the full reference
NO_CAMERA_TEXT = (
    "<h3>No camera found</h3>"
    "<p>Connect a webcam (or allow this app to use the camera) and press <b>Look again</b>.</p>"
    "<p>You can also take the photo with your phone or camera and add it on the <b>Photos</b> tab "
    "with <b>Add photos…</b>, by dropping the files, or by pasting.</p>"
)


def default_ghost_opacity() -> float:
    """The user's preference (QSettings ``preferences/ghost_opacity``), 0.4 when unset."""
    try:
        from skintrack.ui.preferences import load_preferences

        return float(load_preferences().ghost_opacity)
    except Exception:
        return 0.4


def video_inputs() -> list[QCameraDevice]:
    """The cameras QtMultimedia knows about (imported here: slow, and absent in some installs)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return []
    return list(QMediaDevices.videoInputs())


class FrameSource(QObject):
    """Where preview frames and captured stills come from."""

    frameReady = Signal(QImage)
    captured = Signal(str)  # path of a saved still
    error = Signal(str)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def capture(self, path: Path) -> None:
        """Save a full-resolution still at ``path`` (suffix chooses the format), then emit ``captured``."""
        raise NotImplementedError


class FakeFrameSource(FrameSource):
    """Generated frames on a timer: a skin-toned gradient with a moving dark spot (tests, demos)."""

    def __init__(
        self, parent: QObject | None = None, size: tuple[int, int] = (320, 240), interval_ms: int = 30
    ):
        super().__init__(parent)
        self.size = size
        self.count = 0
        self.last = QImage()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @Slot()
    def _tick(self) -> None:
        w, h = self.size
        img = QImage(w, h, QImage.Format.Format_RGB32)
        p = QPainter(img)
        grad = QLinearGradient(0, 0, w, h)
        grad.setColorAt(0, QColor(222, 176, 150))
        grad.setColorAt(1, QColor(190, 140, 112))
        p.fillRect(img.rect(), grad)
        p.setBrush(QColor(120, 90, 80))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(w * (0.3 + 0.4 * ((self.count % 50) / 50)), h / 2), w / 12, w / 12)
        p.end()
        self.count += 1
        self.last = img
        self.frameReady.emit(img)

    def capture(self, path: Path) -> None:
        image = self.last if not self.last.isNull() else QImage(*self.size, QImage.Format.Format_RGB32)

        def job(_t: CancelToken) -> str:
            if not image.save(str(path)):
                raise OSError(f"could not save {path}")
            return str(path)

        run_task(
            job,
            on_result=self.captured.emit,
            on_error=self.error.emit,
            name="fake-capture",
            pool=Pool.THUMBS,
            parent=self,
        )


class SequenceFrameSource(FakeFrameSource):
    """Plays given frames (QImages) on a timer, then repeats the last one: scripted tests and demos."""

    def __init__(self, frames: list[QImage], parent: QObject | None = None, interval_ms: int = 30) -> None:
        first = frames[0]
        super().__init__(parent, (first.width(), first.height()), interval_ms)
        self.frames = list(frames)

    @Slot()
    def _tick(self) -> None:
        img = self.frames[min(self.count, len(self.frames) - 1)]
        self.count += 1
        self.last = img
        self.frameReady.emit(img)


class QtCameraSource(FrameSource):
    """The default camera through QtMultimedia; stills at the camera's largest photo resolution."""

    def __init__(self, parent: QObject | None = None, device: QCameraDevice | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import (
            QCamera,
            QImageCapture,
            QMediaCaptureSession,
            QMediaDevices,
            QVideoSink,
        )

        device = device or QMediaDevices.defaultVideoInput()
        self.camera = QCamera(device, self)
        self.session = QMediaCaptureSession(self)
        self.session.setCamera(self.camera)
        self.sink = QVideoSink(self)
        self.session.setVideoSink(self.sink)
        self.image_capture = QImageCapture(self)
        self.image_capture.setQuality(QImageCapture.Quality.VeryHighQuality)
        sizes = list(device.photoResolutions())
        if sizes:
            self.image_capture.setResolution(max(sizes, key=lambda s: s.width() * s.height()))
        self.session.setImageCapture(self.image_capture)
        self.sink.videoFrameChanged.connect(self._frame)
        self.image_capture.imageSaved.connect(lambda _id, name: self.captured.emit(name))
        self.image_capture.errorOccurred.connect(lambda _id, _err, msg: self.error.emit(msg))
        self.camera.errorOccurred.connect(lambda _err, msg: self.error.emit(msg))

    def start(self) -> None:
        self.camera.start()

    def stop(self) -> None:
        self.camera.stop()

    @Slot(object)
    def _frame(self, frame: QVideoFrame) -> None:
        image = frame.toImage()
        if not image.isNull():
            self.frameReady.emit(image)

    def capture(self, path: Path) -> None:
        if not self.image_capture.isReadyForCapture():
            self.error.emit("The camera is not ready yet; try again in a moment.")
            return
        self.image_capture.captureToFile(str(path))


def load_ghost(path: Path) -> tuple[QImage, QImage]:
    """Worker: the reference reduced for the overlay, and its outline (edges) as RGBA."""
    from skintrack.core.images import decode
    from skintrack.services.ghost import outline_rgba
    from skintrack.ui.image_convert import rgb_to_qimage, rgba_to_qimage

    rgb = decode(path, max_side=GHOST_SIDE).rgb
    return rgb_to_qimage(rgb), rgba_to_qimage(outline_rgba(rgb))


class CameraPanel(QWidget):
    """Preview + ghost controls + capture; or a clear "No camera found" page."""

    captured = Signal(str)

    def __init__(
        self,
        source_factory: Callable[[QObject], FrameSource] | None = None,
        parent: QWidget | None = None,
        capture_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cameraPanel")
        self.source_factory = source_factory
        self.capture_dir = capture_dir
        self.source: FrameSource | None = None
        self.active = False
        self._ghost_task: TaskHandle | None = None
        self._reference: Path | None = None
        self._ghost_for: Path | None = None
        self._shots = 0

        self.view = GhostOverlay(self)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity_slider.setObjectName("ghostOpacity")
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(round(default_ghost_opacity() * 100))
        self.opacity_slider.setToolTip("How strongly the reference photo shows over the live picture")
        self.opacity_slider.valueChanged.connect(lambda v: self.view.set_opacity(v / 100))
        self.view.set_opacity(self.opacity_slider.value() / 100)
        self.outline_box = QCheckBox("Outline only", self)
        self.outline_box.setObjectName("ghostOutline")
        self.outline_box.setToolTip("Show only the edges of the reference photo")
        self.outline_box.toggled.connect(self.view.set_outline)
        self.capture_button = QPushButton("Take photo", self)
        self.capture_button.setObjectName("capture")
        self.capture_button.setEnabled(False)
        self.capture_button.clicked.connect(self.capture)
        self.ghost_label = QLabel(self)
        self.ghost_label.setObjectName("ghostLabel")
        self.guide = FramingGuide(self.view)
        self.badges = QualityBadges(self)
        self.monitor = LiveQualityMonitor(self)
        self.monitor.assessed.connect(self._assessed)
        self.auto = AutoCapture()
        self.auto_box = QCheckBox("Take it automatically", self)
        self.auto_box.setObjectName("autoCapture")
        self.auto_box.setToolTip(
            "Take the photo by itself once the framing matches the reference and every check has "
            "passed for half a second"
        )
        self.auto_captures = 0
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Ghost", self))
        controls.addWidget(self.opacity_slider, 1)
        controls.addWidget(self.outline_box)
        controls.addStretch(0)
        controls.addWidget(self.auto_box)
        controls.addWidget(self.capture_button)
        live = QWidget(self)
        lv = QVBoxLayout(live)
        lv.setContentsMargins(0, 0, 0, 0)
        picture = QHBoxLayout()
        picture.addWidget(self.view, 1)
        picture.addWidget(self.badges)
        lv.addLayout(picture, 1)
        lv.addWidget(self.ghost_label)
        lv.addLayout(controls)

        self.no_camera = QWidget(self)
        self.no_camera.setObjectName("noCamera")
        self.no_camera_label = QLabel(NO_CAMERA_TEXT, self.no_camera)
        self.no_camera_label.setWordWrap(True)
        self.no_camera_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.retry_button = QPushButton("Look again", self.no_camera)
        self.retry_button.clicked.connect(lambda: self.set_active(True))
        nl = QVBoxLayout(self.no_camera)
        nl.addStretch(1)
        nl.addWidget(self.no_camera_label)
        nl.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        nl.addStretch(1)

        self.status = QLabel(self)
        self.status.setObjectName("cameraStatus")
        self.status.setWordWrap(True)
        self.monitor.error.connect(self.status.setText)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(live)
        self.stack.addWidget(self.no_camera)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        self.live_page = live

    # ------------------------------------------------------------------ source
    def has_camera(self) -> bool:
        return self.source is not None

    def _make_source(self) -> FrameSource | None:
        if self.source_factory is not None:
            return self.source_factory(self)
        if not video_inputs():
            return None
        try:
            return QtCameraSource(self)
        except Exception as exc:
            log.exception("camera failed to open")
            self.status.setText(f"The camera could not be opened: {exc}")
            return None

    @Slot(bool)
    def set_active(self, on: bool) -> None:
        """Start the preview when the tab is shown, stop it when hidden (frees the camera)."""
        self.active = on
        if on and self.source is None:
            self.source = self._make_source()
            if self.source is not None:
                self.source.frameReady.connect(self.view.set_frame)
                self.source.frameReady.connect(self.monitor.offer)
                self.source.captured.connect(self._captured)
                self.source.error.connect(self.status.setText)
        self.stack.setCurrentWidget(self.live_page if self.source is not None else self.no_camera)
        if on:
            self._load_ghost()
        self.capture_button.setEnabled(on and self.source is not None)
        self.monitor.set_enabled(on)
        if on:
            self.monitor.set_reference(self._reference)
        if self.source is not None:
            if on:
                self.source.start()
            else:
                self.source.stop()

    def shutdown(self) -> None:
        self.monitor.shutdown()
        if self.source is not None:
            self.source.stop()
        if self._ghost_task is not None:
            self._ghost_task.cancel()

    # ------------------------------------------------------------------ ghost
    def set_reference(self, path: Path | None) -> None:
        """Show ``path`` (the region's reference photo) as the ghost; None removes it.

        Loaded when the tab is active, so a check-in without the camera decodes nothing.
        """
        self._reference = path
        if self.active:
            self._load_ghost()
            self.monitor.set_reference(path)

    def _load_ghost(self) -> None:
        path = self._reference
        if path is not None and path == self._ghost_for:
            return
        self._ghost_for = path
        if path is None:
            self.view.set_ghost(None, None)
            self.ghost_label.setText("No reference photo yet: this check-in will become the reference.")
            return
        self.ghost_label.setText("Loading the reference photo…")
        self._ghost_task = run_task(
            lambda _t: load_ghost(path),
            on_result=lambda res: self._ghost_ready(path, res),
            on_error=lambda msg: self.ghost_label.setText(f"Cannot show the reference: {msg}"),
            name="ghost",
            pool=Pool.THUMBS,
            parent=self,
        )

    def _ghost_ready(self, path: Path, res: tuple[QImage, QImage]) -> None:
        if path != self._reference:
            return  # the region changed meanwhile
        self.view.set_ghost(*res)
        self.ghost_label.setText("Line the live picture up with the ghost of the reference photo.")

    # ------------------------------------------------------------------ live quality
    @Slot(object, float)
    def _assessed(self, report: QualityReport, stamp: float) -> None:
        """A frame's checks: badges, framing guide and, when enabled, auto-capture."""
        needs_framing = self._reference is not None
        fire = self.auto.update(report, stamp, needs_framing) if self.auto_box.isChecked() else False
        note = ""
        if self.auto_box.isChecked() and report.overall == "pass" and not fire:
            note = "Hold still…"
        self.badges.show_report(report, note)
        framing = report.checks.get("framing")
        self.guide.set_framing(
            None if framing is None else framing.status, None if framing is None else framing.details
        )
        if fire and self.source is not None and self.active:
            self.auto_captures += 1
            self.capture()

    # ------------------------------------------------------------------ capture
    @Slot()
    def capture(self) -> None:
        if self.source is None:
            return
        folder = self.capture_dir or Path.home()
        folder.mkdir(parents=True, exist_ok=True)
        self._shots += 1
        path = folder / f"camera-{datetime.now():%Y%m%d-%H%M%S}-{self._shots}.jpg"
        self.status.setText("Taking the photo…")
        self.source.capture(path)

    @Slot(str)
    def _captured(self, path: str) -> None:
        self.status.setText(f"Added {Path(path).name} to this check-in.")
        self.captured.emit(path)
