"""A database that arrives from outside (a backup being restored) is input, and is checked as such.

It must be exactly a database this Skintrack writes: the schema of its version rebuilt from the
project's own migrations and compared object by object with ``sqlite_master`` (so no trigger,
view or extra table or index can ride along), a clean integrity and foreign-key check, and rows
whose values the app relies on to build paths and dates: ``sha256`` 64 lowercase hex digits,
a known suffix, parseable dates within range, valid JSON where JSON is stored. Every photo's
original must be in the archive under the name built from those validated parts.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from skintrack.core.images import SUPPORTED_SUFFIXES
from skintrack.library import schema

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MIN_YEAR, MAX_YEAR = 1900, 2100
_MAX_PROBLEMS = 5

_DATES: dict[str, tuple[tuple[str, bool], ...]] = {
    "region": (("created_at", False),),
    "photo": (("taken_at", False), ("imported_at", False), ("deleted_at", True)),
    "journal": (("at", False), ("created_at", False)),
    "alignment": (("created_at", False),),
    "measurement": (("created_at", False),),
}
_JSON: dict[str, tuple[str, ...]] = {
    "region": ("watched_area", "control_area"),
    "alignment": ("homography", "manual_points"),
    "measurement": ("metrics",),
    "setting": ("value",),
}
_NUMBERS: dict[str, tuple[str, ...]] = {"photo": ("taken_at_sort",), "journal": ("at_sort",)}


class UnusableDatabase(Exception):
    """The database cannot become a working library; the message says why, for the user."""


def original_member(sha: str, suffix: str) -> str:
    """Archive and library path of an original, from parts that ``check_database`` validated."""
    return f"originals/{sha[:2]}/{sha}{suffix}"


def expected_schema(version: int) -> set[tuple[str, str, str, str | None]]:
    """``sqlite_master`` of a database this Skintrack creates at ``version``."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for migration in schema.MIGRATIONS[:version]:
            migration(conn)
        return _master(conn)
    finally:
        conn.close()


def _master(conn: sqlite3.Connection) -> set[tuple[str, str, str, str | None]]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        (str(t), str(n), str(tb), None if s is None else " ".join(str(s).split()))
        for t, n, tb, s in rows
        if not str(n).startswith("sqlite_stat")  # ANALYZE statistics are harmless
    }


def check_database(db: Path, present: Callable[[str, str], bool]) -> dict[str, int]:
    """Raise UnusableDatabase unless ``db`` is a sound library database; returns row counts.

    ``present(name, sha256)`` tells whether the archive holds the original ``name`` with that
    hash (or accounts for it as damaged when the backup was made).
    """
    if not db.is_file() or db.stat().st_size == 0:
        raise UnusableDatabase("the database in it is empty")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise UnusableDatabase(f"the database in it cannot be opened ({exc})") from exc
    try:
        return _check(conn, present)
    except sqlite3.DatabaseError as exc:
        raise UnusableDatabase(f"the database in it cannot be read ({exc})") from exc
    finally:
        conn.close()


def _check(conn: sqlite3.Connection, present: Callable[[str, str], bool]) -> dict[str, int]:
    ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        raise UnusableDatabase(f"the database in it is damaged ({ok})")
    version = schema.user_version(conn)
    if version > schema.LATEST_VERSION:
        raise UnusableDatabase(
            f"it was made by a newer Skintrack (database version {version}); update Skintrack first"
        )
    if version < 1:
        raise UnusableDatabase(f"the database in it has no valid version ({version})")
    _compare_schema(conn, version)
    bad_fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    if bad_fk:
        table, rowid = bad_fk[0][0], bad_fk[0][1]
        raise UnusableDatabase(
            f"the database in it has {len(bad_fk)} row(s) pointing at nothing, e.g. {table} row {rowid}"
        )
    conn.row_factory = sqlite3.Row
    tables = {name for _t, name, _tb, _s in expected_schema(version) if _t == "table"}
    problems: list[str] = []
    for table in sorted(tables):
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            problems += _row_problems(table, row)
            if len(problems) >= _MAX_PROBLEMS:
                break
    problems += _photo_problems(conn.execute("SELECT id, sha256, suffix FROM photo"), present)
    if problems:
        more = "" if len(problems) <= _MAX_PROBLEMS else " and more"
        raise UnusableDatabase(
            "the database in it has invalid rows: " + "; ".join(problems[:_MAX_PROBLEMS]) + more
        )
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in sorted(tables)}


def _compare_schema(conn: sqlite3.Connection, version: int) -> None:
    actual = _master(conn)
    expected = expected_schema(version)
    extra = sorted(actual - expected, key=_tables_first)
    missing = sorted(expected - actual, key=_tables_first)
    if extra:
        kind, name = extra[0][0], extra[0][1]
        raise UnusableDatabase(
            f"the database in it contains a {kind} {name!r} that Skintrack does not create "
            f"({len(extra)} unexpected object(s))"
        )
    if missing:
        kind, name = missing[0][0], missing[0][1]
        raise UnusableDatabase(
            f"the database in it lacks or has an altered {kind} {name!r} ({len(missing)} object(s) differ)"
        )


def _tables_first(obj: tuple[str, str, str, str | None]) -> tuple[bool, str, str]:
    return obj[0] != "table", obj[0], obj[1]


def _row_problems(table: str, row: sqlite3.Row) -> list[str]:
    problems = []
    where = f"{table} row {row[0]}"
    for column, nullable in _DATES.get(table, ()):
        value = row[column]
        if value is None and nullable:
            continue
        reason = _date_problem(value)
        if reason:
            problems.append(f"{where}: {column} {reason}")
    for column in _JSON.get(table, ()):
        value = row[column]
        if value is None:
            continue
        try:
            json.loads(value)
        except (TypeError, ValueError):
            problems.append(f"{where}: {column} is not valid JSON")
    for column in _NUMBERS.get(table, ()):
        value = row[column]
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(f"{where}: {column} is not a number")
    return problems


def _date_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "is not a date"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value[:40]!r} is not a date"
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return f"{value[:40]!r} is outside {MIN_YEAR}-{MAX_YEAR}"
    try:
        parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return f"{value[:40]!r} cannot be placed in time"
    return None


def _photo_problems(rows: Iterable[sqlite3.Row], present: Callable[[str, str], bool]) -> list[str]:
    problems: list[str] = []
    for row in rows:
        sha, suffix = row["sha256"], row["suffix"]
        where = f"photo row {row['id']}"
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            problems.append(f"{where}: sha256 {str(sha)[:70]!r} is not 64 hexadecimal digits")
        elif not isinstance(suffix, str) or suffix not in SUPPORTED_SUFFIXES:
            problems.append(f"{where}: suffix {str(suffix)[:20]!r} is not a supported image type")
        elif not present(original_member(sha, suffix), sha):
            problems.append(f"{where}: its original {original_member(sha, suffix)} is not in the archive")
        if len(problems) >= _MAX_PROBLEMS:
            break
    return problems


def originals_of(db: Path) -> list[tuple[str, str]]:
    """(sha256, suffix) of every photo, trash included; only after ``check_database`` passed."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT DISTINCT sha256, suffix FROM photo ORDER BY sha256").fetchall()
    finally:
        conn.close()
    return [(str(sha), str(suffix)) for sha, suffix in rows]
