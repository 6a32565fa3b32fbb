"""The one workaround for a PySide6 6.12 refcount bug on Python 3.11, applied once at start-up.

With PySide6 6.12.0 on Python < 3.12, Python overrides of Qt virtuals that return nothing
(``paintEvent``, ``QGraphicsItem.paint``, ``drawForeground``…) drop a reference to ``None`` on
every call, and ``SignalInstance.emit`` drops one to ``True``. A view repainting at 60 frames
per second empties ``None``'s count within a minute and the interpreter aborts
("none_dealloc"). Python 3.12+ made these singletons immortal, which hides the bug there; here we
give them the same treatment: a huge reference count, so the lost references never reach zero.
PySide6 6.11.x has no such bug (upstream PYSIDE-3474), and ``pyproject.toml`` excludes 6.12.0 on
Python < 3.12; this guard covers an environment that has it anyway (a distribution package, a
pinned lock file). ``skintrack.ui.app.configure_application`` calls :func:`immortalise_singletons`
before any widget exists; nothing else needs to.
"""

from __future__ import annotations

import ctypes
import sys

import PySide6

_done = False
EXTRA = 1 << 40


def affected() -> bool:
    return sys.version_info < (3, 12) and PySide6.__version__.startswith("6.12.")


def immortalise_singletons() -> bool:
    """Idempotent; True when the guard is (now) active."""
    global _done
    if _done:
        return True
    if not affected():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += EXTRA  # ob_refcnt is the first field
    _done = True
    return True
