"""The installed Qt binding keeps CPython's reference counts straight.

PySide6 6.12.0 releases one reference to ``None`` more than it takes on every call of a method
that returns nothing (``QTimer.start``, ``QApplication.processEvents``...). On CPython 3.11,
where ``None`` is counted like any object, the app then dies after a few thousand such calls
with "Fatal Python error: none_dealloc: deallocating None".
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTimer

pytestmark = pytest.mark.gui


def test_void_qt_calls_keep_none_alive(qapp) -> None:
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(500):
        timer.start(1000)
        qapp.processEvents()
    timer.stop()
    assert sys.getrefcount(None) - before > -100, "this PySide6 drops references to None"
