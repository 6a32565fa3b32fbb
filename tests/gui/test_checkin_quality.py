"""The check-in dialog lists each chosen photo's capture quality, and a poor one can be dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from skintrack.demo import synth
from skintrack.ui.checkin_dialog import CheckInDialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]


def write_photos(folder: Path) -> tuple[Path, Path]:
    skin = synth.make_skin((900, 700), seed=12)
    good = synth.photograph(skin, synth.Pose(), (800, 600), seed=1)[0]
    bright = synth.photograph(skin, synth.Pose(), (800, 600), seed=2, exposure=2.8)[0]
    paths = folder / "good.jpg", folder / "bright.jpg"
    Image.fromarray(good).save(paths[0], quality=92)
    Image.fromarray(bright).save(paths[1], quality=92)
    return paths


def test_quality_listed_per_photo_and_poor_one_dropped(qtbot: Any, make_library: Any, tmp_path: Path) -> None:
    lib = make_library({})
    dlg = CheckInDialog(lib, None)
    qtbot.addWidget(dlg)
    dlg.show()
    good, bright = write_photos(tmp_path)
    dlg.add_files([good, bright])
    cells = [row.quality for row in dlg.rows]
    assert all(c is not None for c in cells)
    qtbot.waitUntil(lambda: all(c.report is not None for c in cells), timeout=20000)
    good_cell, bright_cell = cells
    assert good_cell.label.text().startswith("✓ Good") and good_cell.drop_button.isHidden()
    assert bright_cell.label.text().startswith("✕ Poor") and "highlights" in bright_cell.label.text()
    assert "Too bright" in bright_cell.toolTip()
    assert not bright_cell.drop_button.isHidden()
    qtbot.mouseClick(bright_cell.drop_button, Qt.MouseButton.LeftButton)
    assert [r.path for r in dlg.rows] == [good]
    assert dlg.table.rowCount() == 1


def test_details_panel_shows_stored_quality(qtbot: Any, tmp_path: Path) -> None:
    from skintrack.library import Library
    from skintrack.services.checkin import run_import
    from skintrack.ui.details_panel import DetailsPanel

    good, bright = write_photos(tmp_path)
    with Library.open(tmp_path / "lib") as lib:
        region = lib.add_region("Arm")
        checked = run_import(lib, region.id, [good, bright]).imported
        other = tmp_path / "other.jpg"
        Image.fromarray(
            synth.photograph(synth.make_skin((900, 700), seed=3), synth.Pose(), (800, 600))[0]
        ).save(other)
        unchecked = run_import(lib, region.id, [other], assess=False).imported[0]
        panel = DetailsPanel(lib)
        qtbot.addWidget(panel)
        label = panel.values["quality"]
        panel.show_photo(checked[1])
        assert label.text().startswith("✕ Poor") and "Too bright" in label.toolTip()
        panel.show_photo(checked[0])
        assert label.text() == "✓ Good"
        panel.show_photo(None)
        assert label.text() == "–"
        panel.show_photo(unchecked)
        assert label.text() == "not checked"


def test_library_thresholds_apply_in_the_dialog(qtbot: Any, make_library: Any, tmp_path: Path) -> None:
    from skintrack.services.quality import SETTING_KEY

    lib = make_library({})
    lib.set_setting(SETTING_KEY, {"blur_warn": 0.5, "blur_fail": 1.0})  # impossibly strict
    dlg = CheckInDialog(lib, None)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.camera.monitor.thresholds.blur_fail == 1.0
    good, _bright = write_photos(tmp_path)
    dlg.add_files([good])
    cell = dlg.rows[0].quality
    qtbot.waitUntil(lambda: cell.report is not None, timeout=20000)
    assert cell.report.checks["sharpness"].status == "fail"
