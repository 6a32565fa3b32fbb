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


def build(lib: Library, tmp: Path, n: int = 5, name: str = "Left forearm") -> tuple[int, list[int]]:
    region = lib.add_region(name)
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
            "patches": [
                {"area_px": 300 * i, "mean_delta_L": -4.0 - i, "mean_delta_b": -1.5, "kind": "grey-blue"},
                {"area_px": 100 * i, "mean_delta_L": -8.0 - i, "mean_delta_b": 1.5, "kind": "brown"},
            ],
            "thresholds": {"threshold_L": 3.0, "noise_k": 3.0},
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
    assert {"patches", "watched", "control", "noise-band", "journal-dose", "journal-sun", "area"} <= gids(w)
    assert len(w.figure.axes) == 2  # darkened area on a secondary axis


def test_chart_plots_what_the_reading_states(chart) -> None:
    """The patches' line carries the reading's figure; no per-pixel threshold on a chart of means."""
    from skintrack.core.reading import reading

    w, _ = chart
    gid_lines = {ln.get_gid(): ln for ax in w.figure.axes for ln in ax.lines}
    assert "threshold" not in gid_lines
    patches_y = list(gid_lines["patches"].get_ydata())
    last = w.series.points[-1]
    assert patches_y[-1] == pytest.approx(-(300 * 4 * 8.0 + 100 * 4 * 12.0) / 1600)
    assert f"darker by {-patches_y[-1]:.1f} L* units" in reading(last.metrics)
    labels = w.legend.labels()
    assert any("darkened patches" in t for t in labels) and any("watched-area mean" in t for t in labels)
    # the overall-change limit applies to the mean (control calibration): drawn at −max(T, k·noise)
    assert gid_lines["overall-limit"].get_ydata()[0] == pytest.approx(-3.0)


def test_metric_switch(chart) -> None:
    w, _ = chart
    w.metric_combo.setCurrentIndex(w.metric_combo.findData("ITA"))
    assert w.current_metric == "ITA"
    w.canvas.draw()
    ax = w.figure.main_ax
    assert "ITA" in ax.get_ylabel()
    assert "threshold" not in gids(w)
    w.set_metric("b")
    assert "b*" in w.figure.main_ax.get_ylabel()


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
    assert "watched-area mean ΔL* −3.2 L*" in w.hover_text and "2026-03-11" in w.hover_text
    assert "darkened patches ΔL* −7.0 L* (brown, grey-blue)" in w.hover_text
    text = w.tooltip_for(0)
    assert "reference" in text


def test_journal_hover(chart) -> None:
    w, _ = chart
    ax = w.figure.main_ax
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


def test_dark_theme_chart_is_dark(chart) -> None:
    from skintrack.ui import theme

    w, _ = chart
    w.setPalette(theme.dark_palette())
    w.refresh()
    assert w.figure.get_facecolor()[0] < 0.3
    assert w.figure.main_ax.yaxis.label.get_color() != "#222222"
    w.setPalette(theme.light_palette())
    w.refresh()
    assert w.figure.get_facecolor()[0] > 0.9


def test_selected_checkin_marked(chart) -> None:
    w, ids = chart
    w.set_selected(ids[2])
    lines = [ln for ln in w.figure.main_ax.lines if ln.get_gid() == "selected"]
    assert len(lines) == 1
    import matplotlib.dates as mdates

    assert lines[0].get_xdata()[0] == pytest.approx(mdates.date2num(w.series.dates[2]))


def test_all_zero_area_axis_has_no_scale(qtbot, library_dir: Path, tmp_path: Path) -> None:
    lib = Library.open(library_dir)
    region = lib.add_region("Back")
    ids = []
    for i in range(3):
        path = tmp_path / f"z{i}.png"
        cv2.imwrite(str(path), np.full((30, 30, 3), 120, np.uint8))
        ids.append(lib.import_file(region.id, path, taken_at=T0 + timedelta(days=20 * i)).photo.id)
    lib.set_reference(region.id, ids[0])
    for pid in ids[1:]:
        m = {"mean_delta_L": -0.2, "darkened_area_px": 0, "darkened_fraction": 0.0, "patches": []}
        lib.save_measurement(MeasurementRecord(pid, ids[0], "model", m, "test"))
    w = TrendChartWidget(lib, region.id)
    qtbot.addWidget(w)
    w.resize(820, 380)
    w.canvas.draw()
    ax2 = w.figure.area_ax
    assert ax2.yaxis.get_offset_text().get_text() == ""
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["0"]
    lib.close()


