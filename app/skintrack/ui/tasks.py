"""One way to run work off the GUI thread: ``run_task(job, on_result=..., pool=Pool.WORK)``.

A *job* is a callable taking a :class:`~skintrack.progress.CancelToken`. It may return a value
directly or return a generator that yields :class:`~skintrack.progress.Progress` and finally
returns its result. The callbacks are attached before the job starts (Picard's
``picard/util/thread.py`` ``run_task``), so a caller never checks whether it was too late, and
they run on the GUI thread. The returned :class:`TaskHandle` cancels the job and lets other
widgets (a status footer) follow it through its signals. Tests swap a pool for :class:`SyncPool`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QMetaMethod, QObject, QRunnable, QThread, QThreadPool, Signal, Slot

from skintrack.errors import Cancelled
from skintrack.progress import CancelToken, Progress, run_steps

log = logging.getLogger(__name__)

Job = Callable[[CancelToken], Any]


class Pool(StrEnum):
    """Where a job runs: writes are serialised on one thread; reads never wait behind analysis."""

    WORK = "work"  # analysis, exports, previews of exports, backups
    WRITE = "write"  # every library write: one thread
    THUMBS = "thumbs"  # thumbnails, photo previews, file headers
    LIVE = "live"  # capture-quality checks of camera frames: one thread, low priority


class TaskHandle(QObject):
    """Lives on the GUI thread; a worker reports through it, the GUI thread delivers in order.

    The worker emits only ``_report``, which has exactly one (queued) connection, so every
    report is one event in the GUI thread's queue, in the order the worker sent them. The
    callbacks given to :func:`run_task` run first, then the public signals are emitted; no
    slot runs after ``finished``. A worker emitting the public signals itself posts one event
    per connected slot: the GUI thread could handle the first (and drop the connections)
    before the worker had posted the rest, and the rest were lost.
    """

    progress = Signal(object)  # Progress
    succeeded = Signal(object)  # the job's result
    failed = Signal(str, str)  # message, traceback text
    cancelled = Signal()
    finished = Signal()  # after any of the three outcomes
    _report = Signal(str, object)  # worker -> GUI thread: ("progress" | "succeeded" | ..., payload)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.done = False
        self.error: str | None = None
        self.on_result: Callable[[Any], None] | None = None
        self.on_error: Callable[[str], None] | None = None
        self.on_progress: Callable[[Progress], None] | None = None
        self.on_cancel: Callable[[], None] | None = None
        self.on_finished: Callable[[], None] | None = None
        self._report.connect(self._deliver)

    @Slot()
    def cancel(self) -> None:
        self.token.cancel()

    @property
    def running(self) -> bool:
        return not self.done

    @Slot(str, object)
    def _deliver(self, kind: str, payload: Any) -> None:  # GUI thread
        if self.done:
            return
        if kind == "progress":
            _call(self.on_progress, payload)
            self.progress.emit(payload)
            return
        try:
            if kind == "succeeded":
                _call(self.on_result, payload)
                self.succeeded.emit(payload)
            elif kind == "failed":
                message, trace = payload
                self.error = message
                _call(self.on_error, message)
                self.failed.emit(message, trace)
            else:
                _call(self.on_cancel)
                self.cancelled.emit()
        finally:  # a callback that raised must not leave the task looking unfinished
            self.done = True
            try:
                _call(self.on_finished)
                self.finished.emit()
            finally:
                self._release()
                _live.discard(self)

    def _release(self) -> None:
        """Drop the callbacks and connections once delivered: they often hold their window, and
        the window holds this handle, a cycle through Qt's connection list that Python's
        collector cannot see (every closed compare view stayed alive with its decoded photos)."""
        self.on_result = self.on_error = self.on_progress = self.on_cancel = self.on_finished = None
        for signal in (self.progress, self.succeeded, self.failed, self.cancelled, self.finished):
            if self.isSignalConnected(QMetaMethod.fromSignal(signal)):
                signal.disconnect()


_live: set[TaskHandle] = set()  # a handle stays alive until its outcome is delivered


def _call(callback: Callable[..., None] | None, *args: Any) -> None:
    """Run a callback unless it is a method of a widget deleted meanwhile (a closed dialog),
    as Qt drops the connections of a deleted receiver."""
    if callback is None:
        return
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        return
    callback(*args)


def drive(job: Job, token: CancelToken, on_progress: Callable[[Progress], None]) -> Any:
    """Run a job to completion in the current thread, forwarding progress; used by workers and tests."""
    out = job(token)
    return run_steps(out, on_progress, token)


class _Runnable(QRunnable):
    def __init__(self, job: Job, handle: TaskHandle) -> None:
        super().__init__()
        self.job = job
        self.handle = handle
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread
        handle = self.handle
        report = handle._report.emit
        try:
            result = drive(self.job, handle.token, lambda step: report("progress", step))
        except Cancelled:
            report("cancelled", None)
        except Exception as exc:
            log.exception("task %s failed", handle.name)
            report("failed", (str(exc) or type(exc).__name__, traceback.format_exc()))
        else:
            report("succeeded", result)


class Runner(Protocol):
    def start(self, runnable: QRunnable) -> None: ...

    def waitForDone(self, msecs: int = -1) -> bool: ...

    def clear(self) -> None: ...


class SyncPool:
    """Runs tasks immediately in the calling thread: deterministic unit tests (Picard's FakeThreadPool)."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()

    def waitForDone(self, msecs: int = -1) -> bool:
        return True

    def clear(self) -> None:
        pass


_pools: dict[str, Runner] = {}


def get_pool(kind: Pool = Pool.WORK) -> Runner:
    """The runner of one pool kind (made on first use)."""
    kind = Pool(kind)
    if kind not in _pools:
        p = QThreadPool()
        p.setObjectName(f"skintrack-{kind}")
        p.setMaxThreadCount(
            1
            if kind in (Pool.WRITE, Pool.LIVE)
            else max(1, min(2, QThreadPool.globalInstance().maxThreadCount()))
        )
        if kind is Pool.LIVE:  # the preview and thumbnails come first
            p.setThreadPriority(QThread.Priority.LowPriority)
        _pools[kind] = p
    return _pools[kind]


def set_pool(kind: Pool, replacement: Runner) -> None:
    """Tests install a :class:`SyncPool` here."""
    _pools[Pool(kind)] = replacement


def run_task(
    job: Job,
    *,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: Pool = Pool.WORK,
    name: str = "task",
    parent: QObject | None = None,
) -> TaskHandle:
    """Run ``job`` in ``pool``; the callbacks run on the GUI thread, ``on_finished`` after any outcome.

    With a thread pool every callback runs on a later turn of the event loop, never inside this
    call; with a :class:`SyncPool` they have all run when this returns.
    """
    handle = TaskHandle(name, parent)
    handle.on_result, handle.on_error, handle.on_progress = on_result, on_error, on_progress
    handle.on_cancel, handle.on_finished = on_cancel, on_finished
    _live.add(handle)
    get_pool(pool).start(_Runnable(job, handle))
    return handle


def shutdown(timeout_ms: int = 5000) -> None:
    """Drain every pool at exit so no worker touches a deleted object."""
    for p in _pools.values():
        p.clear()
        p.waitForDone(timeout_ms)
