"""GUI fixtures: isolated QSettings, small generated libraries and the real main window.

``main_window`` builds :class:`~skintrack.ui.main_window.MainWindow` on a temporary library
with the real worker pools (real threads), drains the pools afterwards and fails the test when
a top-level widget leaks (napari's ``make_napari_viewer`` idea).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from skintrack.library import Library
from skintrack.ui.pyside_fix import immortalise_singletons

immortalise_singletons()  # what the app does at start-up (configure_application)

T0 = datetime(2026, 1, 5, 9, 30)
IGNORED_TOPLEVELS = ("QTipLabel", "QMenu", "QComboBoxPrivateContainer", "QToolTip")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test gets its own QSettings INI file and log folder."""
    ini = tmp_path / "settings.ini"
    monkeypatch.setenv("SKINTRACK_SETTINGS", str(ini))
    monkeypatch.setattr("skintrack.paths.log_dir", lambda: tmp_path / "logs")
    return ini


def make_jpeg(path: Path, seed: int, size: tuple[int, int] = (160, 120), shade: float = 1.0) -> Path:
    """A small skin-coloured JPEG with texture (unique bytes per seed)."""
    rng = np.random.default_rng(seed)
    w, h = size
    base = np.empty((h, w, 3), np.float32)
    base[:] = (205, 150, 120)
    base *= shade
    base += rng.normal(0, 8, (h, w, 1))
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def populate(root: Path, regions: dict[str, int], *, tmp: Path, measure: bool = False) -> Library:
    """A library with ``{name: photo count}`` check-ins a month apart; optional fake measurements."""
    from skintrack.library import MeasurementRecord

    lib = Library.open(root)
    seed = 0
    for name, count in regions.items():
        region = lib.add_region(name, body_site="forearm", interval_days=30)
        ids = []
        for i in range(count):
            seed += 1
            f = make_jpeg(tmp / f"{name}-{i}.jpg", seed)
            ids.append(lib.import_file(region.id, f, taken_at=T0 + timedelta(days=30 * i)).photo.id)
        if ids:
            lib.set_reference(region.id, ids[0])
        if measure:
            for i, pid in enumerate(ids[1:], start=1):
                lib.save_measurement(
                    MeasurementRecord(
                        photo_id=pid,
                        reference_id=ids[0],
                        calibration="model",
                        metrics={
                            "calibration": "model",
                            "mean_delta_L": -1.5 * i,
                            "mean_delta_b": -0.4 * i,
                            "mean_delta_ita": -2.0 * i,
                            "mean_delta_e2000": 1.2 * i,
                            "darkened_fraction": 0.01 * max(0, i - 1),
                            "darkened_area_px": 100 * max(0, i - 1),
                            "darkened_area_mm2": None,
                            "noise_delta_L": 0.8,
                            "patches": [],
                            "alignment": {"ok": True, "quality": 0.9, "method": "features", "inliers": 200},
                        },
                        algorithm_version="test",
                    )
                )
    return lib


def _toplevels() -> set[int]:
    return {
        id(w)
        for w in QApplication.topLevelWidgets()
        if type(w).__name__ not in IGNORED_TOPLEVELS and not w.inherits("QMenu")
    }


def drain() -> None:
    """Wait for every worker pool, deliver queued signals and deferred deletes."""
    from skintrack.ui import tasks

    for _ in range(3):
        QCoreApplication.processEvents()  # also starts tasks queued for the next loop turn
        for p in tasks._pools.values():
            p.waitForDone(10_000)
        QCoreApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


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
    """The helper functions above for test modules (tests/ is not a package)."""
    from types import SimpleNamespace

    return SimpleNamespace(drain=drain, make_jpeg=make_jpeg, populate=populate)
