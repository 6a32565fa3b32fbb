"""Export frames from the measurement pipeline: the ``FrameSource`` behind every image export.

``export.frames`` renders; this module hands it pixels, changes and metrics measured exactly as
the app and the CLI measure them (``services.analysis.aligned_pair``), so an export never shows
other numbers than the library's.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from skintrack.core.images import decode
from skintrack.errors import AlignmentFailedError
from skintrack.export.frames import Aligned, FrameRenderer
from skintrack.export.plan import ExportPlan
from skintrack.library.db import Library
from skintrack.library.settings import load_settings
from skintrack.services.analysis import aligned_pair
from skintrack.services.pipeline import measurement_version


class PipelineFrames:
    """The plan's photos aligned onto its reference photo by the measurement pipeline."""

    def __init__(self, lib: Library, plan: ExportPlan) -> None:
        self.lib = lib
        self.region_id = plan.region_id
        self.reference_id = plan.frame_reference_id

    def measurement_version(self) -> str:
        return measurement_version(load_settings(self.lib), self.lib.region(self.region_id))

    def aligned(self, photo_id: int, max_side: int, *, pixels_only: bool) -> Aligned:
        """``photo_id`` in the reference geometry; ``ok=False`` (never raises) when alignment fails.

        ``pixels_only`` when the frame shows a stored measurement and no heatmap (faster, no change).
        """
        if photo_id == self.reference_id:
            return Aligned(self._decode(photo_id, max_side), None, True, quality=1.0, method="reference")
        try:
            pair = aligned_pair(
                self.lib,
                self.region_id,
                self.reference_id,
                photo_id,
                max_side=max_side,
                pixels_only=pixels_only,
            )
        except AlignmentFailedError as exc:
            return Aligned(self._decode(photo_id, max_side), None, False, message=str(exc))
        return Aligned(
            pair.later_normalised,
            pair.valid,
            True,
            quality=pair.alignment.quality,
            method=pair.alignment.method,
            change=pair.change,
            normalised=pair.normalised,
            metrics=pair.metrics,
        )

    def _decode(self, photo_id: int, max_side: int) -> np.ndarray:
        return decode(self.lib.original_path(self.lib.photo(photo_id)), max_side=max_side).rgb


def frame_renderer(
    lib: Library, plan: ExportPlan, *, heatmap: bool | None = None, full_heatmap_ids: Collection[int] = ()
) -> FrameRenderer:
    """A renderer of ``plan``'s frames fed by the measurement pipeline."""
    return FrameRenderer(
        lib, plan, PipelineFrames(lib, plan), heatmap=heatmap, full_heatmap_ids=full_heatmap_ids
    )
