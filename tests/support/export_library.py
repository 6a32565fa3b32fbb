"""Helpers for the export, backup and benchmark tests: a small library with known alignments.

Photos are shifted crops of one textured canvas, so the true homography of each is a
translation; it is stored as the alignment, with made-up measurements, so exports run without
waiting on the analysis service. One original carries GPS EXIF.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from skintrack.core import align
from skintrack.library import AlignmentRecord, Library, MeasurementRecord

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
START = datetime(2025, 3, 1, 9, 0)


def canvas(seed: int = 1, size: tuple[int, int] = (720, 560)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.random((h // 16, w // 16, 3)).astype(np.float32)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    img = 0.55 + 0.25 * img
    img[..., 0] += 0.12
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(img, (x, y), int(rng.integers(2, 7)), (0.35, 0.25, 0.2), -1)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def gps_exif(when: datetime) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestMaker"
    exif[0x0110] = "TestPhone"
    exif.get_ifd(EXIF_IFD)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)})
    return exif.tobytes()


def make_library(
    root: Path,
    photos_dir: Path,
    n: int = 5,
    *,
    size: tuple[int, int] = (480, 360),
    seed: int = 1,
    watched: bool = True,
    measured: bool = True,
) -> tuple[Library, int, list[int]]:
    """Open a new library with region "Left forearm" and ``n`` check-ins; returns (lib, region, ids)."""
    photos_dir.mkdir(parents=True, exist_ok=True)
    big = canvas(seed, (size[0] + 80, size[1] + 80))
    lib = Library.open(root)
    region = lib.add_region("Left forearm", body_site="forearm, dorsal, left", interval_days=30)
    ids: list[int] = []
    shifts: list[tuple[int, int]] = []
    for i in range(n):
        dx, dy = 40 + (i % 3) * 7 - 7, 40 - (i % 2) * 9
        crop = big[dy : dy + size[1], dx : dx + size[0]].copy()
        if i:  # gradual darkening in the middle
            cy, cx = size[1] // 2 - (dy - 40), size[0] // 2 - (dx - 40)
            patch = crop[cy - 30 : cy + 30, cx - 40 : cx + 40].astype(np.float32)
            crop[cy - 30 : cy + 30, cx - 40 : cx + 40] = np.clip(patch * (1 - 0.05 * i), 0, 255).astype(
                np.uint8
            )
        when = START + timedelta(days=30 * i)
        path = photos_dir / f"photo_{i}.jpg"
        im = Image.fromarray(crop)
        if i == n - 1:
            im.save(path, quality=92, exif=gps_exif(when))
        else:
            im.save(path, quality=92)
        out = lib.import_file(region.id, path, taken_at=when, notes=f"check-in {i}")
        ids.append(out.photo.id)
        shifts.append((dx, dy))
    ref = ids[0]
    lib.set_reference(region.id, ref)
    if watched:
        w, h = size
        lib.set_areas(
            region.id,
            watched=[[[w * 0.3, h * 0.3], [w * 0.7, h * 0.3], [w * 0.7, h * 0.7], [w * 0.3, h * 0.7]]],
        )
    if measured:
        rdx, rdy = shifts[0]
        for i, pid in enumerate(ids[1:], start=1):
            dx, dy = shifts[i]
            hom = [[1.0, 0.0, dx - rdx], [0.0, 1.0, dy - rdy], [0.0, 0.0, 1.0]]
            lib.save_alignment(
                AlignmentRecord(
                    pid, ref, True, hom, 0.9, "features", 200, "ok", None, align.ALGORITHM_VERSION
                )
            )
            metrics = {
                "calibration": "model",
                "darkened_fraction": 0.01 * i,
                "darkened_area_px": 120 * i,
                "darkened_area_mm2": None,
                "mean_delta_L": -1.1 * i,
                "mean_delta_b": -0.4 * i,
                "mean_delta_ita": -1.5 * i,
                "mean_delta_e2000": 0.9 * i,
                "noise_delta_L": 0.5,
                "uniform_change_measurable": False,
                "patches": [{"area_px": 120 * i, "mean_delta_L": -4.0, "bbox": [1, 2, 3, 4]}],
            }
            lib.save_measurement(MeasurementRecord(pid, ref, "model", metrics, "change-1"))
    lib.add_journal(START + timedelta(days=10), "dose", "kratom", 2.0, "g", "morning")
    lib.add_journal(START + timedelta(days=45), "sun", notes="beach")
    return lib, region.id, ids
