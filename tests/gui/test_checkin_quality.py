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
