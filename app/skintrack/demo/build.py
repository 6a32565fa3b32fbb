"""Build a realistic demo library with no network: three regions photographed over a year.

One region (left forearm) develops a grey-blue patch that darkens gradually, as with kratom;
another (back of the left hand) a brown one; the right cheek does not change. Framing
(rotation, scale, slight perspective) and lighting (gain, colour temperature, gradient) vary
between check-ins as they do with a phone. The ground truth (true homographies and darkening
masks) is written beside the library in ``demo-truth/`` so tests can check the measurements.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skintrack.core import formatting
from skintrack.demo import synth
from skintrack.progress import CancelToken, Progress, rescaled

PHOTO_SIZE = (512, 384)  # a phone photo's detail at a size the first run analyses in seconds
RENDER_THREADS = 2
TRUTH_DIR = "demo-truth"


@dataclass(frozen=True)
class DemoRegion:
    name: str
    body_site: str
    tone: str
    change_kind: str | None  # "grey-blue" | "brown" | None
    final_delta_L: float
    check_ins: int
    interval_days: int
    seed: int


REGIONS = (
    DemoRegion("Left forearm", "forearm, dorsal, left", "intermediate", "grey-blue", -9.0, 6, 30, 11),
    DemoRegion("Right cheek", "cheek, right", "light", None, 0.0, 4, 42, 23),
    DemoRegion("Back of left hand", "hand, dorsal, left", "tan", "brown", -7.0, 5, 35, 37),
)

START = datetime(2025, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def _exif_with_date(when: datetime) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Demo"  # Make
    exif[0x0110] = "Synthetic camera"  # Model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    offset = when.strftime("%z")
    ifd[0x9011] = f"{offset[:3]}:{offset[3:]}"  # OffsetTimeOriginal
    return exif.tobytes()


def _rect_polygon(cx: float, cy: float, w: float, h: float) -> list[list[float]]:
    return [
        [cx - w / 2, cy - h / 2],
        [cx + w / 2, cy - h / 2],
        [cx + w / 2, cy + h / 2],
        [cx - w / 2, cy + h / 2],
    ]


@dataclass(frozen=True)
class _Shot:
    """One demo check-in, drawn in order from the region's generator so renders can run in parallel."""

    index: int
    when: datetime
    delta_L: float
    pose: synth.Pose
    lighting: synth.Lighting
    seed: int
    speculars: int


def _plan_shots(spec: DemoRegion) -> list[_Shot]:
    rng = np.random.default_rng(spec.seed)
    shots = []
    for i in range(spec.check_ins):
        when = START + timedelta(days=round(i * 365 / (spec.check_ins - 1)) + int(rng.integers(-3, 4)))
        progress = i / (spec.check_ins - 1)
        pose = (
            synth.Pose()
            if i == 0
            else synth.Pose(
                rotation=float(rng.uniform(-12, 12)),
                scale=float(rng.uniform(0.9, 1.12)),
                tilt_x=float(rng.uniform(-6e-5, 6e-5)),
                tilt_y=float(rng.uniform(-6e-5, 6e-5)),
                shift=(float(rng.uniform(-25, 25)), float(rng.uniform(-20, 20))),
            )
        )
        lighting = synth.Lighting(
            gain=float(rng.uniform(0.85, 1.1)),
            white_balance=(float(rng.uniform(0.95, 1.06)), 1.0, float(rng.uniform(0.92, 1.05))),
            gradient=(float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.1, 0.1))),
            vignette=0.05,
        )
        delta_L = spec.final_delta_L * progress if spec.change_kind else 0.0
        shots.append(_Shot(i, when, delta_L, pose, lighting, spec.seed * 100 + i, int(rng.integers(0, 4))))
    return shots


def _render(spec: DemoRegion, skin: np.ndarray, mask_body: np.ndarray, shot: _Shot, path: Path) -> np.ndarray:
    """Photograph one check-in into ``path`` (JPEG with its EXIF date); returns H body->photo."""
    body = skin
    if spec.change_kind and shot.delta_L < 0:
        body = synth.darken(skin, mask_body, synth.Darkening(shot.delta_L, spec.change_kind))
    photo, h_bp = synth.photograph(
        body, shot.pose, PHOTO_SIZE, shot.lighting, seed=shot.seed, speculars=shot.speculars
    )
    Image.fromarray(photo).save(path, quality=92, exif=_exif_with_date(shot.when))
    return h_bp


def build_demo_library(
    root: Path, token: CancelToken | None = None, analyse: bool = True
) -> Generator[Progress, None, dict[str, object]]:
    """Create the demo library in ``root`` (empty or missing); yields progress, returns a summary.

    Two phases: the library with its regions, photos, areas and journal (a few seconds), then,
    with ``analyse``, :func:`analyse_demo_library`. A window can open the library after the first
    phase and run the second in the background.
    """
    root = Path(root)
    token = token or CancelToken()
    photos = sum(r.check_ins for r in REGIONS)
    total = photos * (2 if analyse else 1)
    summary = yield from _build(root, token, total)
    if analyse:
        yield from rescaled(analyse_demo_library(root, token), photos, photos, total)
    return summary


