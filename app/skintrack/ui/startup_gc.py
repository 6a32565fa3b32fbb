"""Keep the garbage collector's full passes short once the window is up.

Start-up leaves a few hundred thousand long-lived objects (modules, Qt wrappers, matplotlib's
font and style tables, the library's rows). Every full (generation 2) collection walks them all:
about 50 ms with the GIL held, which landed in the middle of region switches and analysis
progress. ``gc.freeze()`` moves what exists now into a permanent generation that collections
skip, so later full passes only walk what was made since.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> bool:
    """Collect once, then freeze the survivors; only the first call does anything."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect()
    gc.freeze()
    return True
