"""Camera tab with an injected fake frame source: preview, ghost opacity, outline, capture, no camera."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

import skintrack.ui.camera as camera
from skintrack.services.ghost import edge_mask, outline_rgba
from skintrack.ui.camera import CameraPanel, FakeFrameSource
from skintrack.ui.checkin_dialog import CheckInDialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]

W, H = 320, 240


def reference_png(path: Path) -> Path:
    """Dark blue with a white square: distinct from the fake frames and with clear edges."""
    arr = np.zeros((H, W, 3), np.uint8)
    arr[:] = (20, 40, 160)
    arr[80:160, 120:200] = 255
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture
def panel(qtbot: Any, tmp_path: Path) -> CameraPanel:
    p = CameraPanel(
        source_factory=lambda parent: FakeFrameSource(parent, (W, H), 20), capture_dir=tmp_path / "cam"
    )
    p.resize(W + 40, H + 120)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def widget_pixel(p: CameraPanel, x: float, y: float) -> QColor:
    """The colour drawn at image pixel (x, y) of the frame."""
    rect = p.view.target_rect(p.view.frame.size())
    img = p.view.grab().toImage()
    dpr = img.devicePixelRatio()
    px = int((rect.x() + (x + 0.5) * rect.width() / W) * dpr)
    py = int((rect.y() + (y + 0.5) * rect.height() / H) * dpr)
    return img.pixelColor(px, py)


def start_with_ghost(qtbot: Any, p: CameraPanel, ref: Path) -> None:
    p.set_reference(ref)
    p.set_active(True)
    qtbot.waitUntil(lambda: p.view.frames_shown >= 3, timeout=5000)
    qtbot.waitUntil(lambda: not p.view.reference.isNull(), timeout=5000)
    p.source.stop()  # a still frame for pixel checks
    qtbot.wait(50)


def test_frames_shown_and_opacity_slider(qtbot: Any, panel: CameraPanel, tmp_path: Path) -> None:
    start_with_ghost(qtbot, panel, reference_png(tmp_path / "ref.png"))
    assert panel.stack.currentWidget() is panel.live_page and panel.capture_button.isEnabled()
    panel.opacity_slider.setValue(0)
    bare = widget_pixel(panel, 20, 20)
    assert bare.red() > 150 and bare.blue() < 170  # skin-toned fake frame
    panel.opacity_slider.setValue(100)
    assert panel.view.opacity == 1.0
    full = widget_pixel(panel, 20, 20)
    assert abs(full.red() - 20) < 12 and abs(full.blue() - 160) < 12  # the reference
    panel.opacity_slider.setValue(50)
    half = widget_pixel(panel, 20, 20)
    assert full.red() < half.red() < bare.red()


def test_outline_mode_draws_edges_only(qtbot: Any, panel: CameraPanel, tmp_path: Path) -> None:
    start_with_ghost(qtbot, panel, reference_png(tmp_path / "ref.png"))
    panel.opacity_slider.setValue(100)
    qtbot.mouseClick(panel.outline_box, Qt.MouseButton.LeftButton)
    assert panel.view.outline and panel.view.ghost_image() is panel.view.outline_image
    inside = widget_pixel(panel, 160, 120)  # middle of the white square: no edge, so the frame shows
    assert inside.red() > 150 and inside.blue() < 170
    edge = widget_pixel(panel, 120, 120)  # the square's left edge
    assert edge.red() > 230 and edge.green() > 230 and edge.blue() > 230


def test_capture_adds_file(qtbot: Any, panel: CameraPanel) -> None:
    panel.set_active(True)
    qtbot.waitUntil(lambda: panel.view.frames_shown >= 1, timeout=5000)
    with qtbot.waitSignal(panel.captured, timeout=5000) as sig:
        qtbot.mouseClick(panel.capture_button, Qt.MouseButton.LeftButton)
    path = Path(sig.args[0])
    assert path.exists() and path.suffix == ".jpg"
    assert Image.open(path).size == (W, H)  # the full frame, not the preview size
    panel.set_active(False)
    assert not panel.source.timer.isActive()


def test_capture_in_checkin_dialog(qtbot: Any, make_library: Any) -> None:
    lib = make_library({"Arm": 1})
    rid = lib.list_regions()[0].region.id
    dlg = CheckInDialog(lib, rid, frame_source_factory=lambda parent: FakeFrameSource(parent, (W, H), 20))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.tabs.setCurrentWidget(dlg.camera)
    qtbot.waitUntil(lambda: dlg.camera.view.frames_shown >= 2, timeout=5000)
    qtbot.waitUntil(lambda: not dlg.camera.view.reference.isNull(), timeout=5000)  # the region's reference
    qtbot.mouseClick(dlg.camera.capture_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dlg.rows) == 1 and dlg.rows[0].edit.isEnabled(), timeout=5000)
    assert dlg.rows[0].path.name.startswith("camera-")
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000):
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert len(lib.list_photos(rid)) == 2
    qtbot.waitUntil(lambda: dlg.task is None, timeout=20000)


def test_no_camera_found(qtbot: Any, make_library: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(camera, "video_inputs", lambda: [])
    lib = make_library({"Arm": 1})
    rid = lib.list_regions()[0].region.id
    dlg = CheckInDialog(lib, rid)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.tabs.setCurrentWidget(dlg.camera)
    assert dlg.camera.stack.currentWidget() is dlg.camera.no_camera
    assert "No camera found" in dlg.camera.no_camera_label.text()
    assert not dlg.camera.capture_button.isEnabled()
    qtbot.mouseClick(dlg.camera.retry_button, Qt.MouseButton.LeftButton)  # still none: still says so
    assert dlg.camera.stack.currentWidget() is dlg.camera.no_camera
    # the rest of the dialog works
    dlg.tabs.setCurrentIndex(0)
    arr = np.full((60, 80, 3), 180, np.uint8)
    arr[::7] = 90
    Image.fromarray(arr).save(tmp_path / "phone.jpg")
    dlg.add_files([tmp_path / "phone.jpg"])
    qtbot.waitUntil(lambda: dlg.rows and dlg.rows[0].edit.isEnabled(), timeout=5000)
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000):
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.task is None, timeout=20000)


def test_opacity_default_from_preferences(qtbot: Any) -> None:
    from skintrack.ui.preferences import Preferences, save_preferences

    save_preferences(Preferences(ghost_opacity=0.7))
    p = CameraPanel(source_factory=lambda parent: FakeFrameSource(parent))
    qtbot.addWidget(p)
    assert p.opacity_slider.value() == 70 and p.view.opacity == pytest.approx(0.7)


def test_edge_helpers_are_qt_free_and_find_edges() -> None:
    arr = np.zeros((H, W, 3), np.uint8)
    arr[80:160, 120:200] = 255
    edges = edge_mask(arr)
    assert edges[120, 119:122].any() and not edges[120, 160] and not edges[10, 10]
    rgba = outline_rgba(arr)
    assert rgba.shape == (H, W, 4) and rgba[..., 3].max() == 255 and rgba[120, 160, 3] == 0
