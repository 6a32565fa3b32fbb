"""A library whose writes run in the single write pool, for jobs that run elsewhere.

The analysis runs in the work pool and stores each measured pair as it goes. Handing it a
:class:`WriteThroughLibrary` keeps its reads where it runs and sends every write to the write
pool's one thread, waiting there for the result, so analysis, notes, dates and region edits are
written by one thread in the order they were asked for (SQLite never sees two writers).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, TimeoutError
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QRunnable

from skintrack.errors import Cancelled
from skintrack.library import Library
from skintrack.progress import CancelToken
from skintrack.ui.tasks import Pool, get_pool

T = TypeVar("T")

WRITES = frozenset(
    {
        "save_alignment",
        "save_measurement",
        "delete_alignment",
        "set_setting",
        "update_photo",
        "update_region",
        "set_areas",
        "set_reference",
        "save_repeat_noise",
        "delete_repeat_noise",
    }
)


class _WriteRunnable(QRunnable, Generic[T]):
    def __init__(self, call: Callable[[], T], future: Future[T]) -> None:
        super().__init__()
        self.call = call
        self.future = future
        self.setAutoDelete(True)

    def run(self) -> None:  # the write pool's thread
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.call())
        except BaseException as exc:  # re-raised in the job that asked for the write
            self.future.set_exception(exc)


POLL_S = 0.1  # how often a waiting job looks at its cancel token


def in_write_pool(call: Callable[[], T], token: CancelToken | None = None) -> T:
    """Run ``call`` on the write pool's thread and wait for it (never call this on the GUI thread).

    A cancelled job stops waiting for a write that has not started yet (the write is dropped);
    one that has started is waited for, so nothing is left half-written. At exit the pools are
    cleared, which would otherwise leave the job waiting forever.
    """
    future: Future[T] = Future()
    get_pool(Pool.WRITE).start(_WriteRunnable(call, future))
    while True:
        try:
            return future.result(timeout=POLL_S)
        except TimeoutError:
            if token is not None and token.cancelled and future.cancel():
                raise Cancelled("cancelled by the user") from None


class WriteThroughLibrary:
    """``lib`` as seen by a worker: reads run here, the methods in :data:`WRITES` in the write pool."""

    def __init__(self, lib: Library, token: CancelToken | None = None) -> None:
        self._lib = lib
        self._token = token

    @property
    def wrapped(self) -> Library:
        return self._lib

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._lib, name)
        if name not in WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            return in_write_pool(lambda: attr(*args, **kwargs), self._token)

        return write
