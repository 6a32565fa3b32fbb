"""The demo library: built once into the user's cache folder, opened from there afterwards."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import platformdirs

from skintrack import APP_NAME
from skintrack.demo.build import TRUTH_DIR, build_demo_library
from skintrack.library import DB_NAME
from skintrack.progress import CancelToken, Progress


def demo_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "demo-library"


def demo_is_ready(root: Path) -> bool:
    return (root / DB_NAME).exists() and (root / TRUTH_DIR / "truth.json").exists()


def ensure_demo_library(
    root: Path | None = None, token: CancelToken | None = None, *, analyse: bool = True
) -> Generator[Progress, None, Path]:
    """The folder of a complete demo library, built when needed (analysed too with ``analyse``).

    The window builds without analysis, opens the library at once and analyses it in the
    background; analysis skips what is up to date, so a demo opened half-analysed resumes.

    A half-built demo in our own cache folder (an interrupted build) is removed and rebuilt; any
    other non-empty folder is never touched: the demo goes into a new folder beside it. A build
    that fails or is cancelled removes only the folder it created.
    """
    cache = demo_dir()
    root = root or cache
    if demo_is_ready(root):
        return root
    ours = root == cache or not root.exists()
    if root.exists() and any(root.iterdir()):
        if root == cache:
            shutil.rmtree(root, ignore_errors=True)
        else:
            root.parent.mkdir(parents=True, exist_ok=True)
            root = Path(tempfile.mkdtemp(prefix="demo-library-", dir=root.parent))
            ours = True
    try:
        yield from build_demo_library(root, token, analyse=analyse)
    except BaseException:
        if ours:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return root
