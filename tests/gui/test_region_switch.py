"""Switching region: the timeline, details and chart share one read of the region, kept until the
library is written, and a switch back after a write shows the new data."""

from __future__ import annotations

from typing import Any

import pytest

from skintrack.library import MeasurementRecord
from skintrack.ui.models import PhotoRole

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def _show(qtbot: Any, win: Any, name: str) -> int:
    """Select region ``name`` and wait until its chart is drawn; returns its id."""
    rid = win.lib.region_by_name(name).id
    for r in range(win.region_model.rowCount()):
        if win.region_model.index(r).data() == name:
            win.region_view.setCurrentIndex(win.region_model.index(r))
    qtbot.waitUntil(lambda: win.details.chart.drawn_region_id == rid, timeout=5000)
    return rid


def _latest(win: Any) -> tuple[int, Any]:
    idx = win.photo_model.index(win.photo_model.rowCount() - 1)
    return idx.data(PhotoRole.PhotoId), idx.data(PhotoRole.MeanDeltaL)


def _measure_again(win: Any, photo_id: int, ref: int, dl: float) -> None:
    metrics = {"calibration": "model", "mean_delta_L": dl, "mean_delta_b": 0.0, "mean_delta_ita": 0.0}
    win.lib.save_measurement(MeasurementRecord(photo_id, ref, "model", metrics, "test"))


def test_switching_back_after_a_write_shows_the_new_measurement(qtbot: Any, main_window: Any) -> None:
    """A measurement stored while another region is shown (a background analysis) is on the
    timeline, in the details and on the chart when the user comes back, with no reload asked."""
    win = main_window({"Arm": 3, "Cheek": 2}, measure=True)
    arm = _show(qtbot, win, "Arm")
    photo_id, before = _latest(win)
    ref = win.photo_model.reference_id
    assert before == pytest.approx(-3.0)
    _show(qtbot, win, "Cheek")
    _measure_again(win, photo_id, ref, -7.25)
    _show(qtbot, win, "Arm")
    assert _latest(win) == (photo_id, pytest.approx(-7.25))
    assert win.details.values["delta_L"].text() == "−7.2 L*"
    series = win.details.chart.series
    assert series is not None and series.region_id == arm
    assert series.points[-1].photo_id == photo_id and series.points[-1].value("L") == pytest.approx(-7.25)


def test_switching_back_without_a_write_reuses_the_read(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3, "Cheek": 2}, measure=True)
    arm = _show(qtbot, win, "Arm")
    rows = win.view.rows.get(win.lib, arm)
    _show(qtbot, win, "Cheek")
    _show(qtbot, win, "Arm")
    assert win.view.rows.get(win.lib, arm) is rows  # nothing was written: the same rows
    assert win.details.chart.rows is win.view.rows  # the chart draws from the timeline's read


def test_reload_after_a_write_redraws_the_chart(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 3}, measure=True)
    _show(qtbot, win, "Arm")
    photo_id, _ = _latest(win)
    _measure_again(win, photo_id, win.photo_model.reference_id, -9.5)
    win.reload_region()
    qtbot.waitUntil(
        lambda: (
            win.details.chart.series is not None
            and win.details.chart.series.points[-1].value("L") == pytest.approx(-9.5)
        ),
        timeout=5000,
    )
    assert _latest(win) == (photo_id, pytest.approx(-9.5))


def test_startup_objects_are_frozen_once_the_window_is_shown(qtbot: Any, main_window: Any) -> None:
    """Full garbage collections skip what start-up made: they walked every module, Qt wrapper
    and matplotlib table (~50 ms with the GIL held) in the middle of region switches."""
    import gc

    main_window({"Arm": 2})
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5000)
