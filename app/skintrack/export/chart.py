"""The region trend chart, Qt-free: a matplotlib Figure of a :class:`TrendSeries`.

``export.trend_series`` reads what ``analyze`` stored (one point per check-in against the
region's reference) plus the journal; ``trend_figure`` draws it with the object-oriented API
(no pyplot state), so the same chart is shown in the GUI (FigureCanvasQTAgg), saved as PNG/SVG
and embedded in the PDF report.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.ticker import AutoLocator, FixedLocator, FuncFormatter

from skintrack.core import formatting
from skintrack.export.chart_style import DARK as DARK  # re-exported: the GUI picks the theme here
from skintrack.export.chart_style import LIGHT, ChartStyle, style_axes
from skintrack.export.trend_series import (
    JOURNAL_STYLE,
    METRIC_SYMBOL,
    METRIC_TITLES,
    METRICS,
    TrendSeries,
    journal_bins,
)


class TrendFigure(Figure):
    """A Figure that keeps its trend chart's axes: the GUI hit-tests on ``main_ax``, and a redraw
    for another region or metric reuses both."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.main_ax: Axes | None = None
        self.area_ax: Axes | None = None
        self.styled: ChartStyle | None = None  # the style main_ax already wears
        self.area_styled: ChartStyle | None = None  # the style area_ax already wears


def _chart_axes(fig: TrendFigure) -> tuple[Axes, Axes | None]:
    """The chart's axes, emptied of data, when ``fig`` already shows a trend chart; else new ones.

    Creating axes (and their ticks) costs more than drawing the data, so a figure that is redrawn
    for another region or metric keeps its axes and only its artists are replaced.
    """
    ax, ax2 = fig.main_ax, fig.area_ax
    if ax is None or ax not in fig.axes or (ax2 is not None and ax2 not in fig.axes):
        fig.clear()
        fig.area_ax = None
        fig.styled = fig.area_styled = None
        return fig.add_subplot(), None
    for legend in list(fig.legends):
        legend.remove()
    for a in (ax, ax2):
        if a is None:
            continue
        for container in list(a.containers):
            container.remove()
        for artist in [*a.lines, *a.collections, *a.patches, *a.texts]:
            artist.remove()
        a.yaxis.set_major_locator(AutoLocator())
        a.relim()
    return ax, ax2


def _bars_path(xs: list[float], heights: list[float], half: float) -> Path:
    """Rectangles from 0 to each height, centred on each x, as one compound path."""
    n = len(xs)
    x = np.asarray(xs, float)
    h = np.asarray(heights, float)
    verts = np.empty((n, 5, 2))
    verts[:, 0] = np.c_[x - half, np.zeros(n)]
    verts[:, 1] = np.c_[x - half, h]
    verts[:, 2] = np.c_[x + half, h]
    verts[:, 3] = np.c_[x + half, np.zeros(n)]
    verts[:, 4] = verts[:, 0]
    codes = np.tile(
        np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], Path.code_type), n
    )
    return Path(verts.reshape(-1, 2), codes)


def _area_axis(
    ax: Axes, series: TrendSeries, xs: list[float], style: ChartStyle, ax2: Axes | None, restyle: bool
) -> Axes:
    """Darkened area as bars on the right axis, in the lower third; no odd scale when all zero.

    ``restyle``: the axis is new or the style changed (otherwise its colours are already set).
    """
    area, area_label = series.area()
    values = [a or 0.0 for a in area]
    if ax2 is None:
        ax2, restyle = ax.twinx(), True
    ax2.set_visible(True)
    if restyle:
        ax2.set_facecolor(style.face)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    width = max(1.5, 0.35 * (max(xs) - min(xs)) / max(1, len(xs)))
    bars = PathPatch(  # one path for all bars: a region of years has hundreds of them
        _bars_path(xs, values, width / 2), facecolor=style.area, edgecolor="none", alpha=0.55,
        label=area_label, gid="area",
    )  # fmt: skip
    ax2.add_artist(bars)  # not add_patch: its data limits walk every segment; the limits are set below
    if restyle:
        ax2.tick_params(axis="y", colors=style.area_text)
        ax2.spines["top"].set_visible(False)
        for side in ("left", "bottom", "right"):
            ax2.spines[side].set_color(style.muted)
    ax2.set_ylabel(area_label, color=style.area_text)
    top = max(values)
    if top <= 0:
        ax2.set_ylim(0, 1)
        ax2.set_yticks([0])
    else:
        ax2.set_ylim(0, top * 3.0)
    if restyle:
        ax2.yaxis.get_major_formatter().set_useOffset(False)
        ax2.ticklabel_format(axis="y", style="plain")
    return ax2


