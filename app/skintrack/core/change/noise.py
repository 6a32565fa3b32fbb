"""The noise of ΔL* on unchanged skin and the darkening threshold it implies (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skintrack.core.change.settings import ChangeSettings


@dataclass
class NoiseEstimate:
    """``noise``: 1.4826·MAD of ΔL* on unchanged pixels (L*); ``threshold``: max(T, k·noise) (L*)."""

    median: float
    noise: float
    threshold: float


def robust_noise(dl: np.ndarray, threshold_L: float, k: float, iterations: int = 5) -> tuple[float, float]:
    """(median, 1.4826·MAD) of ΔL* over pixels considered unchanged, iterating the exclusion.

    Pixels farther than max(T, k·spread) from the median are changed (or misregistered) and are
    dropped before the spread is taken again; the MAD's 1.4826 makes it a Gaussian sigma.
    The values are sorted once: every kept set is then a run of the sorted values, whose median
    is read off and whose MAD is a selection from two sorted halves, the same numbers as
    ``np.median`` gives, without a partition of every set.
    """
    x = np.sort(np.asarray(dl).ravel())
    if not len(x) or not (np.isfinite(x[0]) and np.isfinite(x[-1])):
        return _robust_noise_unsorted(dl, threshold_L, k, iterations)
    lo, hi = 0, len(x)
    med = _median_of_run(x, lo, hi)
    s = 1.4826 * _mad_of_run(x, lo, hi, med)
    for _ in range(iterations):
        limit = max(threshold_L, k * s)
        inside = np.abs(x - med) < limit  # a run: x - med is monotone in x
        n = int(np.count_nonzero(inside))
        if n < 50 or n == hi - lo:
            break
        lo = int(np.argmax(inside))
        hi = lo + n
        med = _median_of_run(x, lo, hi)
        s = 1.4826 * _mad_of_run(x, lo, hi, med)
    return med, s


def _median_of_run(x: np.ndarray, lo: int, hi: int) -> float:
    """``np.median(x[lo:hi])`` of sorted ``x``: the middle value, or the mean of the middle two."""
    mid = lo + (hi - lo) // 2
    if (hi - lo) % 2:
        return float(x[mid])
    return float(np.mean(x[mid - 1 : mid + 1]))


def _mad_of_run(x: np.ndarray, lo: int, hi: int, med: float) -> float:
    """``np.median(np.abs(x[lo:hi] - med))`` of sorted ``x``.

    The distances below the median, read backwards, and those above it are two sorted runs; the
    middle of their union is found by bisection.
    """
    centre = x.dtype.type(med)
    split = lo + int(np.searchsorted(x[lo:hi], centre, side="right"))
    below = np.abs(x[lo:split][::-1] - centre)  # ascending
    above = x[split:hi] - centre  # ascending
    n = hi - lo
    mid = n // 2
    if n % 2:
        return float(_kth_of_two(below, above, mid))
    pair = np.array([_kth_of_two(below, above, mid - 1), _kth_of_two(below, above, mid)], x.dtype)
    return float(np.mean(pair))


def _kth_of_two(a: np.ndarray, b: np.ndarray, k: int) -> np.floating:
    """The ``k``-th smallest (from 0) value of two ascending arrays together."""
    lo, hi = max(0, k + 1 - len(b)), min(k + 1, len(a))  # how many of the k + 1 smallest come from a
    while lo < hi:
        take = (lo + hi) // 2
        if a[take] < b[k - take]:  # a[take] is among the k + 1 smallest: take more from a
            lo = take + 1
        else:
            hi = take
    take = lo
    if take == 0:
        return b[k]
    if take == k + 1:
        return a[k]
    return max(a[take - 1], b[k - take])


def _robust_noise_unsorted(
    dl: np.ndarray, threshold_L: float, k: float, iterations: int
) -> tuple[float, float]:
    """:func:`robust_noise` by repeated medians, for values that hold NaN or infinities."""
    keep = dl
    med = float(np.median(keep))
    s = 1.4826 * float(np.median(np.abs(keep - med)))
    for _ in range(iterations):
        limit = max(threshold_L, k * s)
        nxt = dl[np.abs(dl - med) < limit]
        if len(nxt) < 50 or len(nxt) == len(keep):
            break
        keep = nxt
        med = float(np.median(keep))
        s = 1.4826 * float(np.median(np.abs(keep - med)))
    return med, s


def estimate_noise(dl_sample: np.ndarray, settings: ChangeSettings, notes: list[str]) -> NoiseEstimate:
    """Noise of the sampled ΔL* values and the per-pixel threshold; a note when noise raised it."""
    med, noise = robust_noise(dl_sample, settings.threshold_L, settings.noise_k)
    thr = max(float(settings.threshold_L), float(settings.noise_k) * noise)
    if settings.noise_k * noise > settings.threshold_L:
        notes.append(
            f"measurement noise is high (ΔL* spread {noise:.2f}): the darkening threshold was raised "
            f"to {thr:.1f} L* units"
        )
    return NoiseEstimate(med, noise, thr)
