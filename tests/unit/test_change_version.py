"""The measurement's output on a fixed generated pair is pinned to ALGORITHM_VERSION.

When this fails, the numbers a person sees changed: bump ``ALGORITHM_VERSION`` in
``skintrack/core/change/settings.py`` (stored measurements are then redone) and record the new
fingerprint here next to the new version string.
"""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np

from skintrack.core.change import ALGORITHM_VERSION, compare_aligned
from skintrack.demo import synth

FINGERPRINTS = {
    "change-2": "8db46bc09710290c",
    "change-3": "b7e09948dc34c3b6",
    "change-4": "87bc02218ca7705b",
    "change-5": "87bc02218ca7705b",
    "change-6": "9eace2ebd8005117",  # the same figures; the new detection settings under "thresholds"
    "change-7": "9d7e77b60adcb1b1",  # deep patches outlined at half their depth (outline_share)
    "change-8": "9d7e77b60adcb1b1",  # same pair; darkening in proportion to existing pigment: contrast
    "change-9": "9d7e77b60adcb1b1",  # same pair; a closed band round a fainter spot grows it
}


def _pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = synth.make_pair(
        seed=7,
        size=(400, 300),
        change=synth.Darkening(-5.0, "grey-blue"),
        later_pose=synth.Pose(rotation=5.0, scale=1.03),
        speculars=3,
    )
    h, w = p.reference.shape[:2]
    later = cv2.warpPerspective(p.later.astype(np.float32) / 255.0, p.h_later_to_reference, (w, h))
    ones = np.full(p.later.shape[:2], 255, np.uint8)
    valid = cv2.warpPerspective(ones, p.h_later_to_reference, (w, h), flags=cv2.INTER_NEAREST) > 0
    return p.reference.astype(np.float32) / 255.0, later, valid


def fingerprint() -> tuple[str, dict]:
    """A digest of the figures a person sees, rounded well above floating-point noise."""
    ref, later, valid = _pair()
    j = compare_aligned(ref, later, valid).to_json()
    summary = {k: v for k, v in j.items() if k not in ("patches", "notes", "change_version")}
    summary["refinement"] = {k: v for k, v in j["refinement"].items() if k != "message"}  # prose
    summary["patches"] = [
        {k: p[k] for k in ("area_px", "mean_delta_L", "mean_delta_b", "kind", "bbox")} for p in j["patches"]
    ]
    text = json.dumps(summary, sort_keys=True, default=str)
    rounded = json.loads(text, parse_float=lambda v: round(float(v), 1))
    digest = hashlib.sha256(json.dumps(rounded, sort_keys=True).encode()).hexdigest()[:16]
    return digest, rounded


def test_output_changes_only_with_a_version_bump() -> None:
    digest, summary = fingerprint()
    assert ALGORITHM_VERSION in FINGERPRINTS, f"record the fingerprint of {ALGORITHM_VERSION}: {digest}"
    assert FINGERPRINTS[ALGORITHM_VERSION] == digest, (
        f"the measurement's output changed (fingerprint {digest}) but ALGORITHM_VERSION is still "
        f"{ALGORITHM_VERSION}: bump it and record the new fingerprint. Figures: {summary}"
    )
