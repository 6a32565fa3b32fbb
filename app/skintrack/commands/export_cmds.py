"""CLI: ``export``, ``backup`` and ``restore`` (contract in DESIGN.md), all through one service each."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from pathlib import Path
from typing import TypeVar

from skintrack.errors import EXIT_OK, UsageError
from skintrack.progress import CancelToken, Progress, run_steps

T = TypeVar("T")


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid photo ids {text!r}: use e.g. 3,7,12") from exc
    if not ids:
        raise argparse.ArgumentTypeError("give at least one photo id")
    return ids


def _drive(gen: Generator[Progress, None, T]) -> T:
    """Run a service generator; progress goes to stderr only on a terminal."""

    def show(step: Progress) -> None:
        print(f"\r{step.message[:70]:<70} {100 * step.fraction:3.0f}%", end="", file=sys.stderr)

    if not sys.stderr.isatty():
        return run_steps(gen)
    try:
        return run_steps(gen, show)
    finally:
        print(file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from skintrack.commands.library_cmds import _open
    from skintrack.export.plan import ExportOptions, build_plan, check_out_path
    from skintrack.services.export import run_export

    check_out_path(args.format, args.out)
    _check_exif_flags(args)
    options = ExportOptions(
        heatmap=args.heatmap,
        frame_ms=args.frame_ms,
        size=args.size,
        keep_gps=args.keep_gps or args.keep_exif,
        keep_identifying_exif=args.keep_identifying_exif,
    )
    with _open(args, create=False) as lib:
        region = lib.region_by_name(args.region)
        plan = build_plan(
            args.format,
            region,
            lib.list_photos(region.id),
            start=args.start,
            end=args.end,
            selected=args.photos,
            options=options,
        )
        out = _drive(run_export(lib, plan, args.out, CancelToken()))
    n = len(plan.photos)
    print(f"exported {n} check-in{'' if n == 1 else 's'} of {region.name} to {out}")
    return EXIT_OK


def _check_exif_flags(args: argparse.Namespace) -> None:
    """EXIF flags only mean something for the zip of per-photo images; elsewhere they are refused."""
    given = [
        flag
        for flag, on in (
            ("--keep-exif", args.keep_exif),
            ("--keep-gps", args.keep_gps),
            ("--keep-identifying-exif", args.keep_identifying_exif),
        )
        if on
    ]
    if given and args.format != "zip":
        raise UsageError(
            f"{' and '.join(given)}: {args.format} exports never carry the photos' EXIF; "
            "only --format zip can keep it"
        )
    if args.keep_exif:
        print(
            "skintrack: --keep-exif is deprecated; it means --keep-gps (serial numbers and owner "
            "names are still removed; add --keep-identifying-exif to keep them)",
            file=sys.stderr,
        )


def _backup(args: argparse.Namespace) -> int:
    from skintrack.commands.library_cmds import _library_dir
    from skintrack.export.backup import backup_library
    from skintrack.library import DB_NAME

    root = _library_dir(args)
    if not (root / DB_NAME).exists():
        raise UsageError(f"no Skintrack library in {root}")
    report = _drive(backup_library(root, args.out, force=args.force, allow_damaged=args.allow_damaged))
    if report.damaged:
        print(
            f"WARNING: {len(report.damaged)} damaged original(s) were left out of the backup:",
            file=sys.stderr,
        )
        for name, why in sorted(report.damaged.items()):
            print(f"  {root / name}: {why}", file=sys.stderr)
    print(f"backed up {report.originals} originals and the database to {report.path}")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from skintrack.export.restore import restore_library

    target = args.library
    if not target:
        raise UsageError("restore needs --library DIR (the folder to restore into)")
    report = _drive(restore_library(args.archive, Path(target), force=args.force, keep_old=args.keep_old))
    for line in report.recovered:
        print(f"note: {line}", file=sys.stderr)
    if report.damaged:
        print(
            f"WARNING: this backup lacks {len(report.damaged)} original(s) that were damaged when it was "
            "made; `skintrack check` lists them",
            file=sys.stderr,
        )
    print(f"restored {report.originals} originals and the database into {report.library}")
    if report.old_trashed:
        print("the library it replaced was moved to the trash")
    elif report.old_kept is not None:
        print(f"the library it replaced is kept at {report.old_kept}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export``, ``backup`` and ``restore``."""
    from skintrack.commands.library_cmds import parse_day
    from skintrack.export.plan import FORMATS

    p = sub.add_parser(
        "export",
        help="export a region as contact sheet, timelapse, PDF report, data or zip",
        description=(
            "Export one region. Exported images carry no EXIF at all unless --keep-gps or "
            "--keep-identifying-exif is given (zip exports only)."
        ),
    )
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, type=Path, metavar="PATH")
    p.add_argument("--from", dest="start", type=parse_day, metavar="DATE", help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=parse_day, metavar="DATE", help="last day (YYYY-MM-DD)")
    p.add_argument("--photos", type=_ids, metavar="ID,ID", help="only these check-ins (photo ids)")
    p.add_argument("--heatmap", action="store_true", help="add the change heatmap")
    p.add_argument("--frame-ms", type=int, default=600, metavar="N", help="timelapse frame duration (ms)")
    p.add_argument("--size", type=int, default=720, metavar="PX", help="long side of each frame (px)")
    p.add_argument(
        "--keep-gps",
        action="store_true",
        help="zip only: keep the originals' EXIF (date, camera model, exposure) including the GPS "
        "location; identifying tags are still removed",
    )
    p.add_argument(
        "--keep-identifying-exif",
        action="store_true",
        help="zip only: keep the originals' EXIF including tags that identify the camera or its owner "
        "(serial numbers, owner, artist, host computer, unique ID, maker notes, user comment, XMP "
        "creator); GPS only with --keep-gps",
    )
    p.add_argument(
        "--keep-exif",
        action="store_true",
        help="deprecated, same as --keep-gps: keeps the EXIF date, camera model, exposure and GPS "
        "location, never serial numbers, owner or host names",
    )
    p.set_defaults(handler=_export)

    b = sub.add_parser("backup", help="back up the whole library to a zip archive")
    b.add_argument("--out", required=True, type=Path, metavar="FILE.zip")
    b.add_argument("--force", action="store_true", help="replace FILE.zip if it exists")
    b.add_argument(
        "--allow-damaged",
        action="store_true",
        help="back up everything else when originals are missing or altered (they are listed)",
    )
    b.set_defaults(handler=_backup)

    r = sub.add_parser("restore", help="restore a backup archive into a library folder")
    r.add_argument("archive", type=Path, metavar="FILE.zip")
    r.add_argument("--library", metavar="DIR", default=argparse.SUPPRESS, help="folder to restore into")
    r.add_argument(
        "--force",
        action="store_true",
        help="replace the Skintrack library in DIR (trashed once the new one is verified)",
    )
    r.add_argument(
        "--keep-old", action="store_true", help="keep the replaced library beside DIR instead of trashing it"
    )
    r.set_defaults(handler=_restore)
