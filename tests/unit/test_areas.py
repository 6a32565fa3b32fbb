"""Polygons <-> masks round trip for the region editor's painted areas."""

from __future__ import annotations

import cv2
import numpy as np

from skintrack.services.areas import iou, mask_to_polygons, polygons_to_mask


def blob_mask(seed: int, shape: tuple[int, int] = (300, 400)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, np.uint8)
    for _ in range(6):
        cx, cy = rng.integers(60, shape[1] - 60), rng.integers(60, shape[0] - 60)
        cv2.circle(mask, (int(cx), int(cy)), int(rng.integers(15, 50)), 255, -1)
    pts = np.array([[30, 30], [120, 40], [90, 120], [40, 90]], np.int32)
    cv2.fillPoly(mask, [pts], 255)
    return mask


def test_round_trip_iou_above_098() -> None:
    for seed in range(4):
        mask = blob_mask(seed)
        polys = mask_to_polygons(mask)
        assert polys and all(len(p) >= 3 for p in polys)
        back = polygons_to_mask(polys, mask.shape)
        assert iou(mask, back) > 0.98


def test_polygon_to_mask_fills_square() -> None:
    mask = polygons_to_mask([[[10, 10], [29, 10], [29, 29], [10, 29]]], (50, 50))
    assert mask.dtype == np.uint8 and mask[10:30, 10:30].min() == 255
    assert mask.sum() == 255 * 20 * 20


def test_empty_and_specks() -> None:
    assert mask_to_polygons(np.zeros((20, 20), np.uint8)) == []
    assert polygons_to_mask(None, (5, 6)).shape == (5, 6)
    speck = np.zeros((20, 20), np.uint8)
    speck[5, 5] = 255
    assert mask_to_polygons(speck) == []


def test_overlapping_polygons_unite() -> None:
    a = [[0, 0], [20, 0], [20, 20], [0, 20]]
    b = [[10, 10], [30, 10], [30, 30], [10, 30]]
    mask = polygons_to_mask([a, b], (40, 40))
    assert mask[15, 15] == 255  # overlap stays filled
    assert len(mask_to_polygons(mask)) == 1
