"""Frame times of the compare view on a 12 MP pair: zoom and pan, side by side and heatmap.

Prints figures; asserts nothing about time.
Run: pytest -m benchmark tests/benchmarks/test_bench_compare_view.py -s
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from skintrack.ui import tasks
from skintrack.ui.compare import CompareWindow
from skintrack.ui.compare.source import AlignmentInfo, PairData, PhotoInfo, prepare
from skintrack.ui.compare.window import HEATMAP, SIDE

pytestmark = [pytest.mark.benchmark, pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

W, H = 4000, 3000  # 12 MP


def big_skin(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.standard_normal((H // 32, W // 32)).astype(np.float32)
    n = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    img = np.empty((H, W, 3), np.float32)
    img[:] = (200.0, 150.0, 120.0)
    img *= (1 + 0.05 * n)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


class BigSource:
    def __init__(self) -> None:
        self.a = big_skin(1)
        self.b = self.a.copy()
        cv2.circle(self.b, (W // 2, H // 2), 400, (150, 110, 100), -1)
        d = np.zeros((H, W), np.float32)
        cv2.circle(d, (W // 2, H // 2), 400, -6.0, -1)
        self.delta = d
        self.prepare_s = 0.0

    def photos(self) -> list[PhotoInfo]:
        t0 = datetime(2026, 1, 1)
        return [PhotoInfo(1, t0, True), PhotoInfo(2, t0 + timedelta(days=60))]

    def default_pair(self) -> tuple[int, int]:
        return 1, 2

    def load(self, a: int, b: int, token: object) -> PairData:
        contour = [[W // 2 - 400, H // 2 - 400], [W // 2 + 400, H // 2 - 400], [W // 2 + 400, H // 2 + 400]]
        patch = SimpleNamespace(
            area_px=500_000,
            area_mm2=None,
            bbox=(0, 0, 1, 1),
            centroid=(W / 2, H / 2),
            mean_delta_L=-6.0,
            min_delta_L=-6.0,
            mean_delta_b=-2.0,
            mean_delta_ita=-5.0,
            kind="grey-blue",
            contour=contour,
        )
        change = SimpleNamespace(
            calibration="model",
            darkened_fraction=0.04,
            darkened_area_px=500_000,
            darkened_area_mm2=None,
            mean_delta_L=-0.3,
            mean_delta_b=-0.1,
            mean_delta_ita=-0.4,
            mean_delta_e2000=0.5,
            noise_delta_L=0.7,
            uniform_change_measurable=False,
            patches=[patch],
            delta_L=self.delta,
            ref_lab_mean=(62, 11, 17),
            later_lab_mean=(61, 11, 16),
        )
        return PairData(
            a, b, self.a, self.b, self.a, self.b, AlignmentInfo(True, 0.9, "features", 500), change
        )

    def original(self, pid: int, max_side: int | None = None) -> np.ndarray:
        return self.a if pid == 1 else self.b

    def save_manual_alignment(self, *args: object) -> None:
        pass

    def reanalyse(self, token: object) -> None:
        return None


def wheel(view, steps: float, pos: QPoint) -> None:
    vp = view.viewport()
    ev = QWheelEvent(
        QPointF(pos),
        QPointF(vp.mapToGlobal(pos)),
        QPoint(0, 0),
        QPoint(0, int(120 * steps)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, ev)


def frame_ms(win: CompareWindow, action) -> float:
    """One user action plus the synchronous repaint of every visible view (what the GUI thread pays)."""
    t = time.perf_counter()
    action()
    for v in win.all_views():
        if v.isVisible():
            v.viewport().repaint()
    return 1000.0 * (time.perf_counter() - t)


def report(name: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(
        f"{name:38s} n={len(times):3d}  median {statistics.median(times):6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {times[-1]:6.1f} ms"
    )


def test_bench_12mp_zoom_pan(qtbot) -> None:
    saved = dict(tasks._pools)
    tasks.set_pool("work", tasks.SyncPool())
    try:
        source = BigSource()
        t = time.perf_counter()
        prepare(source.load(1, 2, None))
        print(
            f"\nworker: prepare 12 MP pair (overlay + pyramids)   {1000 * (time.perf_counter() - t):.0f} ms"
        )
        t = time.perf_counter()
        win = CompareWindow(None, 1, source=source)
        qtbot.addWidget(win)
        win.resize(1400, 860)
        win.show()
        qtbot.waitExposed(win)
        print(f"window open incl. load (sync pool)               {1000 * (time.perf_counter() - t):.0f} ms")

        qtbot.wait(50)  # let the offscreen window get its backing store, or repaint() draws nothing
        for mode, name in ((SIDE, "side by side"), (HEATMAP, "heatmap")):
            win.set_mode(mode)
            view = win.active_view()
            centre = view.viewport().rect().center()
            first = frame_ms(win, view.fit)
            zoom_in = [frame_ms(win, lambda v=view, c=centre: wheel(v, 1, c)) for _ in range(14)]
            pans = []
            for i in range(40):
                dx = 60 if (i // 10) % 2 == 0 else -60
                pans.append(
                    frame_ms(
                        win,
                        lambda v=view, dx=dx: v.horizontalScrollBar().setValue(
                            v.horizontalScrollBar().value() + dx
                        ),
                    )
                )
            zoom_out = [frame_ms(win, lambda v=view, c=centre: wheel(v, -1, c)) for _ in range(14)]
            full = frame_ms(win, view.actual_size)
            pans_full = [
                frame_ms(
                    win, lambda v=view: v.verticalScrollBar().setValue(v.verticalScrollBar().value() + 45)
                )
                for _ in range(30)
            ]
            print(f"[{name}] fit (first frame)                  {first:6.1f} ms")
            report(f"[{name}] wheel zoom in (fit -> 14 steps)", zoom_in)
            report(f"[{name}] pan at high zoom", pans)
            report(f"[{name}] wheel zoom out", zoom_out)
            print(f"[{name}] 100 %                              {full:6.1f} ms")
            report(f"[{name}] pan at 100 % (new tiles)", pans_full)
        src = win._sources["ref"]
        visible = [type(v).__name__ for v in win.all_views() if v.isVisible()]
        print(
            f"tiles converted for the reference: {src.tiles_made} ({src.n_levels} levels); visible: {visible}"
        )
    finally:
        tasks._pools.clear()
        tasks._pools.update(saved)
