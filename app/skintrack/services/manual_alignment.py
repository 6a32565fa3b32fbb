"""Storing an alignment the user made by clicking matching points on two photos.

The record is marked ``manual`` with its points, so the analysis reuses it instead of aligning
the pair again, and a later automatic run never overwrites it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skintrack.core.align import Alignment
from skintrack.library import Library
from skintrack.library.models import AlignmentRecord
from skintrack.services.pipeline import alignment_record

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
    manual = Alignment(
        True,
        np.asarray(alignment.homography, dtype=float),
        float(alignment.quality or 1.0),
        "manual",
        len(points),
        alignment.message or "aligned by hand",
    )
    pts = [[list(map(float, r)), list(map(float, m))] for r, m in points]
    rec = alignment_record(photo_id, reference_id, manual, manual_points=pts)
    lib.save_alignment(rec)
    return rec
