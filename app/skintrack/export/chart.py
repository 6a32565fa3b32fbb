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
from matplotlib.figure import Figure

from skintrack.services.settings import defaults, load_settings

DEFAULT_THRESHOLD_L = defaults().threshold_L
DEFAULT_NOISE_K = defaults().noise_k

METRICS: dict[str, tuple[str, str]] = {
    # key: (metrics-dict key, axis label)
    "L": ("mean_delta_L", "ΔL* vs reference\n(L* units)"),
    "b": ("mean_delta_b", "Δb* vs reference"),
    "ITA": ("mean_delta_ita", "ΔITA° vs reference\n(degrees)"),
}
METRIC_TITLES = {"L": "Lightness L*", "b": "Yellow–blue b*", "ITA": "ITA°"}

JOURNAL_STYLE: dict[str, tuple[str, str, str]] = {
    # kind: (marker, colour, legend label)
    "dose": ("v", "#7b3294", "dose"),
    "sun": ("*", "#e08214", "sun"),
    "medication": ("s", "#1b7837", "medication"),
    "note": ("o", "#777777", "note"),
}
WATCHED_COLOUR = "#b0127a"
CONTROL_COLOUR = "#4d4d4d"
AREA_COLOUR = "#9ecae1"


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
    photo_id: int
    taken_at: datetime
    is_reference: bool
    metrics: dict[str, Any]

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
class TrendSeries:
    region_id: int
    region_name: str
    reference_id: int | None
    points: list[TrendPoint] = field(default_factory=list)
    journal: list[JournalMark] = field(default_factory=list)
    threshold_L: float = DEFAULT_THRESHOLD_L
    noise_k: float = DEFAULT_NOISE_K

    @property
    def dates(self) -> list[datetime]:
        return [p.taken_at for p in self.points]

    def values(self, metric: str) -> list[float | None]:
        return [p.value(metric) for p in self.points]

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
    """Series of the region's measurements against its reference, with journal entries in range."""
    region = lib.region(region_id)
    photos = list(lib.list_photos(region_id))
    ref_id = (
        region.reference_photo_id
        if region.reference_photo_id is not None
        else (photos[0].id if photos else None)
    )
    by_photo = {m.photo_id: m for m in lib.measurements_for_region(region_id) if m.reference_id == ref_id}
    settings = load_settings(lib)
    series = TrendSeries(
        region_id, region.name, ref_id, threshold_L=settings.threshold_L, noise_k=settings.noise_k
    )
    for p in photos:
        if p.id == ref_id:
            series.points.append(TrendPoint(p.id, _naive(p.taken_at), True, {}))
        elif p.id in by_photo:
            series.points.append(TrendPoint(p.id, _naive(p.taken_at), False, dict(by_photo[p.id].metrics)))
    if series.points:
        start = min(series.dates) - timedelta(days=14)
        end = max(series.dates) + timedelta(days=14)
        for e in lib.list_journal():
            at = _naive(e.at)
            if start <= at <= end:
                series.journal.append(JournalMark(at, str(e.kind), _journal_label(e)))
    return series


