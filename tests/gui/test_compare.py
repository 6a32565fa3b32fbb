"""Compare window: modes, synced zoom/pan, swipe, blink, heatmap, patches, dates, failure, manual alignment.

Most tests use an in-memory source (generated numpy photos and a fake change result) so they run
in well under a second each; the manual-alignment round trip uses a real library and services.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from skintrack.ui import tasks
from skintrack.ui.compare import CompareWindow
from skintrack.ui.compare.source import PairData
from skintrack.ui.compare.window import BLINK, HEATMAP, SIDE, SWIPE
from support.compare_source import FakeSource, H, W, skin

# the offscreen platform warns when a window's size hints change; harmless
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture
def sync_pools():
    saved = dict(tasks._pools)
    for kind in ("work", "write", "thumbs"):
        tasks.set_pool(kind, tasks.SyncPool())
    yield
    tasks._pools.clear()
    tasks._pools.update(saved)


@pytest.fixture
def win(qtbot, sync_pools) -> CompareWindow:
    w = CompareWindow(None, 1, source=FakeSource())
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    qtbot.waitExposed(w)
    return w


def wheel(view, steps: int, pos: QPoint | None = None) -> None:
    vp = view.viewport()
    pos = pos or vp.rect().center()
    ev = QWheelEvent(
        QPointF(pos),
        QPointF(vp.mapToGlobal(pos)),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, ev)


def test_opens_reference_and_latest(win: CompareWindow) -> None:
    assert win.selected_ids() == (1, 4)
    assert win.current is not None and win.current.aligned
    assert "features" in win.quality_label.text() and "model" in win.quality_label.text()
    assert win.metrics.reading.text().startswith("Darker by 5.0 L* units")
    assert not win.banner.isVisible()


def test_explicit_pair(qtbot, sync_pools) -> None:
    w = CompareWindow(None, 1, 2, 3, source=FakeSource(set()))
    qtbot.addWidget(w)
    assert w.selected_ids() == (2, 3)


def test_mode_switching(win: CompareWindow, qtbot) -> None:
    for mode, widget in ((SWIPE, win.swipe_view), (BLINK, win.blink_view), (HEATMAP, win.heat_view)):
        win.mode_actions[mode].trigger()
        assert win.stack.currentWidget() is widget
        assert win.mode == mode
    assert win.heat_opts.isVisible() and not win.blink_opts.isVisible()
    win.mode_actions[SIDE].trigger()
    assert win.stack.currentWidget() is win.pair_view


def test_synced_zoom_and_pan(win: CompareWindow, qtbot) -> None:
    left, right = win.pair_view.left, win.pair_view.right
    wheel(left, 3, QPoint(100, 120))
    assert left.current_scale() > 1.2 * 0.5
    assert left.transform() == right.transform()
    assert not left.fit_mode
    left.horizontalScrollBar().setValue(left.horizontalScrollBar().value() + 57)
    left.verticalScrollBar().setValue(left.verticalScrollBar().value() + 31)
    assert right.horizontalScrollBar().value() == left.horizontalScrollBar().value()
    assert right.verticalScrollBar().value() == left.verticalScrollBar().value()
    wheel(right, -1)
    assert left.transform() == right.transform()
    # buttons: 100 % and fit act on the pair too
    win.act_100.trigger()
    assert abs(left.current_scale() - 1.0) < 1e-9 and right.transform() == left.transform()
    win.act_zoom_in.trigger()
    assert abs(right.current_scale() - 1.25) < 1e-9
    win.act_fit.trigger()
    assert left.fit_mode and left.transform() == right.transform()
    # the zoom carries over to another mode
    win.act_100.trigger()
    win.set_mode(SWIPE)
    assert abs(win.swipe_view.current_scale() - 1.0) < 1e-9


def test_swipe_divider_drag(win: CompareWindow, qtbot) -> None:
    win.set_mode(SWIPE)
    view = win.swipe_view
    vp = view.viewport()
    x = view.divider_viewport_x()
    y = vp.height() // 2
    target = view.mapFromScene(QPointF(W * 0.25, H / 2)).x()
    with qtbot.waitSignal(view.positionChanged):
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
        qtbot.mouseMove(vp, QPoint((x + target) // 2, y))
        qtbot.mouseMove(vp, QPoint(target, y))
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(target, y))
    assert view.position == pytest.approx(0.25, abs=0.02)
    assert view.clip.rect().left() == pytest.approx(W * view.position)
    # a press far from the divider pans instead of moving it
    before = view.position
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() - 20, y))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() - 20, y))
    assert view.position == before


def test_blink_timer_and_space(win: CompareWindow, qtbot) -> None:
    win.set_mode(BLINK)
    view = win.blink_view
    win.blink_rate.setValue(10.0)
    assert view.timer.interval() == 100
    seen: list[bool] = []
    view.on_toggle.append(seen.append)
    win.blink_play.setChecked(True)
    assert view.running
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=3000)
    assert True in seen and False in seen
    win.blink_play.setChecked(False)
    assert not view.running
    state = view.showing_later
    win.act_blink.trigger()  # Space
    assert view.showing_later is not state
    assert view.second_item is not None and view.second_item.isVisible() == view.showing_later
    assert view.caption.startswith("Later" if view.showing_later else "Earlier")


def test_space_key_and_arrow_keys(win: CompareWindow, qtbot) -> None:
    win.activateWindow()
    win.pair_view.left.setFocus()
    qtbot.keyClick(win.pair_view.left, Qt.Key.Key_Left)
    assert win.selected_ids() == (1, 3)  # later side stepped back; (1, 3) fails to align
    assert win.banner.isVisible()
    qtbot.keyClick(win.pair_view.left, Qt.Key.Key_Right)
    assert win.selected_ids() == (1, 4)
    qtbot.keyClick(win.pair_view.left, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert win.selected_ids() == (2, 4)
    qtbot.keyClick(win.pair_view.left, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert win.selected_ids() == (1, 4)
    qtbot.keyClick(win.pair_view.left, Qt.Key.Key_Space)
    assert win.mode == BLINK
    state = win.blink_view.showing_later
    qtbot.keyClick(win.blink_view, Qt.Key.Key_Space)
    assert win.blink_view.showing_later is not state


def test_pairs_are_cached(win: CompareWindow) -> None:
    source = win.source
    assert isinstance(source, FakeSource)
    n = len(source.loads)
    win.step(later=True, delta=-1)
    win.step(later=True, delta=1)
    assert len(source.loads) == n + 1  # (1, 4) came from the cache


def test_heatmap_toggle_and_opacity(win: CompareWindow) -> None:
    win.set_mode(HEATMAP)
    view = win.heat_view
    assert view.overlay_item is not None and view.overlay_item.isVisible()
    assert len(view.patch_items) == 1
    win.heat_opacity.setValue(30)
    assert view.overlay_item.opacity() == pytest.approx(0.3)
    win.heat_toggle.setChecked(False)
    assert not view.overlay_item.isVisible() and not view.patch_items[0].isVisible()
    win.heat_toggle.setChecked(True)
    assert view.overlay_item.isVisible()


def test_patch_click_shows_stats(win: CompareWindow, qtbot) -> None:
    win.set_mode(HEATMAP)
    view = win.heat_view
    assert not win.metrics.patch_box.isVisible()
    pos = view.mapFromScene(QPointF(W / 2, H / 2))
    with qtbot.waitSignal(view.patchClicked) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [0]
    assert win.metrics.patch_box.isVisible()
    fields = win.metrics.patch_fields
    assert fields["kind"].text() == "grey-blue"
    assert fields["mean"].text() == "\u22125.0 L*"  # one minus sign, with the unit
    assert "px" in fields["area"].text()
    assert view.patch_items[0].selected


def test_failed_alignment_banner(win: CompareWindow) -> None:
    win.set_mode(HEATMAP)
    win.combo_b.setCurrentIndex(2)  # (1, 3): the two photos cannot be aligned
    assert win.banner.isVisible()
    assert "could not be aligned" in win.banner_label.text()
    assert win.mode == SIDE  # no misleading overlay
    assert not win.mode_actions[HEATMAP].isEnabled() and not win.mode_actions[SWIPE].isEnabled()
    assert win.metrics.fields["dL"].text() == "—"
    assert "failed" in win.quality_label.text()
    assert "original" in win.pair_view.right.caption


def test_show_originals_toggle(win: CompareWindow) -> None:
    assert "aligned" in win.pair_view.right.caption
    win.originals_box.setChecked(True)
    assert "original" in win.pair_view.right.caption
    assert win.pair_view.right_item is not None
    assert win.pair_view.right_item.source is win._sources["later_original"]
    win.originals_box.setChecked(False)
    assert win.pair_view.right_item.source is win._sources["later"]


def test_export_png(win: CompareWindow, tmp_path: Path) -> None:
    for mode in (SIDE, SWIPE, HEATMAP):
        win.set_mode(mode)
        out = tmp_path / f"view{mode}.png"
        assert win.export_png(out)
        img = cv2.imread(str(out))
        assert img is not None and img.shape[0] > 100 and img.std() > 5


def test_tiles_pick_coarse_level_when_zoomed_out(win: CompareWindow, qtbot) -> None:
    left = win.pair_view.left
    left.setTransform(left.transform().fromScale(0.2, 0.2))
    left.viewport().repaint()
    assert win.pair_view.left_item is not None
    assert win.pair_view.left_item.last_level >= 2
    win.act_100.trigger()
    left.viewport().repaint()
    assert win.pair_view.left_item.last_level == 0


def test_manual_dialog_with_fake_source(win: CompareWindow, qtbot) -> None:
    from skintrack.ui.compare.manual_align import ManualAlignDialog

    dlg = ManualAlignDialog(win.source, 1, 4, parent=win)
    qtbot.addWidget(dlg)
    assert dlg.loaded and not dlg.preview_button.isEnabled()
    pts = [(100.0, 90.0), (520.0, 100.0), (500.0, 400.0), (120.0, 380.0), (320.0, 240.0)]
    # clicks on the views place points (a click = press and release without dragging)
    dlg.show()
    qtbot.waitExposed(dlg)
    pos = dlg.ref_view.mapFromScene(QPointF(*pts[0]))
    qtbot.mouseClick(dlg.ref_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert len(dlg.ref_points) == 1 and dlg.ref_points[0][0] == pytest.approx(pts[0][0], abs=2)
    dlg.undo()
    for x, y in pts:
        dlg.add_point("ref", x, y)
        dlg.add_point("mov", x + 7, y - 4)  # a pure shift
    assert dlg.pairs() == 5 and dlg.preview_button.isEnabled()
    dlg.compute_preview()
    assert dlg.pages.currentIndex() == 1 and dlg.ok_button.isEnabled()
    h = np.asarray(dlg.alignment.homography)
    assert h[0, 2] == pytest.approx(-7, abs=0.5) and h[1, 2] == pytest.approx(4, abs=0.5)
    dlg.accept()


# --------------------------------------------------------------------------- real library


JAN = datetime(2026, 1, 1)
MAR = datetime(2026, 3, 1)


def _write_png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def test_manual_alignment_round_trip(qtbot, sync_pools, library_dir: Path, tmp_path: Path) -> None:
    """Points -> stored manual homography -> reused (never overwritten) by analyze_region."""
    from skintrack.library import Library
    from skintrack.services.analysis import analyze_region
    from skintrack.ui.compare.manual_align import ManualAlignDialog
    from skintrack.ui.tasks import drive

    ref = skin(W, H, 5)
    h_true = np.array([[1.0, 0.0, 12.0], [0.0, 1.0, -9.0], [0.0, 0.0, 1.0]])  # later -> reference
    later = cv2.warpPerspective(ref, np.linalg.inv(h_true), (W, H), borderMode=cv2.BORDER_REFLECT)
    with Library.open(library_dir) as lib:
        region = lib.add_region("Forearm")
        pa = lib.import_file(
            region.id, _write_png(tmp_path / "a.png", ref), taken_at=datetime(2026, 1, 1)
        ).photo
        pb = lib.import_file(
            region.id, _write_png(tmp_path / "b.png", later), taken_at=datetime(2026, 3, 1)
        ).photo
        lib.set_reference(region.id, pa.id)

        w = CompareWindow(lib, region.id)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        qtbot.addWidget(w)
        assert w.selected_ids() == (pa.id, pb.id)
        dlg = ManualAlignDialog(w.source, pa.id, pb.id, parent=w)
        qtbot.addWidget(dlg)
        assert dlg.loaded
        for x, y in [(80, 70), (560, 60), (570, 420), (90, 400), (330, 250)]:
            mx, my, _ = np.linalg.inv(h_true) @ np.array([x, y, 1.0])
            dlg.add_point("ref", x, y)
            dlg.add_point("mov", mx, my)
        dlg.compute_preview()
        assert dlg.alignment is not None and dlg.alignment.ok
        with qtbot.waitSignal(w.alignmentSaved):
            w.apply_manual_alignment(dlg.alignment, dlg.full_points())

        rec = lib.alignment(pb.id, pa.id)
        assert rec is not None and rec.method == "manual" and rec.ok
        assert np.allclose(np.asarray(rec.homography), h_true, atol=0.05)
        assert rec.manual_points is not None and len(rec.manual_points) == 5
        assert "manual" in w.quality_label.text()

        drive(
            lambda token: analyze_region(lib, region.id, token=token, force=True), tasks.CancelToken(), print
        )
        again = lib.alignment(pb.id, pa.id)
        assert again is not None and again.method == "manual"
        assert np.allclose(np.asarray(again.homography), h_true, atol=0.05)
        assert lib.measurement(pb.id, pa.id) is not None
        w.close()


def test_real_library_unrelated_photos_show_banner(
    qtbot, sync_pools, library_dir: Path, tmp_path: Path
) -> None:
    from skintrack.library import Library

    rng = np.random.default_rng(3)
    noise = (rng.random((H, W, 3)) * 255).astype(np.uint8)
    with Library.open(library_dir) as lib:
        region = lib.add_region("Cheek")
        pa = lib.import_file(
            region.id, _write_png(tmp_path / "a.png", skin(W, H, 1)), taken_at=datetime(2026, 1, 1)
        )
        lib.import_file(region.id, _write_png(tmp_path / "b.png", noise), taken_at=datetime(2026, 2, 1))
        lib.set_reference(region.id, pa.photo.id)
        w = CompareWindow(lib, region.id)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        qtbot.addWidget(w)
        w.show()
        assert w.current is not None and not w.current.aligned
        assert w.banner.isVisible()
        assert not w.mode_actions[HEATMAP].isEnabled()
        w.close()


def test_single_photo_region_says_so(qtbot, sync_pools) -> None:
    src = FakeSource()
    src.infos = src.infos[:1]
    w = CompareWindow(None, 1, source=src)
    qtbot.addWidget(w)
    assert "at least two check-ins" in w.quality_label.text()
    assert src.loads == [] and not w.act_manual.isEnabled()


class SlowSource(FakeSource):
    def load(self, a: int, b: int, token) -> PairData:
        import time

        time.sleep(0.2)
        token.raise_if_cancelled()
        return super().load(a, b, token)


def test_real_worker_and_close_while_loading(qtbot) -> None:
    """The pair loads off the GUI thread; closing mid-load neither crashes nor shows stale data."""
    w = CompareWindow(None, 1, source=SlowSource(set()))
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(w)
    assert w.current is None and w.busy.isVisibleTo(w)
    qtbot.waitUntil(lambda: w.current is not None, timeout=5000)
    assert w.selected_ids() == (1, 4) and not w.busy.isVisibleTo(w)
    w.step(later=True, delta=-1)
    w.close()
    assert w._task is not None
    qtbot.waitUntil(lambda: w._task.done, timeout=5000)
    assert w.current is not None and w.current.b_id == 4  # the late result was ignored


def test_refcount_guard_survives_many_repaints(win: CompareWindow) -> None:
    """PySide6 6.12 + Python 3.11 drops a None reference per painted override; the guard absorbs it."""
    import sys

    from skintrack.ui.pyside_fix import affected

    before = sys.getrefcount(None)
    for _ in range(300):
        win.pair_view.left.viewport().repaint()
    if affected():
        assert sys.getrefcount(None) > 1 << 39
    else:
        assert sys.getrefcount(None) >= before - 50


def test_export_view_draws_figures_and_dates_and_remembers_the_folder(
    win: CompareWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFileDialog

    from skintrack.ui import exported_files
    from skintrack.ui.compare import export_view

    drawn: list[tuple[str, list[str]]] = []
    real_annotate = export_view.annotate

    def spy(view, title, lines):
        drawn.append((title, lines))
        return real_annotate(view, title, lines)

    monkeypatch.setattr("skintrack.ui.compare.window.annotate", spy)
    a, b = win.selected_ids()
    day_a, day_b = (p.taken_at.strftime("%Y-%m-%d") for p in win.photo_list if p.id in (a, b))
    name = win.suggested_export_path()
    assert name.parent == Path.home()  # nothing exported yet
    assert name.name == f"region_{day_a}-vs-{day_b}_side-by-side.png"
    out_dir = tmp_path / "views"
    out_dir.mkdir()
    asked: list[str] = []

    def save_as(_parent, _title, start, _filter):
        asked.append(start)
        return str(out_dir / "arm-view"), "PNG image (*.png)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    win.act_export.trigger()
    out = out_dir / "arm-view.png"
    assert out.is_file() and asked == [str(name)]
    title, lines = drawn[-1]
    assert day_a in title and day_b in title and "Side by side" in title
    figures = " ".join(lines)
    assert "ΔL* −5.0 L*" in figures and "watched-area mean ΔL* −1.2 L*" in figures
    assert "darkened area" in figures and "%" in figures
    saved, grabbed = QImage(str(out)), win.view_pixmap()
    assert saved.width() >= grabbed.width() and saved.height() > grabbed.height() + 30  # the band
    band = saved.copy(0, grabbed.height(), saved.width(), saved.height() - grabbed.height())
    dark = sum(
        1
        for x in range(0, band.width(), 3)
        for y in range(band.height())
        if band.pixelColor(x, y).value() < 120
    )
    assert dark > 100  # text is drawn on the band
    assert exported_files.last_export_folder() == out_dir
    assert win.suggested_export_path().parent == out_dir
    win.set_mode(HEATMAP)
    assert win.suggested_export_path().name.endswith("_heatmap.png")


def test_export_view_of_unaligned_pair_says_so(qtbot, sync_pools, tmp_path: Path) -> None:
    from skintrack.ui.compare.export_view import figure_lines

    w = CompareWindow(None, 1, 1, 3, source=FakeSource({(1, 3)}))
    qtbot.addWidget(w)
    _title, lines = figure_lines(w.view_facts(), w.current, threshold_l=-3, noise_k=3)
    assert lines == ["Not aligned: no measurement is shown for these two photos."]
    assert w.export_png(tmp_path / "x.png")


@pytest.fixture
def small_win(qtbot, sync_pools) -> CompareWindow:
    """The compare window at 1024 x 640, the smallest screen the app is laid out for."""
    w = CompareWindow(None, 1, source=FakeSource())
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    qtbot.addWidget(w)
    w.resize(1024, 640)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_toolbar_fits_1024_px_with_every_action_on_it(small_win: CompareWindow) -> None:
    from PySide6.QtWidgets import QToolButton

    bar = small_win.toolbar
    assert bar.width() <= 1024
    for act in bar.actions():
        if act.isSeparator():
            continue
        widget = bar.widgetForAction(act)
        assert widget is not None and widget.isVisible(), f"{act.text() or widget} is in the overflow"
        assert bar.rect().contains(widget.geometry()), act.text()
    overflow = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert overflow is None or not overflow.isVisible()
    assert small_win.act_export in bar.actions() and small_win.act_manual in bar.actions()
    assert "Export view" in small_win.act_export.toolTip()
    assert "Show originals" in small_win.originals_box.toolTip()
    assert "reference" in small_win.combo_a.itemData(0, Qt.ItemDataRole.ToolTipRole)


def _shown_height(win: CompareWindow) -> int:
    pv = win.pair_view
    return sum(v.image_rect().height() for v in pv.views()) if pv.stacked() else pv.left.image_rect().height()


def test_side_by_side_at_fit_fills_the_height_of_a_tall_view(small_win: CompareWindow, qtbot) -> None:
    """Landscape photos in a narrow view sit one above the other and fill the height."""
    small_win.act_fit.trigger()
    pv = small_win.pair_view
    qtbot.waitUntil(lambda: pv.stacked() and _shown_height(small_win) >= 0.95 * (pv.height() - 2))
    assert pv.left.geometry().bottom() < pv.right.geometry().top()  # earlier above later
    for view in pv.views():
        assert view.image_rect().height() >= 0.97 * view.viewport().height()


def test_side_by_side_stays_left_and_right_when_wide(win: CompareWindow, qtbot) -> None:
    win.resize(1600, 1000)
    win.act_fit.trigger()
    pv = win.pair_view
    qtbot.waitUntil(lambda: pv.width() > 1200 and not pv.stacked())
    assert pv.left.image_rect().width() >= 0.95 * pv.left.viewport().width()


def _band_lines(image) -> tuple[int, int]:
    """Rows and columns of the picture that are (almost) only the views' empty background."""
    from skintrack.ui.compare.pair_view import BACKGROUND

    def empty(points) -> bool:
        seen = [image.pixelColor(x, y) == BACKGROUND for x, y in points]
        return sum(seen) >= 0.9 * len(seen)

    w, h = image.width(), image.height()
    rows = sum(empty((x, y) for x in range(0, w, 7)) for y in range(h))
    cols = sum(empty((x, y) for y in range(0, h, 7)) for x in range(w))
    return rows, cols


@pytest.mark.parametrize("mode", [SIDE, SWIPE, BLINK, HEATMAP])
def test_export_view_leaves_out_empty_bands(
    small_win: CompareWindow, mode: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from skintrack.ui.compare import export_view

    grabbed = []

    def spy(view, title, lines):
        grabbed.append(view.toImage())
        return export_view.annotate(view, title, lines)

    monkeypatch.setattr("skintrack.ui.compare.window.annotate", spy)
    small_win.set_mode(mode)
    small_win.act_fit.trigger()
    assert small_win.export_png(tmp_path / "v.png")
    picture = grabbed[-1]
    assert picture.height() > 200 and picture.width() > 200
    rows, cols = _band_lines(picture)
    assert rows <= 2 and cols <= 2, (rows, cols, picture.width(), picture.height())


def test_heatmap_legend_ticks_use_the_minus_sign() -> None:
    from skintrack.ui.compare.heatmap_layer import legend_ticks

    assert [label for _v, label in legend_ticks(10.0)] == ["−10", "−5", "0", "+5", "+10"]