def _noise_band(ax: Axes, series: TrendSeries, xs: list[float], style: ChartStyle) -> None:
    """±k·noise around zero: changes of the watched-area mean inside it are not meaningful.

    With repeat shots the noise is their measured disagreement (each check-in's own, else the
    region's), the set-up's real repeatability; else each pair's estimated noise of ΔL*.
    """
    if series.repeat_noise is not None:
        k = series.repeat_k
        band = [
            k * (p.repeat_noise if p.repeat_noise is not None else series.repeat_noise) for p in series.points
        ]
        typical = series.repeat_noise
        label = f"repeat-shot noise (±{formatting.number(k, 0)} × spread between repeat shots)"
        limit = max(series.threshold_L, k * typical)
    else:
        noise = [p.noise for p in series.points]
        known = sorted(n for n in noise if n is not None)
        if not known:
            return
        typical = known[len(known) // 2]  # the reference has no noise of its own: use the median
        band = [series.noise_k * (n if n is not None else typical) for n in noise]
        label = f"measurement noise (±{formatting.number(series.noise_k, 0)} × estimated noise)"
        limit = max(series.threshold_L, series.noise_k * typical)
    ax.fill_between(
        xs, [-b for b in band], band, color=style.noise, alpha=0.35, lw=0, label=label, gid="noise-band",
    )  # fmt: skip
    if series.uniform_measurable:
        ax.axhline(
            -limit, color=style.patches, lw=1.0, ls=":",
            label=f"overall darkening limit ({formatting.delta_l(-limit)})", gid="overall-limit",
        )  # fmt: skip


def _line(ax: Axes, xs: list[float], ys: list[float | None], **kw: Any) -> None:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], **kw)


def _journal(ax: Axes, series: TrendSeries) -> None:
    """Journal markers along the bottom of the time axis, grouped when there are many."""
    trans = ax.get_xaxis_transform()
    for kind, (marker, colour, label) in JOURNAL_STYLE.items():
        bins = journal_bins(series.journal, kind)
        if not bins:
            continue
        grouped = bins[0].period
        xs = [
            mdates.date2num(b.at + (timedelta(days=3) if grouped == "week" else timedelta(0))) for b in bins
        ]
        ax.plot(
            xs, [0.03] * len(xs), linestyle="none", marker=marker, color=colour,
            ms=9, transform=trans, label=f"{label} (per {grouped})" if grouped else label,
            gid=f"journal-{kind}", clip_on=False, zorder=6,
        )  # fmt: skip


