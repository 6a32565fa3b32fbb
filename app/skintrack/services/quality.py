"""Capture quality and chart calibration of photo files: shared by the CLI, the import and the GUI.

Thresholds live in the library's settings (key ``SETTING_KEY``, a JSON object of
:class:`~skintrack.core.quality.QualityThresholds` fields); without a library the documented
defaults apply.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import cv2
import numpy as np

from skintrack.core import charts
from skintrack.core.images import decode
from skintrack.core.quality import (
    CHECK_LABELS,
    Prepared,
    QualityReport,
    QualityThresholds,
    assess_quality,
    find_card,
    prepare,
)
from skintrack.errors import InvalidInputError
from skintrack.library import Library, Photo
from skintrack.library.quality_store import load_quality, save_quality

log = logging.getLogger(__name__)

SETTING_KEY = "quality_thresholds"
# px: the checks work at 1024 px at most; at 960 a 12 MP JPEG (4000 or 4032 px wide) decodes at a
# quarter of its size in JPEG draft mode, several times faster than a full decode
DECODE_SIDE = 960


def thresholds_for(lib: Library | None) -> QualityThresholds:
    """The library's quality thresholds (defaults for missing keys), or the defaults."""
    if lib is None:
        return QualityThresholds()
    return QualityThresholds.from_json(lib.get_setting(SETTING_KEY))


def load_for_quality(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a photo reduced for the checks (InvalidInputError names the file when it cannot)."""
    return decode(Path(path), max_side=DECODE_SIDE).rgb


def prepare_reference(path: str | os.PathLike[str]) -> Prepared:
    """A reference photo prepared once, its chart looked for (card or ColorChecker)."""
    prepared = prepare(load_for_quality(path))
    prepared.chart = charts.chart_name(prepared.mid)
    return prepared


def assess_file(
    path: str | os.PathLike[str],
    reference: str | os.PathLike[str] | Prepared | None = None,
    thresholds: QualityThresholds | None = None,
) -> QualityReport:
    """All quality checks of one photo file, against an optional reference (file or prepared)."""
    photo = prepare(load_for_quality(path))
    photo.chart = charts.chart_name(photo.mid)  # the chart search runs at 1024 px: fast enough
    ref = prepare_reference(reference) if isinstance(reference, str | os.PathLike) else reference
    return assess_quality(photo, ref, thresholds)


def calibrate_file(path: str | os.PathLike[str]) -> charts.ChartDetection | None:
    """The colour chart in a photo file, searched and sampled at full resolution."""
    return charts.detect_chart(decode(Path(path)).rgb)


# --------------------------------------------------------------------------- library


class ReferenceCache:
    """The region's reference photo prepared once per job (import, re-check) and reused."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self._prepared: dict[int, Prepared] = {}

    def reference_for(self, photo: Photo) -> tuple[int | None, Prepared | None]:
        """(reference photo id, prepared reference) for a photo; (None, None) without one or for itself."""
        region = self.lib.region(photo.region_id)
        ref_id = region.reference_photo_id
        if ref_id is None or ref_id == photo.id:
            return None, None
        if ref_id not in self._prepared:
            self._prepared[ref_id] = prepare_reference(self.lib.original_path(self.lib.photo(ref_id)))
        return ref_id, self._prepared[ref_id]


def assess_photo(lib: Library, photo: Photo, cache: ReferenceCache | None = None) -> QualityReport:
    """Assess a library photo against its region's reference and store the result."""
    cache = cache or ReferenceCache(lib)
    thresholds = thresholds_for(lib)
    ref_id, ref = cache.reference_for(photo)
    report = assess_file(lib.original_path(photo), ref, thresholds)
    save_quality(lib, photo.id, report, thresholds, ref_id)
    return report


def capture_warnings(lib: Library, photo_id: int, reference_id: int) -> list[str]:
    """Notes for a measurement whose photo or reference failed a capture-quality check."""
    notes = []
    for pid, role in ((photo_id, "photo"), (reference_id, "reference photo")):
        stored = load_quality(lib, pid)
        if stored is None or stored.overall != "fail":
            continue
        failed = ", ".join(CHECK_LABELS.get(c.name, c.name).lower() for c in stored.report.failed())
        notes.append(f"capture quality: the {role} failed ({failed}); treat this measurement with caution")
    return notes


def store_after_import(lib: Library, photo: Photo, cache: ReferenceCache) -> tuple[str, str]:
    """Assess and store a just-imported photo: (overall status or "unknown", note for the progress).

    The import stands whatever happens here: a photo whose quality cannot be computed is imported
    without a quality row, and the note says why.
    """
    try:
        report = assess_photo(lib, photo, cache)
    except (InvalidInputError, ValueError, cv2.error) as exc:
        log.warning("capture quality of photo %s not computed: %s", photo.id, exc)
        return "unknown", f" (capture quality not checked: {exc})"
    if report.overall == "pass":
        return "pass", ""
    worst = report.problems()[0]
    return report.overall, f" ({report.overall}: {worst.advice})"


# --------------------------------------------------------------------------- live frames

FRAME_SIDE = 480  # px: preview frames are assessed at most at this size (the framing match uses 320)
CHART_SEARCH_EVERY = 3  # live frames: the chart is searched in one frame of this many


class LiveChart:
    """The chart answer for a stream of preview frames: searched in every ``every``-th frame.

    The chart search is the longest single step of a frame's checks, and a chart does not come and
    go between frames a quarter of a second apart, so the frames in between reuse the last answer;
    their ``chart`` check says so (details ``searched``: False, ``searched_frames_ago``). One
    instance per frame stream and reference; frames are assessed one at a time.
    """

    def __init__(self, every: int = CHART_SEARCH_EVERY) -> None:
        self.every = max(1, every)
        self.chart: str | None = None
        self.frames_since_search: int | None = None  # None: not searched yet

    def due(self) -> bool:
        return self.frames_since_search is None or self.frames_since_search + 1 >= self.every

    def searched(self, chart: str | None) -> None:
        self.chart, self.frames_since_search = chart, 0

    def reused(self) -> int:
        """Count one frame that reuses the answer; how many frames ago the search ran."""
        assert self.frames_since_search is not None
        self.frames_since_search += 1
        return self.frames_since_search


def assess_frame(
    rgb: np.ndarray,
    reference: Prepared | None,
    thresholds: QualityThresholds | None = None,
    live_chart: LiveChart | None = None,
) -> QualityReport:
    """Quality of a live preview frame (any size; reduced to FRAME_SIDE) against a prepared reference.

    The card is looked for (fast); a ColorChecker only when the reference shows one, since its
    search costs tens of milliseconds. The search runs on the second core beside the other checks;
    with ``live_chart`` only in the frames it says are due, the others reuse its last answer.
    """
    from skintrack.core.quality_measures import resize_long

    frame = resize_long(np.asarray(rgb), FRAME_SIDE)
    finder = (
        charts.chart_name
        if reference is not None and reference.chart not in (None, "skintrack-card")
        else find_card
    )
    if live_chart is None or live_chart.due():
        report = assess_quality(frame, reference, thresholds, chart_finder=finder)
        if live_chart is not None:
            live_chart.searched(report.checks["chart"].details.get("chart"))
        return report
    report = assess_quality(frame, reference, thresholds, chart_finder=None, chart=live_chart.chart)
    check = report.checks["chart"]
    details = {**check.details, "searched": False, "searched_frames_ago": live_chart.reused()}
    report.checks["chart"] = dataclasses.replace(check, details=details)
    return report
