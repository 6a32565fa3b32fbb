"""Inbox and reminder commands: ``inbox add|remove|folders|scan|accept|dismiss`` and ``due``.

``inbox scan --json`` prints a list of ``{"path", "taken_at", "proposed_region", "confidence",
"sure", "candidates", ...}``; ``due --json`` a list of regions with their next due day;
``due --ics FILE`` writes an iCalendar file (RFC 5545) a calendar app can subscribe to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from skintrack.commands.library_cmds import _help_of, _open, _print_json, format_table
from skintrack.core.fsutil import atomic_write_bytes
from skintrack.errors import EXIT_ERROR, EXIT_INVALID_INPUT, EXIT_OK, UsageError
from skintrack.progress import Progress, run_steps

if TYPE_CHECKING:
    from skintrack.services import inbox
    from skintrack.services.checkin import ImportReport


def _scan_with_progress(lib: inbox.Library) -> list[inbox.InboxItem]:
    from skintrack.services import inbox

    def show(step: Progress) -> None:
        print(f"\r[{step.done}/{step.total}] {step.message[:60]:<60}", end="", file=sys.stderr, flush=True)

    return run_steps(inbox.scan(lib), show if sys.stderr.isatty() else None)


def _folder_add(args: argparse.Namespace) -> int:
    from skintrack.library import inbox_store

    with _open(args, create=True) as lib:
        folder = inbox_store.add_folder(lib, args.dir)
    print(f"Watching {folder.path} (its files are only read, never moved or changed).")
    return EXIT_OK


def _folder_remove(args: argparse.Namespace) -> int:
    from skintrack.library import inbox_store

    with _open(args, create=False) as lib:
        inbox_store.remove_folder(lib, args.dir)
    print(f"No longer watching {Path(args.dir).expanduser().resolve()}.")
    return EXIT_OK


def _folders(args: argparse.Namespace) -> int:
    from skintrack.library import inbox_store

    with _open(args, create=False) as lib:
        folders = inbox_store.list_folders(lib)
    if args.json:
        _print_json(
            [
                {"path": str(f.path), "added_at": f.added_at.isoformat(), "exists": f.path.is_dir()}
                for f in folders
            ]
        )
        return EXIT_OK
    if not folders:
        print("No inbox folders. Add one with `skintrack inbox add DIR`.")
    for f in folders:
        print(f"{f.path}" + ("" if f.path.is_dir() else "  (missing)"))
    return EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    with _open(args, create=False) as lib:
        items = _scan_with_progress(lib)
    if args.json:
        _print_json([it.to_json() for it in items])
        return EXIT_OK
    if not items:
        print("The inbox is empty: no new photos in the inbox folders.")
        return EXIT_OK
    rows = []
    for it in items:
        m = it.match
        if it.error:
            region, conf, sure = f"(cannot read: {it.error})", "", ""
        elif m is None or m.proposed is None:
            names = ", ".join(c.name for c in (m.candidates if m else []))
            region, conf, sure = "-" + (f" (closest: {names})" if names else ""), "", ""
        else:
            region, conf, sure = m.proposed.name, f"{m.confidence:.2f}", "sure" if m.sure else "unsure"
        taken = "-" if it.taken_at is None else it.taken_at.strftime("%Y-%m-%d %H:%M")
        rows.append([it.path.name, taken, sure, conf, region])
    print(format_table(["FILE", "TAKEN", "", "CONFIDENCE", "REGION"], rows))
    n_sure = sum(it.sure for it in items)
    print(f"\n{len(items)} new photo(s), {n_sure} sorted for sure (`skintrack inbox accept --sure`).")
    return EXIT_OK


def _report(report: ImportReport) -> int:
    for photo in report.imported:
        print(f"Imported {photo.original_name} (photo {photo.id}).")
    for path in report.duplicates:
        print(f"Already in the library: {path.name}")
    for path, reason in report.errors:
        print(f"skintrack: {path}: {reason}", file=sys.stderr)
    return EXIT_INVALID_INPUT if report.errors else EXIT_OK


def _accept(args: argparse.Namespace) -> int:
    from skintrack.services import inbox

    if args.sure == bool(args.file):
        raise UsageError("give either FILE --region NAME or --sure")
    with _open(args, create=False) as lib:
        if args.sure:
            report = inbox.accept_sure(lib, _scan_with_progress(lib))
            if not (report.imported or report.duplicates or report.errors):
                print("No sure proposals to accept.")
            return _report(report)
        if not args.region:
            raise UsageError("say which region: inbox accept FILE --region NAME")
        region = lib.region_by_name(args.region)
        return _report(inbox.accept(lib, args.file, region.id))


def _dismiss(args: argparse.Namespace) -> int:
    from skintrack.library import inbox_store
    from skintrack.services import inbox

    path = Path(args.file).expanduser()
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    with _open(args, create=False) as lib:
        inbox_store.dismiss(lib, inbox.HashCache().sha256(path), path.resolve())
    print(f"{path.name} will not be shown in the inbox again (the file stays where it is).")
    return EXIT_OK


def _due(args: argparse.Namespace) -> int:
    from skintrack.services import reminders

    with _open(args, create=False) as lib:
        items = reminders.due_items(lib)
    if args.ics:
        target = Path(args.ics).expanduser()
        try:
            atomic_write_bytes(target, reminders.to_ics(items).encode("utf-8"))
        except OSError as exc:
            print(f"skintrack: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_ERROR
        print(f"Wrote {len(items)} reminder(s) to {target}.", file=sys.stderr if args.json else sys.stdout)
    shown = items if args.all else reminders.regions_due(items)
    if args.json:
        _print_json([it.to_json() for it in shown])
        return EXIT_OK
    if args.ics:
        return EXIT_OK
    if not shown:
        upcoming = [it for it in items if it.status == "upcoming"]
        nxt = f" Next: {upcoming[0].name} on {upcoming[0].next_due.isoformat()}." if upcoming else ""
        print("Nothing is due." + nxt)
        return EXIT_OK
    rows = [
        [
            it.name,
            it.next_due.isoformat(),
            it.status + (f" ({it.days_overdue} d)" if it.days_overdue else ""),
            f"every {it.interval_days} d",
        ]
        for it in shown
    ]
    print(format_table(["REGION", "DUE", "STATUS", "INTERVAL"], rows))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``inbox`` and ``due`` to the ``skintrack`` parser."""
    p_inbox = sub.add_parser("inbox", help="new photos from inbox folders, sorted into their regions")
    p_inbox.set_defaults(handler=_help_of(p_inbox))
    isub = p_inbox.add_subparsers(dest="inbox_command", metavar="ACTION")
    p = isub.add_parser("add", help="watch a folder for new photos (a synced phone camera folder)")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(handler=_folder_add)
    p = isub.add_parser("remove", help="stop watching a folder (its files stay)")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(handler=_folder_remove)
    p = isub.add_parser("folders", help="list the inbox folders")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_folders)
    p = isub.add_parser("scan", help="list new photos with their proposed region")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_scan)
    p = isub.add_parser("accept", help="copy inbox photos into the library")
    p.add_argument("file", metavar="FILE", nargs="?", help="one inbox photo (with --region)")
    p.add_argument("--region", metavar="NAME", help="the region FILE shows")
    p.add_argument("--sure", action="store_true", help="accept every sure proposal of a fresh scan")
    p.set_defaults(handler=_accept)
    p = isub.add_parser("dismiss", help="never show this photo in the inbox again (the file stays)")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=_dismiss)

    p = sub.add_parser("due", help="regions due for a new photo (for cron or a calendar)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="also list regions not due yet")
    p.add_argument("--ics", metavar="FILE", help="write an iCalendar file of every next due day")
    p.set_defaults(handler=_due)
