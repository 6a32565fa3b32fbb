"""Live capture quality in the camera tab: badges, framing guide and auto-capture, driven by a
scripted frame sequence through the injected frame source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from skintrack.core.quality import CheckResult, QualityReport
from skintrack.demo import synth
from skintrack.ui.camera import CameraPanel, SequenceFrameSource
from skintrack.ui.image_convert import rgb_to_qimage
from skintrack.ui.live_quality import AutoCapture

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]

W, H = 640, 480


@pytest.fixture(scope="module")
def skin() -> np.ndarray:
    return synth.make_skin((1000, 760), seed=31)


def frame(skin: np.ndarray, seed: int, **kw: Any) -> np.ndarray:
    pose = kw.pop("pose", synth.Pose())
    return synth.photograph(skin, pose, (W, H), seed=seed, **kw)[0]


def make_panel(qtbot: Any, tmp_path: Path, frames: list[np.ndarray]) -> CameraPanel:
    images = [rgb_to_qimage(f) for f in frames]
    panel = CameraPanel(
        source_factory=lambda parent: SequenceFrameSource(images, parent, 30), capture_dir=tmp_path / "cam"
    )
    panel.resize(W + 260, H + 140)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def reference_file(skin: np.ndarray, tmp_path: Path) -> Path:
    path = tmp_path / "reference.png"
    Image.fromarray(frame(skin, seed=1)).save(path)
    return path


def test_blurred_misframed_then_good_ends_in_a_capture(qtbot: Any, tmp_path: Path, skin: np.ndarray) -> None:
    bad = [frame(skin, seed=10 + i, blur=4.0, pose=synth.Pose(shift=(230, 120))) for i in range(12)]
    good = [frame(skin, seed=40 + i, pose=synth.Pose(shift=(4, -3))) for i in range(3)]
    panel = make_panel(qtbot, tmp_path, bad)
    reports: list[QualityReport] = []
    panel.monitor.assessed.connect(lambda report, _stamp: reports.append(report))
    panel.auto_box.setChecked(True)
    panel.set_reference(reference_file(skin, tmp_path))
    panel.set_active(True)
    # the bad frames repeat until they have been judged twice, then the user lines up
    qtbot.waitUntil(lambda: len(reports) >= 2, timeout=30000)
    assert panel.auto_captures == 0
    for report in reports:
        assert report.checks["sharpness"].status != "pass" and report.checks["framing"].status != "pass"
    assert panel.badges.status_of("sharpness") == "fail"
    with qtbot.waitSignal(panel.captured, timeout=30000) as sig:
        panel.source.frames = [rgb_to_qimage(f) for f in good]
        panel.source.count = 0
    assert Path(sig.args[0]).exists() and panel.auto_captures == 1
    assert reports[-1].overall == "pass" and "framing" in reports[-1].checks
    # holding still after the capture does not take a second photo
    seen = panel.monitor.assessments
    qtbot.waitUntil(lambda: panel.monitor.assessments >= seen + 3, timeout=10000)
    assert panel.auto_captures == 1
    panel.shutdown()


def test_badges_and_guide_show_a_misframed_picture(qtbot: Any, tmp_path: Path, skin: np.ndarray) -> None:
    panel = make_panel(qtbot, tmp_path, [frame(skin, seed=5, pose=synth.Pose(shift=(150, 0)))])
    panel.set_reference(reference_file(skin, tmp_path))
    panel.set_active(True)
    qtbot.waitUntil(
        lambda: panel.badges.report is not None and "framing" in panel.badges.report.checks, timeout=20000
    )
    assert panel.badges.status_of("framing") in ("warn", "fail")
    assert panel.badges.badges["framing"].isVisible()
    assert "move the camera left" in panel.badges.advice.text()
    dx, _dy = panel.guide.arrow_vector()
    assert dx < -0.1  # the arrow points left, towards the reference's framing
    assert len(panel.guide.outline) == 4
    assert not panel.auto_box.isChecked() and panel.auto_captures == 0
    panel.shutdown()


def test_without_reference_the_checks_still_run(qtbot: Any, tmp_path: Path, skin: np.ndarray) -> None:
    bright = np.clip(frame(skin, seed=3).astype(np.int16) + 120, 0, 255).astype(np.uint8)
    panel = make_panel(qtbot, tmp_path, [bright])
    panel.set_active(True)
    qtbot.waitUntil(lambda: panel.badges.report is not None, timeout=20000)
    assert panel.badges.status_of("clipping") == "fail" and panel.badges.status_of("framing") is None
    assert "Too bright" in panel.badges.advice.text()
    assert panel.guide.status is None
    panel.shutdown()


def test_monitor_is_throttled_and_stops_when_hidden(qtbot: Any, tmp_path: Path, skin: np.ndarray) -> None:
    panel = make_panel(qtbot, tmp_path, [frame(skin, seed=2)])
    panel.set_active(True)
    qtbot.waitUntil(lambda: panel.monitor.assessments >= 2, timeout=20000)
    assert panel.view.frames_shown > panel.monitor.assessments  # not every frame is assessed
    panel.set_active(False)
    assert not panel.monitor.enabled
    panel.shutdown()


def report_of(status: str, with_framing: bool = True) -> QualityReport:
    checks = {"sharpness": CheckResult("sharpness", 1.0, status, "x.")}
    if with_framing:
        checks["framing"] = CheckResult("framing", 1.0, "pass", "y.")
    return QualityReport(checks)


def test_auto_capture_holds_for_half_a_second_and_rearms() -> None:
    auto = AutoCapture(hold=0.5)
    assert not auto.update(report_of("pass"), 10.0, True)
    assert not auto.update(report_of("pass"), 10.3, True)
    assert auto.update(report_of("pass"), 10.55, True)  # held for 0.55 s: take it
    assert not auto.update(report_of("pass"), 11.5, True)  # once only
    assert not auto.update(report_of("warn"), 11.6, True)  # re-arms
    assert not auto.update(report_of("pass"), 11.7, True)
    assert auto.update(report_of("pass"), 12.2, True)
    assert not auto.update(report_of("pass", with_framing=False), 20.0, True)  # framing unknown: no
    fresh = AutoCapture(hold=0.5)
    fresh.update(report_of("pass", with_framing=False), 0.0, False)
    assert fresh.update(report_of("pass", with_framing=False), 0.6, False)  # no reference: quality only
