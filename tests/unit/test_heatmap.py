"""core.heatmap: one colour map for the app and the exports, opacity by threshold, hatched exclusions."""

from __future__ import annotations

import numpy as np

from skintrack.core import heatmap


def test_colour_map_is_violet_white_teal_and_shared_by_the_legend() -> None:
    c = heatmap.diverging_colours(np.array([-10.0, 0.0, 10.0, np.nan]))
    assert min(c[0][0], c[0][2]) > c[0][1] + 40 and min(c[2][1], c[2][2]) > c[2][0] + 40
    assert np.ptp(c[1]) < 1 and np.allclose(c[1], c[3])
    stops = heatmap.legend_stops(3)
    assert [p for p, _ in stops] == [0.0, 0.5, 1.0]
    assert stops[0][1] == tuple(round(float(v)) for v in c[0])


def test_overlay_opacity_follows_the_threshold_and_nan_is_transparent() -> None:
    d = np.array([[0.0, -1.5, -3.0, -9.0, np.nan]], np.float32)
    rgba = heatmap.overlay_rgba(d, threshold=3.0)
    assert list(rgba[0, :, 3]) == [0, 128, 255, 255, 0]


def test_excluded_area_is_hatched_in_the_overlay() -> None:
    d = np.zeros((40, 40), np.float32)
    excluded = np.zeros((40, 40), bool)
    excluded[:, 20:] = True
    rgba = heatmap.overlay_rgba(d, 3.0, excluded=excluded)
    right, left = rgba[:, 20:, 3], rgba[:, :20, 3]
    assert (left == 0).all() and 0.1 < (right > 0).mean() < 0.5  # lines, not a fill
    assert tuple(rgba[rgba[..., 3] > 0][0, :3]) == heatmap.HATCH_RGB


def test_hatch_lines_are_diagonal() -> None:
    h = heatmap.hatch_lines((16, 16), 8)
    assert h[0, 0] and h[1, 7] and not h[0, 4]
