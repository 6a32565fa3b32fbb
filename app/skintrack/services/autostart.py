"""Start at login: a freedesktop autostart entry ($XDG_CONFIG_HOME/autostart/skintrack.desktop).

Written and removed only by the app (reminder settings), so reminders can arrive without the user
remembering to open Skintrack. The file is written atomically.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from skintrack.core.fsutil import atomic_write_bytes

FILE_NAME = "skintrack.desktop"


def autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def autostart_path() -> Path:
    return autostart_dir() / FILE_NAME


def default_command() -> list[str]:
    """How to start this installation: the ``skintrack-gui`` script if on PATH, else this Python."""
    script = shutil.which("skintrack-gui")
    if script:
        return [script]
    return [sys.executable, "-m", "skintrack"]


def desktop_entry(command: list[str]) -> str:
    exec_line = " ".join(shlex.quote(part).replace("%", "%%") for part in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Skintrack\n"
        "Comment=Reminders for your skin photos\n"
        f"Exec={exec_line}\n"
        "Icon=skintrack\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "NoDisplay=true\n"
    )


def enable(command: list[str] | None = None) -> Path:
    path = autostart_path()
    atomic_write_bytes(path, desktop_entry(command or default_command()).encode("utf-8"))
    return path


def disable() -> bool:
    """Remove the entry; True when there was one."""
    try:
        autostart_path().unlink()
    except FileNotFoundError:
        return False
    return True


def is_enabled() -> bool:
    return autostart_path().is_file()
