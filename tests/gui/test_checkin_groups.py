"""Check-in dialog: the photos of one check-in kept together, the second-shot suggestion and
the question before queued photos are discarded (driven through the real widgets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from skintrack.ui import checkin_dialog
from skintrack.ui.checkin_dialog import CheckInDialog


def make_jpeg(path: Path, seed: int) -> Path:
    rgb = np.clip(np.random.default_rng(seed).normal(170, 20, (90, 120, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path


pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "does not support propagateSizeHints", "does not support raise", "activateWindow"
    ),
]


@pytest.fixture
def dialog(qtbot: Any, make_library: Any) -> Any:
    made: list[CheckInDialog] = []

    def factory(regions: dict[str, int] | None = None, group: bool = False) -> tuple[CheckInDialog, Any]:
        lib = make_library(regions if regions is not None else {"Arm": 1}, name=f"lib{len(made)}")
        rid = lib.list_regions()[0].region.id
        if group:
            lib.group_photos([p.id for p in lib.list_photos(rid)])
        dlg = CheckInDialog(lib, rid)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        made.append(dlg)
        return dlg, lib

    yield factory
    for dlg in made:
        dlg.close()


def add_rows(qtbot: Any, dlg: CheckInDialog, paths: list[Path]) -> None:
    dlg.add_files(paths)
    qtbot.waitUntil(lambda: len(dlg.rows) == len(paths), timeout=5000)
    qtbot.waitUntil(lambda: all(r.edit.isEnabled() or r.problem for r in dlg.rows), timeout=5000)


def test_photos_saved_together_become_one_check_in(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, lib = dialog()
    rid = dlg.selected_region_id()
    before = {c.id for c in lib.list_checkins(rid)}
    add_rows(qtbot, dlg, [make_jpeg(tmp_path / f"shot{i}.jpg", 300 + i) for i in range(2)])
    assert "These 2 photos are saved together as one check-in" in dlg.summary.text()
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000) as sig:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    new = [c for c in lib.list_checkins(rid) if c.id not in before]
    assert len(new) == 1 and set(new[0].photo_ids) == set(sig.args[0])
    assert len(sig.args[0]) == 2


def test_a_second_shot_is_suggested_until_the_region_has_repeat_shots(
    qtbot: Any, dialog: Any, tmp_path: Path
) -> None:
    dlg, _lib = dialog()
    assert dlg.repeat_hint.isVisible() and "second shot" in dlg.repeat_hint.text()
    add_rows(qtbot, dlg, [make_jpeg(tmp_path / "one.jpg", 400)])
    assert dlg.repeat_hint.isVisible()
    add_rows(qtbot, dlg, [make_jpeg(tmp_path / "one.jpg", 400), make_jpeg(tmp_path / "two.jpg", 401)])
    assert not dlg.repeat_hint.isVisible()  # two shots queued: the suggestion is followed

    with_repeats, _ = dialog({"Leg": 2}, group=True)
    assert not with_repeats.repeat_hint.isVisible()


def test_cancel_with_queued_photos_asks_and_keeps_them_when_refused(
    qtbot: Any, dialog: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dlg, lib = dialog()
    asked: list[int] = []
    answer = {"discard": False}

    def confirm(parent: Any, count: int) -> bool:
        asked.append(count)
        return answer["discard"]

    monkeypatch.setattr(checkin_dialog, "confirm_discard", confirm)
    add_rows(qtbot, dlg, [make_jpeg(tmp_path / f"q{i}.jpg", 500 + i) for i in range(3)])
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert asked == [3] and dlg.isVisible() and len(dlg.rows) == 3
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert asked == [3, 3] and dlg.isVisible()
    answer["discard"] = True
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    assert len(lib.list_photos(lib.list_regions()[0].region.id)) == 1  # nothing was imported


def test_cancel_without_queued_photos_closes_at_once(qtbot: Any, dialog: Any, monkeypatch: Any) -> None:
    dlg, _lib = dialog()
    monkeypatch.setattr(
        checkin_dialog, "confirm_discard", lambda *a: pytest.fail("asked with nothing queued")
    )
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()


def _answer_when_shown(button: QMessageBox.StandardButton, seen: list[str]) -> QTimer:
    """Click ``button`` in the discard question as soon as it is the active modal window."""
    timer = QTimer()

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "discardCheckIn":
            timer.stop()
            seen.append(box.text())
            box.button(button).click()

    timer.timeout.connect(poll)
    timer.start(10)
    return timer


def test_the_real_question_box_keeps_or_discards(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, _lib = dialog()
    add_rows(qtbot, dlg, [make_jpeg(tmp_path / "k.jpg", 600)])
    seen: list[str] = []
    keep = _answer_when_shown(QMessageBox.StandardButton.Cancel, seen)
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)  # returns once the box is answered
    assert seen == ["1 photo is queued and not saved yet. Close the check-in and discard it?"]
    assert dlg.isVisible() and not keep.isActive()
    discard = _answer_when_shown(QMessageBox.StandardButton.Discard, seen)
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert len(seen) == 2 and not discard.isActive()
    assert not dlg.isVisible()


def test_the_timeline_hint_counts_check_ins_not_photos(make_library: Any) -> None:
    from skintrack.ui.library_view import region_hint

    lib = make_library({"Arm": 3})
    region = lib.list_regions()[0].region
    photos = lib.list_photos(region.id)
    lib.group_photos([p.id for p in photos[1:]])
    checkins = len(lib.list_checkins(region.id))
    assert "  ·  2 check-ins (3 photos)  ·  " in region_hint(region, photos, [], checkins=checkins)
    assert "  ·  1 check-in  ·  " in region_hint(region, photos[:1], [], checkins=1)


def test_chart_tooltip_says_which_shot_measured_the_check_in(
    qtbot: Any, library_dir: Path, tmp_path: Path
) -> None:
    from datetime import datetime, timedelta

    from skintrack.library import Library, MeasurementRecord
    from skintrack.ui.chart import TrendChartWidget

    lib = Library.open(library_dir)
    region = lib.add_region("Back")
    t0 = datetime(2026, 1, 5, 9, 0)
    ref = lib.import_file(region.id, make_jpeg(tmp_path / "ref.jpg", 700), taken_at=t0).photo
    checkin = lib.add_checkin(region.id)
    for i in range(2):
        path = make_jpeg(tmp_path / f"s{i}.jpg", 701 + i)
        photo = lib.import_file(
            region.id, path, taken_at=t0 + timedelta(days=30, minutes=i), checkin_id=checkin.id
        )
        metrics = {"mean_delta_L": -1.0 - i, "darkened_area_px": 0, "darkened_fraction": 0.0, "patches": []}
        lib.save_measurement(MeasurementRecord(photo.photo.id, ref.id, "model", metrics, "test"))
    lib.set_reference(region.id, ref.id)
    w = TrendChartWidget(lib, region.id)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.series is not None and len(w.series.points) == 2, timeout=5000)
    assert "measured on the best of 2 shots (no stored quality)" in w.tooltip_for(1)
    assert "shots" not in w.tooltip_for(0)
    lib.close()
