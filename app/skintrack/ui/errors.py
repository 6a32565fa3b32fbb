"""Crash handling: every uncaught exception is logged to a file and shown with a copyable traceback.

``install()`` sets ``sys.excepthook`` (and ``threading.excepthook``), turns on ``faulthandler``
into ``faulthandler.log`` and adds a rotating file handler to the root logger, all in
``skintrack.paths.log_dir()``. The dialog is shown non-modally so no nested event loop starts
inside whatever slot failed; at most a few are open at once so a failing paint event cannot
flood the screen.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import logging.handlers
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from PySide6.QtCore import Qt, QThread, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skintrack import __version__
from skintrack.paths import log_dir

log = logging.getLogger("skintrack.crash")

LOG_NAME = "skintrack.log"
FAULT_NAME = "faulthandler.log"
MAX_OPEN_DIALOGS = 3

_state: dict[str, Any] = {"installed": False, "fault_file": None, "handler": None, "log_path": None}
open_dialogs: list[ErrorDialog] = []


class ErrorDialog(QDialog):
    """The message in words, the traceback in a read-only box, and a Copy button."""

    def __init__(self, message: str, details: str, log_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setWindowTitle("Skintrack: unexpected error")
        lay = QVBoxLayout(self)
        head = QLabel(
            "<b>Something went wrong.</b> Your photos and measurements are safe; the action "
            "that failed was not completed.",
            self,
        )
        head.setWordWrap(True)
        lay.addWidget(head)
        self.message_label = QLabel(message, self)
        self.message_label.setWordWrap(True)
        self.message_label.setObjectName("errorMessage")
        lay.addWidget(self.message_label)
        self.details = QPlainTextEdit(details, self)
        self.details.setObjectName("errorDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumSize(560, 220)
        lay.addWidget(self.details, 1)
        if log_path is not None:
            where = QLabel(f"Logged to {log_path}", self)
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            where.setWordWrap(True)
            lay.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy details", self)
        self.copy_button.setObjectName("copyButton")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    @Slot()
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())

    def done(self, result: int) -> None:
        if self in open_dialogs:
            open_dialogs.remove(self)
        super().done(result)
        self.deleteLater()


def log_path() -> Path:
    return log_dir() / LOG_NAME


def _setup_logging(folder: Path) -> Path | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_NAME, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    _state["handler"] = handler
    return folder / LOG_NAME


def format_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    return f"Skintrack {__version__}, Python {sys.version.split()[0]}\n\n{text}"


def show_error(message: str, details: str, parent: QWidget | None = None) -> ErrorDialog | None:
    """Show the dialog on the GUI thread (queued there when called from a worker)."""
    app = QApplication.instance()
    if app is None:
        return None
    if QThread.currentThread() is not app.thread():
        QTimer.singleShot(0, app, lambda: show_error(message, details, parent))
        return None
    if len(open_dialogs) >= MAX_OPEN_DIALOGS:
        return None
    parent = parent or QApplication.activeWindow()
    dlg = ErrorDialog(message, details, _state.get("log_path"), parent)
    open_dialogs.append(dlg)
    dlg.show()
    return dlg


def excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        QApplication.quit()
        return
    details = format_exception(exc_type, exc, tb)
    log.error("uncaught exception\n%s", details)
    message = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
    try:
        show_error(message, details)
    except Exception:
        sys.__excepthook__(exc_type, exc, tb)


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        excepthook(args.exc_type, args.exc_value, args.exc_traceback)


def install(folder: Path | None = None) -> Path | None:
    """Log file, faulthandler and the hooks; returns the log path (None if the folder is unwritable)."""
    if _state["installed"]:
        return _state["log_path"]
    folder = folder or log_dir()
    path = _setup_logging(folder)
    _state["log_path"] = path
    with contextlib.suppress(OSError):
        fault: IO[str] = open(folder / FAULT_NAME, "a", encoding="utf-8")  # noqa: SIM115 - kept open for crashes
        faulthandler.enable(file=fault, all_threads=True)
        _state["fault_file"] = fault
    sys.excepthook = excepthook
    threading.excepthook = _thread_hook
    _state["installed"] = True
    return path


def uninstall() -> None:
    """Undo :func:`install` (tests, and at exit)."""
    if not _state["installed"]:
        return
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__
    if faulthandler.is_enabled():
        faulthandler.disable()
    fault = _state.get("fault_file")
    if fault is not None:
        fault.close()
    handler = _state.get("handler")
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
    _state.update(installed=False, fault_file=None, handler=None, log_path=None)
