"""TrendChartWidget: metric switch, journal markers, hover tooltip and click-through."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from skintrack.library import Library
from skintrack.library.models import MeasurementRecord
from skintrack.ui.chart import TrendChartWidget

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise"),
]

T0 = datetime(2026, 1, 10, 9, 0)


def build(lib: Library, tmp: Path, n: int = 5) -> tuple[int, list[int]]:
    region = lib.add_region("Left forearm")
    rng = np.random.default_rng(1)
    ids = []
    for i in range(n):
        path = tmp / f"p{i}.png"
        cv2.imwrite(str(path), (rng.random((40, 50, 3)) * 255).astype(np.uint8))
        ids.append(lib.import_file(region.id, path, taken_at=T0 + timedelta(days=30 * i)).photo.id)
    lib.set_reference(region.id, ids[0])
    for i, pid in enumerate(ids[1:], start=1):
        m = {
            "calibration": "control",
            "mean_delta_L": -1.6 * i,
            "mean_delta_b": -0.8 * i,
            "mean_delta_ita": -2.2 * i,
            "noise_delta_L": 0.7,
            "darkened_area_px": 400 * i,
            "darkened_area_mm2": None,
            "darkened_fraction": 0.004 * i,
            "patches": [],
            "control": {"mean_delta_L": -0.1 * i, "mean_delta_b": 0.05, "mean_delta_ita": -0.2},
        }
        lib.save_measurement(MeasurementRecord(pid, ids[0], "control", m, "test"))
    lib.add_journal(T0 + timedelta(days=12), "dose", substance="kratom", amount=3, unit="g")
    lib.add_journal(T0 + timedelta(days=70), "sun", notes="two hours outside")
    return region.id, ids


@pytest.fixture
def chart(qtbot, library_dir: Path, tmp_path: Path):
    lib = Library.open(library_dir)
    rid, ids = build(lib, tmp_path)
    w = TrendChartWidget(lib, rid)
    qtbot.addWidget(w)
    w.resize(820, 380)
    w.show()
    qtbot.waitExposed(w)
    w.canvas.draw()
    yield w, ids
    lib.close()


def gids(w: TrendChartWidget) -> set[str]:
    return {a.get_gid() for ax in w.figure.axes for a in [*ax.lines, *ax.collections, *ax.patches]}


def test_journal_markers_and_bands(chart) -> None:
    w, _ = chart
    assert {"watched", "control", "noise-band", "threshold", "journal-dose", "journal-sun", "area"} <= gids(w)
    assert len(w.figure.axes) == 2  # darkened area on a secondary axis


def test_metric_switch(chart) -> None:
    w, _ = chart
    w.metric_combo.setCurrentIndex(w.metric_combo.findData("ITA"))
    assert w.current_metric == "ITA"
    w.canvas.draw()
    ax = w.figure.skintrack_main_ax
    assert "ITA" in ax.get_ylabel()
    assert "threshold" not in gids(w)
    w.set_metric("b")
    assert "b*" in w.figure.skintrack_main_ax.get_ylabel()


def test_click_point_emits_photo(chart, qtbot) -> None:
    w, ids = chart
    pos = w.display_pos(3)
    with qtbot.waitSignal(w.photoActivated) as sig:
        qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [ids[3]]


def test_click_empty_space_emits_nothing(chart, qtbot) -> None:
    w, _ = chart
    seen: list[int] = []
    w.photoActivated.connect(seen.append)
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=w.display_pos(2) + QPoint(0, 40))
    assert seen == []


def test_hover_tooltip_text(chart, qtbot) -> None:
    w, _ = chart
    qtbot.mouseMove(w.canvas, w.display_pos(2))
    qtbot.waitUntil(lambda: w.hover_text != "", timeout=2000)
    assert "ΔL* -3.2" in w.hover_text and "2026-03-11" in w.hover_text
    text = w.tooltip_for(0)
    assert "reference" in text


def test_journal_hover(chart) -> None:
    w, _ = chart
    ax = w.figure.skintrack_main_ax
    import matplotlib.dates as mdates

    j = w.series.journal[0]
    px, py = ax.get_xaxis_transform().transform((mdates.date2num(j.at), 0.03))
    assert any("kratom" in t for t in w.journal_at(px, py))


def test_save_png_svg(chart, tmp_path: Path) -> None:
    w, _ = chart
    w.save(str(tmp_path / "t.png"))
    w.save(str(tmp_path / "t.svg"))
    assert (tmp_path / "t.png").stat().st_size > 1000
    assert b"<svg" in (tmp_path / "t.svg").read_bytes()[:500]


def test_no_region(qtbot) -> None:
    w = TrendChartWidget(None, None)
    qtbot.addWidget(w)
    assert w.series is None
