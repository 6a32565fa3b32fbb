"""Where exports go and how the user gets to them: the last export folder (QSettings key
``export/last_folder``), opening a file and showing it in its folder.

"Show in folder" selects the file where the platform allows it: Explorer ``/select``, Finder
``open -R``, the freedesktop file manager's ``ShowItems`` over the session D-Bus; otherwise it
opens the folder. Everything is local: no network.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

from skintrack.ui.preferences import qsettings

LAST_FOLDER_KEY = "export/last_folder"

OpenUrl = Callable[[QUrl], bool]
FILE_MANAGER = "org.freedesktop.FileManager1"
DBUS_TIMEOUT_MS = 1500  # the GUI waits at most this long for the file manager to answer


def last_export_folder() -> Path:
    """The folder of the last export, or the home folder (also when it has been removed since)."""
    value = qsettings().value(LAST_FOLDER_KEY, "")
    folder = Path(str(value)) if value else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def remember_export_folder(path: str | Path) -> None:
    settings = qsettings()
    settings.setValue(LAST_FOLDER_KEY, str(Path(path).parent))
    settings.sync()


def open_file(path: Path, open_url: OpenUrl = QDesktopServices.openUrl) -> bool:
    """Open an exported file with the application the desktop uses for its type."""
    return bool(open_url(QUrl.fromLocalFile(str(path))))


def _freedesktop_show(path: Path) -> bool:
    from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage

    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    registered = bus.interface().isServiceRegistered(FILE_MANAGER)
    if not registered.isValid() or not registered.value():
        return False
    manager = QDBusInterface(
        FILE_MANAGER,
        "/org/freedesktop/FileManager1",
        FILE_MANAGER,
        bus,
    )
    if not manager.isValid():
        return False
    manager.setTimeout(DBUS_TIMEOUT_MS)
    reply = manager.call("ShowItems", [QUrl.fromLocalFile(str(path)).toString()], "")
    return reply.type() != QDBusMessage.MessageType.ErrorMessage


def show_in_folder(path: Path, open_url: OpenUrl = QDesktopServices.openUrl) -> bool:
    """Show ``path`` in the file manager, selected where possible, else open its folder."""
    if sys.platform == "win32":
        if QProcess.startDetached("explorer.exe", [f"/select,{Path(path)}"])[0]:
            return True
    elif sys.platform == "darwin":
        if QProcess.startDetached("open", ["-R", str(path)])[0]:
            return True
    elif _freedesktop_show(path):
        return True
    return bool(open_url(QUrl.fromLocalFile(str(Path(path).parent))))
