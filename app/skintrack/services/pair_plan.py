"""Which pairs a region needs and which are stale, decided from stored records without an image.

Also the one rule for reusing a stored alignment and the one builder of stored alignments.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from skintrack.core import align as align_mod
from skintrack.core.align import Alignment
from skintrack.library.models import AlignmentRecord, MeasurementRecord


class PhotoLike(Protocol):
    id: int
    taken_at: datetime


def reuse_alignment(rec: AlignmentRecord | None, *, force: bool = False) -> bool:
    """THE rule for a stored alignment: a manual one is always reused (and never overwritten);
    an automatic one while it is from the current algorithm, unless the user forces a redo."""
    if rec is None:
        return False
    if rec.method == "manual":
        return True
    return not force and rec.algorithm_version == align_mod.ALGORITHM_VERSION


def stored_homography(rec: AlignmentRecord | None) -> np.ndarray | None:
    if rec is None or not rec.ok or rec.homography is None:
        return None
    h = np.asarray(rec.homography, np.float64).reshape(3, 3)
    return h if np.all(np.isfinite(h)) else None


def alignment_from_record(rec: AlignmentRecord) -> Alignment:
    return Alignment(
        bool(rec.ok),
        stored_homography(rec),
        float(rec.quality or 0.0),
        str(rec.method or "none"),
        int(rec.inliers or 0),
        str(rec.message or ""),
    )


def alignment_record(
    photo_id: int, reference_id: int, a: Alignment, *, manual_points: list[list[list[float]]] | None = None
) -> AlignmentRecord:
    """THE builder of stored alignments (automatic, or manual with the points placed by hand)."""
    h = None if a.homography is None else np.asarray(a.homography, np.float64).tolist()
    return AlignmentRecord(
        photo_id=photo_id,
        reference_id=reference_id,
        ok=bool(a.ok),
        homography=h,
        quality=float(a.quality),
        method=a.method,
        inliers=int(a.inliers),
        message=a.message,
        manual_points=manual_points,
        algorithm_version=align_mod.ALGORITHM_VERSION,
    )


@dataclass(frozen=True)
class PairPlan:
    """One pair a region needs: ``photo_id`` measured against ``reference_id``."""

    photo_id: int
    reference_id: int
    taken_at: datetime
    stale: bool  # measure it now
    reuse_alignment: bool  # the stored alignment is used (else aligned now and stored)
    reason: str

    @property
    def label(self) -> str:
        return self.taken_at.strftime("%Y-%m-%d")


def pair_list(photos: Sequence[PhotoLike], reference_id: int) -> list[tuple[PhotoLike, int]]:
    """(photo, reference id): every photo vs the region reference, then each vs the previous one."""
    pairs = [(p, reference_id) for p in photos if p.id != reference_id]
    for prev, p in itertools.pairwise(photos):
        if reference_id not in (prev.id, p.id):
            pairs.append((p, prev.id))
    return pairs


def _staleness(
    rec: AlignmentRecord | None, meas: MeasurementRecord | None, reuse: bool, version: str, force: bool
) -> tuple[bool, str]:
    if force:
        return True, "redo requested"
    if reuse and meas is not None and meas.algorithm_version == version:
        return False, "up to date"
    if reuse and rec is not None and not rec.ok and rec.method != "manual":
        return False, "alignment failed with the current algorithm: not retried"
    if meas is None:
        return True, "not measured yet"
    if not reuse:
        return True, "alignment missing or from an older algorithm"
    return True, "settings, areas or algorithms changed"


def plan_pairs(
    photos: Sequence[PhotoLike],
    reference_id: int,
    *,
    alignment_of: Callable[[int, int], AlignmentRecord | None],
    measurement_of: Callable[[int, int], MeasurementRecord | None],
    version: str,
    force: bool = False,
) -> list[PairPlan]:
    """Every pair of a region with what to do about it; pure given the two look-ups."""
    out = []
    for photo, rid in pair_list(photos, reference_id):
        rec = alignment_of(photo.id, rid)
        reuse = reuse_alignment(rec, force=force)
        stale, reason = _staleness(rec, measurement_of(photo.id, rid), reuse, version, force)
        out.append(PairPlan(photo.id, rid, photo.taken_at, stale, reuse, reason))
    # a pair against the previous photo sees the areas through that photo's alignment onto the
    # region reference: when that alignment is redone, so is the pair
    realigned = {
        i.photo_id for i in out if i.reference_id == reference_id and i.stale and not i.reuse_alignment
    }
    carried = "areas carried over through an alignment being redone"
    return [
        dataclasses.replace(i, stale=True, reason=carried)
        if not i.stale and i.reference_id != reference_id and i.reference_id in realigned
        else i
        for i in out
    ]
