"""Application set-up: names, high-DPI, icon, crash hook, theme; then the main window.

``run_gui`` is what ``skintrack`` (no subcommand), ``skintrack-gui`` and ``skintrack --demo`` call.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from skintrack import APP_NAME, DESKTOP_FILE_NAME, ORG_DOMAIN, ORG_NAME, __version__
from skintrack.paths import resolve_library_dir
from skintrack.ui.pyside_fix import immortalise_singletons

log = logging.getLogger(__name__)


def configure_application() -> QApplication:
    """Names and high-DPI policy must be set before the QApplication and the first window exist."""
    immortalise_singletons()
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
    from skintrack.ui.inbox_panel import install_inbox
    from skintrack.ui.main_window import MainWindow
    from skintrack.ui.preferences import load_preferences

    errors.install()
    set_process_purpose("the Skintrack app")  # named to a restore that finds the library open
    prefs = load_preferences()
    theme.apply(prefs.theme, app)
    window = MainWindow(None)
    install_inbox(window)
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
