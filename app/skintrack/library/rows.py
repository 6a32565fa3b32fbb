"""Values as the database stores them and the one mapping from a row to a record.

Dates are ISO 8601 text with a sortable number beside them; JSON columns hold plain lists and
dicts. ``record_from_row`` builds any record dataclass from a row by field name, so each record
kind only declares how its non-plain columns convert.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import date, datetime
from typing import Any, TypeVar

from skintrack.core.dates import date_problem
from skintrack.errors import UsageError

T = TypeVar("T")
Converter = Callable[[Any], Any]


class _Unset:
    """Marks "argument not given" where None is a meaningful value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# ---------------------------------------------------------------- datetimes as text
def dt_to_text(value: datetime) -> str:
    """ISO 8601, with the UTC offset when the datetime is aware."""
    return value.isoformat(timespec="seconds")


def dt_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


_EPOCH = datetime(1970, 1, 1)


def stored_dt(text: str | None, fallback: datetime | None = None) -> datetime:
    """A date read from a row; an unreadable or out-of-range one (written by another program or a
    crafted backup) becomes ``fallback`` so one bad row never makes the library unreadable."""
    try:
        value = dt_from_text(str(text))
    except (TypeError, ValueError):
        value = None
    if value is None or date_problem(value) is not None:
        return fallback if fallback is not None else _EPOCH
    return value


def opt_dt(text: str | None) -> datetime | None:
    return None if text is None else dt_from_text(text)


def check_user_date(value: datetime) -> None:
    """UsageError for dates outside the range Skintrack keeps (see ``skintrack.core.dates``)."""
    problem = date_problem(value)
    if problem is not None:
        raise UsageError(f"invalid date {value.isoformat()}: {problem}")


def sort_key(value: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as local wall-clock time.

    Dates the platform cannot convert (far outside the accepted range) sort at the ends.
    """
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return float("-inf") if value.year < 1970 else float("inf")


def now() -> datetime:
    """Current local time with its offset."""
    return datetime.now().astimezone().replace(microsecond=0)


def as_datetime(value: date | datetime, *, end_of_day: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value
    if end_of_day:
        return datetime.combine(value, datetime.max.time()).replace(microsecond=0)
    return datetime.combine(value, datetime.min.time())


# ---------------------------------------------------------------- JSON columns
def json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def plain(value: Any) -> Any:
    """numpy arrays and scalars -> lists and floats, so json.dumps never chokes."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def plain_matrix(value: Any) -> list[list[float]] | None:
    if value is None:
        return None
    return [[float(x) for x in row] for row in plain(value)]


# ---------------------------------------------------------------- row mapping
def record_from_row(
    cls: type[T],
    row: sqlite3.Row,
    convert: Mapping[str, Converter] | None = None,
    **given: Any,
) -> T:
    """The record ``cls`` (a dataclass) from ``row``: each field from the column of its name,
    through ``convert[name]`` when given; ``given`` values win (fields computed from several
    columns). Fields without a column keep their default."""
    columns = set(row.keys())
    convert = convert or {}
    values: dict[str, Any] = {}
    for name in field_names(cls):
        if name in given:
            values[name] = given[name]
        elif name in columns:
            raw = row[name]
            conv = convert.get(name)
            values[name] = raw if conv is None else conv(raw)
    return cls(**values)


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """The dataclass's field names, looked up once: a region's rows map hundreds of records."""
    return tuple(f.name for f in fields(cls))
