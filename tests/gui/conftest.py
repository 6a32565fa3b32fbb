"""GUI fixtures: isolated QSettings, small generated libraries and the real main window.

``main_window`` builds :class:`~skintrack.ui.main_window.MainWindow` on a temporary library
with the real worker pools (real threads), drains the pools afterwards and fails the test when
a top-level widget leaks (napari's ``make_napari_viewer`` idea).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from skintrack.library import Library
from skintrack.ui.pyside_fix import immortalise_singletons
from support.gui_library import drain, make_jpeg, populate

immortalise_singletons()  # what the app does at start-up (configure_application)

IGNORED_TOPLEVELS = ("QTipLabel", "QMenu", "QComboBoxPrivateContainer", "QToolTip")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test gets its own QSettings INI file and log folder."""
    ini = tmp_path / "settings.ini"
    monkeypatch.setenv("SKINTRACK_SETTINGS", str(ini))
    monkeypatch.setattr("skintrack.paths.log_dir", lambda: tmp_path / "logs")
    return ini


def _toplevels() -> set[int]:
    return {
        id(w)
        for w in QApplication.topLevelWidgets()
        if type(w).__name__ not in IGNORED_TOPLEVELS and not w.inherits("QMenu")
    }


@pytest.fixture
def make_library(tmp_path: Path) -> Iterator[Callable[..., Library]]:
    opened: list[Library] = []
    src = tmp_path / "src"
    src.mkdir()

    def factory(regions: dict[str, int] | None = None, measure: bool = False, name: str = "lib") -> Library:
        lib = populate(tmp_path / name, regions or {}, tmp=src, measure=measure)
        opened.append(lib)
        return lib

    yield factory
    for lib in opened:
        lib.close()


@pytest.fixture
def main_window(qtbot: Any, make_library: Callable[..., Library]) -> Iterator[Callable[..., Any]]:
    """Factory: ``main_window(regions={...}, measure=True)`` -> a shown MainWindow on a new library."""
    from skintrack.ui.main_window import MainWindow

    qapp = QApplication.instance()
    qapp.setApplicationName("Skintrack-tests")  # type: ignore[union-attr]
    before = _toplevels()
    windows: list[Any] = []

    def factory(
        regions: dict[str, int] | None = None, measure: bool = False, library: Library | None = None
    ) -> Any:
        lib = (
            library
            if library is not None
            else make_library(regions, measure=measure, name=f"lib{len(windows)}")
        )
        win = MainWindow(lib)
        win.messages = []  # message boxes are recorded instead of blocking the test
        win.show_message = lambda title, text, warning=False: win.messages.append((title, text))
        win.confirm = lambda title, text: True
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow, timeout=5000)  # shortcuts only fire in the active window
        windows.append(win)
        return win

    yield factory
    for win in windows:
        win.close()
    drain()
    for win in windows:
        win.shutdown()
        win.deleteLater()
    drain()
    leaked = [
        f"{type(w).__name__}({w.objectName()!r})"
        for w in QApplication.topLevelWidgets()
        if id(w) not in before and id(w) in _toplevels() and not any(w is x for x in windows)
    ]
    for w in QApplication.topLevelWidgets():  # clean up so one leak does not fail later tests
        if id(w) not in before and type(w).__name__ not in IGNORED_TOPLEVELS:
            w.close()
            w.deleteLater()
    drain()
    assert not leaked, f"top-level widgets leaked: {leaked}"


@pytest.fixture
def helpers() -> Any:
    """The library helpers of ``support.gui_library`` for test modules that take them as a fixture."""
    from types import SimpleNamespace

    return SimpleNamespace(drain=drain, make_jpeg=make_jpeg, populate=populate)
