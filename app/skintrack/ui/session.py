"""The open library and the work queued on it: writes in the write pool, one analysis per region.

The analysis measures in the work pool and stores every pair through the write pool
(:class:`~skintrack.ui.write_through.WriteThroughLibrary`).

A second analysis request for a region that is being analysed waits for the first to end and
then runs once (Vorta's ``borg/jobs_manager.py`` keeps one job queue per repository the same
way), so the region editor, a check-in and Ctrl+R never measure one region twice at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from skintrack.library import Library
from skintrack.progress import CancelToken, Steps
from skintrack.services import analysis
from skintrack.services.analysis import AnalysisReport
from skintrack.ui.tasks import Job, Pool, TaskHandle, run_task
from skintrack.ui.write_through import WriteThroughLibrary


class Session(QObject):
    analysisStarted = Signal(int, object)  # region id, TaskHandle
    analysisFinished = Signal(
        int, str, object
    )  # region id, "succeeded" | "failed" | "cancelled", report or message

    def __init__(self, library: Library | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._analyses: dict[int, TaskHandle] = {}
        self._queued: dict[int, bool] = {}  # region id -> force
        self._tasks: set[TaskHandle] = set()

    def write(
        self,
        job: Job,
        *,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        name: str = "write",
    ) -> TaskHandle:
        """Run a library write in the single write pool (SQLite never waits on the GUI thread)."""
        return self._keep(run_task(job, on_result=on_result, on_error=on_error, pool=Pool.WRITE, name=name))

    def run(self, job: Job, **kwargs: Any) -> TaskHandle:
        """Another task on this library (``run_task``'s arguments); cancelled with the session."""
        return self._keep(run_task(job, **kwargs))

    def _keep(self, handle: TaskHandle) -> TaskHandle:
        self._tasks = {h for h in self._tasks if h.running}
        if handle.running:
            self._tasks.add(handle)
        return handle

    # ---------------------------------------------------------------- analysis queue
    def analysing(self, region_id: int | None = None) -> bool:
        return bool(self._analyses) if region_id is None else region_id in self._analyses

    def analysis_task(self, region_id: int) -> TaskHandle | None:
        return self._analyses.get(region_id)

    def analyse(self, region_id: int, *, force: bool = False) -> TaskHandle | None:
        """Start the region's analysis, or queue it behind the one running (None then)."""
        if self.library is None:
            return None
        if region_id in self._analyses:
            self._queued[region_id] = self._queued.get(region_id, False) or force
            return None
        library = self.library

        def job(token: CancelToken) -> Steps[AnalysisReport]:
            lib = WriteThroughLibrary(library, token)  # measured here, stored by the write pool
            return analysis.analyze_region(lib, region_id, token=token, force=force)

        handle = run_task(
            job,
            on_result=lambda report: self._analysis_over(region_id, "succeeded", report),
            on_error=lambda message: self._analysis_over(region_id, "failed", message),
            on_cancel=lambda: self._analysis_over(region_id, "cancelled", None),
            pool=Pool.WORK,
            name=f"analyse {region_id}",
        )
        if handle.running:
            self._analyses[region_id] = handle
            self.analysisStarted.emit(region_id, handle)
        return handle

    def _analysis_over(self, region_id: int, outcome: str, detail: AnalysisReport | str | None) -> None:
        self._analyses.pop(region_id, None)
        self.analysisFinished.emit(region_id, outcome, detail)
        if region_id in self._queued and outcome != "cancelled":
            self.analyse(region_id, force=self._queued.pop(region_id))
        self._queued.pop(region_id, None)

    def cancel_all(self) -> None:
        self._queued.clear()
        for handle in [*self._analyses.values(), *self._tasks]:
            handle.cancel()
