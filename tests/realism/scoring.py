"""Run the real ``compare_files`` on a pair (as JPEG files, like photos) and score it against truth.

IoU is measured against the truth where the later photo shows the patch; a pixel the engine
left out counts as missed, so excluding clipped skin cannot hide a failure. False alarms are the
share of the compared area flagged outside the (slightly grown) truth; on a no-change pair that
is every flagged pixel. ``compared`` is the compared area over the footprint of the later photo.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realism.variants import Pair
from skintrack.services.analysis import compare_files

JPEG_QUALITY = 92
IOU_GOAL = {-3.0: 0.6, -5.0: 0.8, -8.0: 0.8}
FALSE_ALARM_GOAL = 0.005  # share of the compared area flagged on a no-change pair


@dataclass
class Score:
    pair: str
    variant: str
    scene: str
    label: str
    delta_L: float | None
    radius: float
    aligned: bool
    iou: float | None  # None on no-change pairs
    false_alarm: float  # flagged outside the truth / compared area
    compared: float  # compared area / footprint
    seconds: float
    message: str = ""

    @property
    def goal(self) -> float | None:
        return None if self.delta_L is None else IOU_GOAL.get(self.delta_L)

    @property
    def meets_goal(self) -> bool:
        if not self.aligned:
            return False
        if self.delta_L is None:
            return self.false_alarm <= FALSE_ALARM_GOAL
        goal = self.goal
        return goal is None or (self.iou is not None and self.iou >= goal)


def write_jpeg(path: Path, rgb: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f"{path}: could not be written")
    return path


def _full(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask).astype(np.uint8)
    if m.shape != shape:
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return m > 0


def score(pair: Pair, folder: Path, use_card: bool = True) -> Score:
    """Write the pair as JPEGs into ``folder`` and measure it with ``compare_files``.

    ``use_card=False`` skips looking for a calibration card (these photos have none; the search
    is a third of the time of a compare at this size)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = pair.name.replace("/", "_")
    ref = write_jpeg(folder / f"{stem}_a.jpg", pair.reference)
    later = write_jpeg(folder / f"{stem}_b.jpg", pair.later)
    start = time.perf_counter()
    outcome = compare_files(ref, later, use_card=use_card)
    seconds = time.perf_counter() - start
    delta = None if pair.change is None else float(pair.change.delta_L)
    common = (pair.name, pair.variant, pair.scene, pair.label, delta, pair.radius)
    if outcome.change is None:
        iou = None if delta is None else 0.0
        return Score(*common, False, iou, math.nan, 0.0, seconds, outcome.alignment.message)
    shape = pair.reference.shape[:2]
    flagged = outcome.full_mask() > 0
    compared = _full(outcome.change.compared_mask, shape)
    footprint = pair.footprint
    truth = pair.truth
    iou = None
    if delta is not None:
        iou = float((flagged & truth).sum() / max(1, (flagged | truth).sum()))
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    false_alarm = float((flagged & ~near_truth).sum() / max(1, compared.sum()))
    share = float((compared & footprint).sum() / max(1, footprint.sum()))
    return Score(*common, True, iou, false_alarm, share, seconds, outcome.alignment.message)


def format_score(s: Score) -> str:
    if not s.aligned:
        return f"NOT ALIGNED ({s.message[:60]})"
    parts = []
    if s.iou is not None:
        goal = "" if s.goal is None else f" (goal >= {s.goal})"
        parts.append(f"IoU {s.iou:.2f}{goal}")
    parts.append(f"false {100 * s.false_alarm:.2f} % (goal <= {100 * FALSE_ALARM_GOAL:.1f} %)")
    parts.append(f"compared {100 * s.compared:.0f} %")
    return "  ".join(parts)
