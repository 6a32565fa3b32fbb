"""Helpers shared by the command modules: argument parsing, JSON and table output, opening the library.

The command-line contract is in DESIGN.md ("Command-line contract"): ``--json`` output is a
stable list of objects (or one object for single results) with ISO 8601 dates; human output is
aligned columns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from skintrack.core.dates import date_problem
from skintrack.errors import EXIT_USAGE
from skintrack.library import JournalEntry, Library, Photo, RegionSummary

_When = TypeVar("_When", date, datetime)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?([+-]\d{2}:?\d{2}|Z)?$")


# ---------------------------------------------------------------- parsing helpers
def _plausible(text: str, when: _When) -> _When:
    """``when`` parsed from ``text``, unless no photo can have that date (see ``date_problem``)."""
    problem = date_problem(when)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: {problem}")
    return when


def parse_when(text: str) -> datetime:
    """``YYYY-MM-DD[THH:MM[:SS]][+HH:MM]`` -> datetime (naive unless an offset is given)."""
    value = text.strip()
    if not _DATE_RE.match(value):
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: {exc}") from exc
    return _plausible(text, when)


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` -> date."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from exc
    return _plausible(text, day)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of days, not {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


# ---------------------------------------------------------------- output helpers
def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _show_dt(value: datetime | None) -> str:
    if value is None:
        return "-"
    text = value.strftime("%Y-%m-%d %H:%M")
    return text


def region_json(summary: RegionSummary) -> dict[str, Any]:
    r = summary.region
    return {
        "id": r.id,
        "name": r.name,
        "body_site": r.body_site,
        "notes": r.notes,
        "interval_days": r.interval_days,
        "reference_photo_id": r.reference_photo_id,
        "watched_area": r.watched_area,
        "control_area": r.control_area,
        "archived": r.archived,
        "created_at": _iso(r.created_at),
        "photo_count": summary.photo_count,
        "last_taken_at": _iso(summary.last_taken_at),
        "latest_photo_id": summary.latest_photo_id,
        "overdue": summary.overdue,
        "next_due": _iso(summary.next_due),
    }


def photo_json(lib: Library, photo: Photo, region_name: str | None = None) -> dict[str, Any]:
    return {
        "id": photo.id,
        "region_id": photo.region_id,
        "region": region_name,
        "sha256": photo.sha256,
        "original_name": photo.original_name,
        "suffix": photo.suffix,
        "size_bytes": photo.size_bytes,
        "width": photo.width,
        "height": photo.height,
        "taken_at": _iso(photo.taken_at),
        "taken_at_source": photo.taken_at_source,
        "taken_at_note": photo.taken_at_note,
        "imported_at": _iso(photo.imported_at),
        "notes": photo.notes,
        "deleted_at": _iso(photo.deleted_at),
        "checkin_id": photo.checkin_id,
        "path": _original_or_none(lib, photo),
    }


def _original_or_none(lib: Library, photo: Photo) -> str | None:
    """The original's path; None for a row whose file name is invalid (`check` reports it)."""
    from skintrack.library.store import InvalidOriginalNameError

    try:
        return str(lib.original_path(photo))
    except InvalidOriginalNameError:
        return None


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _iso(entry.at),
        "kind": entry.kind,
        "substance": entry.substance,
        "amount": entry.amount,
        "unit": entry.unit,
        "notes": entry.notes,
    }


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned, space-separated columns; the last column is not padded."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _one_line(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _progress_to_stderr() -> bool:
    return sys.stderr.isatty()


# ---------------------------------------------------------------- library access
def _library_dir(args: argparse.Namespace) -> Path:
    from skintrack.paths import resolve_library_dir

    return resolve_library_dir(args.library)


def _open(args: argparse.Namespace, *, create: bool) -> Library:
    """Open the library; ``create=False`` (read commands) never creates or initialises one.

    An interrupted restore may have left the library beside its folder: that is finished or
    rolled back first (and said), so the library's state below is the real one.
    """
    from skintrack.library.swap import prepare_open

    root = _library_dir(args)
    for line in prepare_open(root):
        print(f"skintrack: {line}", file=sys.stderr)
    return Library.open(root, create=create)


def _shown(path: Path) -> str:
    """A path printable on any terminal (undecodable file-name bytes as U+FFFD)."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def _help_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return show
