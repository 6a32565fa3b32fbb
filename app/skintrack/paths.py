"""Where things live on disk: platformdirs defaults, overridable by flag or environment."""

from __future__ import annotations

import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import platformdirs

LIBRARY_ENV = "SKINTRACK_LIBRARY"
APP_DIR_NAME = "Skintrack"


def default_library_dir() -> Path:
    """The library used when neither ``--library`` nor ``SKINTRACK_LIBRARY`` is given."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def resolve_library_dir(cli_value: str | os.PathLike[str] | None) -> Path:
    """Flag first, then environment, then the platform default."""
    if cli_value:
        return Path(cli_value).expanduser()
    return default_library_dir()


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False))


def resources_root() -> Traversable:
    """The shipped ``resources/`` folder: inside the wheel, or at the top of a source checkout."""
    packaged = resources.files("skintrack") / "resources"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "resources"
    return checkout  # type: ignore[return-value]


def resource_path(*parts: str) -> Path:
    """A real filesystem path to a resource file (Qt APIs need paths, not Traversables)."""
    node = resources_root()
    for part in parts:
        node = node / part
    return Path(str(node))
