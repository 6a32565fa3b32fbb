"""Region editor: details, reference picker, painting the areas with real mouse events, re-analysis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from skintrack.services.areas import polygons_to_mask
from skintrack.ui.mask_canvas import CONTROL, POLYGON, WATCHED
from skintrack.ui.region_editor import RegionEditor

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]

SHAPE = (120, 160)  # the generated photos (h, w)


@pytest.fixture
def editor(qtbot: Any, make_library: Any) -> Any:
    made: list[RegionEditor] = []

    def factory(count: int = 2) -> tuple[RegionEditor, Any, int]:
        lib = make_library({"Arm": count})
        rid = lib.list_regions()[0].region.id
        dlg = RegionEditor(lib, rid)
        dlg.asked = []  # the discard question is recorded and answered "discard"
        dlg.ask_discard = lambda _parent, what, d=dlg: d.asked.append(what) or True
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        if count:
            qtbot.waitUntil(lambda: dlg.canvas.isEnabled() and not dlg._loading_preview, timeout=5000)
        made.append(dlg)
        return dlg, lib, rid

    yield factory
    for dlg in made:
        dlg.close()


def vp(dlg: RegionEditor, x: float, y: float) -> QPoint:
    return dlg.canvas.mapFromScene(QPointF(x, y))


def drag(dlg: RegionEditor, points: list[tuple[float, float]]) -> None:
    viewport = dlg.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, *points[0]))
    for p in points[1:]:
        QTest.mouseMove(viewport, vp(dlg, *p))
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, *points[-1])
    )


def save(qtbot: Any, dlg: RegionEditor) -> None:
    with qtbot.waitSignal(dlg.regionChanged, timeout=20000):
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)


def test_paint_saves_polygon_covering_stroke(qtbot: Any, editor: Any) -> None:
    dlg, lib, rid = editor()
    assert dlg.canvas.image_size() == (SHAPE[1], SHAPE[0])
    dlg.size_slider.setValue(20)
    drag(dlg, [(40, 60), (70, 60), (100, 60)])
    painted = dlg.canvas.mask(WATCHED)
    assert painted[60, 40:101].all() and not painted[10, 10]
    dlg.control_radio.click()
    drag(dlg, [(130, 20), (140, 20)])
    dlg.reanalyse_box.setChecked(False)
    save(qtbot, dlg)
    region = lib.region(rid)
    watched = polygons_to_mask(region.watched_area, SHAPE)
    control = polygons_to_mask(region.control_area, SHAPE)
    assert watched[55:66, 42:99].all()  # the stroke, inside the brush radius
    assert not watched[100:, :].any() and not watched[:, :25].any()
    overlap = np.logical_and(watched > 0, painted > 0).sum() / max(1, (painted > 0).sum())
    assert overlap > 0.95
    assert control[20, 130:141].all() and not control[60, 60]


def test_eraser_removes_paint(qtbot: Any, editor: Any) -> None:
    dlg, lib, rid = editor()
    dlg.size_slider.setValue(30)
    drag(dlg, [(30, 60), (130, 60)])
    qtbot.mouseClick(dlg.tool_buttons["eraser"], Qt.MouseButton.LeftButton)
    drag(dlg, [(80, 20), (80, 100)])
    mask = dlg.canvas.mask(WATCHED)
    assert mask[60, 40] and mask[60, 120] and not mask[60, 80]
    dlg.reanalyse_box.setChecked(False)
    save(qtbot, dlg)
    polys = lib.region(rid).watched_area
    assert len(polys) == 2  # the eraser cut the stroke in two


def test_polygon_tool_and_enter(qtbot: Any, editor: Any) -> None:
    dlg, lib, rid = editor()
    qtbot.mouseClick(dlg.tool_buttons[POLYGON], Qt.MouseButton.LeftButton)
    viewport = dlg.canvas.viewport()
    for x, y in [(20, 20), (80, 20), (80, 80)]:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, x, y))
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, 20, 80))
    mask = dlg.canvas.mask(WATCHED)
    assert mask[50, 50] and mask[30, 70] and not mask[100, 120]
    dlg.control_radio.click()
    for x, y in [(100, 90), (150, 90), (150, 115)]:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, x, y))
    dlg.canvas.setFocus()
    QTest.keyClick(dlg.canvas, Qt.Key.Key_Return)
    assert dlg.canvas.mask(CONTROL)[100, 140]
    dlg.reanalyse_box.setChecked(False)
    save(qtbot, dlg)
    watched = polygons_to_mask(lib.region(rid).watched_area, SHAPE)
    assert watched[25:75, 25:75].sum() / 255 > 0.9 * 50 * 50 * 0.9


def test_details_saved_and_existing_areas_shown(qtbot: Any, editor: Any, make_library: Any) -> None:
    dlg, lib, rid = editor()
    dlg.name_edit.setText("Right forearm")
    dlg.site_edit.setText("forearm, inner")
    dlg.interval.setValue(14)
    dlg.notes_edit.setPlainText("watch the spot by the wrist")
    save(qtbot, dlg)
    r = lib.region(rid)
    assert (r.name, r.body_site, r.interval_days, r.notes) == (
        "Right forearm",
        "forearm, inner",
        14,
        "watch the spot by the wrist",
    )
    lib.set_areas(rid, watched=[[[10, 10], [60, 10], [60, 60], [10, 60]]])
    again = RegionEditor(lib, rid)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.canvas.isEnabled() and not again._loading_preview, timeout=5000)
    assert again.canvas.mask(WATCHED)[30, 30] and not again.canvas.mask(WATCHED)[90, 90]
    assert not again.areas_dirty


@pytest.fixture
def fake_analysis(monkeypatch: Any) -> list[tuple[int, bool]]:
    import skintrack.services.analysis as analysis
    from skintrack.progress import Progress

    calls: list[tuple[int, bool]] = []

    def fake_analyze(lib: Any, region_id: int, *, token: Any = None, force: bool = False) -> Any:
        calls.append((region_id, force))
        yield Progress(1, 2, "aligning")
        return analysis.AnalysisReport(analysed=1)

    monkeypatch.setattr(analysis, "analyze_region", fake_analyze)
    return calls


def test_reference_change_requests_analysis_after_saving(qtbot: Any, editor: Any, fake_analysis: Any) -> None:
    dlg, lib, rid = editor(count=3)
    assert dlg.ref_list.count() == 3
    third = lib.list_photos(rid)[2]
    seen_reference: list[int | None] = []
    dlg.analysisRequested.connect(lambda r: seen_reference.append(lib.region(r).reference_photo_id))
    dlg.ref_list.setCurrentRow(2)
    qtbot.waitUntil(lambda: not dlg._loading_preview, timeout=5000)
    assert dlg.reference_changed()
    with qtbot.waitSignal(dlg.analysisRequested, timeout=5000) as sig:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert sig.args == [rid]
    assert seen_reference == [third.id]  # emitted once the new reference is saved
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
    assert fake_analysis == []  # the listener (main window) analyses, not the editor


def test_areas_change_requests_analysis_after_saving(qtbot: Any, editor: Any, fake_analysis: Any) -> None:
    dlg, lib, rid = editor()
    drag(dlg, [(40, 60), (100, 60)])
    stored: list[bool] = []
    dlg.analysisRequested.connect(lambda r: stored.append(bool(lib.region(r).watched_area)))
    with qtbot.waitSignal(dlg.analysisRequested, timeout=10000) as sig:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert sig.args == [rid] and stored == [True]  # the areas are stored before the request
    assert fake_analysis == []  # the editor never analyses itself


def test_name_only_change_does_not_reanalyse(qtbot: Any, editor: Any, fake_analysis: Any) -> None:
    dlg, lib, rid = editor()
    dlg.name_edit.setText("Renamed")
    with qtbot.assertNotEmitted(dlg.analysisRequested):
        save(qtbot, dlg)
    assert fake_analysis == [] and lib.region(rid).name == "Renamed"


def test_no_photos_yet(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor(count=0)
    assert not dlg.canvas.isEnabled() and "no photos" in dlg.canvas_hint.text()
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()


CTRL = Qt.KeyboardModifier.ControlModifier


def key(dlg: RegionEditor, k: Qt.Key, mods: Qt.KeyboardModifier = CTRL) -> None:
    QTest.keyClick(dlg.canvas, k, mods)


def activate(qtbot: Any, dlg: RegionEditor) -> None:
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)  # window shortcuts fire in the active window
    dlg.canvas.setFocus()


def test_undo_redo_painting_with_keys_and_buttons(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor()
    activate(qtbot, dlg)
    assert not dlg.undo_button.isEnabled() and not dlg.redo_button.isEnabled()
    dlg.size_slider.setValue(20)
    drag(dlg, [(40, 60), (100, 60)])
    assert dlg.undo_button.isEnabled() and dlg.areas_dirty
    assert "painting" in dlg.undo_action.toolTip().lower()
    key(dlg, Qt.Key.Key_Z)
    assert not dlg.canvas.mask(WATCHED).any() and not dlg.areas_dirty
    assert dlg.redo_button.isEnabled() and not dlg.undo_button.isEnabled()
    key(dlg, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert dlg.canvas.mask(WATCHED)[60, 70]
    qtbot.mouseClick(dlg.tool_buttons["eraser"], Qt.MouseButton.LeftButton)
    drag(dlg, [(70, 40), (70, 80)])
    assert not dlg.canvas.mask(WATCHED)[60, 70]
    qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert dlg.canvas.mask(WATCHED)[60, 70]
    key(dlg, Qt.Key.Key_Y)  # Ctrl+Y redoes too
    assert not dlg.canvas.mask(WATCHED)[60, 70] and dlg.canvas.mask(WATCHED)[60, 45]


def test_undo_polygon_and_clear(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor()
    activate(qtbot, dlg)
    qtbot.mouseClick(dlg.tool_buttons[POLYGON], Qt.MouseButton.LeftButton)
    viewport = dlg.canvas.viewport()
    for x, y in [(20, 20), (80, 20), (80, 80)]:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, x, y))
    QTest.keyClick(dlg.canvas, Qt.Key.Key_Return)
    assert dlg.canvas.mask(WATCHED)[30, 70]
    qtbot.mouseClick(dlg.clear_button, Qt.MouseButton.LeftButton)
    assert dlg.canvas.is_empty(WATCHED)
    assert dlg.undo_stack.undoText().startswith("clearing")
    key(dlg, Qt.Key.Key_Z)
    assert dlg.canvas.mask(WATCHED)[30, 70]  # the clear is undone
    key(dlg, Qt.Key.Key_Z)
    assert dlg.canvas.is_empty(WATCHED)  # and then the polygon
    assert not dlg.undo_button.isEnabled()


def test_undo_back_to_stored_areas_asks_nothing(qtbot: Any, editor: Any) -> None:
    _dlg, lib, rid = editor()
    lib.set_areas(rid, watched=[[[10, 10], [60, 10], [60, 60], [10, 60]]])
    again = RegionEditor(lib, rid)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.canvas.isEnabled() and not again._loading_preview, timeout=5000)
    drag(again, [(100, 100), (140, 100)])
    assert again.areas_dirty
    again.undo_stack.undo()
    assert not again.areas_dirty and again.canvas.mask(WATCHED)[30, 30]
    assert again.unsaved_changes() == ""
    qtbot.mouseClick(again.cancel_button, Qt.MouseButton.LeftButton)  # nothing to lose: no question
    assert not again.isVisible()


def test_cancel_with_unsaved_painting_asks(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor()
    drag(dlg, [(40, 60), (100, 60)])
    dlg.ask_discard = lambda _parent, what: dlg.asked.append(what) or False  # "Keep editing"
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and dlg.asked == ["painting"]
    QTest.keyClick(dlg, Qt.Key.Key_Escape)
    assert dlg.isVisible() and len(dlg.asked) == 2
    dlg.close()  # the window's close button
    assert dlg.isVisible() and len(dlg.asked) == 3
    dlg.name_edit.setText("Renamed")
    dlg.ask_discard = lambda _parent, what: dlg.asked.append(what) or True
    dlg.close()
    assert not dlg.isVisible() and dlg.asked[-1] == "painting and details"


def test_discard_question_is_a_real_modal_box(qtbot: Any, editor: Any) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from skintrack.ui.area_hints import ask_discard

    dlg, _lib, _rid = editor()
    drag(dlg, [(40, 60), (100, 60)])
    dlg.ask_discard = ask_discard
    seen: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, lambda: answer(button))  # not shown yet: look again
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Cancel))
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and seen == ["Discard the unsaved painting?"]
    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Discard))
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible() and len(seen) == 2


def test_polygon_tool_says_how_to_close(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor()
    assert "Click to add points" not in dlg.canvas_hint.text()
    qtbot.mouseClick(dlg.tool_buttons[POLYGON], Qt.MouseButton.LeftButton)
    hint = dlg.canvas_hint.text()
    assert "Click to add points; double-click or press Enter to close; Esc to cancel" in hint
    viewport = dlg.canvas.viewport()
    for x, y in [(20, 20), (80, 20)]:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(dlg, x, y))
    assert "2 points so far" in dlg.canvas_hint.text()
    dlg.canvas.setFocus()
    QTest.keyClick(dlg.canvas, Qt.Key.Key_Escape)
    assert dlg.isVisible() and not dlg.canvas.poly_points  # Esc drops the polygon, not the dialog
    assert "so far" not in dlg.canvas_hint.text()
    qtbot.mouseClick(dlg.tool_buttons["brush"], Qt.MouseButton.LeftButton)
    assert "Click to add points" not in dlg.canvas_hint.text()


def test_watched_over_control_warns_inline(qtbot: Any, editor: Any) -> None:
    from PySide6.QtWidgets import QApplication

    dlg, _lib, _rid = editor()
    dlg.size_slider.setValue(20)
    dlg.control_radio.click()
    drag(dlg, [(40, 60), (60, 60)])
    assert dlg.overlap_label.isHidden()
    dlg.watched_radio.click()
    drag(dlg, [(100, 60), (120, 60)])
    assert dlg.overlap_label.isHidden()  # beside the control: fine
    drag(dlg, [(50, 40), (50, 80)])
    assert dlg.overlap_label.isVisible()
    text = dlg.overlap_label.text()
    assert "control patch" in text and "unaffected skin" in text and "%" in text
    assert QApplication.activeModalWidget() is None  # inline, not a dialog
    dlg.undo_stack.undo()
    assert dlg.overlap_label.isHidden()


def test_photo_stays_fitted_when_the_editor_resizes(qtbot: Any, editor: Any) -> None:
    dlg, _lib, _rid = editor()

    def fitted() -> bool:
        shown = dlg.canvas.mapFromScene(dlg.canvas.sceneRect()).boundingRect()
        vp = dlg.canvas.viewport().rect()
        return (
            shown.width() <= vp.width() + 2
            and shown.height() <= vp.height() + 2
            and (shown.width() >= vp.width() - 4 or shown.height() >= vp.height() - 4)
        )

    dlg.resize(700, 500)
    qtbot.waitUntil(fitted, timeout=5000)
    dlg.resize(1300, 900)
    qtbot.waitUntil(fitted, timeout=5000)
    assert dlg.ref_list.item(0).text() == "2026-01-05"  # the app's one date format


def test_quitting_with_unsaved_painting_asks_and_can_be_refused(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 2})
    dlg = win.windows.edit_region()
    qtbot.waitUntil(lambda: dlg.canvas.isEnabled() and not dlg._loading_preview, timeout=5000)
    drag(dlg, [(40, 60), (100, 60)])
    asked: list[str] = []
    dlg.ask_discard = lambda _parent, what: asked.append(what) or False
    assert not win.close()  # the user keeps editing: nothing closes
    assert asked == ["painting"] and win.isVisible() and dlg.isVisible()
    dlg.ask_discard = lambda _parent, what: asked.append(what) or True
    assert win.close()
    assert not dlg.isVisible() and len(asked) == 2
