"""An ``analyze_region`` stand-in for GUI tests that must see the window *while* a region is
being analysed: it waits for ``release``, then stores one measurement per later photo."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

from skintrack.library import Library, MeasurementRecord
from skintrack.progress import CancelToken, Progress
from skintrack.services import analysis

GatedAnalysis = Callable[..., Generator[Progress, None, analysis.AnalysisReport]]


def gated_analysis(release: threading.Event, threads: list[str] | None = None) -> GatedAnalysis:
    """The stand-in; the name of each thread it runs on is appended to ``threads``."""

    def analyse(
        lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False
    ) -> Generator[Progress, None, analysis.AnalysisReport]:
        if threads is not None:
            threads.append(threading.current_thread().name)
        yield Progress(0, 1, "aligning")
        release.wait(10)
        photos = lib.list_photos(region_id)
        for p in photos[1:]:
            lib.save_measurement(
                MeasurementRecord(
                    p.id, photos[0].id, "model", {"calibration": "model", "mean_delta_L": -2.0}, "test"
                )
            )
        yield Progress(1, 1, "done")
        return analysis.AnalysisReport(analysed=len(photos) - 1)

    return analyse
