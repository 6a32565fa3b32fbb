"""Capture-quality checks on live preview frames, in a worker, a few times a second.

:class:`LiveQualityMonitor` takes every frame the camera shows but assesses at most one at a time
and at most every ``interval_ms``: the newest frame waits, older ones are dropped. The reference
photo is decoded and prepared in a worker too. Results arrive on the GUI thread as ``assessed``.
:class:`AutoCapture` decides when framing and quality have held for long enough to take the photo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from skintrack.core.quality import Prepared, QualityReport, QualityThresholds
from skintrack.progress import CancelToken
from skintrack.ui.tasks import Pool, TaskHandle, run_task

if TYPE_CHECKING:
    from skintrack.services.quality import LiveChart

log = logging.getLogger(__name__)

INTERVAL_MS = 250  # four assessments a second at most
HOLD_SECONDS = 0.5  # auto-capture after framing and quality have passed this long


def _assess(
    frame: QImage, reference: Prepared | None, thresholds: QualityThresholds, live_chart: LiveChart
) -> QualityReport:
    """Worker: QImage -> numpy, reduced, then every check (see services.quality.assess_frame)."""
    from skintrack.services.quality import FRAME_SIDE, assess_frame
    from skintrack.ui.image_convert import qimage_to_rgb

    if max(frame.width(), frame.height()) > FRAME_SIDE:
        from PySide6.QtCore import Qt

        frame = frame.scaled(FRAME_SIDE, FRAME_SIDE, Qt.AspectRatioMode.KeepAspectRatio)
    return assess_frame(qimage_to_rgb(frame), reference, thresholds, live_chart)


def _live_chart() -> LiveChart:
    """A fresh chart memory for a frame stream (services imported when a monitor is made)."""
    from skintrack.services.quality import LiveChart

    return LiveChart()


def start_detached(
    job: Callable[[CancelToken], object],
    name: str,
    *,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
) -> TaskHandle:
    """Run a job in the live pool with a handle owned by the application, not by a widget.

    A worker may outlive the widget that shows its result (the check-in dialog closed mid-check):
    the handle's owner belongs to the application and is deleted, with the handle, once the outcome
    is delivered; callbacks that are methods of a deleted widget are skipped (``ui.tasks``). The
    owner exists before the task starts, so the release is in place even when the pool runs the
    job inline.
    """
    owner = QObject(QCoreApplication.instance())
    return run_task(
        job,
        on_result=on_result,
        on_error=on_error,
        on_finished=owner.deleteLater,
        pool=Pool.LIVE,
        name=name,
        parent=owner,
    )


class LiveQualityMonitor(QObject):
    """Throttled quality checks of preview frames; ``assessed`` carries (QualityReport, frame time)."""

    assessed = Signal(object, float)
    referenceReady = Signal(bool)  # True when the reference is prepared, False when it failed
    error = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        interval_ms: int = INTERVAL_MS,
        thresholds: QualityThresholds | None = None,
    ) -> None:
        super().__init__(parent)
        self.thresholds = thresholds or QualityThresholds()
        self.reference: Prepared | None = None
        self.live_chart = _live_chart()
        self.enabled = True
        self._reference_path: Path | None = None
        self._reference_task: TaskHandle | None = None
        self._task: TaskHandle | None = None
        self._pending: tuple[QImage, float] | None = None
        self._last_start = 0.0
        self._stamp = 0.0
        self.interval_ms = interval_ms
        self.assessments = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start_next)

    # ------------------------------------------------------------------ reference
    def set_reference(self, path: Path | None) -> None:
        """Prepare ``path`` (the region's reference photo) in a worker; None compares with nothing."""
        if path == self._reference_path and (self.reference is not None or self._reference_task is not None):
            return
        self._reference_path = path
        self.reference = None
        self.live_chart = _live_chart()  # the chart searched afresh against the new reference
        if self._reference_task is not None:
            self._reference_task.cancel()
            self._reference_task = None
        if path is None:
            self.referenceReady.emit(False)
            return

        def job(_t: CancelToken) -> tuple[Path, Prepared]:
            from skintrack.services.quality import prepare_reference

            prepared = prepare_reference(path)
            prepared.framing_target()  # features computed once, here, not for the first frame
            return path, prepared

        handle = start_detached(
            job, "quality-reference", on_result=self._reference_ready, on_error=self._reference_failed
        )
        self._reference_task = handle

    @Slot(object)
    def _reference_ready(self, result: tuple[Path, Prepared]) -> None:
        path, prepared = result
        if path != self._reference_path:
            return  # a reference that was replaced meanwhile
        self.reference = prepared
        self._reference_task = None
        self.referenceReady.emit(True)
        self._schedule()

    @Slot(str, str)
    def _reference_failed(self, message: str, _traceback: str = "") -> None:
        self._reference_task = None
        self.error.emit(f"Cannot compare with the reference photo: {message}")
        self.referenceReady.emit(False)

    @property
    def waiting_for_reference(self) -> bool:
        return self._reference_task is not None

    # ------------------------------------------------------------------ frames
    @Slot(QImage)
    def offer(self, frame: QImage) -> None:
        """A new preview frame: keep it as the next one to assess (replacing an older waiting one)."""
        if not self.enabled or frame.isNull():
            return
        self._pending = (frame, time.monotonic())
        self._schedule()

    def _schedule(self) -> None:
        if self._task is not None or self._timer.isActive() or self._pending is None:
            return
        if self.waiting_for_reference:
            return  # frames assessed before the reference is ready would judge framing wrongly
        wait = self._last_start + self.interval_ms / 1000.0 - time.monotonic()
        self._timer.start(max(0, round(wait * 1000)))

    @Slot()
    def _start_next(self) -> None:
        if self._pending is None or self._task is not None or not self.enabled:
            return
        frame, stamp = self._pending
        self._pending = None
        self._last_start = time.monotonic()
        reference, thresholds, live_chart = self.reference, self.thresholds, self.live_chart
        self._stamp = stamp
        handle = start_detached(
            lambda _t: _assess(frame, reference, thresholds, live_chart),
            "live-quality",
            on_result=self._done,
            on_error=self._failed,
        )
        self._task = handle

    @Slot(object)
    def _done(self, report: QualityReport) -> None:
        self._task = None
        self.assessments += 1
        self.assessed.emit(report, self._stamp)
        self._schedule()

    @Slot(str, str)
    def _failed(self, message: str, _traceback: str = "") -> None:
        self._task = None
        log.warning("live quality check failed: %s", message)
        self.error.emit(message)
        self._schedule()

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if not on:
            self._pending = None
            self._timer.stop()
        else:
            self._schedule()

    def shutdown(self) -> None:
        self.set_enabled(False)
        for task in (self._task, self._reference_task):
            if task is not None:
                task.cancel()


class AutoCapture:
    """Fires once when every check (framing included, when there is a reference) has passed for
    ``hold`` seconds of frame time; re-arms after a frame that does not pass."""

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self.hold = hold
        self.since: float | None = None
        self.armed = True

    def update(self, report: QualityReport, stamp: float, needs_framing: bool) -> bool:
        """Feed one assessment; True when the photo should be taken now."""
        good = report.overall == "pass" and (not needs_framing or "framing" in report.checks)
        if not good:
            self.since = None
            self.armed = True
            return False
        if self.since is None:
            self.since = stamp
        if self.armed and stamp - self.since >= self.hold:
            self.armed = False
            return True
        return False

    def progress(self, stamp: float) -> float:
        """0..1: how much of the hold time has passed (for a countdown display)."""
        if self.since is None or not self.armed:
            return 0.0
        return min(1.0, (stamp - self.since) / self.hold) if self.hold > 0 else 1.0
