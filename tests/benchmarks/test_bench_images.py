"""Decode speed of a 12 MP JPEG: thumbnail (draft mode) and full decode. Prints figures only.

Run: /work/venv/bin/pytest -m benchmark -s tests/benchmarks/test_bench_images.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.core.images import decode, read_meta, save_rgb, thumbnail


def _photo_12mp(path: Path) -> None:
    """Camera-like content (smooth shading + fine texture) so the JPEG has a realistic size."""
    rng = np.random.default_rng(0)
    h, w = 3000, 4000
    small = rng.normal(0.0, 1.0, (h // 8, w // 8, 3)).astype(np.float32)
    base = cv2.resize(cv2.GaussianBlur(small, (0, 0), 6), (w, h), interpolation=cv2.INTER_CUBIC)
    texture = rng.normal(0.0, 6.0, (h, w, 1)).astype(np.float32)
    rgb = np.array([200, 150, 125], np.float32) + 25 * base + texture
    save_rgb(path, np.clip(rgb, 0, 255).astype(np.uint8), quality=92)


def _time_ms(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@pytest.mark.benchmark
def test_bench_12mp_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    _photo_12mp(path)
    thumbnail(path)  # warm-up: imports, sRGB profile
    meta = _time_ms(lambda: read_meta(path), 20)
    th = _time_ms(lambda: thumbnail(path, 320), 20)
    full = _time_ms(lambda: decode(path), 5)
    full_f = _time_ms(lambda: decode(path, dtype=np.float32), 3)
    size_mb = path.stat().st_size / 1e6
    print(f"\n12 MP JPEG ({size_mb:.1f} MB)")
    print(f"  read_meta        median {statistics.median(meta):7.2f} ms")
    print(f"  thumbnail(320)   median {statistics.median(th):7.2f} ms  (min {min(th):.2f})")
    print(f"  decode uint8     median {statistics.median(full):7.1f} ms")
    print(f"  decode float32   median {statistics.median(full_f):7.1f} ms")
