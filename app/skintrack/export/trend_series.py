"""The region trend series, Qt- and matplotlib-free: one point per check-in from the stored
measurements (against the region's reference) plus the journal, for the chart, the PDF and the GUI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from skintrack.core import formatting
from skintrack.core.reading import patch_mean, stored_thresholds
from skintrack.library import shots
from skintrack.library.db import Library
from skintrack.library.models import JournalEntry
from skintrack.library.region_rows import RegionRows, read_region_rows
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


def _journal_label(entry: JournalEntry) -> str:
    parts = [str(entry.kind)]
    if entry.substance:
        parts.append(str(entry.substance))
    amount = entry.amount
    if amount is not None:
        parts.append(f"{amount:g} {entry.unit or ''}".strip())
    if entry.notes:
        parts.append(f"— {entry.notes}")
    return " ".join(parts)


def trend_series(lib: Library, region_id: int, rows: RegionRows | None = None) -> TrendSeries:
    """One point per check-in against the region's reference, with journal entries in range.

    A check-in with several shots is measured through its best-quality shot that has a
    measurement (``library.shots``); the point says which. The reference's check-in is the zero.
    ``rows`` are the region's rows when the caller already read them (the GUI shares one read).
    """
    if rows is None:
        rows = read_region_rows(lib, region_id)
    region = rows.region
    photos = {p.id: p for p in rows.photos}
    checkins = rows.checkins
    ref_id = rows.reference_id
    by_photo = rows.measured()
    settings = load_settings(lib)
    threshold_l, noise_k = settings.threshold_L, settings.noise_k
    latest = [m for m in by_photo.values() if isinstance(m.metrics, dict) and m.metrics.get("thresholds")]
    if latest:
        threshold_l, noise_k = stored_thresholds(latest[-1].metrics, threshold_l, noise_k)
    records = rows.repeat_noise
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
    qualities = rows.qualities
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
        for e in rows.journal:
            at = _naive(e.at)
            if start <= at <= end:
                series.journal.append(JournalMark(at, str(e.kind), _journal_label(e)))
    return series
