"""``skintrack compare A.jpg B.jpg --json`` against the plain OpenCV decode of both JPEGs.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_speed.py -m benchmark -s

Goals: the CLI as a fresh process ≤ 4x ``cv2.imread`` of both JPEGs, in process ≤ 2.5x, peak RSS of
the fresh process ≤ 400 MB. The yardstick is timed in the same run, so the ratios hold on a loaded
machine better than wall times do; CPU times (user + system, all threads) are printed beside them.
The package is byte-compiled first, as an installed app is. Peak RSS is the child's own VmHWM,
read at exit: ``ru_maxrss`` of children can carry the forking parent's peak over exec. The photos
are 12 MP phone-like JPEGs: synthetic skin upscaled to 4000x3000 with fresh sensor noise, saved at
quality 92, the later one moved and with a darker patch. The in-process time without
``pipeline.compare_warped`` (the warp and the change detector) is printed against the yardstick too:
what is left is the decode, the chart search, the alignment and the output.
"""

from __future__ import annotations

import compileall
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from support.peak_rss import LAUNCHER, peak_mb

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3

FRESH_GOAL = 4.0
IN_PROCESS_GOAL = 2.5
RSS_GOAL_MB = 400.0


def phone_like_pair(folder: Path, size: tuple[int, int] = (4000, 3000)) -> tuple[Path, Path]:
    """Two 12 MP JPEGs of one skin area: sensor noise, quality 92, a new pose and a darker patch."""
    from skintrack.demo import synth

    pair = synth.make_pair(
        3,
        (size[0] // 2, size[1] // 2),
        later_pose=synth.Pose(12.0, 1.08, 3e-5, 0.0, (60.0, -40.0)),
        change=synth.Darkening(-6.0, "brown"),
        speculars=10,
    )
    rng = np.random.default_rng(0)
    paths = []
    for name, img in (("reference", pair.reference), ("later", pair.later)):
        big = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big += rng.normal(0, 2.0, big.shape).astype(np.float32)
        path = folder / f"{name}.jpg"
        bgr = cv2.cvtColor(np.clip(big, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths[0], paths[1]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(fn: object) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t, time.process_time() - c


def _fresh(ref: Path, later: Path, env: dict[str, str]) -> tuple[float, float, float, dict[str, object]]:
    cpu0, t = _children_cpu(), time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "compare", str(ref), str(later), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    wall, cpu = time.perf_counter() - t, _children_cpu() - cpu0
    return wall, cpu, peak_mb(out.stderr), json.loads(out.stdout)


def _line(label: str, value: float, unit: str, goal: float | None = None, cpu: float | None = None) -> str:
    text = f"  {label:<34} {value:8.3f} {unit}"
    if cpu is not None:
        text += f"  (CPU {cpu:.3f} s)"
    if goal is not None:
        text += f"   goal ≤ {goal:g}{unit.strip()}  {'ok' if value <= goal else 'MISSED'}"
    return text


def test_compare_cli_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skintrack import cli
    from skintrack.core.align_features import clear_feature_cache
    from skintrack.services import pipeline

    ref, later = phone_like_pair(tmp_path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    env.pop("SKINTRACK_LIBRARY", None)
    env["SKINTRACK_LIBRARY"] = str(tmp_path / "no-library")
    # an installed app starts from byte code (pip and the bundle compile it); with
    # PYTHONDONTWRITEBYTECODE set nothing else would write it, and every fresh process would
    # recompile the package from source
    compiled = compileall.compile_dir(str(ROOT / "app" / "skintrack"), quiet=1)

    def imread_both() -> None:
        cv2.imread(str(ref))
        cv2.imread(str(later))

    # the change detector's share (pipeline.compare_warped: warp and core.change) of each in-process
    # run, so the rest (start, decode, charts, alignment, output) can be read against the yardstick
    detector: list[tuple[float, float]] = []
    compare_warped = pipeline.compare_warped

    def timed_compare_warped(*args: object, **kwargs: object) -> object:
        t, c = time.perf_counter(), time.process_time()
        try:
            return compare_warped(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            detector.append((time.perf_counter() - t, time.process_time() - c))

    monkeypatch.setattr(pipeline, "compare_warped", timed_compare_warped)

    def in_process() -> None:
        # a fresh ``compare`` has seen neither photo: no feature of an earlier run may be reused
        clear_feature_cache()
        with contextlib.redirect_stdout(io.StringIO()):
            assert (
                cli.main(
                    ["--library", str(tmp_path / "no-library"), "compare", str(ref), str(later), "--json"]
                )
                == 0
            )

    load = os.getloadavg()[0]
    imread_both()
    in_process()  # warm-up: imports, OpenCV initialisation
    detector.clear()
    decode, compare, fresh = [], [], []
    for _ in range(RUNS):  # interleaved, so every figure sees the same machine load
        decode.append(_timed(imread_both))
        compare.append(_timed(in_process))
        fresh.append(_fresh(ref, later, env))
    d_wall = statistics.median(x[0] for x in decode)
    d_cpu = statistics.median(x[1] for x in decode)
    c_wall = statistics.median(x[0] for x in compare)
    c_cpu = statistics.median(x[1] for x in compare)
    f_wall = statistics.median(x[0] for x in fresh)
    f_cpu = statistics.median(x[1] for x in fresh)
    x_wall = statistics.median(c[0] - d[0] for c, d in zip(compare, detector, strict=True))
    x_cpu = statistics.median(c[1] - d[1] for c, d in zip(compare, detector, strict=True))
    rss = max(x[2] for x in fresh)
    data = fresh[-1][3]

    print()
    print(f"compare of two 12 MP JPEGs (4000x3000, q92), median of {RUNS}; load average {load:.1f}")
    print(_line("cv2.imread of both (yardstick)", d_wall, "s", cpu=d_cpu))
    print(_line("in process cli.main compare --json", c_wall, "s", cpu=c_cpu))
    print(_line("fresh process compare --json", f_wall, "s", cpu=f_cpu))
    print(_line("in process without compare_warped", x_wall, "s", cpu=x_cpu))
    print(_line("in process / decode (wall)", c_wall / d_wall, "x", IN_PROCESS_GOAL))
    print(_line("in process / decode (CPU)", c_cpu / d_cpu, "x", IN_PROCESS_GOAL))
    print(_line("fresh / decode (wall)", f_wall / d_wall, "x", FRESH_GOAL))
    print(_line("fresh / decode (CPU)", f_cpu / d_cpu, "x", FRESH_GOAL))
    print(_line("  without compare_warped (wall)", x_wall / d_wall, "x"))
    print(_line("  without compare_warped (CPU)", x_cpu / d_cpu, "x"))
    print(_line("fresh process peak RSS", rss, "MB", RSS_GOAL_MB))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        state = "byte-compiled first" if compiled else "byte-compile FAILED: fresh runs recompile it"
        print(f"  note: PYTHONDONTWRITEBYTECODE is set; the package was {state}")
    print(f"  alignment ok: {data['alignment']['ok']}; analysis_scale {data.get('analysis_scale')}")
    assert data["alignment"]["ok"]
