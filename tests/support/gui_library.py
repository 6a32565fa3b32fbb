"""Helpers for GUI tests and GUI benchmarks: small libraries of real JPEGs, draining the pools."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent

from skintrack.library import Library

T0 = datetime(2026, 1, 5, 9, 30)


def make_jpeg(path: Path, seed: int, size: tuple[int, int] = (160, 120), shade: float = 1.0) -> Path:
    """A small skin-coloured JPEG with texture (unique bytes per seed)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.empty((h, w, 3), np.float32)
    base[:] = (205, 150, 120)
    base *= shade
    base += rng.normal(0, 8, (h, w, 1))
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def populate(root: Path, regions: dict[str, int], *, tmp: Path, measure: bool = False) -> Library:
    """A library with ``{name: photo count}`` check-ins a month apart; optional fake measurements."""
    from skintrack.library import MeasurementRecord

    lib = Library.open(root)
    seed = 0
    for name, count in regions.items():
        region = lib.add_region(name, body_site="forearm", interval_days=30)
        ids = []
        for i in range(count):
            seed += 1
            f = make_jpeg(tmp / f"{name}-{i}.jpg", seed)
            ids.append(lib.import_file(region.id, f, taken_at=T0 + timedelta(days=30 * i)).photo.id)
        if ids:
            lib.set_reference(region.id, ids[0])
        if measure:
            for i, pid in enumerate(ids[1:], start=1):
                lib.save_measurement(
                    MeasurementRecord(
                        photo_id=pid,
                        reference_id=ids[0],
                        calibration="model",
                        metrics={
                            "calibration": "model",
                            "mean_delta_L": -1.5 * i,
                            "mean_delta_b": -0.4 * i,
                            "mean_delta_ita": -2.0 * i,
                            "mean_delta_e2000": 1.2 * i,
                            "darkened_fraction": 0.01 * max(0, i - 1),
                            "darkened_area_px": 100 * max(0, i - 1),
                            "darkened_area_mm2": None,
                            "noise_delta_L": 0.8,
                            "patches": [],
                            "alignment": {"ok": True, "quality": 0.9, "method": "features", "inliers": 200},
                        },
                        algorithm_version="test",
                    )
                )
    return lib


def drain() -> None:
    """Wait for every worker pool, deliver queued signals and deferred deletes."""
    from skintrack.ui import tasks

    for _ in range(3):
        QCoreApplication.processEvents()  # also starts tasks queued for the next loop turn
        for p in tasks._pools.values():
            p.waitForDone(10_000)
        QCoreApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
