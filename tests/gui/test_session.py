"""Session: one analysis per region at a time; a request while one runs is run once, after it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services import analysis
from skintrack.ui.session import Session

pytestmark = pytest.mark.gui


def test_requests_for_a_busy_region_run_once_after_it(
    qtbot: Any, make_library: Callable[..., Library], monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = make_library({"Arm": 2, "Cheek": 2})
    arm, cheek = (lib.region_by_name(n).id for n in ("Arm", "Cheek"))
    release = threading.Event()
    running: list[int] = []
    overlap: list[int] = []
    started: list[tuple[int, bool]] = []

    def fake(lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False):
        started.append((region_id, force))
        if region_id in running:
            overlap.append(region_id)
        running.append(region_id)
        try:
            yield Progress(0, 1, "")
            if region_id == arm and len([s for s in started if s[0] == arm]) == 1:
                release.wait(10)  # the first Arm analysis is still running while more are asked for
            return analysis.AnalysisReport(analysed=1)
        finally:
            running.remove(region_id)

    monkeypatch.setattr(analysis, "analyze_region", fake)
    session = Session(lib)
    finished: list[tuple[int, str]] = []
    session.analysisFinished.connect(lambda rid, outcome, _detail: finished.append((rid, outcome)))
    first = session.analyse(arm)
    assert first is not None and session.analysing(arm)
    assert session.analyse(arm) is None and session.analyse(arm, force=True) is None  # queued, once
    other = session.analyse(cheek)  # another region does not wait
    assert other is not None
    qtbot.waitUntil(lambda: (cheek, "succeeded") in finished, timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: finished.count((arm, "succeeded")) == 2, timeout=10_000)
    assert [s for s in started if s[0] == arm] == [(arm, False), (arm, True)]  # the queued one kept force
    assert overlap == [] and not session.analysing()


def test_cancel_all_drops_the_queue(
    qtbot: Any, make_library: Callable[..., Library], monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = make_library({"Arm": 2})
    arm = lib.region_by_name("Arm").id
    calls: list[int] = []

    def slow(lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False):
        calls.append(region_id)
        while True:
            yield Progress(0, 1, "")
            assert token is not None
            token.raise_if_cancelled()

    monkeypatch.setattr(analysis, "analyze_region", slow)
    session = Session(lib)
    outcomes: list[str] = []
    session.analysisFinished.connect(lambda _rid, outcome, _d: outcomes.append(outcome))
    assert session.analyse(arm) is not None
    session.analyse(arm)
    session.cancel_all()
    qtbot.waitUntil(lambda: outcomes == ["cancelled"], timeout=10_000)
    assert len(calls) <= 1 and not session.analysing()  # the queued request never ran
