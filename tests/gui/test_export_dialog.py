"""ExportDialog: format choice, preview in a worker, export with progress, cancel leaves no file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from skintrack.ui import tasks
from skintrack.ui.export_dialog import ExportDialog
from support.export_library import make_library

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]


@pytest.fixture
def lib(tmp_path: Path):
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 4, size=(320, 240))
    yield lib, rid, ids
    lib.close()


@pytest.fixture
def sync_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tasks._pools, tasks.Pool.WORK, tasks.SyncPool())


def test_preview_appears_in_a_worker(qtbot: Any, lib) -> None:
    db, rid, _ = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(dlg.has_preview_image, timeout=30_000)  # real thread pool
    dlg.set_format("csv")
    qtbot.waitUntil(lambda: dlg.preview_view.shown_text().startswith("region,"), timeout=30_000)
    table = dlg.preview_view.table
    assert dlg.preview_view.pages.currentWidget() is table and table.rowCount() >= 1  # rows as a table
    dlg.set_format("json")
    qtbot.waitUntil(lambda: dlg.preview_view.shown_text().lstrip().startswith(("{", "[")), timeout=30_000)
    dlg.set_format("gif")
    dlg._check_all(False)
    qtbot.waitUntil(lambda: "no check-ins" in dlg.preview_view.shown_text(), timeout=30_000)
    dlg.close()
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)


def test_export_gif_with_progress(qtbot: Any, lib, tmp_path: Path) -> None:
    db, rid, _ids = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.set_format("gif")
    assert dlg.frame_ms.isEnabled() and not dlg.keep_exif.isEnabled()
    dlg.frame_ms.setValue(300)
    dlg.size_spin.setValue(200)
    dlg.photo_model.item(1).setCheckState(dlg.photo_model.item(1).checkState().Unchecked)
    seen: list[int] = []
    dlg.progress.valueChanged.connect(seen.append)
    out = tmp_path / "t.gif"
    with qtbot.waitSignal(dlg.exportFinished, timeout=10_000) as sig:
        dlg.start_export(out)
    assert sig.args == [str(out)]
    assert len(seen) >= 3 and dlg.progress.value() == dlg.progress.maximum()
    with Image.open(out) as im:
        assert im.n_frames == 3 and im.info["duration"] == 300
    qtbot.waitUntil(dlg.export_button.isEnabled, timeout=5_000)
    assert "Exported" in dlg.status.text()
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)


def test_cancel_leaves_no_file(qtbot: Any, lib, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from skintrack.export import frames

    db, rid, _ = lib
    real_render = frames.FrameRenderer.render

    def slow_render(self, planned, token=None):  # a slow export, so Cancel lands mid-way
        time.sleep(0.15)
        return real_render(self, planned, token)

    monkeypatch.setattr(frames.FrameRenderer, "render", slow_render)
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.set_format("mp4")
    dlg.size_spin.setValue(160)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with qtbot.waitSignal(dlg.exportFinished, timeout=10_000) as sig:
        dlg.start_export(out_dir / "t.mp4")
        assert dlg.cancel_button.text() == "Cancel export" and not dlg.export_button.isEnabled()
        qtbot.waitUntil(lambda: dlg.progress.value() >= 1, timeout=5_000)
        dlg.cancel_button.click()
    assert sig.args == [""]
    qtbot.waitUntil(lambda: dlg.export_button.isEnabled(), timeout=5_000)
    assert "cancelled" in dlg.status.text() and dlg.cancel_button.text() == "Close"
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)
    assert list(out_dir.iterdir()) == []


def test_date_range_and_errors(qtbot: Any, lib, sync_pool, tmp_path: Path) -> None:
    db, rid, _ = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.set_format("pdf")
    dlg.from_check.setChecked(True)
    dlg.from_date.setDate(dlg.to_date.date())
    assert len(dlg.plan().photos) == 1
    dlg.to_check.setChecked(True)
    dlg.to_date.setDate(dlg.to_date.date().addDays(-400))
    assert dlg.start_export(tmp_path / "x.pdf") is None
    assert "after" in dlg.status.text()
    assert not (tmp_path / "x.pdf").exists()
    assert dlg.suggested_name().startswith("left-forearm-report-")


def test_main_window_opens_the_real_dialog_and_backs_up(qtbot: Any, main_window: Any, tmp_path: Path) -> None:
    import zipfile

    win = main_window({"Arm": 2})
    win.actions_by_name["export"].trigger()
    dlg = win.children_windows[-1]
    assert isinstance(dlg, ExportDialog) and dlg.isVisible()
    assert dlg.photo_model.rowCount() == 2
    qtbot.waitUntil(dlg.has_preview_image, timeout=30_000)
    dlg.reject()
    out = tmp_path / "win-backup.zip"
    win._ask_backup_path = lambda: str(out)
    handle = win.backup()  # File ▸ Back up… calls export.backup.backup_library(lib, path, token=...)
    assert handle is not None
    qtbot.waitUntil(out.is_file, timeout=30_000)
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)
    assert not [m for m in win.messages if "failed" in m[0].lower()]
    with zipfile.ZipFile(out) as zf:
        assert "manifest.json" in zf.namelist()
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)


def test_closing_mid_export_cancels_and_leaves_nothing(
    qtbot: Any, lib, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from PySide6.QtCore import Qt

    from skintrack.export import frames

    db, rid, _ = lib
    real_render = frames.FrameRenderer.render

    def slow_render(self, planned, token=None):
        time.sleep(0.15)
        return real_render(self, planned, token)

    monkeypatch.setattr(frames.FrameRenderer, "render", slow_render)
    dlg = ExportDialog(db, rid)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.set_format("pdf")
    dlg.show()
    out = tmp_path / "closed.pdf"
    handle = dlg.start_export(out)
    assert handle is not None
    qtbot.waitUntil(lambda: dlg.progress.value() >= 1, timeout=10_000)
    dlg.close()  # deletes the dialog while the worker is still rendering
    qtbot.waitUntil(lambda: handle.done, timeout=20_000)
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)
    assert handle.token.cancelled
    assert list(tmp_path.glob("closed*")) == [] and not list(tmp_path.glob("*.skt-tmp"))


def test_previews_show_the_chosen_format(qtbot: Any, lib, sync_pool) -> None:
    db, rid, _ = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.show()
    shapes = {}
    for fmt in ("gif", "contact-sheet", "pdf", "zip"):
        dlg.set_format(fmt)
        dlg.refresh_preview()  # the synchronous pool renders it here
        preview = dlg.current_preview
        assert preview is not None and dlg.has_preview_image(), fmt
        shapes[fmt] = preview.images[0].shape
    assert shapes["contact-sheet"] != shapes["gif"] and shapes["pdf"] != shapes["gif"]
    dlg.set_format("gif")
    dlg.refresh_preview()
    gif = dlg.current_preview
    assert len(gif.images) == 3 and gif.frame_ms == 600  # first, middle and last of 4
    assert "frames 1, 2, 4 of 4" in dlg.preview_caption.text() and "600 ms" in dlg.preview_caption.text()
    first = dlg.preview.pixmap().toImage()
    qtbot.waitUntil(lambda: dlg.preview_view.frame_index == 1, timeout=5000)  # it plays
    assert dlg.preview.pixmap().toImage() != first
    dlg.set_format("contact-sheet")
    dlg.refresh_preview()
    assert not dlg.preview_view.timer.isActive()
    assert dlg.preview_caption.text().startswith("Contact sheet: 4 check-ins in 2 × 2 tiles")
    dlg.set_format("pdf")
    dlg.refresh_preview()
    h, w = dlg.current_preview.images[0].shape[:2]
    assert h > w and "PDF report" in dlg.preview_caption.text()  # a portrait page summary
    dlg.set_format("zip")
    dlg.refresh_preview()
    assert "images/" in dlg.preview_caption.text() and "measurements.csv" in dlg.preview_caption.text()


def test_a_new_choice_cancels_the_preview_being_rendered(
    qtbot: Any, lib, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from skintrack.export import frames

    db, rid, _ = lib
    entered, release = threading.Event(), threading.Event()
    real_render = frames.FrameRenderer.render

    def blocking_render(self, planned, token=None):
        entered.set()
        release.wait(10)
        return real_render(self, planned, token)

    monkeypatch.setattr(frames.FrameRenderer, "render", blocking_render)
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.set_format("gif")
    dlg.refresh_preview()
    first = dlg.preview_handle
    assert first is not None
    assert entered.wait(10)
    dlg.set_format("csv")  # the choice changes while the GIF frames render
    assert first.token.cancelled
    release.set()
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    qtbot.waitUntil(lambda: dlg.preview_view.shown_text().startswith("region,"), timeout=10_000)
    assert dlg.current_preview is None  # the cancelled GIF preview never shows
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)


def test_open_and_show_in_folder_after_export(
    qtbot: Any, lib, sync_pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from skintrack.ui import exported_files

    db, rid, _ = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.open_button.isVisible() and not dlg.reveal_button.isVisible()
    opened: list[str] = []
    dlg.open_url = lambda url: opened.append(url.toLocalFile()) or True
    dlg.set_format("csv")
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    with qtbot.waitSignal(dlg.exportFinished, timeout=10_000):
        dlg.start_export(out_dir / "m.csv")
    assert dlg.open_button.isVisible() and dlg.reveal_button.isVisible()
    qtbot.mouseClick(dlg.open_button, Qt.MouseButton.LeftButton)
    assert opened == [str(out_dir / "m.csv")]
    shown: list[Path] = []
    monkeypatch.setattr(exported_files.sys, "platform", "linux")
    monkeypatch.setattr(exported_files, "_freedesktop_show", lambda path: shown.append(path) or True)
    qtbot.mouseClick(dlg.reveal_button, Qt.MouseButton.LeftButton)
    assert shown == [out_dir / "m.csv"] and len(opened) == 1  # the file manager selects the file
    monkeypatch.setattr(exported_files, "_freedesktop_show", lambda path: False)
    qtbot.mouseClick(dlg.reveal_button, Qt.MouseButton.LeftButton)
    assert opened[-1] == str(out_dir)  # no file manager service: its folder opens
    asked: list[str] = []

    def save_name(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        asked.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    dlg._ask_and_export()
    assert Path(asked[0]).parent == out_dir  # the next export starts in the last export folder


def test_preview_follows_the_dialog_size(qtbot: Any, lib, sync_pool) -> None:
    db, rid, _ = lib
    dlg = ExportDialog(db, rid)
    qtbot.addWidget(dlg)
    dlg.resize(900, 560)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.set_format("contact-sheet")
    dlg.refresh_preview()
    small = dlg.preview.pixmap().height()
    dlg.resize(1500, 1000)
    qtbot.waitUntil(lambda: dlg.preview.pixmap().height() > small * 1.3, timeout=5000)
