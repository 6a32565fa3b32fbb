"""Timing of the stand-alone realism steps at the analysis resolution (1500x1125), prints figures.

Run: ``pytest tests/benchmarks/test_bench_realism_steps.py -m benchmark -s``. Both steps run on
each photo of every compare, inside its 1.0 s budget for two 12 MP JPEGs on 2 cores.
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np
import pytest

from skintrack.core import colour
from skintrack.core.refine import refine
from skintrack.core.thin_structures import find_thin_structures
from skintrack.demo import synth

pytestmark = pytest.mark.benchmark
SIZE = (1500, 1125)


def _median_ms(fn, repeat: int = 5) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times), min(times)


def test_bench_thin_structures_and_refine() -> None:
    skin = synth.make_skin(SIZE, seed=8, hair_density=1.0)
    ref = (np.clip(colour.linear_to_srgb(skin), 0, 1) * 255).round().astype(np.uint8)
    w, h = SIZE
    coarse = np.random.default_rng(2).standard_normal((4, 4, 2)).astype(np.float32)
    d = cv2.resize(coarse, SIZE, interpolation=cv2.INTER_CUBIC)
    d *= np.float32(2.5 / np.sqrt((d**2).sum(axis=2)).max())
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    later = cv2.remap(ref, xs + d[..., 0], ys + d[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    valid = np.ones((h, w), bool)
    print(f"\nrealism steps at {w}x{h}")
    med, best = _median_ms(lambda: find_thin_structures(ref))
    print(f"  find_thin_structures          median {med:6.0f} ms  best {best:6.0f} ms")
    med, best = _median_ms(lambda: find_thin_structures(ref, inpaint=True), 3)
    print(f"  find_thin_structures+inpaint  median {med:6.0f} ms  best {best:6.0f} ms")
    med, best = _median_ms(lambda: refine(ref, later, valid))
    r = refine(ref, later, valid)
    print(f"  refine (2.5 px warp)          median {med:6.0f} ms  best {best:6.0f} ms  {r.message}")
    med, best = _median_ms(lambda: refine(ref, ref, valid))
    print(f"  refine (nothing to do)        median {med:6.0f} ms  best {best:6.0f} ms")
