"""GUI responsiveness figures (run with ``-m benchmark``; prints, asserts nothing timing-related).

- main window on a 1,000-photo region (rows inserted directly, tiny cached thumbnails): time until
  the window is shown with the timeline filled and the latest check-in selected (goal < 1.5 s);
- QTimer heartbeat (10 ms) max gap while the timeline scrolls and while an analysis runs (goal < 50 ms);
- resident memory after opening and closing 50 dialogs and 50 compare views (goal: flat).
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from skintrack.library import Library
from skintrack.library.db import dt_to_text, sort_key
from skintrack.ui.pyside_fix import immortalise_singletons
from support.gui_library import drain, populate

immortalise_singletons()  # what the app does at start-up (configure_application)

pytestmark = [
    pytest.mark.benchmark,
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]

N_PHOTOS = 1000


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKINTRACK_SETTINGS", str(tmp_path / "settings.ini"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _tiny_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    px = np.empty((48, 64, 3), np.float32)
    px[:] = (200, 150, 120)
    px += rng.normal(0, 10, (48, 64, 1))
    buf = io.BytesIO()
    Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def big_library(root: Path, n: int = N_PHOTOS) -> Library:
    """One region with ``n`` photo rows, their small originals and cached thumbnails.

    The originals are real files so that the check the window runs on open finds a healthy library
    (missing originals would, rightly, raise a warning box that waits for the user).
    """
    from skintrack.library.thumbnails import ThumbnailCache
    from skintrack.ui.thumbnails import THUMB_SIZE

    lib = Library.open(root)
    region = lib.add_region("Left forearm", body_site="forearm", interval_days=30)
    cache = ThumbnailCache(lib.cache_dir)
    t0 = datetime(2020, 1, 1, 9, 0)
    rows = []
    for i in range(n):
        data = _tiny_jpeg(i)
        sha = hashlib.sha256(data).hexdigest()
        original = lib._store.path_for(sha, ".jpg")
        original.parent.mkdir(parents=True, exist_ok=True)
        original.write_bytes(data)
        path = cache.path_for(sha, THUMB_SIZE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        when = t0 + timedelta(days=2 * i)
        rows.append(
            (
                region.id,
                sha,
                f"p{i}.jpg",
                ".jpg",
                len(data),
                64,
                48,
                dt_to_text(when),
                sort_key(when),
                "user",
                dt_to_text(when),
                "",
            )
        )
    with lib._write() as conn:
        conn.executemany(
            """INSERT INTO photo (region_id, sha256, original_name, suffix, size_bytes, width, height,
               taken_at, taken_at_sort, taken_at_source, imported_at, notes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
    return lib


class Heartbeat:
    """A 10 ms QTimer; the largest gap between ticks is how long the GUI thread was blocked."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.clock = QElapsedTimer()
        self.last = 0
        self.gaps: list[int] = []
        self.times: list[int] = []
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.gaps.append(now - self.last)
        self.times.append(now)
        self.last = now

    def max_gap_until(self, t_ms: int) -> float:
        g = [gap for gap, t in zip(self.gaps[1:], self.times[1:], strict=True) if t <= t_ms]
        return float(max(g or [0]))

    def start(self) -> None:
        self.gaps.clear()
        self.times.clear()
        self.clock.start()
        self.last = 0
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        g = np.array(self.gaps[1:] or [0])
        return {"max_ms": float(g.max()), "p99_ms": float(np.percentile(g, 99)), "ticks": len(g)}


def test_main_window_on_1000_photos(qtbot: Any, tmp_path: Path) -> None:
    from skintrack.ui.main_window import MainWindow

    lib = big_library(tmp_path / "lib")
    try:
        t = time.perf_counter()
        win = MainWindow(lib)
        win.resize(1400, 900)
        win.show()
        qtbot.waitExposed(win)
        QCoreApplication.processEvents()
        usable = time.perf_counter() - t
        assert win.photo_model.rowCount() == N_PHOTOS
        assert win.timeline.currentIndex().row() == N_PHOTOS - 1
        region_id = win.current_region_id()
        qtbot.waitUntil(lambda: win.details.chart.drawn_region_id == region_id, timeout=20_000)
        chart_drawn = time.perf_counter() - t
        qtbot.waitUntil(lambda: win.thumbs.pending_count() == 0, timeout=20_000)
        print(
            f"\n[bench] main window usable on {N_PHOTOS} photos: {usable * 1000:.0f} ms (goal < 1500 ms); "
            f"trend chart drawn at {chart_drawn * 1000:.0f} ms"
        )

        hb = Heartbeat()
        bar = win.timeline.verticalScrollBar()
        bar.setValue(0)
        hb.start()
        steps = 0
        t_scroll = time.perf_counter()
        while bar.value() < bar.maximum() and time.perf_counter() - t_scroll < 8:
            bar.setValue(bar.value() + 120)
            steps += 1
            qtbot.wait(16)
        stats = hb.stop()
        print(
            f"[bench] scrolling the timeline ({steps} steps of 120 px, thumbnails loading): heartbeat "
            f"max gap {stats['max_ms']:.0f} ms, p99 {stats['p99_ms']:.0f} ms over {stats['ticks']} ticks "
            "(goal < 50 ms)"
        )
        win.close()
        drain()
        win.shutdown()
        win.deleteLater()
        drain()
    finally:
        lib.close()


def test_heartbeat_while_analysis_runs(qtbot: Any, tmp_path: Path) -> None:
    from skintrack.ui.main_window import MainWindow

    lib = Library.open(tmp_path / "lib")
    try:
        region = lib.add_region("Arm")
        rng = np.random.default_rng(1)
        base = rng.normal(0, 1, (60, 80)).astype(np.float32)
        import cv2

        tex = cv2.resize(base, (1200, 900), interpolation=cv2.INTER_CUBIC)
        for i in range(5):
            m = cv2.getRotationMatrix2D((600, 450), 2.0 * i, 1.0 + 0.01 * i)
            t = cv2.warpAffine(tex, m, (1200, 900), borderMode=cv2.BORDER_REFLECT)
            px = np.stack([200 + 12 * t, 150 + 10 * t, 120 + 8 * t], -1) - 2.0 * i
            px += rng.normal(0, 2, px.shape)
            path = tmp_path / f"a{i}.jpg"
            Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(path, quality=92)
            lib.import_file(region.id, path, taken_at=datetime(2026, 1, 1) + timedelta(days=30 * i))
        win = MainWindow(lib)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win.thumbs.pending_count() == 0, timeout=20_000)
        qtbot.wait(1000)  # first chart draw and preview happen before the measurement
        hb = Heartbeat()
        hb.start()
        t = time.perf_counter()
        last_step: list[int] = [0]
        with qtbot.waitSignal(win.analysisFinished, timeout=300_000) as blocker:
            handle = win.analyse_region(force=True)
            handle.progress.connect(lambda _p: last_step.__setitem__(0, hb.clock.elapsed()))
        elapsed = time.perf_counter() - t
        during = hb.max_gap_until(last_step[0])
        stats = hb.stop()
        print(
            f"\n[bench] analysis of 5 photos (1200x900) took {elapsed:.1f} s ({blocker.args[0]}); heartbeat "
            f"max gap while it ran {during:.0f} ms; including the final refresh (timeline + matplotlib trend "
            f"chart) {stats['max_ms']:.0f} ms; p99 {stats['p99_ms']:.0f} ms (goal < 50 ms)"
        )
        win.close()
        drain()
        win.deleteLater()
        drain()
    finally:
        lib.close()


def _small_window(qtbot: Any, tmp_path: Path) -> tuple[Library, Any]:
    """A shown main window on a measured 3-photo region (the memory benchmarks' subject)."""
    from skintrack.ui.main_window import MainWindow

    (tmp_path / "src").mkdir()
    lib = populate(tmp_path / "lib", {"Arm": 3}, tmp=tmp_path / "src", measure=True)
    win = MainWindow(lib)
    win.show()
    qtbot.waitExposed(win)
    return lib, win


def test_memory_after_50_dialogs(qtbot: Any, tmp_path: Path) -> None:
    lib, win = _small_window(qtbot, tmp_path)

    def cycle() -> None:
        for opener in (win.windows.open_journal, win.windows.open_about, win.windows.open_preferences):
            dlg = opener()
            QCoreApplication.processEvents()
            dlg.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    for _ in range(5):  # warm-up: caches, fonts, lazy imports
        cycle()
    gc.collect()
    before = _rss_mb()
    for _ in range(50):
        cycle()
    drain()
    gc.collect()
    after = _rss_mb()
    left = len(
        [
            w
            for w in QApplication.topLevelWidgets()
            if w.objectName() in ("journalDialog", "aboutDialog", "preferencesDialog")
        ]
    )
    print(
        f"\n[bench] RSS after 150 dialog open/close (50 x journal+about+preferences): {before:.1f} -> "
        f"{after:.1f} MB ({after - before:+.1f} MB); dialogs alive: {left}"
    )
    win.close()
    drain()
    lib.close()


def test_memory_after_50_comparisons(qtbot: Any, tmp_path: Path) -> None:
    """Open the compare view (pair aligned, normalised and rendered in its worker), close it; x50."""
    lib, win = _small_window(qtbot, tmp_path)

    def cycle() -> None:
        cmp = win.windows.compare()
        assert cmp is not None
        drain()  # the pair is loaded and shown before it is closed
        cmp.close()
        drain()

    for _ in range(3):  # warm-up: caches, fonts, lazy imports
        cycle()
    gc.collect()
    before = _rss_mb()
    t = time.perf_counter()
    for _ in range(50):
        cycle()
    elapsed = time.perf_counter() - t
    gc.collect()
    after = _rss_mb()
    left = len([w for w in QApplication.topLevelWidgets() if type(w).__name__ == "CompareWindow"])
    print(
        f"\n[bench] RSS after 50 compare views opened and closed: {before:.1f} -> {after:.1f} MB "
        f"({after - before:+.1f} MB); compare windows alive: {left}; {elapsed / 50 * 1000:.0f} ms per cycle"
    )
    win.close()
    drain()
    lib.close()
