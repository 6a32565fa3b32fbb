"""Where the compare window gets its photos: a Qt-free adapter over the library and services.

The window talks to a :class:`CompareSource`; :class:`LibrarySource` implements it on a real
library (``services.analysis.aligned_pair`` etc.). ``load`` runs in a worker and returns a
:class:`PairData` with everything the views need, pyramids included, so the GUI thread only
wraps arrays into tiles. Tests may pass any object with the same methods.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np

from skintrack.core import formatting
from skintrack.core.align import Alignment
from skintrack.core.change import ChangeResult
from skintrack.core.heatmap import overlay_of
from skintrack.errors import AlignmentFailedError
from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services.manual_alignment import Point, save_manual_alignment
from skintrack.ui.compare.heatmap_layer import DEFAULT_LIMIT
from skintrack.ui.compare.tiles import Pyramid, build_pyramid

if TYPE_CHECKING:
    from skintrack.services.analysis import AnalysisReport

PREVIEW_MAX_SIDE = 2400  # manual alignment works on previews; points are scaled back to full size


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    taken_at: datetime
    is_reference: bool = False

    @property
    def label(self) -> str:
        text = formatting.day(self.taken_at)
        return f"{text} (reference)" if self.is_reference else text


@dataclass
class AlignmentInfo:
    """What the quality indicator shows; mirrors core.align.Alignment / AlignmentRecord."""

    ok: bool
    quality: float = 0.0
    method: str = "none"
    inliers: int = 0
    message: str = ""


@dataclass
class PairData:
    """One prepared comparison: images in reference geometry plus untouched originals."""

    a_id: int
    b_id: int
    ref: np.ndarray  # uint8 RGB, earlier photo = reference geometry
    later: np.ndarray | None  # aligned and lighting-normalised later photo, None when alignment failed
    ref_original: np.ndarray
    later_original: np.ndarray
    alignment: AlignmentInfo
    change: ChangeResult | None = None
    overlay: np.ndarray | None = None  # RGBA ΔL* overlay
    pyramids: dict[str, Pyramid] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        return self.alignment.ok and self.later is not None

    @property
    def calibration(self) -> str:
        return self.change.calibration if self.change is not None else "none"


class CompareSource(Protocol):
    def photos(self) -> list[PhotoInfo]: ...
    def default_pair(self) -> tuple[int, int]: ...
    def load(self, a_id: int, b_id: int, token: CancelToken) -> PairData: ...
    def original(self, photo_id: int, max_side: int | None = None) -> np.ndarray: ...
    def save_manual_alignment(
        self, a_id: int, b_id: int, alignment: Alignment, points: list[tuple[Point, Point]]
    ) -> None: ...
    def reanalyse(self, token: CancelToken) -> Generator[Progress, None, AnalysisReport]: ...


def as_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def alignment_info(obj: Alignment | None) -> AlignmentInfo:
    if obj is None:
        return AlignmentInfo(ok=False, message="no alignment")
    return AlignmentInfo(
        ok=bool(obj.ok),
        quality=float(obj.quality or 0.0),
        method=obj.method or "none",
        inliers=int(obj.inliers or 0),
        message=obj.message or "",
    )


def prepare(data: PairData, limit: float = DEFAULT_LIMIT) -> PairData:
    """Worker side: overlay colours and every pyramid the views will draw."""
    if data.overlay is None and data.change is not None:
        data.overlay = overlay_of(data.change, limit)
    data.pyramids["ref"] = build_pyramid(as_uint8(data.ref))
    data.pyramids["ref_original"] = (
        data.pyramids["ref"] if data.ref_original is data.ref else build_pyramid(as_uint8(data.ref_original))
    )
    data.pyramids["later_original"] = build_pyramid(as_uint8(data.later_original))
    if data.later is not None:
        data.pyramids["later"] = build_pyramid(as_uint8(data.later))
    if data.overlay is not None:
        data.pyramids["overlay"] = build_pyramid(data.overlay)
    return data


class LibrarySource:
    """The real thing: photos of one region of a library, compared by services.analysis."""

    def __init__(self, library: Library, region_id: int) -> None:
        self.library = library
        self.region_id = region_id

    def photos(self) -> list[PhotoInfo]:
        region = self.library.region(self.region_id)
        ref_id = region.reference_photo_id
        return [PhotoInfo(p.id, p.taken_at, p.id == ref_id) for p in self.library.list_photos(self.region_id)]

    def default_pair(self) -> tuple[int, int]:
        photos = self.photos()
        if not photos:
            raise ValueError("region has no photos")
        refs = [p.id for p in photos if p.is_reference]
        a = refs[0] if refs else photos[0].id
        b = photos[-1].id
        if b == a and len(photos) > 1:
            b = next(p.id for p in reversed(photos) if p.id != a)
        return a, b

    def original(self, photo_id: int, max_side: int | None = None) -> np.ndarray:
        from skintrack.core.images import decode

        photo = self.library.photo(photo_id)
        return decode(self.library.original_path(photo), max_side=max_side).rgb

    def load(self, a_id: int, b_id: int, token: CancelToken) -> PairData:
        from skintrack.services import analysis

        # originals at the analysis resolution too: same scale as the aligned pair, half the memory
        side = analysis.ANALYSIS_SIDE
        later_original = self.original(b_id, side)
        token.raise_if_cancelled()
        try:
            pair = analysis.aligned_pair(self.library, self.region_id, a_id, b_id)
        except AlignmentFailedError as exc:
            info = AlignmentInfo(ok=False, message=str(exc))
            ref_original = self.original(a_id, side)
            return PairData(a_id, b_id, ref_original, None, ref_original, later_original, info)
        align = alignment_info(pair.alignment)
        ref_u8 = as_uint8(pair.reference)
        if not align.ok:
            return PairData(a_id, b_id, ref_u8, None, ref_u8, later_original, align)
        later = as_uint8(pair.later_normalised)
        return PairData(a_id, b_id, ref_u8, later, ref_u8, later_original, align, pair.change)

    def save_manual_alignment(
        self, a_id: int, b_id: int, alignment: Alignment, points: list[tuple[Point, Point]]
    ) -> None:
        save_manual_alignment(self.library, a_id, b_id, alignment, points)

    def reanalyse(self, token: CancelToken) -> Generator[Progress, None, AnalysisReport]:
        from skintrack.services.analysis import analyze_region

        return analyze_region(self.library, self.region_id, token=token, force=True)
