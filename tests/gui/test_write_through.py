"""Writes of a worker job go through the single write pool; a cancelled job stops waiting."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PySide6.QtCore import QRunnable

from skintrack.errors import Cancelled
from skintrack.progress import CancelToken
from skintrack.ui.tasks import Pool, get_pool
from skintrack.ui.write_through import WriteThroughLibrary, in_write_pool

pytestmark = pytest.mark.gui


class Recorder:
    def __init__(self) -> None:
        self.threads: dict[str, str] = {}

    def region(self, region_id: int) -> int:
        self.threads["region"] = threading.current_thread().name
        return region_id

    def save_measurement(self, rec: object) -> str:
        self.threads["save_measurement"] = threading.current_thread().name
        return f"stored {rec}"


def _write_pool_thread() -> str:
    return in_write_pool(lambda: threading.current_thread().name)


def test_reads_stay_writes_go_to_the_write_pool(qtbot: Any) -> None:
    rec = Recorder()
    lib = WriteThroughLibrary(rec)  # type: ignore[arg-type]
    with ThreadPoolExecutor(1, thread_name_prefix="analysis") as pool:
        assert pool.submit(lib.region, 7).result() == 7
        assert pool.submit(lib.save_measurement, "m").result() == "stored m"
        writer = pool.submit(_write_pool_thread).result()
    assert rec.threads["region"].startswith("analysis")
    assert not rec.threads["save_measurement"].startswith("analysis")
    assert rec.threads["save_measurement"] == writer


def test_an_error_in_the_write_reaches_the_job(qtbot: Any) -> None:
    def boom() -> None:
        raise ValueError("disk full")

    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="disk full"):
        pool.submit(in_write_pool, boom).result()


class _Blocker(QRunnable):
    def __init__(self, started: threading.Event, release: threading.Event) -> None:
        super().__init__()
        self.started, self.release = started, release

    def run(self) -> None:
        self.started.set()
        self.release.wait(10)


def test_a_cancelled_job_stops_waiting_for_a_queued_write(qtbot: Any) -> None:
    started, release = threading.Event(), threading.Event()
    get_pool(Pool.WRITE).start(_Blocker(started, release))
    assert started.wait(5)
    ran: list[bool] = []
    token = CancelToken()
    token.cancel()
    try:
        with ThreadPoolExecutor(1) as pool, pytest.raises(Cancelled):
            pool.submit(in_write_pool, lambda: ran.append(True), token).result(timeout=5)
    finally:
        release.set()
    get_pool(Pool.WRITE).waitForDone(5000)
    assert ran == []  # the dropped write never ran
