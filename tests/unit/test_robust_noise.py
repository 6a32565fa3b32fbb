"""``robust_noise`` reads medians off one sorted copy: it must give exactly what repeated
``np.median`` calls give (the module's own path for NaN input), for odd and even counts, ties,
float32 and float64, and NaN."""

from __future__ import annotations

import numpy as np
import pytest

from skintrack.core.change.noise import _robust_noise_unsorted, robust_noise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_numbers_as_repeated_medians(dtype: type) -> None:
    rng = np.random.default_rng(4)
    for trial in range(400):
        n = int(rng.integers(1, 2500))
        x = rng.normal(rng.normal(0, 2), rng.uniform(0.1, 3), n)
        if trial % 3 == 0:
            x[: n // 4] -= rng.uniform(3, 10)  # a darker patch the iteration must drop
        if trial % 4 == 0:
            x = np.round(x, 1)  # ties
        x = x.astype(dtype)
        threshold, k = float(rng.uniform(0.5, 4)), float(rng.uniform(2, 4))
        assert robust_noise(x, threshold, k) == _robust_noise_unsorted(x, threshold, k, 5), (trial, n)


def test_a_patch_is_left_out_of_the_spread() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 200_000).astype(np.float32)
    x[:20_000] -= 8.0
    med, spread = robust_noise(x, 3.0, 3.0)
    assert abs(med) < 0.05 and 0.95 < spread < 1.1


def test_constant_values_and_nan() -> None:
    assert robust_noise(np.full(300, 1.5, np.float32), 3.0, 3.0) == (1.5, 0.0)
    med, spread = robust_noise(np.array([1.0, np.nan, 2.0] * 40, np.float32), 3.0, 3.0)
    assert np.isnan(med) and np.isnan(spread)
