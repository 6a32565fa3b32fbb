"""One malloc arena for the whole process (glibc), so image buffers freed by one thread serve the next.

glibc gives every thread that allocates its own heap ("arena"). A comparison runs its steps on
two threads (each photo's share of the work, the mean change beside detection), and each heap
keeps the memory its thread freed for that thread alone: a fresh ``compare`` of two 12 MP photos
peaked at 380-430 MB, depending on which thread happened to allocate what. With one arena the
same run peaks at 315-340 MB, for no measurable time: the steps allocate a few dozen large
buffers each, not millions of small objects, so the shared lock is rarely contended.
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # mallopt parameter of glibc's malloc.h
ARENAS = 1


def share_one_arena() -> bool:
    """Limit glibc to one malloc arena; True when set (False off Linux or without glibc's mallopt).

    Call before the process starts threads: a thread that already made an arena keeps it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, ARENAS))
