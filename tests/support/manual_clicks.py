"""Roughly clicked point pairs, as a user places them for a manual alignment."""

from __future__ import annotations

import numpy as np


def rough_pairs(seed: int, n: int | None = None, noise: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Pairs from a 7° / 1.05x / shifted camera change, each click off by a few pixels."""
    ang, s = np.deg2rad(7), 1.05
    rot = s * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 6)) if n is None else n
    ref = rng.uniform([300, 250], [700, 550], (n, 2))
    mov = (ref - [600, 450]) @ np.linalg.inv(rot).T + [600, 450] + [30, -20] + rng.normal(0, noise, (n, 2))
    return ref, mov
