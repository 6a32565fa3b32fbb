"""Layout at small and large windows: readable notes and metric rows at 1024 × 640, a timeline
that fills its width, a window never larger than the screen, and no dark bands at Fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QRect, QRectF
from PySide6.QtWidgets import QStyle

from skintrack.ui.compare.pair_view import PairView, ViewSync
from skintrack.ui.compare.tiles import TileSource, build_pyramid
from skintrack.ui.delegates import PhotoDelegate

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _settle(qtbot: Any, win: Any, w: int, h: int) -> None:
    win.resize(w, h)
    win.view.use_default_sizes()
    qtbot.waitUntil(lambda: win.width() == w, timeout=5000)
    qtbot.wait(50)  # one layout pass (no thread involved)
    win.details.fit_info()


def test_details_readable_at_1024_by_640(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3}, measure=True)
    _settle(qtbot, win, 1024, 640)
    notes = win.details.notes
    assert notes.width() >= 160, f"notes box {notes.width()} px wide"
    assert notes.height() >= 3 * notes.fontMetrics().lineSpacing()
    viewport = win.details.info_scroll.viewport()
    for key, label in win.details.values.items():
        top = label.mapTo(viewport, label.rect().topLeft()).y()
        assert top >= 0 and top + label.height() <= viewport.height(), f"metric row {key} is cut"
        assert label.width() >= label.fontMetrics().horizontalAdvance("−10.0 L*"), key


def test_timeline_fills_its_width(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 5})
    for width in (1024, 1600):
        _settle(qtbot, win, width, 900)
        delegate, timeline = win.photo_delegate, win.timeline
        bar = timeline.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        available = timeline.contentsRect().width() - bar
        cell = delegate.tile_width + 2 * timeline.spacing()
        columns = max(1, available // cell)
        assert columns >= 2
        leftover = available - columns * cell
        assert 0 <= leftover < PhotoDelegate.WIDTH // 2, f"{leftover} px empty at {width} px"
        first, second = (timeline.visualRect(win.photo_model.index(i)) for i in (0, 1))
        assert second.top() == first.top()  # side by side


def test_window_never_opens_larger_than_the_screen(qtbot: Any, main_window: Any, make_library: Any) -> None:
    from skintrack.ui.main_window import MainWindow
    from skintrack.ui.preferences import WindowState

    first = main_window({"Arm": 1})
    area = first.screen().availableGeometry()
    first.setGeometry(QRect(area.x() + 40, area.y() + 40, area.width() * 2, area.height() * 2))
    first.save_window_state()
    saved = WindowState().load_bytes("geometry")
    assert isinstance(saved, QByteArray)
    win = MainWindow(make_library({"Cheek": 1}, name="second"))
    try:
        win.show()
        qtbot.waitExposed(win)
        frame = win.frameGeometry()
        assert frame.width() <= area.width() and frame.height() <= area.height()
        assert area.contains(frame.topLeft())
    finally:
        win.close()
        win.shutdown()
        win.deleteLater()


def _source(w: int, h: int) -> TileSource:
    img = np.full((h, w, 3), 128, np.uint8)
    return TileSource(build_pyramid(img))


@pytest.mark.parametrize("size", [(1100, 700), (1400, 500), (600, 900)])
def test_pair_view_at_fit_leaves_no_dark_bands(qtbot: Any, size: tuple[int, int]) -> None:
    view = PairView(ViewSync())
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_images(_source(512, 384), _source(512, 384), QRectF(0, 0, 512, 384))
    qtbot.wait(50)
    for v in view.views():
        v.fit()
    qtbot.wait(50)
    for v in view.views():
        shown = v.mapFromScene(v.sceneRect()).boundingRect()
        vp = v.viewport().rect()
        assert vp.height() - shown.height() <= 6, f"{vp.height() - shown.height()} px of band at {size}"
        assert vp.width() - shown.width() <= 6
    beside = min(size[0] / 2 / 512, size[1] / 384)
    above = min(size[0] / 512, size[1] / 2 / 384)
    assert view.stacked() == (above > beside * 1.02)
    view.left.zoom_in()
    qtbot.wait(50)
    assert view.left.width() + view.right.width() >= size[0] - 4 or view.stacked()  # zoomed: whole page
