"""The settling canvas draws once per settled size, and not while hidden."""

from __future__ import annotations

from typing import Any

import pytest
from matplotlib.figure import Figure
from PySide6.QtWidgets import QApplication

from skintrack.ui.chart_canvas import SETTLE_MS, SettlingCanvas

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _canvas(qtbot: Any) -> tuple[SettlingCanvas, list[tuple[int, int]]]:
    fig = Figure(figsize=(4, 3), dpi=100)
    fig.add_subplot().plot([0, 1, 2], [1, 3, 2])
    canvas = SettlingCanvas(fig)
    qtbot.addWidget(canvas)
    drawn: list[tuple[int, int]] = []
    canvas.mpl_connect("draw_event", lambda _e: drawn.append((canvas.width(), canvas.height())))
    return canvas, drawn


def test_nothing_is_drawn_while_hidden_and_one_draw_after_show(qtbot: Any) -> None:
    canvas, drawn = _canvas(qtbot)
    for _ in range(3):
        canvas.draw_idle()
    qtbot.wait(3 * SETTLE_MS)
    assert drawn == [] and canvas.draw_pending()
    canvas.resize(420, 300)
    canvas.show()
    qtbot.waitExposed(canvas)
    qtbot.waitUntil(lambda: len(drawn) == 1, timeout=5000)
    qtbot.wait(3 * SETTLE_MS)
    assert drawn == [(420, 300)] and not canvas.draw_pending()


def test_a_resize_drag_draws_once_at_the_final_size(qtbot: Any) -> None:
    canvas, drawn = _canvas(qtbot)
    canvas.resize(400, 300)
    canvas.show()
    qtbot.waitExposed(canvas)
    qtbot.waitUntil(lambda: len(drawn) == 1, timeout=5000)
    for width in range(410, 560, 10):  # a drag: 15 resizes, each delivered at once
        canvas.resize(width, 300)
        QApplication.processEvents()
    qtbot.waitUntil(lambda: drawn[-1] == (550, 300), timeout=5000)
    qtbot.wait(3 * SETTLE_MS)
    # matplotlib's own canvas draws once per resize; only a stalled machine lets a timer fire mid-drag
    assert len(drawn) - 1 <= 3, drawn
    assert drawn[-1] == (550, 300) and not canvas.draw_pending()
