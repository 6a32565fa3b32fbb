"""Whole-library commands: ``check`` (streaming, with progress), ``check --rebuild`` and ``demo``.

``check`` hashes every original; that is the long part, so it reports each file hashed on stderr
(on a terminal, or always with ``--progress``; with ``--json --progress`` as one JSON object per
line), while stdout keeps the contract's single result. Exit codes: 0 ok, 1 problems remain,
2 usage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from skintrack.commands.common import _library_dir, _open, _original_or_none, _print_json, _shown
from skintrack.errors import EXIT_ERROR, EXIT_OK, UsageError
from skintrack.library import DB_NAME
from skintrack.progress import Progress


# ---------------------------------------------------------------- check
def _check(args: argparse.Namespace) -> int:
    if args.rebuild:
        return _rebuild(args)
    with _open(args, create=False) as lib:
        report = _run_check(lib, args)
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


def _run_check(lib: Any, args: argparse.Namespace) -> Any:
    """The check, reporting each original hashed on stderr while it runs."""
    from skintrack.library.integrity import check_library_steps

    show = args.progress or sys.stderr.isatty()
    steps = check_library_steps(lib, repair=args.repair)
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        if show:
            _report_step(step, as_json=args.json)


def _report_step(step: Progress, *, as_json: bool) -> None:
    if as_json:
        line = json.dumps({"progress": {"done": step.done, "total": step.total, "message": step.message}})
    else:
        line = f"[{step.done}/{step.total}] {step.message}"
    print(line, file=sys.stderr, flush=True)


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
    raw = args.library
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
def register(sub: argparse._SubParsersAction) -> None:
    """Add ``check`` and ``demo`` to the ``skintrack`` parser."""
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
    p.add_argument(
        "--progress",
        action="store_true",
        help="report each original hashed on stderr also when it is not a terminal "
        "(one JSON object per line with --json)",
    )
    p.set_defaults(handler=_check)

    # demo
    p = sub.add_parser("demo", help="build the demo library (needs --library DIR)")
    p.add_argument("--force", action="store_true", help="replace an existing library in DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_demo)
