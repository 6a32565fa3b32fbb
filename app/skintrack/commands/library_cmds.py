"""Library commands: region, import, photos, photo, trash, journal, check, demo.

Contract in DESIGN.md ("Command-line contract"). ``--json`` output is a stable list of objects
(or one object for single results) with ISO 8601 dates; human output is aligned columns.
Exit codes: 0 ok, 1 error or problems found by ``check``, 2 usage, 4 invalid input file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from skintrack.core.dates import date_problem
from skintrack.errors import EXIT_ERROR, EXIT_INVALID_INPUT, EXIT_OK, EXIT_USAGE, UsageError
from skintrack.library import DB_NAME, JournalEntry, Library, Photo, RegionSummary

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?([+-]\d{2}:?\d{2}|Z)?$")


# ---------------------------------------------------------------- parsing helpers
def parse_when(text: str) -> datetime:
    """``YYYY-MM-DD[THH:MM[:SS]][+HH:MM]`` -> datetime (naive unless an offset is given)."""
    value = text.strip()
    if not _DATE_RE.match(value):
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: {exc}") from exc
    problem = date_problem(when)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: {problem}")
    return when


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` -> date."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from exc
    problem = date_problem(day)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: {problem}")
    return day


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

    return resolve_library_dir(getattr(args, "library", None))


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


# ---------------------------------------------------------------- region
def _region_add(args: argparse.Namespace) -> int:
    with _open(args, create=True) as lib:
        region = lib.add_region(
            args.name, body_site=args.body_site, interval_days=args.interval_days, notes=args.notes
        )
        if args.json:
            summary = next(s for s in lib.list_regions(include_archived=True) if s.region.id == region.id)
            _print_json(region_json(summary))
        else:
            print(f"Added region {region.name!r} (id {region.id}).")
    return EXIT_OK


def _region_list(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        summaries = lib.list_regions(include_archived=args.all)
    if args.json:
        _print_json([region_json(s) for s in summaries])
        return EXIT_OK
    if not summaries:
        print("No regions yet. Add one with `skintrack region add NAME`.")
        return EXIT_OK
    rows = []
    for s in summaries:
        status = "archived" if s.region.archived else ("OVERDUE" if s.overdue else "")
        interval = f"{s.region.interval_days} d" if s.region.interval_days else "-"
        rows.append(
            [
                s.region.id,
                s.region.name,
                s.region.body_site or "-",
                s.photo_count,
                _show_dt(s.last_taken_at),
                interval,
                _iso(s.next_due) or "-",
                status,
            ]
        )
    headers = ["ID", "NAME", "BODY SITE", "PHOTOS", "LAST CHECK-IN", "EVERY", "NEXT DUE", "STATUS"]
    print(format_table(headers, rows))
    return EXIT_OK


def _region_rename(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.old)
        renamed = lib.update_region(region.id, name=args.new)
    print(f"Renamed region {region.name!r} to {renamed.name!r}.")
    return EXIT_OK


def _region_archive(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.name)
        lib.archive_region(region.id, archived=not args.undo)
    print(f"{'Unarchived' if args.undo else 'Archived'} region {region.name!r}.")
    return EXIT_OK


# ---------------------------------------------------------------- import & photos
def _import(args: argparse.Namespace) -> int:
    from skintrack.services.checkin import import_files

    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.region)
        job = import_files(lib, region.id, args.files, taken_at=args.date, notes=args.notes)
        show = _progress_to_stderr() and not args.json
        while True:
            try:
                step = next(job)
            except StopIteration as stop:
                report = stop.value
                break
            if show:
                print(f"[{step.done}/{step.total}] {step.message}", file=sys.stderr)
        summary = import_summary(report)
        if args.json:
            _print_json(
                {
                    "region": region.name,
                    "imported": [photo_json(lib, p, region.name) for p in report.imported],
                    "duplicates": [_shown(p) for p in report.duplicates],
                    "duplicate_of": [p.id for p in report.duplicate_of],
                    "repaired": [p.id for p in report.repaired],
                    "errors": [{"path": _shown(p), "reason": reason} for p, reason in report.errors],
                    "cleaned": [str(p) for p in report.cleaned],
                    "summary": summary,
                }
            )
        else:
            for photo in report.imported:
                when = f"{_show_dt(photo.taken_at)} ({photo.taken_at_source})"
                print(f"  #{photo.id}  {when}  {photo.original_name}")
                if photo.taken_at_note:
                    print(f"      date from {photo.taken_at_source}: {photo.taken_at_note}")
            for path, same in zip(report.duplicates, report.duplicate_of, strict=True):
                where = f"photo {same.id}"
                if same.in_trash:
                    where += f", in the trash: `skintrack photo restore {same.id}`"
                print(f"Already in {region.name!r} ({where}), skipped: {_shown(path)}")
            for photo in report.repaired:
                print(
                    f"Repaired photo {photo.id} ({photo.original_name}): its damaged original was "
                    "replaced by this file's verified copy"
                )
            print(summary)
    for path, reason in report.errors:
        print(f"skintrack: {_shown(path)}: {reason}", file=sys.stderr)
    return EXIT_INVALID_INPUT if report.errors else EXIT_OK


def _shown(path: Path) -> str:
    """A path printable on any terminal (undecodable file-name bytes as U+FFFD)."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def import_summary(report: Any) -> str:
    """ "Imported 38, skipped 2 duplicates, 1 failed: a.jpg (reason)" - always one line."""
    n, d, f = len(report.imported), len(report.duplicates), len(report.errors)
    if n == 0 and d == 0 and not report.repaired:
        text = f"Nothing imported, {f} failed" if f else "Nothing imported"
    else:
        text = f"Imported {n}, skipped {d} duplicate{'' if d == 1 else 's'}, {f} failed"
    if report.repaired:
        text += f", repaired {len(report.repaired)}"
    if report.errors:
        text += ": " + "; ".join(f"{_shown(Path(p.name))} ({reason})" for p, reason in report.errors)
    return text + "."


