"""Crash hook: log file, dialog with a copyable traceback, worker-thread exceptions, faulthandler."""

from __future__ import annotations

import faulthandler
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from skintrack.ui import errors

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture
def hook(tmp_path: Path) -> Any:
    path = errors.install(tmp_path / "logs")
    yield path
    for dlg in list(errors.open_dialogs):
        dlg.reject()
    errors.uninstall()


def _raise() -> None:
    raise ValueError("the photo was upside down")


def test_excepthook_logs_and_shows_dialog(qtbot: Any, hook: Path) -> None:
    assert sys.excepthook is errors.excepthook
    assert faulthandler.is_enabled()
    try:
        _raise()
    except ValueError:
        sys.excepthook(*sys.exc_info())
    assert len(errors.open_dialogs) == 1
    dlg = errors.open_dialogs[0]
    qtbot.addWidget(dlg)
    assert "ValueError: the photo was upside down" in dlg.message_label.text()
    assert "_raise" in dlg.details.toPlainText()
    qtbot.mouseClick(dlg.copy_button, Qt.MouseButton.LeftButton)
    assert "the photo was upside down" in QGuiApplication.clipboard().text()
    text = hook.read_text()
    assert "uncaught exception" in text and "upside down" in text
    dlg.reject()
    assert not errors.open_dialogs


def test_dialogs_are_capped(qtbot: Any, hook: Path) -> None:
    for _ in range(errors.MAX_OPEN_DIALOGS + 3):
        try:
            _raise()
        except ValueError:
            errors.excepthook(*sys.exc_info())
    assert len(errors.open_dialogs) == errors.MAX_OPEN_DIALOGS
    assert hook.read_text().count("uncaught exception") == errors.MAX_OPEN_DIALOGS + 3


def test_worker_thread_exception_reaches_gui(qtbot: Any, hook: Path) -> None:
    def boom() -> None:
        raise RuntimeError("worker failed")

    t = threading.Thread(target=boom)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(errors.open_dialogs), timeout=3000)
    assert "worker failed" in errors.open_dialogs[0].message_label.text()


def test_uninstall_restores_hooks(tmp_path: Path) -> None:
    errors.install(tmp_path)
    errors.uninstall()
    assert sys.excepthook is sys.__excepthook__
    assert threading.excepthook is threading.__excepthook__
