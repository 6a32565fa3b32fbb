"""The region trend chart, Qt-free: series from stored measurements, a matplotlib Figure.

``trend_series`` reads what ``analyze`` stored (one MeasurementRecord per photo against the
region's reference) plus the journal; ``trend_figure`` draws it with the object-oriented API
(no pyplot state), so the same chart is shown in the GUI (FigureCanvasQTAgg), saved as PNG/SVG
and embedded in the PDF report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator, FuncFormatter

from skintrack.core import formatting
from skintrack.core.reading import patch_mean, stored_thresholds
from skintrack.export.chart_style import DARK as DARK  # re-exported: the GUI picks the theme here
from skintrack.export.chart_style import LIGHT, ChartStyle, style_axes
from skintrack.library import shots
from skintrack.library.quality_store import qualities_for_region
from skintrack.library.settings import defaults, load_settings

DEFAULT_THRESHOLD_L = defaults().threshold_L
DEFAULT_NOISE_K = defaults().noise_k
DEFAULT_REPEAT_K = defaults().repeat_noise_k

METRICS: dict[str, tuple[str, str]] = {
    # key: (metrics-dict key, axis label)
    "L": ("mean_delta_L", "ΔL* vs reference\n(L* units)"),
    "b": ("mean_delta_b", "Δb* vs reference\n(b* units)"),
    "ITA": ("mean_delta_ita", "ΔITA° vs reference\n(degrees)"),
}
METRIC_SYMBOL = {"L": "ΔL*", "b": "Δb*", "ITA": "ΔITA°"}
METRIC_UNIT = {"L": "L*", "b": "b*", "ITA": "°"}
METRIC_TITLES = {"L": "Lightness L*", "b": "Yellow–blue b*", "ITA": "ITA°"}

JOURNAL_STYLE: dict[str, tuple[str, str, str]] = {
    # kind: (marker, colour, legend label)
    "dose": ("v", "#7b3294", "dose"),
    "sun": ("*", "#e08214", "sun"),
    "medication": ("s", "#1b7837", "medication"),
    "note": ("o", "#777777", "note"),
}


def _naive(dt: datetime) -> datetime:
    """Wall-clock time: photos with and without a UTC offset plot on one axis."""
    return dt.replace(tzinfo=None) if dt.tzinfo is not None else dt


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclass
class TrendPoint:
    """One check-in on the chart, measured through ``photo_id`` (its best-quality shot)."""

    photo_id: int
    taken_at: datetime
    is_reference: bool
    metrics: dict[str, Any]
    checkin_id: int | None = None
    shots: int = 1
    shot_note: str = ""  # which shot stands for the check-in, in words
    repeat_noise: float | None = None  # the check-in's own repeat-shot noise (ΔL* spread, L*)

    def value(self, metric: str) -> float | None:
        if self.is_reference:
            return 0.0
        return _num(self.metrics.get(METRICS[metric][0]))

    def control(self, metric: str) -> float | None:
        """Change of the control patch, when the analysis stored it (``control`` sub-dict or prefix)."""
        if self.is_reference:
            return 0.0
        key = METRICS[metric][0]
        ctrl = self.metrics.get("control")
        if isinstance(ctrl, dict):
            return _num(ctrl.get(key))
        return _num(self.metrics.get("control_" + key.removeprefix("mean_")))

    def patches(self, metric: str) -> float | None:
        """Area-weighted change of the darkened patches (what the reading states), None without any."""
        if self.is_reference:
            return None
        return patch_mean(self.metrics, METRICS[metric][0])

    @property
    def kinds(self) -> list[str]:
        return [str(p.get("kind", "")) for p in self.metrics.get("patches") or [] if isinstance(p, dict)]

    @property
    def noise(self) -> float | None:
        return _num(self.metrics.get("noise_delta_L"))

    @property
    def area_mm2(self) -> float | None:
        return _num(self.metrics.get("darkened_area_mm2"))

    @property
    def area_fraction(self) -> float | None:
        return _num(self.metrics.get("darkened_fraction"))

    @property
    def area_px(self) -> float | None:
        return _num(self.metrics.get("darkened_area_px"))


@dataclass
class JournalMark:
    at: datetime
    kind: str
    label: str


@dataclass
class JournalBin:
    """Journal entries of one kind shown as one marker: one entry, or a week's or month's worth."""

    at: datetime
    kind: str
    entries: list[JournalMark]
    period: str  # "", "week" or "month"

    @property
    def text(self) -> str:
        if not self.period:
            return f"{formatting.day(self.at)}: {self.entries[0].label}"
        first, last = self.entries[0].at, self.entries[-1].at
        n = len(self.entries)
        entries = "entry" if n == 1 else "entries"
        head = f"{n} {self.kind} {entries} in the {self.period} of {formatting.day(self.at)}"
        return f"{head} ({formatting.day(first)} to {formatting.day(last)})"


MAX_MARKERS = 24  # more journal markers of one kind than this are grouped by week, then by month


def _grouped(marks: list[JournalMark], period: str) -> dict[datetime, list[JournalMark]]:
    groups: dict[datetime, list[JournalMark]] = {}
    for m in marks:
        day0 = m.at.replace(hour=0, minute=0, second=0, microsecond=0)
        key = day0 - timedelta(days=day0.weekday()) if period == "week" else day0.replace(day=1)
        groups.setdefault(key, []).append(m)
    return groups


def journal_bins(marks: list[JournalMark], kind: str, max_markers: int = MAX_MARKERS) -> list[JournalBin]:
    """The ``kind`` entries as markers: single ones while few, grouped by week or month when many."""
    mine = sorted((m for m in marks if m.kind == kind), key=lambda m: m.at)
    if len(mine) <= max_markers:
        return [JournalBin(m.at, kind, [m], "") for m in mine]
    period = "week"
    groups = _grouped(mine, period)
    if len(groups) > max_markers:
        period = "month"
        groups = _grouped(mine, period)
    return [JournalBin(k, kind, v, period) for k, v in sorted(groups.items())]


@dataclass
class TrendSeries:
    region_id: int
    region_name: str
    reference_id: int | None
    points: list[TrendPoint] = field(default_factory=list)
    journal: list[JournalMark] = field(default_factory=list)
    threshold_L: float = DEFAULT_THRESHOLD_L
    noise_k: float = DEFAULT_NOISE_K
    repeat_noise: float | None = None  # the region's repeat-shot noise (median over check-ins, L*)
    repeat_k: float = DEFAULT_REPEAT_K

    @property
    def uniform_measurable(self) -> bool:
        """Every measured point can see an overall change (card or control calibration)."""
        measured = [p for p in self.points if not p.is_reference]
        return bool(measured) and all(
            bool(
                p.metrics.get(
                    "uniform_change_measurable", p.metrics.get("calibration") in ("card", "control")
                )
            )
            for p in measured
        )

    @property
    def dates(self) -> list[datetime]:
        return [p.taken_at for p in self.points]

    def values(self, metric: str) -> list[float | None]:
        return [p.value(metric) for p in self.points]

    def patch_values(self, metric: str) -> list[float | None]:
        return [p.patches(metric) for p in self.points]

    def index_of(self, photo_id: int | None) -> int | None:
        return next((i for i, p in enumerate(self.points) if p.photo_id == photo_id), None)

    def controls(self, metric: str) -> list[float | None]:
        if not self.has_control:
            return [None] * len(self.points)
        return [p.control(metric) for p in self.points]

    @property
    def has_control(self) -> bool:
        return any(p.control("L") is not None for p in self.points if not p.is_reference)

    def area(self) -> tuple[list[float | None], str]:
        """Darkened area per point in the best unit all measured points share."""
        measured = [p for p in self.points if not p.is_reference]
        if measured and all(p.area_mm2 is not None for p in measured):
            return [0.0 if p.is_reference else p.area_mm2 for p in self.points], "Darkened area (mm²)"
        if measured and all(p.area_fraction is not None for p in measured):
            vals = [0.0 if p.is_reference else 100.0 * (p.area_fraction or 0.0) for p in self.points]
            return vals, "Darkened area\n(% of compared area)"
        return [0.0 if p.is_reference else p.area_px for p in self.points], "Darkened area (px)"


def _journal_label(entry: Any) -> str:
    parts = [str(entry.kind)]
    if getattr(entry, "substance", ""):
        parts.append(str(entry.substance))
    amount = getattr(entry, "amount", None)
    if amount is not None:
        parts.append(f"{amount:g} {getattr(entry, 'unit', '') or ''}".strip())
    if getattr(entry, "notes", ""):
        parts.append(f"— {entry.notes}")
    return " ".join(parts)


def trend_series(lib: Any, region_id: int) -> TrendSeries:
    """One point per check-in against the region's reference, with journal entries in range.

    A check-in with several shots is measured through its best-quality shot that has a
    measurement (``library.shots``); the point says which. The reference's check-in is the zero.
    """
    region = lib.region(region_id)
    photos = {p.id: p for p in lib.list_photos(region_id)}
    checkins = lib.list_checkins(region_id)
    ref_id = (
        region.reference_photo_id
        if region.reference_photo_id is not None
        else (next(iter(photos)) if photos else None)
    )
    by_photo = {m.photo_id: m for m in lib.measurements_for_region(region_id) if m.reference_id == ref_id}
    settings = load_settings(lib)
    threshold_l, noise_k = settings.threshold_L, settings.noise_k
    latest = [m for m in by_photo.values() if isinstance(m.metrics, dict) and m.metrics.get("thresholds")]
    if latest:
        threshold_l, noise_k = stored_thresholds(latest[-1].metrics, threshold_l, noise_k)
    records = lib.repeat_noise_for_region(region_id)
    live = {c.id: records[c.id] for c in checkins if c.shots >= 2 and c.id in records}
    region_noise = shots.region_repeat_noise(live)
    stored_repeat = next(
        (m.metrics.get("repeat_noise") for m in latest if m.metrics.get("repeat_noise")), None
    )
    repeat_k = float(stored_repeat["k"]) if isinstance(stored_repeat, dict) else settings.repeat_noise_k
    if isinstance(stored_repeat, dict) and stored_repeat.get("raised"):
        threshold_l = float(stored_repeat.get("threshold_L_setting", threshold_l))
    series = TrendSeries(
        region_id,
        region.name,
        ref_id,
        threshold_L=threshold_l,
        noise_k=noise_k,
        repeat_noise=None if region_noise is None else region_noise[0],
        repeat_k=repeat_k,
    )
    qualities = qualities_for_region(lib, region_id)
    for checkin in checkins:
        own = _num(live[checkin.id].metrics.get("robust_std_delta_L")) if checkin.id in live else None
        if ref_id in checkin.photo_ids:
            photo = photos[ref_id]
            note = "the reference photo" + (f" (1 of {checkin.shots} shots)" if checkin.shots > 1 else "")
            series.points.append(
                TrendPoint(ref_id, _naive(photo.taken_at), True, {}, checkin.id, checkin.shots, note, own)
            )
            continue
        chosen = next((pid for pid in shots.ranked_shots(checkin, qualities) if pid in by_photo), None)
        if chosen is None:
            continue
        series.points.append(
            TrendPoint(
                chosen,
                _naive(checkin.taken_at),
                False,
                dict(by_photo[chosen].metrics),
                checkin.id,
                checkin.shots,
                shots.shot_note(checkin, chosen, qualities),
                own,
            )
        )
    series.points.sort(key=lambda p: p.taken_at)
    if series.points:
        start = min(series.dates) - timedelta(days=14)
        end = max(series.dates) + timedelta(days=14)
        for e in lib.list_journal():
            at = _naive(e.at)
            if start <= at <= end:
                series.journal.append(JournalMark(at, str(e.kind), _journal_label(e)))
    return series


def _chart_axes(fig: Figure) -> tuple[Axes, Axes | None]:
    """The chart's axes, emptied of data, when ``fig`` already shows a trend chart; else new ones.

    Creating axes (and their ticks) costs more than drawing the data, so a figure that is redrawn
    for another region or metric keeps its axes and only its artists are replaced.
    """
    ax: Axes | None = getattr(fig, "skintrack_main_ax", None)
    ax2: Axes | None = getattr(fig, "skintrack_area_ax", None)
    if ax is None or ax not in fig.axes or (ax2 is not None and ax2 not in fig.axes):
        fig.clear()
        fig.skintrack_area_ax = None  # type: ignore[attr-defined]
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


def _area_axis(
    ax: Axes, series: TrendSeries, xs: list[float], style: ChartStyle, ax2: Axes | None = None
) -> Axes:
    """Darkened area as bars on the right axis, in the lower third; no odd scale when all zero."""
    area, area_label = series.area()
    values = [a or 0.0 for a in area]
    ax2 = ax2 if ax2 is not None else ax.twinx()
    ax2.set_visible(True)
    ax2.set_facecolor(style.face)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    width = max(1.5, 0.35 * (max(xs) - min(xs)) / max(1, len(xs)))
    half = width / 2
    boxes = [
        [(x - half, 0.0), (x - half, v), (x + half, v), (x + half, 0.0)]
        for x, v in zip(xs, values, strict=True)
    ]
    bars = PolyCollection(  # one artist for all bars: a region of years has hundreds
        boxes, facecolors=style.area, edgecolors="none", alpha=0.55, label=area_label, gid="area",
    )  # fmt: skip
    ax2.add_collection(bars, autolim=False)
    ax2.set_ylabel(area_label, color=style.area_text)
    ax2.tick_params(axis="y", colors=style.area_text)
    ax2.spines["top"].set_visible(False)
    for side in ("left", "bottom", "right"):
        ax2.spines[side].set_color(style.muted)
    top = max(values)
    if top <= 0:
        ax2.set_ylim(0, 1)
        ax2.set_yticks([0])
    else:
        ax2.set_ylim(0, top * 3.0)
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
    fig: Figure | None = None,
    figsize: tuple[float, float] = (8.0, 4.2),
    dpi: float = 100.0,
    title: str | None = None,
    show_area: bool = True,
    style: ChartStyle = LIGHT,
    selected_photo_id: int | None = None,
    legend: bool = True,
) -> Figure:
    """Draw the trend of ``metric`` ("L", "b" or "ITA"); reuses ``fig`` (cleared) when given.

    Plots what the reading states, the darkened patches' change, beside the watched-area mean
    (and the control patch); the only thresholds drawn are those that apply to a mean.
    ``legend=False`` leaves the legend to the caller (:func:`legend_entries`), e.g. a GUI that
    shows it as widgets.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}")
    if fig is None:
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax, old_ax2 = _chart_axes(fig)
    fig.set_facecolor(style.face)
    fig.skintrack_main_ax = ax  # type: ignore[attr-defined] - the GUI hit-tests on this axes
    fig.skintrack_series = series  # type: ignore[attr-defined]
    fig.skintrack_metric = metric  # type: ignore[attr-defined]
    ax.set_title(title if title is not None else f"{series.region_name}: {METRIC_TITLES[metric]}", loc="left")
    ax.set_ylabel(METRICS[metric][1])
    style_axes(ax, style)
    ax.axhline(0.0, color=style.zero, lw=0.8, zorder=1)
    ax.grid(True, axis="y", color=style.grid, lw=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

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
    ax2 = _area_axis(ax, series, xs, style, old_ax2) if show_area else None
    if ax2 is not None:
        fig.skintrack_area_ax = ax2  # type: ignore[attr-defined]
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


def legend_entries(fig: Figure) -> tuple[list[Any], list[str]]:
    """The chart's legend handles and one-line labels, main axes first, then the area axis."""
    ax = getattr(fig, "skintrack_main_ax", None)
    if ax is None:
        return [], []
    handles, labels = ax.get_legend_handles_labels()
    ax2 = getattr(fig, "skintrack_area_ax", None)
    if ax2 is not None and ax2.get_visible():
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + [lab.replace("\n", " ") for lab in l2]
    return handles, labels
