"""export.chart redrawn into one figure (the GUI's): what it shows matches a fresh figure."""

from __future__ import annotations

from datetime import datetime, timedelta

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import PathPatch

from skintrack.export.chart import DARK, LIGHT, TrendFigure, trend_figure
from skintrack.export.trend_series import TrendPoint, TrendSeries

T0 = datetime(2024, 5, 1, 9, 0)


def _series(region_id: int, areas: list[float], days: int = 30) -> TrendSeries:
    points = [TrendPoint(1, T0, True, {})]
    for i, area in enumerate(areas, start=2):
        metrics = {"mean_delta_L": -0.5 * i, "darkened_area_mm2": area, "noise_delta_L": 0.4}
        points.append(TrendPoint(i, T0 + timedelta(days=days * (i - 1)), False, metrics))
    return TrendSeries(region_id, f"R{region_id}", 1, points)


def _bars(fig: TrendFigure) -> PathPatch:
    assert fig.area_ax is not None
    return next(p for p in fig.area_ax.patches if p.get_gid() == "area")


def test_area_bars_are_one_path_with_every_height() -> None:
    series = _series(1, [2.0, 0.0, 5.5])
    fig = trend_figure(series, legend=False)
    path = _bars(fig).get_path()
    rects = path.vertices.reshape(-1, 5, 2)
    xs = mdates.date2num(series.dates)
    assert np.allclose((rects[:, 0, 0] + rects[:, 2, 0]) / 2, xs)  # centred on each check-in
    assert np.all(rects[:, 2, 0] - rects[:, 0, 0] > 0)
    assert list(rects[:, 1, 1]) == [0.0, 2.0, 0.0, 5.5]
    assert fig.area_ax.get_ylim() == pytest.approx((0.0, 5.5 * 3.0))


def test_redraw_for_another_region_matches_a_fresh_figure() -> None:
    fig = TrendFigure(figsize=(7.0, 3.0))
    trend_figure(_series(1, [1.0, 2.0]), fig=fig, legend=False)
    other = _series(2, [4.0, 0.5, 3.0], days=90)
    reused = trend_figure(other, fig=fig, legend=False)
    fresh = trend_figure(other, figsize=(7.0, 3.0), legend=False)
    assert len(reused.axes) == 2
    for a, b in ((reused.main_ax, fresh.main_ax), (reused.area_ax, fresh.area_ax)):
        assert a is not None and b is not None
        assert a.get_xlim() == pytest.approx(b.get_xlim()) and a.get_ylim() == pytest.approx(b.get_ylim())
        assert list(a.get_xticks()) == pytest.approx(list(b.get_xticks()))
        assert sorted(x.get_gid() or "" for x in [*a.lines, *a.collections, *a.patches]) == sorted(
            x.get_gid() or "" for x in [*b.lines, *b.collections, *b.patches]
        )
    assert np.array_equal(_bars(reused).get_path().vertices, _bars(fresh).get_path().vertices)


def test_theme_change_while_the_area_axis_is_hidden_still_recolours_it() -> None:
    """The area axis is styled on its own: hidden (a region without points) while the theme
    changes, it wears the new theme when it shows again."""
    fig = TrendFigure(figsize=(7.0, 3.0))
    trend_figure(_series(1, [1.0, 2.0]), fig=fig, style=LIGHT, legend=False)
    trend_figure(TrendSeries(2, "empty", None), fig=fig, style=LIGHT, legend=False)
    trend_figure(TrendSeries(2, "empty", None), fig=fig, style=DARK, legend=False)
    trend_figure(_series(3, [3.0]), fig=fig, style=DARK, legend=False)
    ax2 = fig.area_ax
    assert ax2 is not None and ax2.get_visible()
    assert to_rgba(ax2.get_facecolor()) == to_rgba(DARK.face)
    assert ax2.yaxis.get_tick_params()["labelcolor"] == DARK.area_text
    assert to_rgba(fig.main_ax.get_facecolor()) == to_rgba(DARK.face)
