"""The trend chart (drawn with matplotlib on the GUI thread) is redrawn when an analysis has stored
new measurements, not when it starts: nothing it shows has changed then."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from skintrack.services import analysis
from support.gated_analysis import gated_analysis
from support.gui_library import drain

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_chart_redrawn_after_analysis_not_at_its_start(
    qtbot: Any, main_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    monkeypatch.setattr(analysis, "analyze_region", gated_analysis(release))
    win = main_window({"Arm": 3})
    drain()
    drawn: list[int | None] = []
    real_set_region = win.details.chart.set_region
    monkeypatch.setattr(
        win.details.chart, "set_region", lambda rid: (drawn.append(rid), real_set_region(rid))[1]
    )
    handle = win.analyse_region(force=True)
    assert handle is not None
    qtbot.waitUntil(lambda: "being analysed" in win.timeline_hint.text(), timeout=5000)
    qtbot.wait(50)  # the chart refresh is coalesced on a zero timer: let it fire if it was asked for
    assert drawn == [], "starting an analysis changes no measurement: the chart must not redraw"
    with qtbot.waitSignal(win.analysisFinished, timeout=20_000):
        release.set()
    qtbot.waitUntil(lambda: drawn == [win.current_region_id()], timeout=5000)
