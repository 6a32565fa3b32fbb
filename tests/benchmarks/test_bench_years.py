"""Years of photos: a library of 5,000 check-ins in 20 regions (small JPEGs plus a few 12 MP ones).

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_years.py -m benchmark -s
(``SKINTRACK_BENCH_LIBRARY_PHOTOS`` sets the photo count; default 5000).

Goals: ``photos --json`` of the biggest region ≤ 0.5 s as a fresh process; ``check`` and
``backup``/``restore`` at flat peak memory (printed beside the size of the library); main window
usable ≤ 2 s and switching region ≤ 100 ms until the new region's timeline and details have
painted (offscreen; the trend chart is drawn right after them, and that time is printed too).
The small photos' rows and originals are written straight into the library's store under their
real SHA-256 (importing 5,000 files would dominate the run); the 12 MP ones go through the real
import. Wall and CPU times are printed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from skintrack.library import Library
from skintrack.library.db import dt_to_text, sort_key
from support.peak_rss import LAUNCHER, peak_mb

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("SKINTRACK_BENCH_LIBRARY_PHOTOS", "5000"))
REGIONS = 20
LARGE = 3
PHOTOS_GOAL_S = 0.5
USABLE_GOAL_S = 2.0
SWITCH_GOAL_S = 0.1


def _small_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    px = np.empty((120, 160, 3), np.float32)
    px[:] = (200, 150, 120)
    px += rng.normal(0, 10, (120, 160, 1))
    buf = io.BytesIO()
    Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _build(root: Path, folder: Path) -> tuple[Library, list[int]]:
    lib = Library.open(root)
    region_ids = [lib.add_region(f"Region {r:02d}", body_site="forearm").id for r in range(REGIONS)]
    t0 = datetime(2012, 1, 1, 9, 0)
    rows = []
    for i in range(N - LARGE):
        data = _small_jpeg(i)
        sha = hashlib.sha256(data).hexdigest()
        path = lib._store.path_for(sha, ".jpg")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        when = t0 + timedelta(days=i // REGIONS * 7 // 5, hours=i % REGIONS)
        rid = region_ids[i % REGIONS]
        rows.append(
            (rid, sha, f"p{i}.jpg", ".jpg", len(data), 160, 120, dt_to_text(when), sort_key(when), "user",
             dt_to_text(when), "")
        )  # fmt: skip
    with lib._write() as conn:
        conn.executemany(
            """INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width, height,
               taken_at, taken_at_sort, taken_at_source, imported_at, notes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        _measurements(conn, region_ids)
    rng = np.random.default_rng(1)
    for k in range(LARGE):
        big = folder / f"large_{k}.jpg"
        px = np.clip(rng.normal(150, 25, (3000, 4000, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(px).save(big, quality=92)
        lib.import_file(region_ids[0], big, taken_at=t0 + timedelta(days=5000 + k))
    return lib, region_ids


def _measurements(conn: Any, region_ids: list[int]) -> None:
    """A stored measurement of every photo against its region's first one, so the trend charts
    show years of points the way an analysed library does."""
    rng = np.random.default_rng(3)
    rows = []
    for rid in region_ids:
        ids = [r[0] for r in conn.execute("SELECT id FROM photo WHERE region_id = ? ORDER BY id", (rid,))]
        for k, pid in enumerate(ids[1:], 1):
            dl = -0.02 * k + float(rng.normal(0, 0.4))
            metrics = {
                "mean_delta_L": dl, "mean_delta_b": 0.3 * -dl, "mean_delta_ita": 2.0 * dl,
                "darkened_area_mm2": max(0.0, -8.0 * dl), "darkened_fraction": max(0.0, -0.01 * dl),
                "noise_delta_L": 0.5, "calibration": "card", "uniform_change_measurable": True,
                "control": {"mean_delta_L": float(rng.normal(0, 0.3)), "mean_delta_b": 0.0,
                            "mean_delta_ita": 0.0},
                "patches": [{"kind": "brown", "area_px": 400, "mean_delta_L": 1.5 * dl,
                             "mean_delta_b": -0.4 * dl, "mean_delta_ita": 3.0 * dl}],
            }  # fmt: skip
            rows.append((pid, ids[0], "card", json.dumps(metrics), "bench", dt_to_text(datetime(2025, 1, 1))))
    conn.executemany(
        """INSERT INTO measurement (photo_id, reference_id, calibration, metrics, algorithm_version,
           created_at) VALUES (?, ?, ?, ?, ?, ?)""",
        rows,
    )


def _cli(env: dict[str, str], *args: str) -> tuple[float, float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True, env=env, timeout=1200
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak_mb(out.stderr), out


def _folder_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def test_bench_years_of_photos(tmp_path: Path) -> None:
    t = time.perf_counter()
    lib, region_ids = _build(tmp_path / "lib", tmp_path)
    lib.close()
    built = time.perf_counter() - t
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    lib_arg = ["--library", str(tmp_path / "lib")]
    size_mb = _folder_mb(tmp_path / "lib")
    print(
        f"\nlibrary of {N} photos in {REGIONS} regions ({LARGE} of 12 MP), {size_mb:.0f} MB, "
        f"built in {built:.0f} s"
    )
    print(f"  load average {os.getloadavg()[0]:.1f}")

    photos = [_cli(env, *lib_arg, "photos", "--region", "Region 00", "--json") for _ in range(3)]
    wall = sorted(p[0] for p in photos)[1]
    cpu = sorted(p[1] for p in photos)[1]
    assert all(p[3].returncode == 0 for p in photos), photos[0][3].stderr
    verdict = "ok" if wall <= PHOTOS_GOAL_S else "MISSED"
    print(
        f"  photos --json ({N // REGIONS + LARGE} photos): {wall:.3f} s wall, {cpu:.3f} s CPU "
        f"(median of 3; goal ≤ {PHOTOS_GOAL_S} s)  {verdict}"
    )

    for label, args in (
        ("check", ["check", "--json"]),
        ("backup", ["backup", "--out", str(tmp_path / "backup.zip")]),
        ("restore", ["restore", str(tmp_path / "backup.zip"), "--library", str(tmp_path / "restored")]),
    ):
        wall, cpu, peak, out = _cli(env, *([] if label == "restore" else lib_arg), *args)
        assert out.returncode == 0, out.stderr
        print(
            f"  {label:<8} {wall:7.2f} s wall, {cpu:6.2f} s CPU, peak RSS {peak:6.0f} MB (goal: flat in size)"
        )

    _gui_figures(tmp_path / "lib", region_ids)


def _until_charted(win: Any, region_id: int | None, timeout_s: float = 30.0) -> None:
    """Process events until the trend chart has rendered ``region_id``: a switch is done when
    the chart shows the new region, not when the click returns."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    chart = win.details.chart
    deadline = time.perf_counter() + timeout_s
    while chart.drawn_region_id != region_id:
        assert time.perf_counter() < deadline, f"the chart never showed region {region_id}"
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _paint_watch(widgets: list[Any]) -> Any:
    """An event filter noting which of ``widgets`` received a paint event since ``seen`` was cleared."""
    from PySide6.QtCore import QEvent, QObject

    class PaintWatch(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[int] = set()
            self.widgets = widgets
            for w in widgets:
                w.installEventFilter(self)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen.add(id(watched))
            return False

        def all_painted(self) -> bool:
            return all(id(w) in self.seen for w in self.widgets)

    return PaintWatch()


def _until_painted(watch: Any, timeout_s: float = 30.0) -> None:
    """Deliver posted events (layout, then paint) until every watched widget has painted;
    a paint event is seen before it is handled, so the check comes after the delivery."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.perf_counter() + timeout_s
    while True:
        QCoreApplication.sendPostedEvents()
        if watch.all_painted():
            return
        assert time.perf_counter() < deadline, "the timeline and details never painted"
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _gui_figures(root: Path, region_ids: list[int]) -> None:
    """Main window usable and region switching, offscreen, in this process.

    A switch is timed twice: until the new region's timeline and details have painted (what the
    user sees first; the chart is drawn after them) and until the chart shows it too.
    """
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from skintrack.ui.main_window import MainWindow

    app: Any = QApplication.instance() or QApplication([])
    lib = Library.open(root)
    try:
        t, c = time.perf_counter(), time.process_time()
        win = MainWindow(lib)
        win.resize(1400, 900)
        win.show()
        QCoreApplication.processEvents()
        _until_charted(win, win.current_region_id())
        usable, usable_cpu = time.perf_counter() - t, time.process_time() - c
        verdict = "ok" if usable <= USABLE_GOAL_S else "MISSED"
        print(
            f"  main window usable: {usable:.3f} s wall, {usable_cpu:.3f} s CPU (all threads) "
            f"(goal ≤ {USABLE_GOAL_S} s)  {verdict}"
        )
        watch = _paint_watch([win.timeline.viewport(), win.details.date_label])
        shown, charted, shown_cpu, charted_cpu, shown_gui, gui_cpu = [], [], [], [], [], []
        for row in range(1, min(11, win.region_model.rowCount())):
            watch.seen.clear()
            t, c, g = time.perf_counter(), time.process_time(), time.thread_time()
            win.region_view.setCurrentIndex(win.region_model.index(row))
            _until_painted(watch)
            shown.append(time.perf_counter() - t)
            shown_cpu.append(time.process_time() - c)
            shown_gui.append(time.thread_time() - g)
            _until_charted(win, win.current_region_id())
            charted.append(time.perf_counter() - t)
            charted_cpu.append(time.process_time() - c)
            gui_cpu.append(time.thread_time() - g)
            assert win.current_region_id() in region_ids
            assert win.photo_model.rowCount() > 0
            assert win.details.chart.series is not None
            assert win.details.chart.series.region_id == win.current_region_id()
        print(f"  switching region ({len(shown)} switches, load {os.getloadavg()[0]:.1f}):")
        verdict = "ok" if max(shown) <= SWITCH_GOAL_S else "MISSED"
        print(
            f"    timeline+details shown: median {_median(shown) * 1000:4.0f} ms, worst "
            f"{max(shown) * 1000:4.0f} ms wall; median CPU {_median(shown_cpu) * 1000:4.0f} ms "
            f"(goal ≤ {SWITCH_GOAL_S * 1000:.0f} ms)  {verdict}"
        )
        print(
            f"    chart drawn (after):    median {_median(charted) * 1000:4.0f} ms, worst "
            f"{max(charted) * 1000:4.0f} ms wall; median CPU {_median(charted_cpu) * 1000:4.0f} ms"
        )
        print(
            f"    GUI thread CPU: median {_median(shown_gui) * 1000:.0f} ms until the timeline and details "
            f"painted, {_median(gui_cpu) * 1000:.0f} ms until the chart is drawn (CPU above: all threads)"
        )
        win.close()
        win.shutdown()
        win.deleteLater()
        app.processEvents()
    finally:
        lib.close()
