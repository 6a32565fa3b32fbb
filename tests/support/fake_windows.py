"""Small stand-ins for the windows the main window opens, with the same signals and hooks.

The main-window tests check what the window passes to them (``calls``) and that it refreshes
on their signals, not the dialogs themselves (those have their own tests).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QMainWindow, QWidget

from skintrack.library import Library


class FakeDialog(QDialog):
    """The check-in dialog, region editor or export dialog: (library, region id, keyword arguments)."""

    calls: ClassVar[list[tuple[Any, ...]]] = []
    checkedIn = Signal(list)
    checkinsChanged = Signal()
    regionChanged = Signal(int)
    analysisRequested = Signal(int)

    def __init__(
        self, library: Library, region_id: int, parent: QWidget | None = None, **kwargs: Any
    ) -> None:
        super().__init__(parent)
        self.setObjectName("fakeDialog")
        FakeDialog.calls.append((library, region_id, kwargs))


class FakeCompare(QMainWindow):
    """The compare window: (library, region id, photo a, photo b); ``manual`` lists the pairs it
    was asked to align by hand."""

    calls: ClassVar[list[tuple[Any, ...]]] = []
    manual: ClassVar[list[tuple[int, int]]] = []

    def __init__(
        self, library: Library, region_id: int, a: int, b: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("fakeCompare")
        self.pair = (a, b)
        FakeCompare.calls.append((library, region_id, a, b))

    def open_manual_alignment(self) -> None:
        FakeCompare.manual.append(self.pair)


def fake_dialog(monkeypatch: pytest.MonkeyPatch, attr: str, cls: type) -> None:
    """The main window opens ``cls`` where it would open its real ``attr`` window."""
    from skintrack.ui import windows

    cls.calls = []  # type: ignore[attr-defined]
    monkeypatch.setattr(windows, attr, cls)
