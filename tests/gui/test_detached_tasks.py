"""Tasks owned by the application (camera quality checks): the outcome arrives and the handle is
released afterwards, whether the pool runs the job on a thread or inline."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent

from skintrack.progress import CancelToken
from skintrack.ui import tasks
from skintrack.ui.live_quality import start_detached
from skintrack.ui.tasks import Pool

pytestmark = pytest.mark.gui


@pytest.fixture
def inline_live_pool():
    saved = dict(tasks._pools)
    tasks.set_pool(Pool.LIVE, tasks.SyncPool())
    yield
    tasks._pools.clear()
    tasks._pools.update(saved)


def _delete_later_objects() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_inline_task_delivers_and_releases_its_handle(qapp, inline_live_pool) -> None:
    results: list[int] = []
    handle = start_detached(lambda _t: 42, "inline", on_result=results.append)
    assert results == [42] and handle.done
    _delete_later_objects()
    assert not shiboken6.isValid(handle)


def test_threaded_task_delivers_and_releases_its_handle(qtbot) -> None:
    results: list[str] = []
    errors: list[str] = []

    def job(_t: CancelToken) -> str:
        return "assessed"

    handle = start_detached(job, "threaded", on_result=results.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(results or errors), timeout=10_000)
    assert results == ["assessed"] and not errors
    _delete_later_objects()
    assert not shiboken6.isValid(handle)


def test_failed_task_reports_and_releases_its_handle(qapp, inline_live_pool) -> None:
    errors: list[str] = []

    def job(_t: CancelToken) -> None:
        raise OSError("camera frame unreadable")

    handle = start_detached(job, "failing", on_error=errors.append)
    assert errors and "camera frame unreadable" in errors[0]
    _delete_later_objects()
    assert not shiboken6.isValid(handle)
