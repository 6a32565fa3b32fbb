"""Everyday use of the main window: the areas prompt, failure states a person can act on, the
Library and Help menus, region archive and trash, context menus and the details panel's words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMenu

from skintrack.core import formatting
from skintrack.library import AlignmentRecord, Library
from skintrack.progress import run_steps
from skintrack.ui import area_prompt
from support.fake_windows import FakeCompare, FakeDialog, fake_dialog

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _failed_alignment(lib: Library, photo_id: int, ref_id: int) -> None:
    lib.save_alignment(
        AlignmentRecord(photo_id, ref_id, False, None, 0.0, "features", 3, "too few matches", None, "t")
    )


# ---------------------------------------------------------------- the areas prompt
def test_second_checkin_prompts_once_to_mark_the_areas(
    qtbot: Any, helpers: Any, main_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dialog(monkeypatch, "CheckInDialog", FakeDialog)
    win = main_window({"Arm": 1, "Marked": 2})
    marked = win.lib.region_by_name("Marked")
    square = [[[1.0, 1.0], [20.0, 1.0], [20.0, 20.0], [1.0, 20.0]]]
    win.lib.set_areas(marked.id, watched=square, control=square)
    asked: list[str] = []
    answers = [True]
    win.ask_mark_areas = lambda region, answered: (asked.append(region.name), answered(answers.pop(0)))
    arm = win.lib.region_by_name("Arm")
    dlg = win.windows.new_checkin()
    fake_dialog(monkeypatch, "RegionEditor", FakeDialog)
    second = win.lib.import_file(arm.id, helpers.make_jpeg(win.lib.root.parent / "b.jpg", 90)).photo
    dlg.checkedIn.emit([second.id])
    qtbot.waitUntil(lambda: asked == ["Arm"], timeout=5000)
    assert "stays flat" in area_prompt.prompt_text(win.lib.region(arm.id))
    assert FakeDialog.calls and FakeDialog.calls[-1][1] == arm.id  # "Mark them now" opened the editor
    qtbot.waitUntil(lambda: win.lib.get_setting(area_prompt.setting_key(arm.id), False), timeout=5000)
    third = win.lib.import_file(arm.id, helpers.make_jpeg(win.lib.root.parent / "c.jpg", 91)).photo
    dlg.checkedIn.emit([third.id])
    late = win.lib.import_file(marked.id, helpers.make_jpeg(win.lib.root.parent / "d.jpg", 92)).photo
    dlg.checkedIn.emit([late.id])
    helpers.drain()
    assert asked == ["Arm"]  # once per region; never for a region with both areas
    dlg.reject()
    for w in win.windows.children:
        w.close()


def test_area_prompt_box_is_not_modal_to_the_app(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2})
    got: list[bool] = []
    box = area_prompt.ask(win, win.lib.region(win.current_region_id()), got.append)
    assert box.isVisible() and "control patch" in box.text()
    not_now = next(b for b in box.buttons() if b.text() == "Not now")
    not_now.click()
    qtbot.waitUntil(lambda: got == [False], timeout=5000)


# ---------------------------------------------------------------- failure states
def test_not_aligned_check_in_offers_manual_alignment(
    qtbot: Any, main_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dialog(monkeypatch, "CompareWindow", FakeCompare)
    FakeCompare.manual = []
    win = main_window({"Arm": 3})
    photos = win.photo_model.photos()
    _failed_alignment(win.lib, photos[2].id, photos[0].id)
    win.reload_region()
    assert photos[2].id in win.photo_delegate.not_aligned
    assert "1 not aligned" in win.timeline_hint.text()
    assert "1 not analysed (Ctrl+R)" in win.timeline_hint.text()
    win.select_photo(photos[2].id)
    assert win.details.values["alignment"].text() == "not aligned"
    assert "Ctrl+R" not in win.details.reading_label.text()
    assert win.details.align_button.isVisible()
    assert win.actions_by_name["align_by_hand"].isEnabled()
    qtbot.mouseClick(win.details.align_button, Qt.MouseButton.LeftButton)
    assert FakeCompare.calls[-1][1:] == (win.current_region_id(), photos[0].id, photos[2].id)
    assert FakeCompare.manual == [(photos[0].id, photos[2].id)]
    win.select_photo(photos[1].id)
    assert not win.details.align_button.isVisible()
    assert not win.actions_by_name["align_by_hand"].isEnabled()


def test_missing_and_altered_originals_are_badged_and_warned(
    qtbot: Any, make_library: Any, main_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_checks: list[Library] = []
    real_check = Library.check
    monkeypatch.setattr(
        Library, "check", lambda self, **kw: full_checks.append(self) or real_check(self, **kw)
    )
    lib = make_library({"Arm": 3})
    photos = lib.list_photos(lib.region_by_name("Arm").id)
    missing, altered = photos[1], photos[2]
    missing_path = lib.original_path(missing)
    os.chmod(missing_path, 0o600)
    missing_path.unlink()
    altered_path = lib.original_path(altered)
    os.chmod(altered_path, 0o600)
    altered_path.write_bytes(altered_path.read_bytes() + b"changed")
    win = main_window(library=lib)
    qtbot.waitUntil(lambda: bool(win.messages), timeout=10_000)
    title, text = win.messages[0]
    assert title == "Library check" and "2 original photo files are missing or changed" in text
    assert str(missing_path) in text
    assert win.photo_delegate.originals == {missing.id: "missing", altered.id: "altered"}
    assert full_checks == []  # opening does not re-hash every original
    win.select_photo(missing.id)
    label = win.details.original_label
    assert label.isVisible() and label.wordWrap()
    assert "missing" in label.text() and missing_path.name in label.text().replace("\u200b", "")
    assert "Restore from backup" in label.text()
    win.select_photo(altered.id)
    assert "changed after it was imported" in label.text()
    win.select_photo(photos[0].id)
    assert not label.isVisible()


def test_check_library_reports_and_repairs_orphans(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2})
    stray = win.lib.root / "originals" / "ab" / ("ab" + "0" * 62 + ".jpg")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"not ours")
    asked: list[str] = []
    win.confirm = lambda title, text: asked.append(text) or True
    win.messages.clear()
    win.actions_by_name["check_library"].trigger()
    assert win.task_status.isVisible()
    qtbot.waitUntil(lambda: not stray.exists(), timeout=10_000)  # repaired after the offer
    assert asked and "belong to no check-in" in asked[0] and "Repair now?" in asked[0]
    qtbot.waitUntil(lambda: bool(win.messages), timeout=10_000)
    assert any("lost+found" in text for _t, text in win.messages)
    assert list(win.lib.store.lost_and_found.iterdir())


def test_restore_from_backup_replaces_the_library(
    qtbot: Any, make_library: Any, main_window: Any, tmp_path: Path
) -> None:
    from skintrack.export.backup import backup_library

    lib = make_library({"Arm": 2}, name="restored")
    root = lib.root
    archive = tmp_path / "backup.zip"
    run_steps(backup_library(lib, archive))
    lib.add_region("Added after the backup")
    lib.close()
    win = main_window({})
    assert win.open_library(root)
    assert win.region_model.rowCount() == 2
    with qtbot.waitSignal(win.libraryChanged, timeout=30_000):
        win.maintenance.restore_from_backup(archive)
    qtbot.waitUntil(lambda: win.region_model.rowCount() == 1, timeout=10_000)
    assert win.lib.root == root
    assert [s.region.name for s in win.lib.list_regions()] == ["Arm"]
    assert "Restored" in win.statusBar().currentMessage()


def test_print_calibration_card_saves_a_pdf(qtbot: Any, main_window: Any, tmp_path: Path) -> None:
    win = main_window({})
    opened: list[QUrl] = []
    win.open_url = lambda url: opened.append(url) or True
    out = tmp_path / "card"
    win.maintenance.print_card(out)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert Path(opened[0].toLocalFile()) == pdf


# ---------------------------------------------------------------- regions: archive and trash
def test_regions_are_archived_unarchived_and_trashed(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2, "Cheek": 2})
    arm = win.lib.region_by_name("Arm")
    asked: list[str] = []
    win.confirm = lambda title, text: asked.append(title) or True
    win.view.select_region(arm.id)
    win.actions_by_name["archive_region"].trigger()
    qtbot.waitUntil(lambda: win.region_model.rowCount() == 1, timeout=5000)
    assert asked == ["Archive region"]
    assert win.lib.region(arm.id).archived
    win.actions_by_name["show_archived"].trigger()
    assert win.region_model.rowCount() == 2
    win.view.select_region(arm.id)
    assert win.actions_by_name["unarchive_region"].isEnabled()
    assert not win.actions_by_name["archive_region"].isVisible()
    win.actions_by_name["unarchive_region"].trigger()
    qtbot.waitUntil(lambda: not win.lib.region(arm.id).archived, timeout=20000)
    assert not win.lib.region(arm.id).archived
    win.actions_by_name["show_archived"].trigger()
    cheek = win.lib.region_by_name("Cheek")
    win.view.select_region(cheek.id)
    win.actions_by_name["trash_region"].trigger()
    qtbot.waitUntil(lambda: win.lib.region(cheek.id).archived, timeout=20000)
    qtbot.waitUntil(lambda: win.region_model.rowCount() == 1, timeout=20000)
    assert asked[-1] == "Move region to trash"
    assert len(win.lib.list_photos(cheek.id, trash_only=True)) == 2
    assert win.lib.list_photos(cheek.id) == []


def test_empty_trash_deletes_the_trashed_region_left_without_check_ins(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2, "Cheek": 2})
    win.confirm = lambda title, text: True
    said: list[str] = []  # every status message: a later one (a task's progress) may replace it at once
    win.statusBar().messageChanged.connect(said.append)
    cheek = win.lib.region_by_name("Cheek")
    win.view.select_region(cheek.id)
    win.actions_by_name["trash_region"].trigger()
    qtbot.waitUntil(lambda: any("to the trash" in m for m in said), timeout=20000)
    win.actions_by_name["show_archived"].trigger()
    assert win.region_model.rowCount() == 2
    win.actions_by_name["empty_trash"].trigger()
    qtbot.waitUntil(lambda: any("for good" in m for m in said), timeout=20000)
    assert "“Cheek”" in next(m for m in said if "for good" in m)
    assert [s.region.name for s in win.lib.list_regions(include_archived=True)] == ["Arm"]
    qtbot.waitUntil(lambda: win.region_model.rowCount() == 1, timeout=5000)


def test_nothing_changes_when_the_confirmation_is_declined(
    qtbot: Any, main_window: Any, helpers: Any
) -> None:
    win = main_window({"Arm": 2})
    win.confirm = lambda title, text: False
    win.actions_by_name["trash_region"].trigger()
    win.actions_by_name["archive_region"].trigger()
    helpers.drain()
    assert win.region_model.rowCount() == 1
    assert len(win.lib.list_photos(win.current_region_id())) == 2


# ---------------------------------------------------------------- context menus
def _menu_texts(win: Any, view: Any, row: int) -> list[str]:
    shown: list[list[str]] = []

    def popup(menu: QMenu, _pos: Any) -> None:
        shown.append([a.text() for a in menu.actions() if not a.isSeparator()])
        menu.deleteLater()

    win.popup_menu = popup
    rect = view.visualRect(view.model().index(row, 0))
    view.customContextMenuRequested.emit(rect.center())
    assert shown, "no context menu"
    return shown[0]


def test_context_menus_on_regions_and_check_ins(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3, "Cheek": 2})
    texts = _menu_texts(win, win.region_view, 1)
    assert win.region_model.index(1).data() == win.lib.region(win.current_region_id()).name  # row picked
    for expected in (
        "Edit region…",
        "Analyse region",
        "New check-in…",
        "Archive region…",
        "Move region to trash…",
    ):
        assert expected in texts
    assert "Unarchive region" not in texts
    arm = win.lib.region_by_name("Arm")
    win.view.select_region(arm.id)
    photos = win.photo_model.photos()
    texts = _menu_texts(win, win.timeline, 1)
    assert win.current_photo().id == photos[1].id
    for expected in ("Compare…", "Set as reference", "Change date…", "Reveal original", "Move to trash"):
        assert expected in texts
    assert "Align by hand…" not in texts
    _failed_alignment(win.lib, photos[2].id, photos[0].id)
    win.reload_region()
    assert "Align by hand…" in _menu_texts(win, win.timeline, 2)


# ---------------------------------------------------------------- help menu
def test_help_menu_guide_shortcuts_and_library_location(qtbot: Any, main_window: Any) -> None:
    from skintrack.ui import actions

    win = main_window({"Arm": 1})
    guide = win.help.photo_guide()
    text = guide.findChild(object, "photoGuideText").text()
    for words in ("same light", "same distance", "calibration card", "flash"):
        assert words in text.lower()
    shortcuts = win.help.shortcuts()
    table = shortcuts.findChild(object, "shortcutsTable")
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Analyse region"] == "Ctrl+R"
    assert rows["Compare"] == "Ctrl+K"
    with_keys = [s for s in actions.ACTIONS if not win.actions_by_name[s.key].shortcut().isEmpty()]
    assert table.rowCount() == len(with_keys)
    opened: list[QUrl] = []
    win.open_url = lambda url: opened.append(url) or True
    where = win.help.library_location()
    assert str(win.lib.root) in where.findChild(object, "libraryLocationText").text()
    qtbot.mouseClick(where.findChild(object, "showLibraryFolder"), Qt.MouseButton.LeftButton)
    assert Path(opened[0].toLocalFile()) == win.lib.root
    help_menu = next(m for m in win.menuBar().findChildren(QMenu) if m.title() == "&Help")
    assert [a.text() for a in help_menu.actions() if not a.isSeparator()][:3] == [
        "Taking good photos",
        "Keyboard shortcuts",
        "Where is my library?",
    ]
    for dlg in (guide, shortcuts, where):
        dlg.close()


# ---------------------------------------------------------------- words and dates
def test_details_use_plain_words_dates_and_tooltips(qtbot: Any, make_library: Any, main_window: Any) -> None:
    from skintrack.library import MeasurementRecord

    lib = make_library({"Arm": 2}, measure=True)
    photos = lib.list_photos(lib.region_by_name("Arm").id)
    rec = lib.measurement(photos[1].id, photos[0].id)
    metrics = dict(rec.metrics, alignment={"ok": True, "quality": 0.95, "method": "ecc", "inliers": 300})
    lib.save_measurement(MeasurementRecord(rec.photo_id, rec.reference_id, "card", metrics, "test"))
    win = main_window(library=lib)
    win.select_photo(photos[1].id)
    v = win.details.values
    assert v["alignment"].text() == "alignment quality 0.95, refined"
    assert "(ecc)" not in v["alignment"].text()
    assert win.details.date_label.text() == formatting.day_time(photos[1].taken_at)
    assert "calibration card" in v["calibration"].toolTip() and "control patch" in v["calibration"].toolTip()
    for key, word in (("delta_ita", "Typology"), ("delta_e", "ΔE2000"), ("noise", "did not change")):
        assert word in v[key].toolTip()
        assert v[key].toolTip() == win.details.form.labelForField(v[key]).toolTip()


def test_failed_realignment_over_an_old_measurement_reads_not_aligned(qtbot: Any, main_window: Any) -> None:
    from skintrack.library import MeasurementRecord

    win = main_window({"Arm": 3}, measure=True)
    photos = win.photo_model.photos()
    _failed_alignment(win.lib, photos[2].id, photos[0].id)
    failed = {"alignment": {"ok": False, "method": "features", "quality": 0.0, "message": "too few matches"}}
    win.lib.save_measurement(MeasurementRecord(photos[2].id, photos[0].id, "none", failed, "test"))
    win.reload_region()
    win.select_photo(photos[2].id)
    assert win.details.values["alignment"].text() == "not aligned"
    assert "could not be aligned" in win.details.reading_label.text()
    assert "too few matches" in win.details.reading_label.text()
    assert "No change" not in win.details.reading_label.text()
    assert win.details.values["delta_L"].text() == "—"
    assert win.details.align_button.isVisible()
    assert "1 not aligned" in win.timeline_hint.text()
