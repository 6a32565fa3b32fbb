"""React once to the end of a task through its outcome signals (never through ``finished``).

A :class:`~skintrack.ui.tasks.TaskHandle` schedules the release of its connections and result as
soon as its first ``finished`` slot runs. A worker posts one queued event per connected slot, so
the release can overtake a slot connected later: that slot then runs with ``handle.result`` gone
or not at all. ``succeeded``/``failed``/``cancelled`` are emitted before ``finished`` and carry
what the slot needs, so they always arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skintrack.ui.tasks import TaskHandle

CANCELLED = "cancelled"


def on_outcome(handle: TaskHandle, slot: Callable[[Any, str | None], None]) -> None:
    """Call ``slot(result, None)`` on success or ``slot(None, message)`` on failure or cancel."""
    handle.succeeded.connect(lambda result: slot(result, None))
    handle.failed.connect(lambda message, _tb: slot(None, message or "failed"))
    handle.cancelled.connect(lambda: slot(None, CANCELLED))