def trend_figure(
    series: TrendSeries,
    metric: str = "L",
    *,
    fig: TrendFigure | None = None,
    figsize: tuple[float, float] = (8.0, 4.2),
    dpi: float = 100.0,
    title: str | None = None,
    show_area: bool = True,
    style: ChartStyle = LIGHT,
    selected_photo_id: int | None = None,
    legend: bool = True,
) -> TrendFigure:
    """Draw the trend of ``metric`` ("L", "b" or "ITA"); reuses ``fig`` (cleared) when given.

    Plots what the reading states, the darkened patches' change, beside the watched-area mean
    (and the control patch); the only thresholds drawn are those that apply to a mean.
    ``legend=False`` leaves the legend to the caller (:func:`legend_entries`), e.g. a GUI that
    shows it as widgets.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}")
    if fig is None:
        fig = TrendFigure(figsize=figsize, dpi=dpi, layout="constrained")
    ax, old_ax2 = _chart_axes(fig)
    restyle = fig.styled != style  # new axes, or another theme: colours, grid and spines
    fig.styled = style
    fig.set_facecolor(style.face)
    fig.main_ax = ax
    ax.set_title(title if title is not None else f"{series.region_name}: {METRIC_TITLES[metric]}", loc="left")
    ax.set_ylabel(METRICS[metric][1])
    if restyle:
        style_axes(ax, style)
        ax.grid(True, axis="y", color=style.grid, lw=0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    ax.axhline(0.0, color=style.zero, lw=0.8, zorder=1)

    if old_ax2 is not None and (not show_area or not series.points):
        old_ax2.set_visible(False)
    if not series.points:
        ax.text(
            0.5, 0.5, "No measurements yet", ha="center", va="center",
            transform=ax.transAxes, color=style.muted,
        )  # fmt: skip
        ax.set_yticks([])
        return fig

    xs = [float(x) for x in mdates.date2num(series.dates)]
    ys = series.values(metric)
    patch_ys = series.patch_values(metric)
    ax2 = _area_axis(ax, series, xs, style, old_ax2, fig.area_styled != style) if show_area else None
    if ax2 is not None:
        fig.area_ax, fig.area_styled = ax2, style
    if metric == "L":
        _noise_band(ax, series, xs, style)
    _line(
        ax, xs, patch_ys, linestyle="-", marker="D", color=style.patches, lw=2, ms=6,
        label=f"darkened patches ({METRIC_SYMBOL[metric]})", gid="patches", zorder=6,
    )  # fmt: skip
    _line(
        ax, xs, ys, linestyle="-", marker="o", color=style.watched, lw=1.6, ms=5,
        label=f"watched-area mean ({METRIC_SYMBOL[metric]})", gid="watched", zorder=5,
    )  # fmt: skip
    ctrl = series.controls(metric)
    if sum(c is not None for c in ctrl) > 1:
        _line(
            ax, xs, ctrl, linestyle="--", marker="s", color=style.control, lw=1.4, ms=4,
            label="control patch", gid="control", zorder=4,
        )  # fmt: skip
    sel = series.index_of(selected_photo_id)
    if sel is not None:
        ax.axvline(xs[sel], color=style.text, lw=1.0, alpha=0.6, gid="selected", zorder=2)
    _journal(ax, series)

    finite = [y for y in [*ys, *patch_ys, *[c for c in ctrl if c is not None]] if y is not None]
    lo = min([*finite, 0.0])
    hi = max([*finite, 0.0])
    pad = max(1.0, 0.15 * (hi - lo))
    ax.set_ylim(lo - 1.8 * pad, hi + pad)
    xj = [float(x) for x in mdates.date2num([j.at for j in series.journal])] if series.journal else []
    x0, x1 = min(xs + xj), max(xs + xj)
    span = x1 - x0
    ax.set_xlim(x0 - max(5.0, 0.04 * span), x1 + max(5.0, 0.04 * span))
    locator = mdates.AutoDateLocator(minticks=2, maxticks=6 if fig.get_figwidth() >= 7.0 else 4)
    ax.xaxis.set_major_locator(locator)
    # The dates' ticks fixed once for these limits: a draw (layout, label placement, the twin
    # axis) would otherwise run the date rules several times over.
    ax.xaxis.set_major_locator(FixedLocator(locator()))
    ax.xaxis.set_label_coords(0.5, -0.12)  # no x label: nothing to place below the tick labels
    ax.xaxis.set_major_formatter(mdates.DateFormatter(formatting.DATE_FORMAT))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: formatting.number(v, 1 if abs(v) < 10 else 0)))

    if not legend:
        return fig
    handles, labels = legend_entries(fig)
    fig_legend = fig.legend(
        handles, labels, loc="outside lower center",
        ncol=min(3 if fig.get_figwidth() >= 7.0 else 2, len(handles)),
        frameon=False, fontsize="small",
    )  # fmt: skip
    for text in fig_legend.get_texts():
        text.set_color(style.text)
    return fig


def legend_entries(fig: TrendFigure) -> tuple[list[Artist], list[str]]:
    """The chart's legend handles and one-line labels, main axes first, then the area axis."""
    ax = fig.main_ax
    if ax is None:
        return [], []
    handles, labels = ax.get_legend_handles_labels()
    ax2 = fig.area_ax
    if ax2 is not None and ax2.get_visible():
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + [lab.replace("\n", " ") for lab in l2]
    return handles, labels
