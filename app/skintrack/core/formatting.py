"""Numbers and dates as every screen, report and export shows them.

One module so the whole app agrees: one minus sign (U+2212), never "−0.0", units after a
thin space where the unit is a word, and one date format (ISO 8601, which sorts and is read
the same everywhere).
"""

from __future__ import annotations

import math
from datetime import date, datetime

MINUS = "\u2212"
DASH = "–"  # a value that is not there
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


def number(value: float | None, decimals: int = 1, *, signed: bool = False, unit: str = "") -> str:
    """``value`` rounded to ``decimals``; "–" when missing; no negative zero; U+2212 as minus."""
    if value is None:
        return DASH
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return DASH
    rounded = round(v, decimals)
    if rounded == 0:
        rounded = 0.0  # drops the sign of -0.0
    text = f"{abs(rounded):.{decimals}f}"
    if rounded < 0:
        text = MINUS + text
    elif signed and rounded > 0:
        text = "+" + text
    if unit:
        text = f"{text} {unit}" if unit[0].isalpha() or unit in ("%",) else f"{text}{unit}"
    return text


def signed(value: float | None, decimals: int = 1, unit: str = "") -> str:
    """A change: "+1.2", "−3.4", "0.0"."""
    return number(value, decimals, signed=True, unit=unit)


def delta_l(value: float | None, decimals: int = 1) -> str:
    """A ΔL* with its unit: "−6.6 L*"."""
    return signed(value, decimals, unit="L*")


def day(value: date | datetime | None) -> str:
    """The one date format of the app."""
    return DASH if value is None else value.strftime(DATE_FORMAT)


def day_time(value: datetime | None) -> str:
    return DASH if value is None else value.strftime(DATETIME_FORMAT)


def area(area_mm2: float | None, area_px: float | None = None, fraction: float | None = None) -> str:
    """Darkened area in the best unit there is: cm²/mm² with a scale, else % of the area, else px."""
    if area_mm2 is not None:
        if area_mm2 >= 100.0:
            return number(area_mm2 / 100.0, 1) + " cm²"
        return number(area_mm2, 1) + " mm²"
    if fraction is not None:
        pct = 100.0 * float(fraction)
        return number(pct, 1 if pct >= 0.1 or pct == 0 else 2) + " % of the compared area"
    if area_px is None:
        return DASH
    return f"{int(area_px):,} px"