def _photos(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.region)
        photos = lib.list_photos(region.id, trash_only=args.trash)
        if args.json:
            _print_json([photo_json(lib, p, region.name) for p in photos])
            return EXIT_OK
    if not photos:
        print(f"No photos {'in the trash ' if args.trash else ''}for {region.name!r}.")
        return EXIT_OK
    headers = ["ID", "TAKEN", "SOURCE", "SIZE", "FILE", "NOTES"]
    if args.trash:
        headers.insert(1, "TRASHED")
    rows = []
    for p in photos:
        ref = " (ref)" if p.id == region.reference_photo_id else ""
        row: list[Any] = [
            f"{p.id}{ref}",
            _show_dt(p.taken_at),
            p.taken_at_source,
            f"{p.width}x{p.height}",
            p.original_name,
            _one_line(p.notes),
        ]
        if args.trash:
            row.insert(1, _show_dt(p.deleted_at))
        rows.append(row)
    print(format_table(headers, rows))
    return EXIT_OK


def _photo_trash(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        photo = lib.trash_photo(args.id)
    print(
        f"Moved photo {photo.id} ({photo.original_name}) to the trash; `skintrack photo restore {photo.id}`."
    )
    return EXIT_OK


def _photo_restore(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        photo = lib.restore_photo(args.id)
    print(f"Restored photo {photo.id} ({photo.original_name}).")
    return EXIT_OK


def _photo_edit(args: argparse.Namespace) -> int:
    if args.date is None and args.notes is None:
        raise UsageError("nothing to change: give --date and/or --notes")
    changes: dict[str, Any] = {}
    if args.date is not None:
        changes["taken_at"] = args.date
    if args.notes is not None:
        changes["notes"] = args.notes
    with _open(args, create=False) as lib:
        photo = lib.update_photo(args.id, **changes)
    when = f"{_show_dt(photo.taken_at)} ({photo.taken_at_source})"
    print(f"Photo {photo.id}: taken {when}, notes {photo.notes!r}.")
    return EXIT_OK


def _trash_empty(args: argparse.Namespace) -> int:
    from skintrack.services.regions import empty_trash

    with _open(args, create=False) as lib:
        emptied = empty_trash(lib)
    n = len(emptied.photos)
    print(f"Deleted {n} photo{'s' if n != 1 else ''} from the trash for good.")
    for region in emptied.regions:
        print(f"Deleted the region {region.name!r}: none of its photos was left.")
    return EXIT_OK


# ---------------------------------------------------------------- journal
def _journal_add(args: argparse.Namespace) -> int:
    with _open(args, create=True) as lib:
        entry = lib.add_journal(
            args.date,
            args.kind,
            substance=args.substance,
            amount=args.amount,
            unit=args.unit,
            notes=args.notes,
        )
    if args.json:
        _print_json(journal_json(entry))
    else:
        print(f"Added journal entry {entry.id} ({entry.kind}, {_show_dt(entry.at)}).")
    return EXIT_OK


def _journal_list(args: argparse.Namespace) -> int:
    if args.start and args.end and args.start > args.end:
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    with _open(args, create=False) as lib:
        entries = lib.list_journal(args.start, args.end)
    if args.json:
        _print_json([journal_json(e) for e in entries])
        return EXIT_OK
    if not entries:
        print("No journal entries.")
        return EXIT_OK
    rows = [
        [
            e.id,
            _show_dt(e.at),
            e.kind,
            e.substance or "-",
            "-" if e.amount is None else f"{e.amount:g} {e.unit}".strip(),
            _one_line(e.notes),
        ]
        for e in entries
    ]
    print(format_table(["ID", "WHEN", "KIND", "SUBSTANCE", "AMOUNT", "NOTES"], rows))
    return EXIT_OK


# ---------------------------------------------------------------- check
def _check(args: argparse.Namespace) -> int:
    if args.rebuild:
        return _rebuild(args)
    with _open(args, create=False) as lib:
        report = lib.check(repair=args.repair)
        originals = {p.id: str(_original_or_none(lib, p)) for p in report.missing + report.altered}
    if args.json:
        _print_json(
            {
                "ok": report.ok,
                "orphans": [str(p) for p in report.orphans],
                "temp_files": [str(p) for p in report.temp_files],
                "missing": [{"photo_id": p.id, "path": originals[p.id]} for p in report.missing],
                "altered": [{"photo_id": p.id, "path": originals[p.id]} for p in report.altered],
                "removed": [str(p) for p in report.removed],
                "moved_to_lost_and_found": {str(a): str(b) for a, b in report.moved.items()},
                "lost_and_found": [str(p) for p in report.lost_and_found],
                "busy_temp_files": [str(p) for p in report.busy_temp_files],
                "invalid_rows": [{"photo_id": i, "reason": why} for i, why in report.invalid_rows],
                "bad_dates": report.bad_dates,
                "notices": report.notices,
                "stuck_swaps": [str(p) for p in report.stuck_swaps],
            }
        )
        return EXIT_OK if report.ok else EXIT_ERROR
    for path in report.removed:
        print(f"cleaned: {_shown(path)} (temporary file of an interrupted command, its process is gone)")
    for path in report.busy_temp_files:
        print(f"in use: {_shown(path)} (a running Skintrack process is writing it)")
    for notice in report.notices:
        print(f"restore leftover: {notice}")
    for path in report.orphans:
        if path in report.moved:
            print(f"orphan file: {_shown(path)}: moved to {_shown(report.moved[path])}")
        else:
            print(f"orphan file: {_shown(path)}: not in the database (--repair moves it to lost+found)")
    for photo in report.missing:
        print(f"MISSING original of photo {photo.id} ({photo.original_name}): {originals[photo.id]}")
    for photo in report.altered:
        print(f"ALTERED original of photo {photo.id} ({photo.original_name}): {originals[photo.id]}")
    for photo_id, why in report.invalid_rows:
        print(f"INVALID row of photo {photo_id}: {why}")
    for photo_id in report.bad_dates:
        print(
            f"photo {photo_id} has an impossible stored date; set it with "
            f"`skintrack photo edit {photo_id} --date YYYY-MM-DD`"
        )
    if report.lost_and_found:
        n = len(report.lost_and_found)
        print(
            f"{n} photo{'s' if n != 1 else ''} kept in originals/lost+found/; "
            "`skintrack check --rebuild` gives them rows again (region 'Recovered')"
        )
    print(_check_verdict(report))
    return EXIT_OK if report.ok else EXIT_ERROR


def _check_verdict(report: Any) -> str:
    if not report.ok:
        advice = []
        if report.missing or report.altered:
            advice.append(
                "missing or altered originals: re-import the original files (the pristine copy "
                "repairs it) or restore them from a backup"
            )
        if [p for p in report.orphans if p not in report.moved]:
            advice.append("orphan files: `skintrack check --repair` moves them to originals/lost+found/")
        if report.invalid_rows:
            advice.append("invalid rows: restore the database from a backup")
        if report.stuck_swaps:
            advice.append(
                "an interrupted restore left folders beside the library: look inside them (they hold "
                "a library) before moving them away, or run the restore again"
            )
        return "Problems found; " + "; ".join(advice) + "."
    done = []
    if report.removed:
        done.append(f"cleaned {len(report.removed)} temporary file(s)")
    if report.moved:
        done.append(f"moved {len(report.moved)} orphan(s) to lost+found")
    return "Library OK." if not done else f"Library OK ({', '.join(done)})."


def _rebuild(args: argparse.Namespace) -> int:
    from skintrack.library.integrity import rebuild_library

    if args.repair:
        raise UsageError("give either --repair or --rebuild, not both")
    report = rebuild_library(_library_dir(args))
    if args.json:
        _print_json(
            {
                "region": report.region,
                "recovered": [p.id for p in report.recovered],
                "already_known": [str(p) for p in report.already_known],
                "unreadable": [{"path": str(p), "reason": why} for p, why in report.unreadable],
                "damaged_database": None if report.damaged_database is None else str(report.damaged_database),
            }
        )
    else:
        if report.damaged_database is not None:
            print(f"The unreadable database was kept aside as {report.damaged_database}.")
        for path, why in report.unreadable:
            print(f"not recovered: {_shown(path)}: {why}")
        n = len(report.recovered)
        if not (n or report.already_known or report.unreadable):
            print("Nothing to recover: every stored photo has its row.")
            return EXIT_OK
        print(
            f"Recovered {n} photo{'s' if n != 1 else ''} into region {report.region!r}"
            + (
                f"; {len(report.already_known)} lost+found copies matched photos already stored"
                if report.already_known
                else ""
            )
            + "."
        )
    return EXIT_ERROR if report.unreadable else EXIT_OK


# ---------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> int:
    raw = getattr(args, "library", None)
    if not raw:
        raise UsageError("demo needs a target folder: skintrack demo --library DIR")
    root = Path(raw).expanduser()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        if not args.force:
            raise UsageError(f"{root} is not empty; use --force to replace an existing library there")
        if not (root / DB_NAME).exists():
            raise UsageError(f"{root} is not empty and is not a Skintrack library; refusing to delete it")
        if not _replaceable_by_demo(root):
            raise UsageError(
                f"{root} is a Skintrack library with photos that are not the demo's; refusing to "
                "replace it (build the demo in another folder)"
            )
        shutil.rmtree(root)
    from skintrack.demo.build import build_demo_library

    job = build_demo_library(root)
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            summary = stop.value
            break
        print(f"[{step.done}/{step.total}] {step.message}", file=sys.stderr, flush=True)
    if args.json:
        _print_json(summary)
    else:
        for key, value in (summary or {}).items():
            shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
            print(f"{key}: {shown}")
    return EXIT_OK


def _replaceable_by_demo(root: Path) -> bool:
    """Only an earlier demo library, or a library without a single photo, may be replaced."""
    from skintrack.library.store import OriginalStore

    if (root / "demo-truth" / "truth.json").is_file():
        return True
    return not OriginalStore(root / "originals").has_files()


# ---------------------------------------------------------------- registration
def _help_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return show


def register(sub: argparse._SubParsersAction) -> None:
    """Add the library commands to the ``skintrack`` parser."""
    # region
    p_region = sub.add_parser("region", help="add, list, rename or archive body regions")
    p_region.set_defaults(handler=_help_of(p_region))
    rsub = p_region.add_subparsers(dest="region_command", metavar="ACTION")

    p = rsub.add_parser("add", help="add a region")
    p.add_argument("name")
    p.add_argument("--body-site", default="", help="e.g. 'left forearm, inner side'")
    p.add_argument("--interval-days", type=_positive_int, default=None, help="check-in interval")
    p.add_argument("--notes", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_region_add)

    p = rsub.add_parser("list", help="list regions")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="include archived regions")
    p.set_defaults(handler=_region_list)

    p = rsub.add_parser("rename", help="rename a region")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(handler=_region_rename)

    p = rsub.add_parser("archive", help="hide a region from the lists (keeps its photos)")
    p.add_argument("name")
    p.add_argument("--undo", action="store_true", help="unarchive")
    p.set_defaults(handler=_region_archive)

    # import
    p = sub.add_parser("import", help="import photos into a region (a check-in)")
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--date", type=parse_when, default=None, metavar="YYYY-MM-DD[THH:MM]", help="override the date taken"
    )
    p.add_argument("--notes", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_import)

    # photos / photo
    p = sub.add_parser("photos", help="list the photos of a region")
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.add_argument("--trash", action="store_true", help="list the region's photos in the trash")
    p.set_defaults(handler=_photos)

    p_photo = sub.add_parser("photo", help="trash, restore or edit one photo")
    p_photo.set_defaults(handler=_help_of(p_photo))
    psub = p_photo.add_subparsers(dest="photo_command", metavar="ACTION")
    p = psub.add_parser("trash", help="move a photo to the trash")
    p.add_argument("id", type=int)
    p.set_defaults(handler=_photo_trash)
    p = psub.add_parser("restore", help="take a photo back out of the trash")
    p.add_argument("id", type=int)
    p.set_defaults(handler=_photo_restore)
    p = psub.add_parser("edit", help="change a photo's date or notes")
    p.add_argument("id", type=int)
    p.add_argument("--date", type=parse_when, default=None, metavar="YYYY-MM-DD[THH:MM]")
    p.add_argument("--notes", default=None)
    p.set_defaults(handler=_photo_edit)

    p_trash = sub.add_parser("trash", help="empty the trash")
    p_trash.set_defaults(handler=_help_of(p_trash))
    tsub = p_trash.add_subparsers(dest="trash_command", metavar="ACTION")
    p = tsub.add_parser("empty", help="delete trashed photos and their files for good")
    p.set_defaults(handler=_trash_empty)

    # journal
    p_journal = sub.add_parser("journal", help="log doses, sun exposure, medication, notes")
    p_journal.set_defaults(handler=_help_of(p_journal))
    jsub = p_journal.add_subparsers(dest="journal_command", metavar="ACTION")
    p = jsub.add_parser("add", help="add a journal entry")
    p.add_argument(
        "--date", type=parse_when, required=True, metavar="YYYY-MM-DD[THH:MM]", help="when it happened"
    )
    p.add_argument(
        "--kind", required=True, choices=["dose", "sun", "medication", "note"], help="what kind of entry"
    )
    p.add_argument("--substance", default="", help="what was taken, e.g. kratom (for dose or medication)")
    p.add_argument("--amount", type=_number, default=None, help="how much, a number (e.g. 3 or 2.5)")
    p.add_argument("--unit", default="", help="unit of the amount, e.g. g, mg, h")
    p.add_argument("--notes", default="", help="free text")
    p.add_argument("--json", action="store_true", help="print the new entry as JSON")
    p.set_defaults(handler=_journal_add)
    p = jsub.add_parser("list", help="list journal entries")
    p.add_argument("--json", action="store_true")
    p.add_argument("--from", dest="start", type=parse_day, default=None, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=parse_day, default=None, metavar="YYYY-MM-DD")
    p.set_defaults(handler=_journal_list)

    # check
    p = sub.add_parser("check", help="integrity check of the library (exit 1 if problems remain)")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move orphan files (photos no row refers to) to originals/lost+found/; nothing is deleted",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="give every orphan and lost+found photo a row again (region 'Recovered', date from EXIF), "
        "also when the database was lost",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_check)

    # demo
    p = sub.add_parser("demo", help="build the demo library (needs --library DIR)")
    p.add_argument("--force", action="store_true", help="replace an existing library in DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_demo)
