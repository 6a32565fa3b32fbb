"""``align``, ``compare`` and ``analyze``: the measurement commands (contract in DESIGN.md).

Exit codes: 0 ok, 3 when no trustworthy alignment exists (JSON still printed, ``"ok": false``),
4 for an unusable input file (the message names it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from skintrack.errors import EXIT_ALIGNMENT_FAILED, EXIT_OK, InvalidInputError

if TYPE_CHECKING:
    import numpy as np

    from skintrack.core.change import ChangeSettings
    from skintrack.core.compare_json import AlignmentJSON, CompareJSON


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the parser."""
    p = sub.add_parser("align", help="align MOVING onto REFERENCE and print the homography")
    p.add_argument("reference", metavar="REFERENCE")
    p.add_argument("moving", metavar="MOVING")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_align)

    p = sub.add_parser("compare", help="measure how LATER changed relative to REFERENCE")
    p.add_argument("reference", metavar="REFERENCE")
    p.add_argument("later", metavar="LATER")
    p.add_argument("--roi", metavar="MASK.png", help="watched area (white = in), REFERENCE size")
    p.add_argument("--control", metavar="MASK.png", help="unaffected control skin, REFERENCE size")
    p.add_argument("--mask-out", metavar="MASK.png", help="write the darkened mask (255 = darker)")
    p.add_argument("--heatmap-out", metavar="PNG", help="write a ΔL* heatmap image")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "analyze",
        aliases=["analyse"],
        help="align and measure every photo of a region (exit 3 when a photo could not be aligned)",
    )
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--force", action="store_true", help="redo rows that are already up to date")
    p.set_defaults(handler=cmd_analyze)


def _dump(obj: object) -> None:
    print(json.dumps(obj, indent=2, allow_nan=False, default=_plain))


def _plain(value: object) -> object:
    """numpy scalars and arrays as their Python values; anything else as its text."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _clean(obj: object) -> object:
    """NaN/inf -> null so the output is strict JSON."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _alignment_text(a: AlignmentJSON) -> str:
    if not a.get("ok"):
        return f"FAILED: {a.get('message', '')}"
    return f"ok ({a['method']}, quality {a['quality']:.2f}, {a['inliers']} inliers)"


# --------------------------------------------------------------------------- align


def cmd_align(args: argparse.Namespace) -> int:
    from skintrack.services.analysis import align_analysed, load

    ref = load(args.reference)
    mov = load(args.moving)
    a = align_analysed(ref, mov)
    out = a.to_json()
    if args.json:
        _dump(_clean(out))
    else:
        print(f"Alignment of {args.moving} onto {args.reference}: {_alignment_text(out)}")
        print(f"  {a.message}")
        if a.homography is not None:
            print("  homography (MOVING -> REFERENCE pixels):")
            for row in a.homography.tolist():
                print("    " + "  ".join(f"{v: .6g}" for v in row))
    return EXIT_OK if a.ok else EXIT_ALIGNMENT_FAILED


# --------------------------------------------------------------------------- compare


