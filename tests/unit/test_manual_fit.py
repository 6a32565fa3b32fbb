"""Manual alignment from a few roughly clicked pairs: a simpler model, never a folded warp."""

from __future__ import annotations

import numpy as np
import pytest

from skintrack.core.align import alignment_from_points
from skintrack.services.manual_fit import fit_manual_alignment, model_for
from support.manual_clicks import rough_pairs

SHAPE = (900, 1200, 3)


@pytest.mark.parametrize("seed", [4, 6, 14])
def test_four_or_five_rough_pairs_align(seed: int) -> None:
    ref, mov = rough_pairs(seed)
    homography_only = alignment_from_points(ref, mov, reference_shape=SHAPE, moving_shape=SHAPE)
    assert not homography_only.ok  # the perspective fit through these clicks folds the image
    fit = fit_manual_alignment(ref, mov, SHAPE, SHAPE)
    assert fit.alignment.ok, fit.alignment.message
    assert fit.model == "affine" and "folded" not in fit.alignment.message
    assert len(fit.errors) == len(ref) and max(fit.errors) < 15.0
    # the fitted warp is the true camera change within the clicking noise
    centre = np.array([600.0, 450.0, 1.0])
    h = np.asarray(fit.alignment.homography)
    true_centre_mov = np.array([630.0, 430.0])
    p = h @ np.r_[true_centre_mov, 1.0]
    assert np.linalg.norm(p[:2] / p[2] - centre[:2]) < 15.0


def test_model_grows_with_the_pairs() -> None:
    assert [model_for(n) for n in (2, 3, 4, 7, 8, 12)] == [
        "similarity",
        "similarity",
        "affine",
        "affine",
        "homography",
        "homography",
    ]
    ref, mov = rough_pairs(1, n=12, noise=0.5)
    fit = fit_manual_alignment(ref, mov, SHAPE, SHAPE)
    assert fit.alignment.ok and fit.model == "homography"


def test_each_pair_error_names_a_wrong_click() -> None:
    ref, mov = rough_pairs(2, n=6, noise=1.0)
    mov[3] += [120.0, -90.0]  # one pair marks a different feature
    fit = fit_manual_alignment(ref, mov, SHAPE, SHAPE)
    assert not fit.alignment.ok
    assert fit.worst == 3 and "pair 4 is off by" in fit.alignment.message


def test_too_few_or_clustered_points() -> None:
    assert not fit_manual_alignment([(1, 1)], [(2, 2)], SHAPE, SHAPE).alignment.ok
    near = fit_manual_alignment([(100, 100), (102, 101)], [(100, 100), (101, 102)], SHAPE, SHAPE)
    assert not near.alignment.ok and "too close" in near.alignment.message
