"""First run: the demo window lists regions and photos before its analysis is done, analyses in
the background with progress in the status bar, stores through the write pool and refreshes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from skintrack.library import Library, MeasurementRecord
from skintrack.progress import Progress
from skintrack.services import analysis, demo
from support.gated_analysis import gated_analysis

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _fake_build(helpers: Any, tmp_path: Path) -> Any:
    def build(root: Path, token: Any, analyse: bool = True) -> Any:
        assert analyse is False  # the window analyses in the background itself
        src = tmp_path / "demo-src"
        src.mkdir()
        yield Progress(1, 2, "photographing")
        lib = helpers.populate(root, {"Left forearm": 3, "Right cheek": 2}, tmp=src)
        lib.close()
        (root / "demo-truth").mkdir(exist_ok=True)
        (root / "demo-truth" / "truth.json").write_text("{}")
        yield Progress(2, 2, "stored")
        return {"library": str(root)}

    return build


def test_demo_window_lists_regions_before_analysis_and_refreshes(
    qtbot: Any, helpers: Any, main_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    writers: list[str] = []
    analysers: list[str] = []
    original_save = Library.save_measurement

    def recording_save(self: Library, rec: MeasurementRecord) -> None:
        writers.append(threading.current_thread().name)
        original_save(self, rec)

    monkeypatch.setattr(Library, "save_measurement", recording_save)
    monkeypatch.setattr(analysis, "analyze_region", gated_analysis(release, analysers))
    monkeypatch.setattr(demo, "build_demo_library", _fake_build(helpers, tmp_path))
    monkeypatch.setattr(demo, "demo_dir", lambda: tmp_path / "demo-library")
    win = main_window({})
    assert win.findChild(object, "demoProgress") is None
    win.open_demo()
    assert win.task_status.isVisible()  # the build's progress is in the status bar
    assert win.empty_state.busy_label.isVisible()
    qtbot.waitUntil(lambda: win.region_model.rowCount() == 2, timeout=10_000)
    # the window is usable while the first region is still being analysed
    assert win.stack.currentWidget() is win.view
    assert win.photo_model.rowCount() > 0
    assert win.background_analysis is not None
    qtbot.waitUntil(lambda: "Analysing the demo" in win.task_status.label.text(), timeout=5000)
    select = win.view.select_region
    select(win.lib.region_by_name("Left forearm").id)
    assert "2 being analysed…" in win.timeline_hint.text()  # not "(Ctrl+R)" while it runs
    assert "Being analysed" in win.details.reading_label.text()
    assert win.task_status.isVisible()
    with qtbot.waitSignal(win.backgroundAnalysisFinished, timeout=20_000):
        release.set()
    assert win.background_analysis is None
    assert "analysed" not in win.timeline_hint.text()  # refreshed without Ctrl+R
    assert win.photo_model.index(1).data(analysis_role()) is not None
    assert len(writers) == 3 and len(analysers) == 2
    assert not set(writers) & set(analysers), "analysis results must be stored by the write pool"
    assert len(set(writers)) == 1
    assert win.messages == []


def analysis_role() -> Any:
    from skintrack.ui.models import PhotoRole

    return PhotoRole.Measurement
