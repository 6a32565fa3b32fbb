"""The range of dates Skintrack accepts for a photo or a journal entry, and safe arithmetic on them.

Python's datetime stops at year 9999 and epoch conversions overflow well before that, so a
single absurd date (a camera clock at 9999-12-31, year 0001, an offset of +99:99) must never
reach the database: EXIF dates outside the range fall back to the file time with the reason kept,
user dates outside it are a usage error, and stored rows that hold one anyway (written by
another program or a crafted backup) read back safely.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

MIN_YEAR = 1900
MAX_YEAR = 2100
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use (Line Islands)


def date_problem(value: date | datetime) -> str | None:
    """Why ``value`` cannot be a photo's date, or None when it can."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return f"year {value.year} is outside {MIN_YEAR}-{MAX_YEAR}"
    if isinstance(value, datetime) and value.tzinfo is not None:
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            return f"UTC offset {offset} is beyond +-14:00"
    return None


def add_days(day: date, days: int) -> date | None:
    """``day + days``, or None where the result would leave the calendar."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None
