"""Run the same step on the reference and the later photo at once.

Every comparison treats two images alike (decode, downscale, features, high-pass, CIELAB).
numpy's element-wise maths, OpenCV and Pillow's decoders release the GIL on images, so two
threads use both cores of a small laptop for the price of one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")


def both(fn: Callable[[A], R], first: A, second: A) -> tuple[R, R]:
    """``(fn(first), fn(second))``, the second on another thread; exceptions propagate."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skintrack-pair") as pool:
        later = pool.submit(fn, second)
        return fn(first), later.result()
