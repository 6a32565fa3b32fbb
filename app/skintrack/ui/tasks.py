"""One way to run work off the GUI thread.

A *job* is a callable taking a :class:`~skintrack.progress.CancelToken`. It may return a value
directly or return a generator that yields :class:`~skintrack.progress.Progress` and finally
returns its result (``return value`` inside the generator). :func:`run_task` runs it on a
``QThreadPool`` and delivers progress, the result or the exception to the GUI thread through
the returned :class:`TaskHandle`'s signals. Tests can swap the pool for :class:`SyncPool`.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Generator
from typing import Any, Protocol

from PySide6.QtCore import QMetaMethod, QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from skintrack.errors import Cancelled
from skintrack.progress import CancelToken, Progress
from skintrack.ui.app import fix_signal_emit_refcount

fix_signal_emit_refcount()  # PySide6 6.12: every Python emit() loses a reference to True

log = logging.getLogger(__name__)

Job = Callable[[CancelToken], Any]


class TaskHandle(QObject):
    """Lives on the GUI thread; a worker reports through it, the GUI thread re-emits in order.

    The worker emits only ``_report``, which has exactly one (queued) connection, so every
    report is one event in the GUI thread's queue, in the order the worker sent them. The
    public signals are emitted from the GUI thread while that event is handled: every slot
    connected before the task started sees the outcome and then ``finished``, and no slot can
    run after ``finished``. A worker emitting the public signals directly posts one event per
    connected slot; the GUI thread could handle the first (and release the connections)
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
        self.result: Any = None
        self.error: str | None = None
        self._report.connect(self._deliver)

    @Slot()
    def cancel(self) -> None:
        self.token.cancel()

    @Slot(str, object)
    def _deliver(self, kind: str, payload: Any) -> None:  # GUI thread
        if self.done:
            return
        if kind == "progress":
            self.progress.emit(payload)
            return
        if kind == "succeeded":
            self.result = payload
            self.succeeded.emit(payload)
        elif kind == "failed":
            message, trace = payload
            self.error = message
            self.failed.emit(message, trace)
        else:
            self.cancelled.emit()
        self.done = True
        self.finished.emit()
        self._release()
        _live.discard(self)

    def _release(self) -> None:
        """Drop every connection once delivered: slots are often lambdas that hold their window,
        and the window holds this handle, a cycle through Qt's connection list that Python's
        collector cannot see (every closed compare view stayed alive with its decoded photos)."""
        for signal in (self.progress, self.succeeded, self.failed, self.cancelled, self.finished):
            if self.isSignalConnected(QMetaMethod.fromSignal(signal)):
                signal.disconnect()
        # Read right after a synchronous run (SyncPool); after that it must not pin the result
        # (a compare view's photos) should PySide keep this wrapper alive past its C++ object.
        QTimer.singleShot(0, self, self._forget_result)

    @Slot()
    def _forget_result(self) -> None:
        self.result = None


_live: set[TaskHandle] = set()  # a handle stays alive until its outcome is delivered


def drive(job: Job, token: CancelToken, on_progress: Callable[[Progress], None]) -> Any:
    """Run a job to completion in the current thread, forwarding progress; used by workers and tests."""
    out = job(token)
    if not inspect.isgenerator(out):
        return out
    gen: Generator[Progress, None, Any] = out
    try:
        while True:
            token.raise_if_cancelled()
            step = next(gen)
            if isinstance(step, Progress):
                on_progress(step)
    except StopIteration as stop:
        return stop.value
    finally:
        gen.close()


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


class Pool(Protocol):
    def start(self, runnable: QRunnable) -> None: ...


class SyncPool:
    """Runs tasks immediately in the calling thread: deterministic unit tests (Picard's FakeThreadPool)."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()

    def waitForDone(self, msecs: int = -1) -> bool:
        return True

    def clear(self) -> None:
        pass


_pools: dict[str, Any] = {}


def pool(kind: str = "work") -> Any:
    """``"write"``: one thread for library writes; ``"thumbs"``: thumbnails; ``"work"``: analysis, exports."""
    if kind not in _pools:
        p = QThreadPool()
        p.setObjectName(f"skintrack-{kind}")
        p.setMaxThreadCount(
            1 if kind == "write" else max(1, min(2, QThreadPool.globalInstance().maxThreadCount()))
        )
        _pools[kind] = p
    return _pools[kind]


def set_pool(kind: str, replacement: Any) -> None:
    """Tests install a :class:`SyncPool` here."""
    _pools[kind] = replacement


def run_task(
    job: Job, *, name: str = "task", kind: str = "work", parent: QObject | None = None
) -> TaskHandle:
    """Start ``job`` off the GUI thread and return its handle; connect to the handle's signals."""
    handle = TaskHandle(name, parent)
    _live.add(handle)
    runnable = _Runnable(job, handle)
    target = pool(kind)
    if isinstance(target, QThreadPool):
        # Start on the next turn of the event loop: a signal emitted by a worker only reaches the
        # slots connected at that moment, so the caller must get the chance to connect first.
        QTimer.singleShot(0, handle, lambda: target.start(runnable))
    else:
        target.start(runnable)
    return handle


def shutdown(timeout_ms: int = 5000) -> None:
    """Drain every pool at exit so no worker touches a deleted object."""
    for p in _pools.values():
        p.clear()
        p.waitForDone(timeout_ms)
