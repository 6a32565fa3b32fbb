"""Keep the garbage collector's full passes short once the window is up.

Start-up leaves a few hundred thousand long-lived objects (modules, Qt wrappers, matplotlib's
font and style tables, the library's rows). Every full (generation 2) collection walks them all:
about 50 ms with the GIL held, which landed in the middle of region switches and analysis
progress. ``gc.freeze()`` moves what exists now into a permanent generation that collections
skip, so later full passes only walk what was made since.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect once, then freeze the survivors; nothing to do once objects are frozen."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
