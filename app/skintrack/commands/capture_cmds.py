"""``quality`` and ``calibrate``: is a photo good enough to measure, and what does its chart say.

Exit codes: 0 ok (whatever the photo's quality), 2 usage error, 4 unusable input file (the
message names it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skintrack.core.quality import QualityReport, QualityThresholds


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p = sub.add_parser(
        "quality",
        help="capture quality of a photo: sharpness, exposure, glare, light, colour, framing, chart",
        description=(
            "Check whether PHOTO is good enough to measure. With --reference, colour cast and framing "
            "are judged against the region's reference photo. Each check prints pass, warn or fail and "
            "one sentence of advice; overall is the worst of them. Thresholds come from the library "
            "(--library or $SKINTRACK_LIBRARY) when there is one, else the documented defaults."
        ),
    )
    p.add_argument("photo", metavar="PHOTO")
    p.add_argument("--reference", metavar="REF", help="the region's reference photo")
    p.add_argument("--json", action="store_true", help='print {"overall", "checks": {name: {...}}}')
    p.set_defaults(handler=cmd_quality)

    p = sub.add_parser(
        "calibrate",
        help="find a colour chart (Skintrack card or ColorChecker) and report its colour fit and mm scale",
    )
    p.add_argument("photo", metavar="PHOTO")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_calibrate)


def _text(path: Path, report: QualityReport) -> str:
    from skintrack.core.quality import CHECK_LABELS

    lines = [f"{path.name}: {report.overall.upper()}"]
    for name, check in report.checks.items():
        label = CHECK_LABELS.get(name, name)
        lines.append(f"  {label:<11s} {check.status:<4s}  {check.advice}")
    if "framing" not in report.checks:
        lines.append("  (colour and framing are checked against a reference: add --reference REF)")
    return "\n".join(lines)


def _thresholds(args: argparse.Namespace) -> QualityThresholds:
    """The library's quality thresholds when there is a library, else the defaults (none is created)."""
    from skintrack.core.quality import QualityThresholds
    from skintrack.library.db import DB_NAME, Library
    from skintrack.paths import resolve_library_dir
    from skintrack.services.quality import thresholds_for

    root = resolve_library_dir(args.library)
    if not (root / DB_NAME).exists():
        return QualityThresholds()
    with Library.open(root, create=False) as lib:
        return thresholds_for(lib)


def cmd_quality(args: argparse.Namespace) -> int:
    from skintrack.services.quality import assess_file

    path = Path(args.photo)
    report = assess_file(path, Path(args.reference) if args.reference else None, _thresholds(args))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, allow_nan=False))
    else:
        print(_text(path, report))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from skintrack.core.charts import NO_CHART_JSON
    from skintrack.services.quality import calibrate_file

    path = Path(args.photo)
    det = calibrate_file(path)
    data = dict(NO_CHART_JSON) if det is None else det.to_json()
    if args.json:
        print(json.dumps(data, indent=2, allow_nan=False))
        return 0
    if det is None:
        print(f"{path.name}: no colour chart found (Skintrack card or X-Rite ColorChecker).")
        return 0
    scale = "unknown" if det.mm_per_px is None else f"{det.mm_per_px:.4f} mm/px"
    if det.mm_scale_approximate and det.mm_per_px is not None:
        scale += " (approximate: nominal chart size)"
    print(f"{path.name}: {det.kind}, {det.patches_found} patches used")
    print(f"  colour fit: mean ΔE2000 {det.residual_delta_e2000:.2f} after correction")
    print(f"  scale:      {scale}")
    if det.kind == "skintrack-card":
        print("  (between dates the card is compared with the card in the region's reference photo,")
        print("   so the printer's colours cancel out)")
    return 0
