"""Check-in dialog driven through its widgets: file dialog, drag and drop, paste, dates, errors, cancel."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QDateTime, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog

from skintrack.ui.checkin_dialog import NEW_REGION, CheckInDialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        "does not support propagateSizeHints", "does not support raise", "activateWindow"
    ),
    pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning"),
]


def jpeg(path: Path, seed: int, exif_date: str | None = None) -> Path:
    rng = np.random.default_rng(seed)
    arr = np.clip(rng.normal(170, 20, (90, 120, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(arr)
    if exif_date:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = exif_date  # DateTimeOriginal
        img.save(path, quality=90, exif=exif.tobytes())
    else:
        img.save(path, quality=90)
    return path


@pytest.fixture
def dialog(qtbot: Any, make_library: Any) -> Any:
    made: list[CheckInDialog] = []

    def factory(regions: dict[str, int] | None = None, **kwargs: Any) -> tuple[CheckInDialog, Any]:
        lib = make_library(regions if regions is not None else {"Arm": 1})
        rid = lib.list_regions()[0].region.id if lib.list_regions() else None
        dlg = CheckInDialog(lib, rid, **kwargs)
        qtbot.addWidget(dlg)
        dlg.show()
        made.append(dlg)
        return dlg, lib

    yield factory
    for dlg in made:
        dlg.close()


def wait_rows_read(qtbot: Any, dlg: CheckInDialog, n: int) -> None:
    qtbot.waitUntil(lambda: len(dlg.rows) == n, timeout=5000)
    qtbot.waitUntil(lambda: all(r.edit.isEnabled() or r.problem for r in dlg.rows), timeout=5000)


def save_and_wait(qtbot: Any, dlg: CheckInDialog) -> None:
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.task is None, timeout=20000)


def test_files_from_file_dialog_are_imported(
    qtbot: Any, dialog: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dlg, lib = dialog()
    files = [jpeg(tmp_path / f"new{i}.jpg", 100 + i) for i in range(2)]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(f) for f in files], ""))
    qtbot.mouseClick(dlg.add_button, Qt.MouseButton.LeftButton)
    wait_rows_read(qtbot, dlg, 2)
    assert dlg.table.item(0, 0).icon().isNull() is False  # thumbnail shown
    rid = dlg.selected_region_id()
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000) as sig:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert len(sig.args[0]) == 2
    qtbot.waitUntil(lambda: dlg.task is None, timeout=20000)
    assert len(lib.list_photos(rid)) == 3
    assert not dlg.isVisible()  # all good: the dialog closed itself


def test_drag_and_drop_adds_files(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, _lib = dialog()
    files = [jpeg(tmp_path / f"drop{i}.jpg", 200 + i) for i in range(2)]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files] + [QUrl.fromLocalFile(str(tmp_path))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(dlg, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(dlg, drop)
    wait_rows_read(qtbot, dlg, 2)
    assert [r.path for r in dlg.rows] == files

    other = QMimeData()
    other.setText("just words")
    refused = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        other,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(dlg, refused)
    assert not refused.isAccepted()


def test_paste_image_becomes_png_and_imports(qtbot: Any, dialog: Any) -> None:
    dlg, lib = dialog()
    image = QImage(80, 60, QImage.Format.Format_RGB32)
    image.fill(0xFFC89070)
    QGuiApplication.clipboard().setImage(image)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)
    qtbot.keyClick(dlg, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # the Paste shortcut
    wait_rows_read(qtbot, dlg, 1)
    assert dlg.rows[0].path.suffix == ".png" and dlg.rows[0].path.exists()
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000):
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    photos = lib.list_photos(dlg.selected_region_id())
    assert any(p.suffix == ".png" for p in photos)


def test_paste_file_urls(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, _lib = dialog()
    f = jpeg(tmp_path / "copied.jpg", 7)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f))])
    QGuiApplication.clipboard().setMimeData(mime)
    dlg.paste()
    wait_rows_read(qtbot, dlg, 1)
    assert dlg.rows[0].path == f


def test_bad_files_listed_good_ones_kept(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, lib = dialog()
    good = jpeg(tmp_path / "good.jpg", 300)
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not a photo")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    dlg.add_files([good, not_image, empty])
    wait_rows_read(qtbot, dlg, 3)
    assert dlg.rows[1].problem and "⚠" in dlg.table.item(1, 1).text()
    rid = dlg.selected_region_id()
    with qtbot.waitSignal(dlg.checkedIn, timeout=20000) as sig:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.task is None, timeout=20000)
    assert len(sig.args[0]) == 1
    assert len(lib.list_photos(rid)) == 2
    texts = [dlg.problems.item(i).text() for i in range(dlg.problems.count())]
    assert dlg.problems.isVisible() and len(texts) == 2
    assert any(t.startswith("notes.jpg: ") and len(t) > len("notes.jpg: ") for t in texts)
    assert any(t.startswith("empty.png: ") for t in texts)
    assert dlg.isVisible()  # stays open so the user reads the reasons


def test_dates_exif_prefilled_and_edit_respected(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, lib = dialog()
    a = jpeg(tmp_path / "a.jpg", 400, exif_date="2024:05:06 07:08:09")
    b = jpeg(tmp_path / "b.jpg", 401, exif_date="2024:05:06 07:08:09")
    dlg.add_files([a, b])
    wait_rows_read(qtbot, dlg, 2)
    assert dlg.rows[0].edit.dateTime().toPython().replace(second=0) == datetime(2024, 5, 6, 7, 8)
    dlg.rows[1].edit.setDateTime(QDateTime(datetime(2023, 2, 3, 10, 30)))
    save_and_wait(qtbot, dlg)
    photos = {p.original_name: p for p in lib.list_photos(dlg.selected_region_id())}
    assert photos["a.jpg"].taken_at_source == "exif"
    assert photos["a.jpg"].taken_at.replace(tzinfo=None) == datetime(2024, 5, 6, 7, 8, 9)
    assert photos["b.jpg"].taken_at_source == "user"
    assert photos["b.jpg"].taken_at.replace(tzinfo=None) == datetime(2023, 2, 3, 10, 30)


def test_new_region_notes_and_journal(qtbot: Any, dialog: Any, tmp_path: Path) -> None:
    dlg, lib = dialog(regions={})
    assert dlg.region_combo.currentData() == NEW_REGION and dlg.new_region_name.isVisible()
    dlg.add_files([jpeg(tmp_path / "first.jpg", 500)])
    wait_rows_read(qtbot, dlg, 1)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.task is None and "name" in dlg.status.text()  # a name is needed first
    qtbot.keyClicks(dlg.new_region_name, "Left shin")
    dlg.notes.setPlainText("evening light")
    dlg.journal_box.setChecked(True)
    dlg.journal_kind.setCurrentIndex(dlg.journal_kind.findData("dose"))
    dlg.journal_substance.setText("kratom")
    dlg.journal_amount.setValue(4)
    dlg.journal_unit.setText("g")
    save_and_wait(qtbot, dlg)
    region = lib.region_by_name("Left shin")
    (photo,) = lib.list_photos(region.id)
    assert photo.notes == "evening light"
    (entry,) = lib.list_journal()
    assert (entry.kind, entry.substance, entry.amount, entry.unit) == ("dose", "kratom", 4.0, "g")


def test_cancel_keeps_imported_and_stops(qtbot: Any, dialog: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from skintrack.library import Library

    real = Library.import_file

    def slow(self: Library, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.25)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Library, "import_file", slow)
    dlg, lib = dialog()
    rid = dlg.selected_region_id()
    dlg.add_files([jpeg(tmp_path / f"c{i}.jpg", 600 + i) for i in range(8)])
    wait_rows_read(qtbot, dlg, 8)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.progress.isVisible() and not dlg.save_button.isEnabled()
    qtbot.waitUntil(lambda: "Imported c1" in dlg.status.text(), timeout=5000)
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.task is None, timeout=10000)
    assert "Cancelled" in dlg.status.text()
    assert 1 + 1 <= len(lib.list_photos(rid)) < 9
    assert dlg.isVisible() and dlg.cancel_button.text() == "Close"
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