def test_many_weekly_doses_grouped(qtbot, library_dir: Path, tmp_path: Path) -> None:
    lib = Library.open(library_dir)
    rid, _ = build(lib, tmp_path)
    for d in range(0, 120):
        lib.add_journal(T0 + timedelta(days=d), "dose", substance="kratom", amount=3, unit="g")
    w = TrendChartWidget(lib, rid)
    qtbot.addWidget(w)
    w.resize(820, 380)
    w.canvas.draw()
    dose = next(ln for ln in w.figure.main_ax.lines if ln.get_gid() == "journal-dose")
    assert len(dose.get_xdata()) <= 24
    assert "per week" in dose.get_label()
    ax = w.figure.main_ax
    px, py = ax.get_xaxis_transform().transform((dose.get_xdata()[1], 0.03))
    assert any("7 dose entries in the week of" in t for t in w.journal_at(px, py))
    lib.close()


def test_switching_region_reuses_the_axes_and_leaves_no_old_artists(
    qtbot, library_dir: Path, tmp_path: Path
) -> None:
    """A region switch replaces the data, not the axes: creating axes dominated the switch."""
    lib = Library.open(library_dir)
    first, _ = build(lib, tmp_path)
    (tmp_path / "b").mkdir()
    second, _ = build(lib, tmp_path / "b", n=4, name="Right forearm")
    w = TrendChartWidget(lib, first)
    qtbot.addWidget(w)
    w.resize(820, 380)
    w.canvas.draw()
    axes = list(w.figure.axes)
    counts = [(len(ax.lines), len(ax.collections), len(ax.texts)) for ax in axes]
    w.set_region(second)
    w.set_region(first)
    w.canvas.draw()
    assert w.figure.axes == axes
    assert [(len(ax.lines), len(ax.collections), len(ax.texts)) for ax in axes] == counts
    assert not w.figure.legends  # the legend is a widget under the canvas
    assert w.drawn_region_id == first
    lib.close()


def test_layout_runs_again_only_when_a_label_changes_shape(chart, monkeypatch) -> None:
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    w, _ = chart
    runs = []
    real = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(
        ConstrainedLayoutEngine, "execute", lambda self, fig: runs.append(1) or real(self, fig)
    )
    w.canvas.draw()
    assert runs == []  # nothing changed since the fixture's draw
    w.series.points[-1].metrics["mean_delta_L"] -= 0.3  # same digits: same margins
    w._draw()
    w.canvas.draw()
    assert runs == []
    w.set_metric("ITA")  # another axis label
    w.canvas.draw()
    assert runs == [1]
    w.resize(700, 380)
    w.canvas.resize(680, 300)
    w.canvas.draw()
    assert len(runs) == 2


def test_legend_widget_matches_the_drawn_artists(chart) -> None:
    w, _ = chart
    labels = w.legend.labels()
    drawn = {a.get_label() for ax in w.figure.axes for a in [*ax.lines, *ax.collections, *ax.patches]}
    assert labels and all(lab in drawn or lab in {d.replace("\n", " ") for d in drawn} for lab in labels)
    watched = next(e for e in w.legend.entries if "watched-area mean" in e.label)
    assert watched.marker == "o" and watched.line is not None
    area = next(e for e in w.legend.entries if "Darkened area" in e.label)
    assert area.filled
    assert w.legend.heightForWidth(200) > w.legend.heightForWidth(2000)  # rows wrap


def test_saved_chart_carries_its_legend(chart, tmp_path: Path) -> None:
    w, _ = chart
    w.save(str(tmp_path / "t.svg"))
    assert "watched-area mean" in (tmp_path / "t.svg").read_text()


@pytest.mark.qt_log_ignore("does not support (propagateSizeHints|raise|grabbing)")  # offscreen popups
def test_a_short_chart_keeps_its_legend_off_the_plot(chart, qtbot) -> None:
    """In a 640 px high window the legend must not cover the plot: it moves behind a button."""
    chart, _ids = chart
    chart.resize(380, 190)
    qtbot.waitUntil(lambda: chart.legend_button.isVisible())
    assert not chart.legend.isVisible()
    menu = chart.show_legend_popup()
    popup = menu.findChild(type(chart.legend), "trendLegendPopup")
    assert popup is not None and popup.labels() == chart.legend.labels() and popup.labels()
    menu.close()
    chart.resize(600, 520)
    qtbot.waitUntil(lambda: chart.legend.isVisible())
    assert not chart.legend_button.isVisible()
    assert not chart.canvas.geometry().intersects(chart.legend.geometry())
