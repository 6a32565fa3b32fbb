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
    """
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
