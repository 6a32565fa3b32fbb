"""The selected check-in stays in view when the timeline's tiles re-flow (a narrower window)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _current_in_view(win: Any) -> bool:
    tl = win.timeline
    return tl.viewport().rect().contains(tl.visualRect(tl.currentIndex()))


def test_latest_check_in_stays_in_view_when_the_window_narrows(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 40})
    win.resize(1400, 800)
    win.view.setSizes([200, 900, 300])
    qtbot.waitUntil(lambda: win.timeline.currentIndex().row() == 39, timeout=5000)
    win.timeline.scrollTo(win.timeline.currentIndex())
    qtbot.waitUntil(lambda: _current_in_view(win), timeout=5000)
    win.view.setSizes([200, 300, 900])  # fewer tiles per row: the same offset shows earlier ones
    qtbot.wait(300)  # QListView re-flows its tiles 100 ms after a resize
    qtbot.waitUntil(lambda: _current_in_view(win), timeout=5000)