def trend_figure(
    series: TrendSeries,
    metric: str = "L",
    *,
    fig: Figure | None = None,
    figsize: tuple[float, float] = (8.0, 4.2),
    dpi: float = 100.0,
    title: str | None = None,
    show_area: bool = True,
) -> Figure:
    """Draw the trend of ``metric`` ("L", "b" or "ITA"); reuses ``fig`` (cleared) when given."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}")
    if fig is None:
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    else:
        fig.clear()
    ax: Axes = fig.add_subplot()
    fig.skintrack_main_ax = ax  # type: ignore[attr-defined] - the GUI hit-tests on this axes
    fig.skintrack_series = series  # type: ignore[attr-defined]
    fig.skintrack_metric = metric  # type: ignore[attr-defined]
    ax.set_title(title if title is not None else f"{series.region_name}: {METRIC_TITLES[metric]}", loc="left")
    ax.set_ylabel(METRICS[metric][1])
    ax.axhline(0.0, color="#999999", lw=0.8, zorder=1)
    ax.grid(True, axis="y", color="#e5e5e5", lw=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    if not series.points:
        ax.text(
            0.5, 0.5, "No measurements yet", ha="center", va="center", transform=ax.transAxes, color="#777"
        )
        ax.set_yticks([])
        return fig

    xs = [mdates.date2num(d) for d in series.dates]
    ys = series.values(metric)

    # secondary axis first so the lines are drawn above the bars
    if show_area:
        area, area_label = series.area()
        ax2 = ax.twinx()
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        width = max(1.5, 0.35 * (max(xs) - min(xs)) / max(1, len(xs)))
        ax2.bar(
            xs,
            [a or 0.0 for a in area],
            width=width,
            color=AREA_COLOUR,
            alpha=0.55,
            label=area_label.split("(")[0].strip(),
            gid="area",
        )
        ax2.set_ylabel(area_label, color="#3182bd")
        ax2.tick_params(axis="y", colors="#3182bd")
        ax2.spines["top"].set_visible(False)
        top = max([a or 0.0 for a in area] + [1e-9])
        ax2.set_ylim(0, top * 3.0)  # bars in the lower third, out of the lines' way
        fig.skintrack_area_ax = ax2  # type: ignore[attr-defined]

    # noise band (±k·noise around zero) and the darkening threshold, in L* units
    noise = [p.noise for p in series.points]
    if metric == "L" and any(n is not None for n in noise):
        known = sorted(n for n in noise if n is not None)
        typical = known[len(known) // 2]  # the reference has no noise of its own: use the median
        band = [series.noise_k * (n if n is not None else typical) for n in noise]
        ax.fill_between(
            xs,
            [-b for b in band],
            band,
            color="#bdbdbd",
            alpha=0.35,
            lw=0,
            step=None,
            label=f"noise (±{series.noise_k:g}σ)",
            gid="noise-band",
        )
    if metric == "L":
        ax.axhline(
            -series.threshold_L,
            color="#d7301f",
            lw=1.0,
            ls="--",
            label=f"threshold (−{series.threshold_L:g})",
            gid="threshold",
        )

    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if pts:
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            "-o",
            color=WATCHED_COLOUR,
            lw=2,
            ms=6,
            label="watched area",
            gid="watched",
            zorder=5,
        )
    ctrl = [(x, c) for x, c in zip(xs, series.controls(metric), strict=True) if c is not None]
    if len(ctrl) > 1:
        ax.plot(
            [p[0] for p in ctrl],
            [p[1] for p in ctrl],
            "--s",
            color=CONTROL_COLOUR,
            lw=1.4,
            ms=4,
            label="control patch",
            gid="control",
            zorder=4,
        )

    # journal markers along the bottom of the time axis
    trans = ax.get_xaxis_transform()
    for kind, (marker, colour, label) in JOURNAL_STYLE.items():
        marks = [mdates.date2num(j.at) for j in series.journal if j.kind == kind]
        if marks:
            ax.plot(
                marks,
                [0.03] * len(marks),
                linestyle="none",
                marker=marker,
                color=colour,
                ms=9,
                transform=trans,
                label=label,
                gid=f"journal-{kind}",
                clip_on=False,
                zorder=6,
            )

    finite = [y for y in ys if y is not None]
    lo = min([*finite, -series.threshold_L if metric == "L" else 0.0, 0.0])
    hi = max([*finite, 0.0])
    pad = max(1.0, 0.15 * (hi - lo))
    ax.set_ylim(lo - 1.8 * pad, hi + pad)
    span = max(xs) - min(xs)
    ax.set_xlim(min(xs) - max(5.0, 0.04 * span), max(xs) + max(5.0, 0.04 * span))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))

    handles, labels = ax.get_legend_handles_labels()
    if show_area:
        h2, l2 = fig.skintrack_area_ax.get_legend_handles_labels()  # type: ignore[attr-defined]
        handles, labels = handles + h2, labels + l2
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(4, len(handles)),
        frameon=False,
        fontsize="small",
    )
    return fig
