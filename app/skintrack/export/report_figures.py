"""Figures of the PDF report that need a rule: the dose summary and the darkened-patch rows."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date

from skintrack.core import formatting
from skintrack.core.compare_json import CompareJSON
from skintrack.library.models import JournalEntry


def dose_summary(entries: list[JournalEntry]) -> list[str]:
    """Per substance and unit: days logged, range and typical (median) daily dose; never a sum.

    Daily doses are amounts per day, so adding them up says nothing; several entries on one day
    are added to give that day's dose.
    """
    per_day: dict[tuple[str, str], dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for e in entries:
        if e.kind == "dose" and e.amount is not None:
            per_day[(e.substance or "dose", e.unit or "")][e.at.date()] += float(e.amount)
    lines = []
    for (substance, unit), days in sorted(per_day.items()):
        doses = sorted(days.values())
        typical = statistics.median(doses)
        first, last = min(days), max(days)
        u = f" {unit}" if unit else ""
        rng = (
            f"{_amount(doses[0])}{u}"
            if doses[0] == doses[-1]
            else f"{_amount(doses[0])}–{_amount(doses[-1])}{u}"
        )
        lines.append(
            f"{substance}: logged on {len(days)} day{'s' if len(days) != 1 else ''} "
            f"({formatting.day(first)} to {formatting.day(last)}); daily dose {rng}, "
            f"typically {_amount(typical)}{u} a day."
        )
    return lines


def _amount(v: float) -> str:
    return f"{v:g}"


def patch_rows(m: CompareJSON | None) -> list[list[str]]:
    """One row per darkened patch of a measurement: ΔL*, Δb*, area and kind."""
    rows = []
    for i, p in enumerate(
        sorted((m or {}).get("patches") or [], key=lambda p: -float(p.get("area_px") or 0))
    ):
        kind = str(p.get("kind") or "–")
        rows.append(
            [
                str(i + 1),
                formatting.signed(p.get("mean_delta_L")),
                formatting.signed(p.get("mean_delta_b")),
                formatting.area(p.get("area_mm2"), p.get("area_px")),
                KIND_WORDS.get(kind, kind),
            ]
        )
    return rows


KIND_WORDS = {
    "grey-blue": "grey-blue (L* and b* down)",
    "brown": "brown (L* down, b* up)",
    "neutral": "neutral (b* unchanged)",
}
