"""Where ``compare A.jpg B.jpg --json`` spends its time: wall and CPU per named pipeline step.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_compare_steps.py -m benchmark -s

The same two 12 MP phone-like JPEGs as ``test_bench_speed``; every named step of the pipeline
(decode and chart, alignment stages, the steps of ``core.change.compare_aligned``) is wrapped to
record its wall time and the process CPU time (all threads) while it ran. Steps nest (``load``
holds the decode and the chart search, ``compare_warped`` holds the change steps), and steps run
on two threads count each other's CPU, so the column does not add up: it shows where to look.
The goal beside the total is issue 14's (compare <= 1.0 s in process on 2 cores).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_bench_speed import phone_like_pair

pytestmark = pytest.mark.benchmark

RUNS = 2
WALL_GOAL_S = 1.0

CHANGE_STEPS = (
    "prepare_frame",
    "prepare_pair",
    "thin_of",
    "refine_pair",
    "light_problems",
    "find_unreliable",
    "choose_method",
    "normalise",
    "compared_pixels",
    "delta_maps",
    "fill_under_lines",
    "detect",
    "coverage",
    "control_summary",
    "assemble",
)
PIPELINE_STEPS = ("load", "detect_calibration", "align_analysed", "compare_warped", "measure_pair")
ALIGN_STEPS = ("_prepare", "_feature_stage", "_highpass", "_ecc_refine")


def _wrap(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, label: str, record: dict[str, list[float]]
) -> None:
    fn: Callable[..., Any] = getattr(module, name)

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = record[label]
            entry[0] += time.perf_counter() - t
            entry[1] += time.process_time() - c
            entry[2] += 1

    monkeypatch.setattr(module, name, timed)


def test_compare_time_per_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skintrack.core.align as align
    import skintrack.core.change.compare as change
    import skintrack.services.pipeline as pipeline
    from skintrack import cli
    from skintrack.core.align_features import clear_feature_cache

    ref, later = phone_like_pair(tmp_path)
    args = ["--library", str(tmp_path / "no-library"), "compare", str(ref), str(later), "--json"]
    record: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for name in CHANGE_STEPS:
        _wrap(monkeypatch, change, name, f"change.{name}", record)
    for name in PIPELINE_STEPS:
        _wrap(monkeypatch, pipeline, name, f"pipeline.{name}", record)
    for name in ALIGN_STEPS:
        _wrap(monkeypatch, align, name, f"align.{name}", record)

    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(args) == 0  # warm-up: imports, OpenCV initialisation
    record.clear()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(RUNS):
        clear_feature_cache()  # each run aligns cold, as a first compare of two photos does
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(args) == 0
    wall, cpu = (time.perf_counter() - t) / RUNS, (time.process_time() - c) / RUNS

    print()
    load = os.getloadavg()[0]
    print(f"compare --json of two 12 MP JPEGs, in process, mean of {RUNS}; load average {load:.1f}")
    ok = "ok" if wall <= WALL_GOAL_S else "MISSED"
    print(f"  {'total':<30} wall {wall:6.3f} s  CPU {cpu:6.3f} s   goal ≤ {WALL_GOAL_S:g} s wall  {ok}")
    for label, (w, cc, n) in sorted(record.items(), key=lambda kv: -kv[1][1]):
        print(f"  {label:<30} wall {w / RUNS:6.3f} s  CPU {cc / RUNS:6.3f} s  ({n // RUNS} calls)")
    assert record["pipeline.measure_pair"][2] == RUNS