def analyse_demo_library(
    root: Path, token: CancelToken | None = None
) -> Generator[Progress, None, dict[str, object]]:
    """Align and measure every region of a built demo library; yields progress over all regions."""
    from skintrack.library import Library
    from skintrack.services.analysis import analyze_region

    token = token or CancelToken()
    photos = sum(r.check_ins for r in REGIONS)
    done = 0
    failed = 0
    with Library.open(Path(root), create=False) as lib:
        by_name = {s.region.name: s.region.id for s in lib.list_regions()}
        for spec in REGIONS:
            report = yield from rescaled(
                analyze_region(lib, by_name[spec.name], token=token), done, spec.check_ins, photos
            )
            failed += report.failed
            done += spec.check_ins
    yield Progress(photos, photos, "Demo analysed")
    return {"library": str(root), "regions": [r.name for r in REGIONS], "failed": failed}


def _build(root: Path, token: CancelToken, total: int) -> Generator[Progress, None, dict[str, object]]:
    from skintrack.library import Library
    from skintrack.services.checkin import import_files

    done = 0
    truth: dict[str, object] = {"photo_size": list(PHOTO_SIZE), "regions": {}}
    truth_dir = root / TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    pw, ph = PHOTO_SIZE
    with (
        Library.open(root) as lib,
        tempfile.TemporaryDirectory(prefix="skintrack-demo-") as tmp,
        ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="skintrack-demo") as pool,
    ):
        for spec in REGIONS:
            token.raise_if_cancelled()
            region = lib.add_region(spec.name, body_site=spec.body_site, interval_days=spec.interval_days)
            bw, bh = int(pw * 1.6), int(ph * 1.6)
            skin = synth.make_skin((bw, bh), seed=spec.seed, tone=spec.tone, moles=2, hair_density=0.6)
            centre = (bw / 2 + 0.08 * pw, bh / 2 - 0.05 * ph)
            mask_body = synth.blob_mask((bw, bh), spec.seed + 1, centre, 0.1 * min(pw, ph))
            shots = _plan_shots(spec)
            slug = spec.name.lower().replace(" ", "-")
            paths = [Path(tmp) / f"{slug}-{s.when:%Y-%m-%d}.jpg" for s in shots]
            # OpenCV and numpy release the GIL: the check-ins render side by side, import in order
            renders = [
                pool.submit(_render, spec, skin, mask_body, s, p) for s, p in zip(shots, paths, strict=True)
            ]
            ref_homography: np.ndarray | None = None
            region_truth: list[dict[str, object]] = []
            for shot, path, fut in zip(shots, paths, renders, strict=True):
                token.raise_if_cancelled()
                h_bp = fut.result()
                if ref_homography is None:
                    ref_homography = h_bp
                    ref_mask = synth.mask_in_photo(mask_body, h_bp, PHOTO_SIZE) >= 0.5
                    cv2.imwrite(
                        str(truth_dir / f"{region.id}-patch-mask.png"), ref_mask.astype(np.uint8) * 255
                    )
                report = yield from import_files(lib, region.id, [path], token=token)
                if report.errors:
                    raise RuntimeError(f"demo import failed: {report.errors}")
                region_truth.append(
                    {
                        "photo_id": report.imported[0].id,
                        "taken_at": shot.when.isoformat(),
                        "true_delta_L": shot.delta_L,
                        "kind": spec.change_kind,
                        "h_photo_to_reference": synth.photo_to_reference(ref_homography, h_bp).tolist(),
                    }
                )
                done += 1
                yield Progress(done, total, f"Photographed {spec.name}, {formatting.day(shot.when)}")
            assert ref_homography is not None
            lib.set_reference(region.id, int(region_truth[0]["photo_id"]))  # type: ignore[arg-type]
            # watched area around the patch site, control patch on skin that never changes
            centre_ref = ref_homography @ np.array([centre[0], centre[1], 1.0])
            cx, cy = centre_ref[:2] / centre_ref[2]
            lib.set_areas(
                region.id,
                watched=[_rect_polygon(cx, cy, 0.42 * pw, 0.42 * ph)],
                control=[_rect_polygon(0.18 * pw, 0.75 * ph, 0.16 * pw, 0.16 * ph)],
            )
            truth["regions"][spec.name] = {  # type: ignore[index]
                "region_id": region.id,
                "kind": spec.change_kind,
                "final_delta_L": spec.final_delta_L,
                "patch_mask": f"{TRUTH_DIR}/{region.id}-patch-mask.png" if spec.change_kind else None,
                "photos": region_truth,
            }
        _add_journal(lib)
        (truth_dir / "truth.json").write_text(json.dumps(truth, indent=2))
    return {
        "library": str(root),
        "regions": [r.name for r in REGIONS],
        "photos": sum(r.check_ins for r in REGIONS),
    }


def _add_journal(lib: object) -> None:
    """Weekly kratom dose notes and a few sunny days: what a real user would log."""
    day = START
    end = START + timedelta(days=365)
    week = 0
    while day <= end:
        lib.add_journal(  # type: ignore[attr-defined]
            at=day,
            kind="dose",
            substance="kratom",
            amount=round(4.0 + 0.5 * (week % 6), 1),
            unit="g/day",
            notes="weekly average",
        )
        if week % 9 == 4:
            lib.add_journal(
                at=day + timedelta(days=2),
                kind="sun",
                substance="",
                amount=3.0,  # type: ignore[attr-defined]
                unit="h",
                notes="beach, no sunscreen on forearms",
            )
        day += timedelta(days=7)
        week += 1
    lib.add_journal(
        at=START + timedelta(days=200),
        kind="medication",
        substance="minocycline",  # type: ignore[attr-defined]
        amount=100.0,
        unit="mg/day",
        notes="started for acne (example entry)",
    )
