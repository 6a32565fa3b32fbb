"""Application set-up: names, high-DPI, icon, crash hook, theme; then the main window.

``run_gui`` is what ``skintrack`` (no subcommand), ``skintrack-gui`` and ``skintrack --demo`` call.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from skintrack import APP_NAME, DESKTOP_FILE_NAME, ORG_DOMAIN, ORG_NAME, __version__
from skintrack.paths import resolve_library_dir

log = logging.getLogger(__name__)

_emit_fixed = False


class _Probe(QObject):
    ping = Signal()


def fix_signal_emit_refcount() -> bool:
    """Work around PySide6 6.12 on Python 3.11: ``SignalInstance.emit()`` returns ``True`` without a
    reference, so every Python-side emit drops one reference to ``True`` until the interpreter aborts
    ("bool_dealloc: deallocating True"). Detected at run time (a fixed PySide6 is left alone); the
    wrapper gives the missing reference back. Idempotent; returns True when the patch is active.
    """
    global _emit_fixed
    if _emit_fixed:
        return True
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):  # repay the probe's own losses
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    if lost < 8:
        return False
    original = SignalInstance.emit

    def emit(self: SignalInstance, *args: object) -> object:
        result = original(self, *args)
        if result is True or result is False:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _emit_fixed = True
    log.info("patched SignalInstance.emit (PySide6 refcount bug on bool results)")
    return True


fix_signal_emit_refcount()


def configure_application() -> QApplication:
    """Names and high-DPI policy must be set before the QApplication and the first window exist."""
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setOrganizationDomain(ORG_DOMAIN)
    QApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    from skintrack.ui import icons

    app.setWindowIcon(icons.app_icon())
    return app  # type: ignore[return-value]


def run_gui(library: str | None = None, demo: bool = False) -> int:
    """Open the main window on ``library`` (flag, env, preference, default); returns the exit code."""
    app = configure_application()
    from skintrack.library import Library
    from skintrack.library.lock import set_process_purpose
    from skintrack.ui import errors, tasks, theme
    from skintrack.ui.main_window import MainWindow
    from skintrack.ui.preferences import load_preferences

    errors.install()
    set_process_purpose("the Skintrack app")  # named to a restore that finds the library open
    prefs = load_preferences()
    theme.apply(prefs.theme, app)
    window = MainWindow(None)
    if not demo:
        root = resolve_library_dir(library or prefs.library_dir or None)
        try:
            window.set_library(Library.open(Path(root)), owned=True)
        except Exception as exc:
            log.exception("cannot open library %s", root)
            QMessageBox.warning(window, "Cannot open library", f"Cannot open the library in {root}:\n{exc}")
    window.show()
    if demo:
        window.open_demo()
    try:
        return app.exec()
    finally:
        tasks.shutdown()
        window.shutdown()
        errors.uninstall()
