"""``compare`` of two 12 MP JPEGs end to end: time, ratio to plain decoding, peak memory.

Run: /work/venv/bin/pytest tests/benchmarks/test_bench_compare.py -m benchmark -s

Goals (issue 4): median ≤ 1.0 s on 2 cores, ≤ 4× the time of decoding both JPEGs, peak memory
< 1.5 GB. Peak memory is the child's peak RSS (VmHWM, else ``ru_maxrss``; tracemalloc misses numpy/OpenCV
buffers, and ``ru_maxrss`` survives exec so a big parent would inflate it).
The photos are synthetic skin (``skintrack.demo.synth`` at 2000x1500, upscaled to 4000x3000 with
fresh sensor noise) with a known homography and a brown darkened patch.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from skintrack.services.analysis import compare_files
out = compare_files(sys.argv[1], sys.argv[2])
j = out.to_json()
elapsed = time.perf_counter() - t0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # VmHWM is this process image's own peak; ru_maxrss can carry the forking parent's peak over exec
    with open("/proc/self/status") as f:
        rss_kb = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"seconds": elapsed, "maxrss_mb": rss_kb / 1024, "ok": out.alignment.ok,
                  "analysis_scale": j["analysis_scale"], "homography": j["alignment"]["homography"]}))
"""


def _make_jpegs(tmp: Path) -> tuple[Path, Path, np.ndarray]:
    from skintrack.demo import synth

    pair = synth.make_pair(
        3,
        (2000, 1500),
        later_pose=synth.Pose(12.0, 1.08, 3e-5, 0.0, (60.0, -40.0)),
        change=synth.Darkening(-6.0, "brown"),
        speculars=10,
    )
    rng = np.random.default_rng(0)
    paths = []
    for name, img in (("reference", pair.reference), ("later", pair.later)):
        big = cv2.resize(img, (4000, 3000), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big += rng.normal(0, 2.0, big.shape).astype(np.float32)
        path = tmp / f"{name}.jpg"
        bgr = cv2.cvtColor(np.clip(big, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    # truth at full size: the 2x upscale maps pixel centres x -> (x + 0.5) * 2 - 0.5
    from skintrack.core.align import scale_matrix

    s = scale_matrix(2.0, 2.0)
    return paths[0], paths[1], s @ pair.h_later_to_reference @ np.linalg.inv(s)


def test_compare_12mp_benchmark(tmp_path: Path) -> None:
    from skintrack.core.align import transfer_error
    from skintrack.core.align_features import clear_feature_cache
    from skintrack.core.images import decode
    from skintrack.services.analysis import compare_files

    ref, later, h_true = _make_jpegs(tmp_path)

    decode_times, decode_cpu = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        decode(ref)
        decode(later)
        decode_times.append(time.perf_counter() - t)
        decode_cpu.append(time.process_time() - c)
    decode_s = statistics.median(decode_times)

    compare_files(ref, later)  # warm-up: imports, OpenCV initialisation
    times, cpu = [], []
    out = None
    load_before = os.getloadavg()[0]
    for _ in range(3):
        clear_feature_cache()  # each run aligns cold, as a first compare of two photos does
        t, c = time.perf_counter(), time.process_time()
        out = compare_files(ref, later)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    compare_s = statistics.median(times)
    assert out is not None
    err = transfer_error(out.alignment.homography, h_true, (3000, 4000)) if out.alignment.ok else float("inf")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(ref), str(later)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    info = json.loads(child.stdout.strip().splitlines()[-1])

    t = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "skintrack", "compare", str(ref), str(later), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    cli_s = time.perf_counter() - t

    print()
    print("compare of two 12 MP JPEGs (4000x3000), synthetic skin")
    print(f"  cores available:              {len(os.sched_getaffinity(0))}")
    dcpu = statistics.median(decode_cpu)
    print(f"  full decode of both JPEGs:    {decode_s:.3f} s (median of 3; CPU {dcpu:.3f} s)")
    runs = ", ".join(f"{x:.3f}" for x in times)
    print(f"  compare_files end to end:     {compare_s:.3f} s (median of 3: {runs})")
    print(f"  compare_files CPU time:       {statistics.median(cpu):.3f} s (all threads; load-independent)")
    print(f"  ratio to decoding:            {compare_s / decode_s:.1f}x")
    print(
        f"  machine load average (1 min): {load_before:.1f} before the timed runs (wall times scale with it)"
    )
    print(f"  fresh process (imports incl): {info['seconds']:.3f} s; peak RSS {info['maxrss_mb']:.0f} MB")
    print(f"  CLI `skintrack compare --json` wall time: {cli_s:.3f} s (exit {cli.returncode})")
    print(f"  analysis_scale:               {info['analysis_scale']}")
    a = out.alignment
    print(f"  alignment: {a.method}, quality {a.quality:.2f}, transfer error {err:.3f} px (full res)")
