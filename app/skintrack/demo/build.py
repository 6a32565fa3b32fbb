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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skintrack.demo import synth
from skintrack.progress import CancelToken, Progress, rescaled

PHOTO_SIZE = (1200, 900)
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
    DemoRegion("Left forearm", "forearm, dorsal, left", "intermediate", "grey-blue", -9.0, 11, 30, 11),
    DemoRegion("Right cheek", "cheek, right", "light", None, 0.0, 9, 42, 23),
    DemoRegion("Back of left hand", "hand, dorsal, left", "tan", "brown", -7.0, 10, 35, 37),
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


def build_demo_library(
    root: Path, token: CancelToken | None = None, analyse: bool = True
) -> Generator[Progress, None, dict[str, object]]:
    """Create the demo library in ``root`` (empty or missing); yields progress, returns a summary."""
    from skintrack.library import Library
    from skintrack.services.checkin import import_files

    root = Path(root)
    token = token or CancelToken()
    total = sum(r.check_ins for r in REGIONS) * (2 if analyse else 1)
    done = 0
    truth: dict[str, object] = {"photo_size": list(PHOTO_SIZE), "regions": {}}
    truth_dir = root / TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    pw, ph = PHOTO_SIZE
    with Library.open(root) as lib, tempfile.TemporaryDirectory(prefix="skintrack-demo-") as tmp:
        region_ids: list[int] = []
        for spec in REGIONS:
            region = lib.add_region(spec.name, body_site=spec.body_site, interval_days=spec.interval_days)
            region_ids.append(region.id)
            rng = np.random.default_rng(spec.seed)
            bw, bh = int(pw * 1.6), int(ph * 1.6)
            skin = synth.make_skin((bw, bh), seed=spec.seed, tone=spec.tone, moles=2, hair_density=0.6)
            centre = (bw / 2 + 0.08 * pw, bh / 2 - 0.05 * ph)
            mask_body = synth.blob_mask((bw, bh), spec.seed + 1, centre, 0.1 * min(pw, ph))
            ref_homography: np.ndarray | None = None
            region_truth: list[dict[str, object]] = []
            for i in range(spec.check_ins):
                token.raise_if_cancelled()
                when = START + timedelta(
                    days=round(i * 365 / (spec.check_ins - 1)) + int(rng.integers(-3, 4))
                )
                progress = i / (spec.check_ins - 1)
                delta_L = spec.final_delta_L * progress if spec.change_kind else 0.0
                body = skin
                if spec.change_kind and delta_L < 0:
                    body = synth.darken(skin, mask_body, synth.Darkening(delta_L, spec.change_kind))
                pose = (
                    synth.Pose()
                    if i == 0
                    else synth.Pose(
                        rotation=float(rng.uniform(-12, 12)),
                        scale=float(rng.uniform(0.9, 1.12)),
                        tilt_x=float(rng.uniform(-6e-5, 6e-5)),
                        tilt_y=float(rng.uniform(-6e-5, 6e-5)),
                        shift=(float(rng.uniform(-40, 40)), float(rng.uniform(-30, 30))),
                    )
                )
                lighting = synth.Lighting(
                    gain=float(rng.uniform(0.85, 1.1)),
                    white_balance=(float(rng.uniform(0.95, 1.06)), 1.0, float(rng.uniform(0.92, 1.05))),
                    gradient=(float(rng.uniform(-0.15, 0.15)), float(rng.uniform(-0.1, 0.1))),
                    vignette=0.05,
                )
                photo, h_bp = synth.photograph(
                    body,
                    pose,
                    PHOTO_SIZE,
                    lighting,
                    seed=spec.seed * 100 + i,
                    speculars=int(rng.integers(0, 4)),
                )
                if ref_homography is None:
                    ref_homography = h_bp
                    ref_mask = synth.mask_in_photo(mask_body, h_bp, PHOTO_SIZE) >= 0.5
                    mask_name = f"{region.id}-patch-mask.png"
                    cv2.imwrite(str(truth_dir / mask_name), ref_mask.astype(np.uint8) * 255)
                path = Path(tmp) / f"{spec.name.lower().replace(' ', '-')}-{when:%Y-%m-%d}.jpg"
                Image.fromarray(photo).save(path, quality=92, exif=_exif_with_date(when))
                report = yield from import_files(lib, region.id, [path], token=token)
                if report.errors:
                    raise RuntimeError(f"demo import failed: {report.errors}")
                photo_id = report.imported[0].id
                region_truth.append(
                    {
                        "photo_id": photo_id,
                        "taken_at": when.isoformat(),
                        "true_delta_L": delta_L,
                        "kind": spec.change_kind,
                        "h_photo_to_reference": synth.photo_to_reference(ref_homography, h_bp).tolist(),
                    }
                )
                done += 1
                yield Progress(done, total, f"Photographed {spec.name}, {when:%d %b %Y}")
            first = region_truth[0]["photo_id"]
            lib.set_reference(region.id, int(first))  # type: ignore[arg-type]
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
        if analyse:
            from skintrack.services.analysis import analyze_region

            for region_id, spec in zip(region_ids, REGIONS, strict=True):
                yield from rescaled(analyze_region(lib, region_id, token=token), done, spec.check_ins, total)
                done += spec.check_ins
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