def read_mask(path: str, size: tuple[int, int]) -> np.ndarray:
    """A mask PNG (grey or colour; > 127 = in) that must have the REFERENCE size (width, height)."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(p, "mask file not found")
    import numpy as np

    try:
        with Image.open(p) as im:
            im.load()
            m = np.asarray(im.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInputError(p, f"cannot read the mask image ({exc})") from exc
    if (m.shape[1], m.shape[0]) != tuple(size):
        raise InvalidInputError(
            p, f"mask is {m.shape[1]}x{m.shape[0]} px but the reference is {size[0]}x{size[1]} px"
        )
    return m > 127


def _write_png(path: str, img: np.ndarray) -> None:
    import cv2

    from skintrack.core.fsutil import atomic_write_bytes

    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError(f"cannot encode {path}")
    atomic_write_bytes(Path(path), buf.tobytes())


def _settings(args: argparse.Namespace) -> ChangeSettings:
    """The library's measurement settings when there is a library, else the defaults.

    ``compare`` measures two files, but with the thresholds the user chose, so its numbers match
    what ``analyze`` stores for the same pair.
    """
    from skintrack.library.db import DB_NAME, Library
    from skintrack.library.settings import defaults, load_settings
    from skintrack.paths import resolve_library_dir

    root = resolve_library_dir(args.library)
    if not (root / DB_NAME).is_file():
        return defaults()
    with Library.open(root, create=False) as lib:
        return load_settings(lib)


def cmd_compare(args: argparse.Namespace) -> int:
    from skintrack.core.images import read_meta
    from skintrack.services.analysis import compare_files

    meta = read_meta(args.reference)
    read_meta(args.later)
    size = (int(meta.width), int(meta.height))
    roi = read_mask(args.roi, size) if args.roi else None
    control = read_mask(args.control, size) if args.control else None
    outcome = compare_files(args.reference, args.later, roi=roi, control=control, settings=_settings(args))
    data = _clean(outcome.to_json())
    if args.mask_out:
        _write_png(args.mask_out, outcome.full_mask())
    if args.heatmap_out and outcome.change is not None:
        from skintrack.core.heatmap import heatmap_image

        _write_png(args.heatmap_out, heatmap_image(outcome.change, base_rgb=outcome.reference_rgb))
    if args.json:
        _dump(data)
    else:
        _print_compare(args, data)
    return EXIT_OK if outcome.alignment.ok else EXIT_ALIGNMENT_FAILED


def _fmt(v: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}{unit}"


def _print_compare(args: argparse.Namespace, d: CompareJSON) -> None:
    print(f"Compare {args.later} with {args.reference}")
    print(f"  alignment:   {_alignment_text(d['alignment'])}")
    if not d["alignment"].get("ok"):
        print("  no measurement: the photos could not be aligned trustworthily")
        return
    cal = {
        "card": "calibration card (colour-corrected, mm scale)",
        "control": "control patch of unaffected skin",
        "model": "smooth lighting model (cannot see uniform darkening of the whole frame)",
        "none": "none (raw colours)",
    }
    print(f"  calibration: {cal.get(d.get('calibration'), d.get('calibration'))}")
    sc = float(d.get("analysis_scale") or 1.0)
    rw, rh = d.get("reference_size") or (0, 0)
    print(
        f"  resolution:  colour measured at {sc:.3f}x the reference ({round(rw * sc)}x{round(rh * sc)} px); "
        "areas and positions below in reference pixels"
    )
    frac = d.get("darkened_fraction")
    area_mm = d.get("darkened_area_mm2")
    print(
        f"  darkened:    {_fmt(None if frac is None else frac * 100, ' %')} of the compared area, "
        f"{_fmt(d.get('darkened_area_px'), ' px', 0)}"
        + (f", {area_mm:.1f} mm²" if area_mm is not None else "")
    )
    print(
        f"  mean ΔL* {_fmt(d.get('mean_delta_L'))}, Δb* {_fmt(d.get('mean_delta_b'))}, "
        f"ΔITA {_fmt(d.get('mean_delta_ita'), '°')}, ΔE2000 {_fmt(d.get('mean_delta_e2000'))}; "
        f"noise ΔL* {_fmt(d.get('noise_delta_L'))}"
    )
    share = d.get("compared_fraction")
    if share is not None:
        left = ", ".join(
            f"{k.replace('_', ' ')} {100 * v:.1f} %" for k, v in (d.get("excluded") or {}).items()
        )
        print(
            f"  compared:    {100 * share:.1f} % of the watched area"
            + (f" (left out: {left})" if left else "")
        )
    limits = {k: v for k, v in (d.get("detection_limit_L") or {}).items() if v is not None}
    if limits:
        seen = ", ".join(f"{k} at {v:+.1f}" for k, v in limits.items())
        print(f"  smallest darkening that would be seen (patch area at ΔL*): {seen}")
    for w_text in d.get("warnings") or []:
        print(f"  warning:     {w_text}")
    for i, p in enumerate(d.get("patches") or [], 1):
        x, y, w, h = p["bbox"]
        mm = f", {p['area_mm2']:.1f} mm²" if p.get("area_mm2") is not None else ""
        kind = f" {p['kind']}" if p.get("kind") else ""
        print(
            f"  patch {i}:{kind} {p['area_px']:.0f} px{mm} at ({x:.0f},{y:.0f}) {w:.0f}x{h:.0f}, "
            f"mean ΔL* {_fmt(p.get('mean_delta_L'))}, Δb* {_fmt(p.get('mean_delta_b'))}"
        )
    if args.mask_out:
        print(f"  mask written to {args.mask_out}")
    if args.heatmap_out:
        print(f"  heatmap written to {args.heatmap_out}")


# --------------------------------------------------------------------------- analyze


def cmd_analyze(args: argparse.Namespace) -> int:
    from skintrack.library.db import Library
    from skintrack.paths import resolve_library_dir
    from skintrack.progress import Progress, run_steps
    from skintrack.services.analysis import analyze_region
    from skintrack.services.repeat_noise import region_summary

    with Library.open(resolve_library_dir(args.library), create=False) as lib:
        region = lib.region_by_name(args.region)
        shown: list[str] = []

        def show(prog: Progress) -> None:
            line = f"[{prog.done}/{prog.total}] {prog.message}"
            if prog.total and shown[-1:] != [line] and prog.message != "analysis complete":
                print(line, file=sys.stderr)
                shown.append(line)

        report = run_steps(analyze_region(lib, region.id, force=args.force), None if args.json else show)
        region = lib.region(region.id)
        photos = lib.list_photos(region.id)
        ref_id = region.reference_photo_id or (photos[0].id if photos else None)
        rows = []
        for p in photos:
            if p.id == ref_id:
                continue
            m = lib.measurement(p.id, ref_id)
            a = lib.alignment(p.id, ref_id)
            rows.append(
                {
                    "photo_id": p.id,
                    "taken_at": p.taken_at.isoformat(),
                    "aligned": None if a is None else bool(a.ok),
                    "alignment_method": None if a is None else a.method,
                    "calibration": None if m is None else m.calibration,
                    "darkened_fraction": None if m is None else m.metrics.get("darkened_fraction"),
                    "mean_delta_L": None if m is None else m.metrics.get("mean_delta_L"),
                    "mean_delta_b": None if m is None else m.metrics.get("mean_delta_b"),
                    "checkin_id": p.checkin_id,
                }
            )
        repeat = region_summary(lib, region.id)
    out = {
        "region": region.name,
        "reference_photo_id": ref_id,
        "analysed": report.analysed,
        "skipped": report.skipped,
        "failed": report.failed,
        "messages": report.messages,
        "photos": rows,
        "not_aligned": sum(1 for r in rows if r["aligned"] is False),
        "repeat_noise": repeat,
    }
    code = EXIT_ALIGNMENT_FAILED if out["not_aligned"] else EXIT_OK
    if args.json:
        _dump(_clean(out))
        return code
    print(
        f"Region {region.name!r}: {_count(report.analysed, 'comparison')} measured, "
        f"{report.skipped} up to date, {report.failed} failed "
        f"(each photo against reference photo {ref_id}, and against the photo before it)"
    )
    for msg in report.messages:
        print(f"  ! {msg}")
    if repeat is not None:
        print(
            f"  repeat-shot noise {_fmt(repeat['robust_std_delta_L'])} L* over "
            f"{_count(repeat['checkins'], 'check-in')}: darkening threshold at least "
            f"{repeat['k']:g} × it = {_fmt(repeat['floor_L'], ' L*', 1)}"
        )
    for r in rows:
        frac = r["darkened_fraction"]
        print(
            f"  {r['taken_at'][:10]}  "
            + (
                "not aligned"
                if not r["aligned"]
                else f"{_fmt(None if frac is None else frac * 100, ' %')} "
                f"darkened, mean ΔL* {_fmt(r['mean_delta_L'])}, calibration {r['calibration']}"
            )
        )
    if out["not_aligned"]:
        print(
            f"skintrack: {_count(out['not_aligned'], 'photo')} of region {region.name!r} could not be "
            "aligned to the reference; align them by hand in the compare window",
            file=sys.stderr,
        )
    return code


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
