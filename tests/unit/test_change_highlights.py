"""A specular highlight in one photo is a reflection, not a change of skin colour."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from skintrack.core.change import compare_aligned
from skintrack.demo import synth


@pytest.mark.parametrize("in_reference", [True, False])
def test_unclipped_highlight_is_not_reported_as_change(in_reference: bool) -> None:
    pair = synth.make_pair(seed=21, size=(800, 600), later_lighting=synth.Lighting(gain=0.95))
    h, w = pair.reference.shape[:2]
    later = cv2.warpPerspective(pair.later, pair.h_later_to_reference, (w, h))
    valid = cv2.warpPerspective(
        np.full(pair.later.shape[:2], 255, np.uint8), pair.h_later_to_reference, (w, h)
    )
    target = pair.reference.copy() if in_reference else later
    # an unclipped whitish reflection, as the demo's speculars: (221, 203, 195) at its peak
    spot = np.zeros((h, w), np.float32)
    cv2.circle(spot, (400, 300), 7, 1.0, -1)
    spot = cv2.GaussianBlur(spot, (0, 0), 2.0)[..., None]
    target[:] = np.clip(target * (1 - 0.7 * spot) + np.array([225, 210, 200]) * 0.7 * spot, 0, 255).astype(
        np.uint8
    )
    ref = target if in_reference else pair.reference
    result = compare_aligned(ref / 255.0, later / 255.0 if in_reference else target / 255.0, valid > 0)
    assert result.patches == []
    assert any("specular" in note for note in result.to_json()["notes"])


def test_darkened_patch_is_still_found_next_to_a_highlight() -> None:
    pair = synth.make_pair(seed=22, size=(800, 600), change=synth.Darkening(-5.0, "grey-blue"), speculars=6)
    h, w = pair.reference.shape[:2]
    later = cv2.warpPerspective(pair.later, pair.h_later_to_reference, (w, h))
    valid = cv2.warpPerspective(
        np.full(pair.later.shape[:2], 255, np.uint8), pair.h_later_to_reference, (w, h)
    )
    result = compare_aligned(pair.reference / 255.0, later / 255.0, valid > 0)
    found = result.mask > 0
    truth = pair.change_mask & (valid > 0)
    iou = (found & truth).sum() / max(1, (found | truth).sum())
    assert iou > 0.8
    assert result.patches[0].kind == "grey-blue"
