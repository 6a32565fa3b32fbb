"""Main window driven through real widgets: selection, shortcuts, menus, dialogs, drag and drop, workers.

The dialogs the window opens (check-in, compare, region editor, export) are replaced by small
fakes with the same signals, so these tests check the window's hooks (arguments, refresh).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from skintrack.export.backup import BackupReport
from skintrack.progress import Progress
from skintrack.services import demo
from skintrack.ui.models import PhotoRole
from support.fake_windows import FakeCompare, FakeDialog, fake_dialog

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def messages(win: Any) -> list[tuple[str, str]]:
    win.messages.clear()
    return win.messages


def key(qtbot: Any, win: Any, seq: str) -> None:
    """Press a shortcut the way a user does (through the focused widget)."""
    from PySide6.QtGui import QKeySequence

    ks = QKeySequence(seq)[0]
    if not win.isActiveWindow():
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.keyClick(win.timeline, ks.key(), ks.keyboardModifiers())


def select_region(win: Any, name: str) -> None:
    for r in range(win.region_model.rowCount()):
        if win.region_model.index(r).data() == name:
            win.region_view.setCurrentIndex(win.region_model.index(r))
            return
    raise AssertionError(name)


# ---------------------------------------------------------------- layout, empty state, selection
def test_empty_library_shows_empty_state_and_adds_region(qtbot: Any, main_window: Any) -> None:
    win = main_window({})
    assert win.stack.currentWidget() is win.empty_state
    assert "colour" in win.empty_state.text.text()
    answered: list[Any] = []

    def run(dlg: QDialog) -> int:
        qtbot.keyClicks(dlg.name, "Left forearm")
        dlg.interval.setValue(21)
        answered.append(dlg)
        return QDialog.DialogCode.Accepted

    win._run_dialog = run
    qtbot.mouseClick(win.empty_state.add_button, Qt.MouseButton.LeftButton)
    assert answered
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.splitter, timeout=5000)  # written in the pool
    assert win.region_model.rowCount() == 1
    assert win.lib.region_by_name("Left forearm").interval_days == 21
    assert win.current_region_id() == win.lib.region_by_name("Left forearm").id
    assert "No check-ins yet" in win.timeline_hint.text()


def test_demo_button_builds_in_worker_and_opens(
    qtbot: Any, helpers: Any, main_window: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    win = main_window({})

    def fake_build(root: Path, token: Any, analyse: bool = True) -> Any:
        src = tmp_path / "demo-src"
        src.mkdir()
        for i in range(3):
            token.raise_if_cancelled()
            yield Progress(i + 1, 3, f"step {i + 1}")
        lib = helpers.populate(root, {"Demo arm": 3}, tmp=src)
        lib.close()
        (root / "demo-truth").mkdir(exist_ok=True)
        (root / "demo-truth" / "truth.json").write_text("{}")
        return {"library": str(root)}

    monkeypatch.setattr(demo, "build_demo_library", fake_build)
    monkeypatch.setattr(demo, "demo_dir", lambda: tmp_path / "demo-library")
    with qtbot.waitSignal(win.libraryChanged, timeout=10_000):
        qtbot.mouseClick(win.empty_state.demo_button, Qt.MouseButton.LeftButton)
    assert win.messages == []
    assert win.lib.root == tmp_path / "demo-library"
    assert win.region_model.rowCount() == 1
    assert win.demo_task is None
    # opening the demo again reuses the built library (no second build)
    monkeypatch.setattr(demo, "build_demo_library", None)
    box = messages(win)
    assert win.open_demo() is None
    assert not box
    assert win.lib.root == tmp_path / "demo-library"


def test_failed_demo_build_is_removed(qtbot: Any, main_window: Any, tmp_path: Path, monkeypatch: Any) -> None:
    win = main_window({})

    def failing_build(root: Path, token: Any, analyse: bool = True) -> Any:
        root.mkdir(parents=True, exist_ok=True)
        (root / "half.txt").write_text("partial")
        yield Progress(1, 3, "step 1")
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "build_demo_library", failing_build)
    cache = tmp_path / "cache" / "demo-library"
    monkeypatch.setattr(demo, "demo_dir", lambda: cache)
    cache.mkdir(parents=True)
    (cache / "skintrack.sqlite3").write_text("left by an interrupted build")
    win.open_demo()
    qtbot.waitUntil(lambda: win.demo_task is None, timeout=10_000)
    assert win.messages and "disk full" in win.messages[0][1]
    assert not cache.exists()
    assert win.empty_state.demo_button.isEnabled()


def test_regions_timeline_and_details(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 4, "Cheek": 2}, measure=True)
    assert win.region_model.rowCount() == 2
    select_region(win, "Arm")
    assert win.photo_model.rowCount() == 4
    assert win.timeline.currentIndex().row() == 3  # latest check-in selected
    assert win.details.values["delta_L"].text() == "−4.5 L*"
    assert win.details.values["alignment"].text() == "alignment quality 0.90, matched features"
    assert "5.00 %" in win.details.values["area"].text() or "2.00 %" in win.details.values["area"].text()
    qtbot.waitUntil(lambda: win.details.preview.pixmap() is not None, timeout=5000)
    # click the first tile: the reference
    rect = win.timeline.visualRect(win.photo_model.index(0))
    qtbot.mouseClick(win.timeline.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.timeline.currentIndex().row() == 0
    assert "reference" in win.details.values["alignment"].text()
    select_region(win, "Cheek")
    assert win.photo_model.rowCount() == 2
    assert win.details.region_id == win.lib.region_by_name("Cheek").id


def test_next_previous_arrows_and_fullscreen(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    win.timeline.setFocus()
    assert win.timeline.currentIndex().row() == 2
    key(qtbot, win, "Left")
    assert win.timeline.currentIndex().row() == 1
    key(qtbot, win, "Left")
    key(qtbot, win, "Left")
    assert win.timeline.currentIndex().row() == 0
    assert not win.actions_by_name["previous"].isEnabled()
    key(qtbot, win, "Right")
    assert win.timeline.currentIndex().row() == 1
    win.actions_by_name["next"].trigger()
    assert win.timeline.currentIndex().row() == 2
    key(qtbot, win, "F11")
    qtbot.waitUntil(win.isFullScreen, timeout=2000)
    assert win.actions_by_name["fullscreen"].isChecked()
    key(qtbot, win, "F11")
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=2000)


def test_delete_to_trash_and_restore(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    region_id = win.current_region_id()
    middle = win.photo_model.photo(1)
    win.select_photo(middle.id)
    key(qtbot, win, "Del")
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 2, timeout=5000)  # written in the write pool
    assert middle.id not in [p.id for p in win.photo_model.photos()]
    assert win.lib.photo(middle.id).in_trash
    assert win.timeline.currentIndex().isValid()

    def run(dlg: QDialog) -> int:
        assert dlg.list.count() == 1
        return QDialog.DialogCode.Accepted

    win._run_dialog = run
    win.actions_by_name["restore"].trigger()
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 3, timeout=5000)
    assert win.current_photo().id == middle.id
    assert not win.lib.list_photos(region_id, trash_only=True)
    box = messages(win)
    win.actions_by_name["restore"].trigger()
    assert box and "empty" in box[0][1]


def test_set_reference_and_reveal_original(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    last = win.photo_model.photo(2)
    win.actions_by_name["set_reference"].trigger()
    qtbot.waitUntil(lambda: win.photo_model.index(2).data(PhotoRole.IsReference), timeout=5000)
    assert win.lib.region(win.current_region_id()).reference_photo_id == last.id
    assert win.photo_model.index(2).data(PhotoRole.IsReference)
    opened: list[QUrl] = []
    win.open_url = lambda url: opened.append(url) or True
    assert win.edits.reveal_original()
    assert opened[0].isLocalFile() and opened[0].scheme() == "file"
    assert Path(opened[0].toLocalFile()) == win.lib.original_path(last).parent


def test_notes_are_saved_through_the_write_pool(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2})
    photo = win.current_photo()
    win.details.notes.setFocus()
    qtbot.keyClicks(win.details.notes, "a bit itchy")
    assert win.details.save_notes.isEnabled()
    qtbot.mouseClick(win.details.save_notes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.lib.photo(photo.id).notes == "a bit itchy", timeout=5000)
    qtbot.waitUntil(lambda: win.photo_model.index(1).data(PhotoRole.Notes) == "a bit itchy", timeout=5000)
    assert not win.details.save_notes.isEnabled()


# ---------------------------------------------------------------- other helpers' dialogs
def test_new_checkin_opens_dialog_and_refreshes(
    qtbot: Any, helpers: Any, main_window: Any, monkeypatch: Any
) -> None:
    fake_dialog(monkeypatch, "CheckInDialog", FakeDialog)
    win = main_window({"Arm": 1})
    key(qtbot, win, "Ctrl+N")
    assert FakeDialog.calls == [(win.lib, win.current_region_id(), {"files": []})]
    dlg = win.findChild(FakeDialog)
    assert dlg is not None and dlg.isVisible()
    src = helpers.make_jpeg(win.lib.root.parent / "new.jpg", 99)
    win.lib.import_file(win.current_region_id(), src)  # what the dialog would do
    dlg.accept()
    qtbot.waitUntil(lambda: win.photo_model.rowCount() == 2, timeout=2000)


def test_compare_ctrl_k_passes_reference_and_selection(
    qtbot: Any, main_window: Any, monkeypatch: Any
) -> None:
    fake_dialog(monkeypatch, "CompareWindow", FakeCompare)
    win = main_window({"Arm": 3})
    photos = win.photo_model.photos()
    win.select_photo(photos[1].id)
    key(qtbot, win, "Ctrl+K")
    assert FakeCompare.calls == [(win.lib, win.current_region_id(), photos[0].id, photos[1].id)]
    cmp_win = win.children_windows[-1]
    assert cmp_win.isWindow() and cmp_win.isVisible()
    cmp_win.close()
    # selecting the reference itself compares it with the latest
    win.select_photo(photos[0].id)
    win.actions_by_name["compare"].trigger()
    assert FakeCompare.calls[-1][2:] == (photos[0].id, photos[2].id)
    win.children_windows[-1].close()


def test_edit_region_and_export_open_their_dialogs(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:
    fake_dialog(monkeypatch, "RegionEditor", FakeDialog)
    win = main_window({"Arm": 2})
    key(qtbot, win, "Ctrl+E")
    assert FakeDialog.calls == [(win.lib, win.current_region_id(), {})]
    win.children_windows[-1].reject()
    fake_dialog(monkeypatch, "ExportDialog", FakeDialog)
    win.actions_by_name["export"].trigger()
    assert FakeDialog.calls == [(win.lib, win.current_region_id(), {})]
    win.children_windows[-1].reject()


def _drop(win: Any, files: list[Path]) -> tuple[QDragEnterEvent, QDropEvent]:
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    pos = QPoint(win.width() // 2, win.height() // 2)
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(win, enter)
    drop = QDropEvent(
        QPointF(pos), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(win, drop)
    return enter, drop


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_drag_and_drop_images_opens_checkin_with_files(
    qtbot: Any, helpers: Any, main_window: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    fake_dialog(monkeypatch, "CheckInDialog", FakeDialog)
    win = main_window({"Arm": 1})
    a = helpers.make_jpeg(tmp_path / "a.jpg", 1)
    b = helpers.make_jpeg(tmp_path / "b.JPG", 2)
    text = tmp_path / "notes.txt"
    text.write_text("x")
    enter, drop = _drop(win, [a, text, b])
    assert enter.isAccepted()
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: len(FakeDialog.calls) == 1, timeout=2000)
    assert FakeDialog.calls[0][2] == {"files": [str(a), str(b)]}
    win.children_windows[-1].reject()
    enter, _drop_ev = _drop(win, [text])
    assert not enter.isAccepted()


# ---------------------------------------------------------------- analysis worker
def _fake_analysis(monkeypatch: Any, steps: int = 4, delay: float = 0.05, fail_at: int | None = None) -> None:
    from skintrack.services import analysis

    def fake(lib: Any, region_id: int, *, token: Any = None, force: bool = False) -> Any:
        for i in range(steps):
            time.sleep(delay)
            if fail_at is not None and i == fail_at:
                raise RuntimeError("alignment exploded")
            yield Progress(i + 1, steps, f"photo {i + 1}")
        return analysis.AnalysisReport(analysed=steps, skipped=0, failed=0)

    monkeypatch.setattr(analysis, "analyze_region", fake)


def test_analysis_progress_in_status_bar(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:
    _fake_analysis(monkeypatch)
    win = main_window({"Arm": 3})
    seen: list[int] = []
    key(qtbot, win, "Ctrl+R")
    handle = win.analysis_task
    assert handle is not None
    handle.progress.connect(lambda p: seen.append(p.done))
    assert win.task_status.isVisible()
    assert not win.actions_by_name["analyse"].isEnabled()
    with qtbot.waitSignal(win.analysisFinished, timeout=10_000) as blocker:
        pass
    assert blocker.args == ["succeeded"]
    assert seen and seen[-1] == 4
    assert not win.task_status.isVisible()
    assert "Analysed 4 check-ins" in win.statusBar().currentMessage()
    assert win.actions_by_name["analyse"].isEnabled()


def test_analysis_cancel_button(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:
    _fake_analysis(monkeypatch, steps=50, delay=0.05)
    win = main_window({"Arm": 3})
    win.actions_by_name["analyse"].trigger()
    qtbot.waitUntil(lambda: win.task_status.bar.value() >= 1, timeout=5000)
    with qtbot.waitSignal(win.analysisFinished, timeout=10_000) as blocker:
        qtbot.mouseClick(win.task_status.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["cancelled"]
    assert "cancelled" in win.statusBar().currentMessage()


def test_analysis_error_is_reported(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:
    _fake_analysis(monkeypatch, steps=3, delay=0.01, fail_at=1)
    win = main_window({"Arm": 3})
    box = messages(win)
    with qtbot.waitSignal(win.analysisFinished, timeout=10_000) as blocker:
        win.actions_by_name["analyse"].trigger()
    assert blocker.args == ["failed"]
    assert box == [("Analysis failed", "alignment exploded")]


# ---------------------------------------------------------------- other actions
def test_journal_about_preferences_open(qtbot: Any, helpers: Any, main_window: Any) -> None:
    win = main_window({"Arm": 1})
    key(qtbot, win, "Ctrl+J")
    journal = win.children_windows[-1]
    assert journal.objectName() == "journalDialog" and journal.isVisible()
    journal.close()
    win.actions_by_name["about"].trigger()
    about = win.children_windows[-1]
    from skintrack import NOT_A_DIAGNOSIS

    assert NOT_A_DIAGNOSIS[:40] in about.findChild(QWidget, "notDiagnosis").text()
    about.close()
    win.actions_by_name["preferences"].trigger()
    prefs = win.children_windows[-1]
    assert prefs.objectName() == "preferencesDialog"
    prefs.threshold_spin.setValue(4.5)
    prefs.accept()
    qtbot.waitUntil(lambda: win.photo_delegate.threshold_L == 4.5, timeout=5000)  # saved in the write pool
    assert win.lib.get_setting("threshold_L") == 4.5
    helpers.drain()


def test_backup_runs_in_worker(qtbot: Any, main_window: Any, monkeypatch: Any, tmp_path: Path) -> None:
    calls: list[Any] = []

    def backup_library(lib: Any, out: Path, token: Any = None, force: bool = False) -> Any:
        assert force  # the save dialog has asked before it returns an existing file
        yield Progress(1, 1, "zip")
        out.write_bytes(b"PK")
        calls.append(out)
        return BackupReport(out, 1, 0, 2)

    from skintrack.ui import library_tasks

    monkeypatch.setattr(library_tasks, "backup_library", backup_library)
    win = main_window({"Arm": 1})
    win._ask_backup_path = lambda: str(tmp_path / "b.zip")
    handle = win.backup()
    qtbot.waitUntil(lambda: bool(calls), timeout=5000)
    assert handle is not None
    qtbot.waitUntil(lambda: "Backed up" in win.statusBar().currentMessage(), timeout=5000)


def test_state_restored_across_windows(qtbot: Any, main_window: Any, make_library: Any) -> None:
    lib = make_library({"Arm": 2, "Cheek": 2, "Leg": 1}, name="shared")
    win = main_window(library=lib)
    select_region(win, "Leg")
    win.resize(760, 560)  # the offscreen screen is 800x600; restoreGeometry keeps windows on screen
    qtbot.wait(20)
    win.splitter.setSizes([210, 300, 240])
    sizes = win.splitter.sizes()
    win.close()
    win2 = main_window(library=lib)
    qtbot.waitUntil(lambda: win2.splitter.sizes() == sizes, timeout=3000)
    assert win2.region_model.index(win2.region_view.currentIndex().row()).data() == "Leg"
    assert win2.splitter.sizes() == sizes
    assert win2.size().width() == 760


def test_configure_application_sets_identity(qtbot: Any) -> None:
    from PySide6.QtGui import QGuiApplication

    from skintrack import APP_NAME, DESKTOP_FILE_NAME, ORG_NAME
    from skintrack.ui.app import configure_application

    app = configure_application()
    assert app.applicationName() == APP_NAME
    assert app.organizationName() == ORG_NAME
    assert QGuiApplication.desktopFileName() == DESKTOP_FILE_NAME


def test_emits_cannot_exhaust_true(qtbot: Any) -> None:
    """PySide6 6.12 on Python 3.11 drops a reference to True on every emit(); after the start-up
    workaround no number of emits can bring True's count to zero (elsewhere there is no leak)."""
    from PySide6.QtCore import QObject

    from skintrack.ui.pyside_fix import affected

    class Emitter(QObject):
        ping = Signal(int)

    e = Emitter()
    before = sys.getrefcount(True)
    for i in range(2000):
        e.ping.emit(i)
    if affected():
        assert sys.getrefcount(True) > 1 << 39
    else:
        assert sys.getrefcount(True) >= before - 5


