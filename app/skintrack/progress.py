"""Progress reports yielded by long jobs (services are generators of these)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of a long job: ``done`` of ``total`` units, with a short human message."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


class CancelToken:
    """Thread-safe flag a GUI sets and a worker polls between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        from skintrack.errors import Cancelled

        if self._event.is_set():
            raise Cancelled("cancelled by the user")


Steps = Generator[Progress, None, T]


def run_steps(
    job: Steps[T] | T,
    on_step: Callable[[Progress], None] | None = None,
    token: CancelToken | None = None,
) -> T:
    """Drive a job to its return value, handing each Progress to ``on_step``.

    ``job`` is what a service returns: a generator of Progress (driven here, ``token`` checked
    before each step) or already the result (returned as it is).
    """
    if not isinstance(job, Generator):
        return job
    try:
        while True:
            if token is not None:
                token.raise_if_cancelled()
            step = next(job)
            if on_step is not None and isinstance(step, Progress):
                on_step(step)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        job.close()


def rescaled(job: Steps[T], start: int, span: int, total: int, message: str = "") -> Steps[T]:
    """A sub-job's progress re-expressed as units ``start``..``start + span`` of ``total``.

    ``yield from rescaled(sub, 500, 500, 1000)`` runs ``sub`` as the second half of a job and
    evaluates to its result. A step without a total counts as not started.
    """
    try:
        while True:
            step = next(job)
            yield Progress(start + round(step.fraction * span), total, step.message or message)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        job.close()
