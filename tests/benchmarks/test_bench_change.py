"""Timing of core.change.compare_aligned on 12 MP and 3 MP aligned pairs (prints figures only).

Run: ``pytest tests/benchmarks/test_bench_change.py -m benchmark -s``. The 12 MP pair is a synthetic
pair upscaled to 4000x3000 (the content does not change the cost); the 2000x1500 case is what
``services.analysis`` passes (its analysis resolution).
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np
import pytest

from skintrack.core.change import ChangeSettings, compare_aligned, heatmap_image
from skintrack.demo import synth

pytestmark = pytest.mark.benchmark


def _pair(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = synth.make_pair(seed=5, size=(1000, 750), change=synth.Darkening(-5.0, "grey-blue"))
    later = cv2.warpPerspective(p.later, p.h_later_to_reference, (1000, 750), flags=cv2.INTER_LINEAR)
    ref = cv2.resize(p.reference, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    lat = cv2.resize(later, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    return ref, lat, np.ones((size[1], size[0]), bool)


def _time(fn, repeat: int = 5) -> tuple[float, float]:
    fn()  # warm-up (tables, allocations)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times), min(times)


@pytest.mark.parametrize("size", [(4000, 3000), (2000, 1500)], ids=["12MP", "3MP"])
def test_bench_compare_aligned(size: tuple[int, int]) -> None:
    ref, lat, valid = _pair(size)
    roi = np.zeros(valid.shape, bool)
    roi[size[1] // 6 : -size[1] // 6, size[0] // 6 : -size[0] // 6] = True
    control = np.zeros(valid.shape, bool)
    control[: size[1] // 8, : size[0] // 8] = True
    print(f"\ncompare_aligned on {size[0]}x{size[1]} (analysis side {ChangeSettings().analysis_side} px)")
    for name, kwargs in (
        ("model", {}),
        ("model + roi", {"roi": roi}),
        ("control + roi", {"roi": roi, "control": control}),
    ):
        med, best = _time(lambda kw=kwargs: compare_aligned(ref, lat, valid, **kw))
        print(f"  {name:<16} median {med:6.0f} ms  best {best:6.0f} ms")
    r = compare_aligned(ref, lat, valid)
    med, best = _time(lambda: heatmap_image(r, legend=True), repeat=3)
    print(f"  {'heatmap_image':<16} median {med:6.0f} ms  best {best:6.0f} ms")

    def normalise() -> None:
        r._cache.pop("later_normalised", None)  # computed on demand and cached: time a fresh one
        assert r.later_normalised is not None

    med, best = _time(normalise, 3)
    print(f"  {'later_normalised':<16} median {med:6.0f} ms  best {best:6.0f} ms")
    full = ChangeSettings(analysis_side=0)
    if size[0] <= 2000:
        med, best = _time(lambda: compare_aligned(ref, lat, valid, settings=full), repeat=3)
        print(f"  {'full resolution':<16} median {med:6.0f} ms  best {best:6.0f} ms")
    print(
        f"  patches {len(r.patches)}, darkened {100 * r.darkened_fraction:.2f} %, noise {r.noise_delta_L:.2f}"
    )
