"""ui.tasks: every slot connected before a task starts sees its progress, outcome and end, in order."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import pytest
from PySide6.QtCore import QMetaMethod, Qt

from skintrack.progress import CancelToken, Progress
from skintrack.ui import tasks

pytestmark = pytest.mark.gui


def test_a_slow_worker_between_reports_loses_no_slot(qtbot: Any) -> None:
    """The worker is held in the middle of reporting the end until the GUI thread has handled
    what it got so far: the slots connected after the first must still run (a lost ``finished``
    left the export dialog's button disabled and previews on "Loading…" for good)."""
    gate = threading.Event()
    seen: list[str] = []

    def hold_the_worker() -> None:
        if threading.current_thread() is not threading.main_thread():
            gate.wait(10)

    handle = tasks.run_task(lambda _t: 42, name="held", pool=tasks.Pool.WORK)
    handle.finished.connect(hold_the_worker, Qt.ConnectionType.DirectConnection)
    handle.succeeded.connect(lambda r: seen.append(f"succeeded {r}"))
    handle.finished.connect(lambda: seen.append("finished"))
    finished = QMetaMethod.fromSignal(handle.finished)
    try:
        qtbot.waitUntil(lambda: handle.done and not handle.isSignalConnected(finished), timeout=10_000)
    finally:
        gate.set()
    tasks.get_pool(tasks.Pool.WORK).waitForDone(10_000)
    qtbot.waitUntil(lambda: seen == ["succeeded 42", "finished"], timeout=10_000)


def test_progress_arrives_in_order_and_before_the_outcome(qtbot: Any) -> None:
    def job(token: CancelToken) -> Generator[Progress, None, str]:
        for i in range(200):
            token.raise_if_cancelled()
            yield Progress(i + 1, 200, f"step {i + 1}")
        return "done"

    seen: list[Any] = []
    handle = tasks.run_task(job, name="steps", pool=tasks.Pool.WORK)
    handle.progress.connect(lambda p: seen.append(p.done))
    handle.succeeded.connect(lambda r: seen.append(r))
    handle.finished.connect(lambda: seen.append("finished"))
    with qtbot.waitSignal(handle.finished, timeout=10_000):
        pass
    assert seen == [*range(1, 201), "done", "finished"]


def test_failure_and_cancel_are_delivered_with_finished(qtbot: Any) -> None:
    def boom(_t: CancelToken) -> None:
        raise ValueError("bad photo x.jpg")

    failed: list[str] = []
    handle = tasks.run_task(boom, name="boom", pool=tasks.Pool.WORK)
    handle.failed.connect(lambda msg, _tb: failed.append(msg))
    with qtbot.waitSignal(handle.finished, timeout=10_000):
        pass
    assert failed == ["bad photo x.jpg"] and handle.error == "bad photo x.jpg"

    started = threading.Event()

    def slow(token: CancelToken) -> Generator[Progress, None, None]:
        started.set()
        while True:
            yield Progress(0, 1)
            token.raise_if_cancelled()

    cancelled: list[bool] = []
    handle = tasks.run_task(slow, name="slow", pool=tasks.Pool.WORK)
    handle.cancelled.connect(lambda: cancelled.append(True))
    qtbot.waitUntil(started.is_set, timeout=10_000)
    with qtbot.waitSignal(handle.finished, timeout=10_000):
        handle.cancel()
    assert cancelled == [True] and handle.done and handle.error is None
