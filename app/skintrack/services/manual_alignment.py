"""Storing an alignment the user made by clicking matching points on two photos.

The record is marked ``manual`` with its points, so the analysis reuses it instead of aligning
the pair again, and a later automatic run never overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skintrack.core.align import ALGORITHM_VERSION, Alignment
from skintrack.library import Library
from skintrack.library.models import AlignmentRecord

Point = Sequence[float]


def save_manual_alignment(
    lib: Library,
    reference_id: int,
    photo_id: int,
    alignment: Alignment,
    points: Sequence[tuple[Point, Point]],
) -> AlignmentRecord:
    """Store ``alignment`` of ``photo_id`` onto ``reference_id`` with its (reference, moving) points."""
    if alignment.homography is None:
        raise ValueError("a manual alignment needs a homography")
    rec = AlignmentRecord(
        photo_id=photo_id,
        reference_id=reference_id,
        ok=True,
        homography=np.asarray(alignment.homography, dtype=float).tolist(),
        quality=float(alignment.quality or 1.0),
        method="manual",
        inliers=len(points),
        message=alignment.message or "aligned by hand",
        manual_points=[[list(map(float, r)), list(map(float, m))] for r, m in points],
        algorithm_version=ALGORITHM_VERSION,
    )
    lib.save_alignment(rec)
    return rec