def test_change_date_resorts_timeline(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3})
    first = win.photo_model.photo(0)
    win.select_photo(first.id)

    def run(dlg: QDialog) -> int:
        from PySide6.QtCore import QDate

        dlg.edit.setDate(QDate(2027, 6, 1))
        return QDialog.DialogCode.Accepted

    win._run_dialog = run
    key(qtbot, win, "Ctrl+D")
    qtbot.waitUntil(lambda: win.photo_model.photo(2).id == first.id, timeout=5000)  # written in the pool
    moved = win.lib.photo(first.id)
    assert moved.taken_at.date().isoformat() == "2027-06-01"
    assert moved.taken_at_source == "user"
    assert win.photo_model.photo(2).id == first.id  # now the latest
    assert win.current_photo().id == first.id


def test_reanalyse_forces(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:
    from skintrack.services import analysis

    forced: list[bool] = []

    def fake(lib: Any, region_id: int, *, token: Any = None, force: bool = False) -> Any:
        forced.append(force)
        yield Progress(1, 1, "done")
        return analysis.AnalysisReport(analysed=2)

    monkeypatch.setattr(analysis, "analyze_region", fake)
    win = main_window({"Arm": 3})
    with qtbot.waitSignal(win.analysisFinished, timeout=10_000):
        win.actions_by_name["reanalyse"].trigger()
    assert forced == [True]


def test_text_editing_keys_stay_in_the_notes(qtbot: Any, main_window: Any) -> None:
    """Del, Left and Right edit the notes; they must not trash or switch check-ins there."""
    win = main_window({"Arm": 3})
    photo = win.current_photo()
    win.details.notes.setFocus()
    qtbot.keyClicks(win.details.notes, "abc")
    qtbot.keyClick(win.details.notes, Qt.Key.Key_Left)
    qtbot.keyClick(win.details.notes, Qt.Key.Key_Left)
    qtbot.keyClick(win.details.notes, Qt.Key.Key_Delete)
    assert win.details.notes.toPlainText() == "ac"
    assert win.current_photo().id == photo.id
    assert not win.lib.photo(photo.id).in_trash


def test_failed_alignment_is_explained(qtbot: Any, main_window: Any) -> None:
    from skintrack.library import AlignmentRecord

    win = main_window({"Arm": 3})
    photos = win.photo_model.photos()
    win.lib.save_alignment(
        AlignmentRecord(
            photos[2].id, photos[0].id, False, None, 0.0, "features", 3, "too few matches", None, "t"
        )
    )
    win.select_photo(photos[1].id)
    assert "Not analysed yet" in win.details.reading_label.text()
    win.select_photo(photos[2].id)
    assert win.details.values["alignment"].text() == "not aligned"
    assert win.details.align_button.isVisible()
    assert "could not be aligned" in win.details.reading_label.text()
    assert "too few matches" in win.details.reading_label.text()


def test_checked_in_signal_selects_the_new_photo(
    qtbot: Any, helpers: Any, main_window: Any, monkeypatch: Any
) -> None:

    class SignallingDialog(FakeDialog):
        checkedIn = Signal(list)

    fake_dialog(monkeypatch, "CheckInDialog", SignallingDialog)
    win = main_window({"Arm": 2, "Cheek": 1})
    select_region(win, "Arm")
    dlg = win.windows.new_checkin()
    cheek = win.lib.region_by_name("Cheek").id
    src = helpers.make_jpeg(win.lib.root.parent / "late.jpg", 77)
    photo = win.lib.import_file(cheek, src).photo
    dlg.checkedIn.emit([photo.id])
    assert win.current_region_id() == cheek
    assert win.current_photo().id == photo.id
    dlg.reject()


def test_region_editor_requests_analysis(qtbot: Any, main_window: Any, monkeypatch: Any) -> None:

    from skintrack.services import analysis

    class Editor(FakeDialog):
        analysisRequested = Signal(int)
        regionChanged = Signal(int)

    ran: list[int] = []

    def fake(lib: Any, region_id: int, *, token: Any = None, force: bool = False) -> Any:
        ran.append(region_id)
        yield Progress(1, 1, "done")
        return analysis.AnalysisReport(analysed=1)

    monkeypatch.setattr(analysis, "analyze_region", fake)
    fake_dialog(monkeypatch, "RegionEditor", Editor)
    win = main_window({"Arm": 2})
    editor = win.windows.edit_region()
    win.lib.update_region(win.current_region_id(), name="Left arm")
    editor.regionChanged.emit(win.current_region_id())
    assert win.region_model.index(0).data() == "Left arm"
    with qtbot.waitSignal(win.analysisFinished, timeout=10_000):
        editor.analysisRequested.emit(win.current_region_id())
    assert ran == [win.current_region_id()]
    editor.reject()


def test_closed_compare_views_free_their_photos(main_window: Any, helpers: Any) -> None:
    """A task handle's connections (lambdas holding the view) and its result are let go once the
    task is delivered: closed compare views and their decoded pairs do not pile up."""
    import gc

    from skintrack.ui.compare.source import PairData
    from skintrack.ui.compare.window import CompareWindow

    win = main_window({"Arm": 3}, measure=True)
    for _ in range(4):
        view = win.windows.compare()
        assert view is not None
        helpers.drain()
        assert view.isVisible()
        view.close()
        helpers.drain()
    del view
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, CompareWindow)] == []
    assert [o for o in gc.get_objects() if isinstance(o, PairData)] == []
