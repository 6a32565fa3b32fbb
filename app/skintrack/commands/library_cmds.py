"""Library commands: region, import, photos, photo, trash, journal (check and demo: maintenance_cmds).

Contract in DESIGN.md ("Command-line contract"). ``--json`` output is a stable list of objects
(or one object for single results) with ISO 8601 dates; human output is aligned columns.
Exit codes: 0 ok, 1 error, 2 usage, 4 invalid input file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from skintrack.commands import maintenance_cmds
from skintrack.commands.common import (  # the other command modules import these from here too
    _help_of,
    _iso,
    _library_dir,
    _number,
    _one_line,
    _open,
    _positive_int,
    _print_json,
    _progress_to_stderr,
    _show_dt,
    _shown,
    format_table,
    journal_json,
    parse_day,
    parse_when,
    photo_json,
    region_json,
)
from skintrack.errors import EXIT_INVALID_INPUT, EXIT_OK, UsageError

__all__ = [
    "_help_of",
    "_library_dir",
    "_open",
    "_print_json",
    "format_table",
    "import_summary",
    "parse_day",
    "parse_when",
    "register",
]


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
    from skintrack.services.checkin import import_as_one_checkin, import_files

    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.region)
        if args.together or args.check_in is not None:
            job = import_as_one_checkin(
                lib, region.id, args.files, checkin_id=args.check_in, taken_at=args.date, notes=args.notes
            )
        else:
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
    headers = ["ID", "CHECK-IN", "TAKEN", "SOURCE", "SIZE", "FILE", "NOTES"]
    if args.trash:
        headers.insert(1, "TRASHED")
    rows = []
    for p in photos:
        ref = " (ref)" if p.id == region.reference_photo_id else ""
        row: list[Any] = [
            f"{p.id}{ref}",
            "" if p.checkin_id is None else str(p.checkin_id),
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


# ---------------------------------------------------------------- registration
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
    p = sub.add_parser("import", help="import photos into a region (a check-in per file, or --together)")
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--date", type=parse_when, default=None, metavar="YYYY-MM-DD[THH:MM]", help="override the date taken"
    )
    p.add_argument("--notes", default="")
    together = p.add_mutually_exclusive_group()
    together.add_argument(
        "--together", action="store_true", help="keep the files together as one new check-in (repeat shots)"
    )
    together.add_argument(
        "--check-in", type=int, default=None, metavar="ID", help="add the files to this existing check-in"
    )
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

    maintenance_cmds.register(sub)
