"""Capture quality of a photo: is it good enough to measure, and if not, what to do about it.

``assess_quality(photo, reference)`` runs these checks, each a score, a status (pass / warn / fail
against :class:`QualityThresholds`) and one plain sentence of advice:

- ``sharpness``: estimated blur in px at ``WORK_SIDE`` (lower is sharper); with a reference, the
  blur beyond the reference's.
- ``clipping``: the worst channel's fraction of skin pixels at 250 or above (blown highlights).
- ``exposure``: fraction of skin pixels crushed to black (under-exposure).
- ``glare``: fraction of skin pixels that are specular highlights.
- ``evenness``: the lighting gradient across the frame, in stops.
- ``colour_cast`` (with a reference): ΔC*ab between the median skin chroma of photo and reference.
- ``framing`` (with a reference): the fraction of the reference the photo covers, from a fast
  low-resolution alignment; scale, rotation and tilt are judged too.
- ``chart``: whether a calibration chart (Skintrack card or ColorChecker) is in the frame. Its
  absence is a warning only when the reference had one, since a chart is optional.

Photos are downscaled first (``MID_SIDE`` for the chart search, ``WORK_SIDE`` for sharpness and
glare, ``SMALL_SIDE`` for the rest), so a 12 MP photo costs little more than a preview frame.
Pure numpy/OpenCV. Results and thresholds are in :mod:`~skintrack.core.quality_types`, the checks in
:mod:`~skintrack.core.quality_checks`, the raw measurements in :mod:`~skintrack.core.quality_measures`
and the framing match in :mod:`~skintrack.core.quality_framing`; this module runs them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from skintrack.core.quality_checks import (
    BLUR_UNIT_SIDE,
    MID_SIDE,
    SMALL_SIDE,
    WORK_SIDE,
    Prepared,
    check_cast,
    check_chart,
    check_clipping,
    check_evenness,
    check_exposure,
    check_framing,
    check_glare,
    check_sharpness,
    prepare,
)
from skintrack.core.quality_types import (
    ALGORITHM_VERSION,
    CHECK_LABELS,
    PRIORITY,
    STATUSES,
    CheckResult,
    QualityReport,
    QualityThresholds,
    worst,
)

__all__ = [
    "ALGORITHM_VERSION",
    "BLUR_UNIT_SIDE",
    "CHECK_LABELS",
    "MID_SIDE",
    "PRIORITY",
    "SMALL_SIDE",
    "STATUSES",
    "WORK_SIDE",
    "CheckResult",
    "Prepared",
    "QualityReport",
    "QualityThresholds",
    "assess_quality",
    "find_card",
    "prepare",
    "worst",
]


ChartFinder = Callable[[np.ndarray], "str | None"]


def find_card(rgb_u8: np.ndarray) -> str | None:
    """The fast chart finder: "skintrack-card" when at least 3 of the card's ArUco markers are seen."""
    from skintrack.core import card

    grey = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2GRAY)
    return "skintrack-card" if len(card.detect_markers(grey, max_side=MID_SIDE)) >= card.MIN_MARKERS else None


def assess_quality(
    photo: np.ndarray | Prepared,
    reference: np.ndarray | Prepared | None = None,
    thresholds: QualityThresholds | None = None,
    *,
    chart_finder: ChartFinder | None = find_card,
    chart: str | None = None,
) -> QualityReport:
    """All checks of ``photo`` (an sRGB image, uint8 or float 0..1) against an optional ``reference``.

    ``chart`` names a chart already found in the photo; otherwise ``chart_finder`` looks for one
    in the downscaled photo (None: do not look; the ``chart`` check then reports no chart).
    Either image may be passed already prepared (:func:`prepare`), e.g. a reference used for
    every frame of a live preview.
    """
    t = thresholds or QualityThresholds()
    p = photo if isinstance(photo, Prepared) else prepare(photo, chart)
    ref = None
    if reference is not None:
        ref = reference if isinstance(reference, Prepared) else prepare(reference)
        if not isinstance(reference, Prepared) and chart_finder is not None:
            ref.chart = chart_finder(ref.mid)
    finder = chart_finder if not isinstance(photo, Prepared) and chart is None else None

    def search_and_frame() -> CheckResult | None:
        """The two slowest parts (OpenCV, GIL released): the chart search and the framing match."""
        if finder is not None:
            p.chart = finder(p.mid)
        return check_framing(p, ref, t) if ref is not None else None

    with _second_core(search_and_frame if finder is not None or ref is not None else None) as framing:
        checks = [
            check_sharpness(p, ref, t),
            check_clipping(p, t),
            check_exposure(p, t),
            check_glare(p, t),
            check_evenness(p, t),
        ]
        if ref is not None:
            checks.append(check_cast(p, ref, t))
    if framing.result is not None:
        checks.append(framing.result)
    checks.append(check_chart(p, ref))
    return QualityReport({c.name: c for c in checks})


class _Outcome:
    result: CheckResult | None = None


_SIDE_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skintrack-quality")
_SIDE_FREE = threading.Lock()  # held while the side thread works for one assessment
_CORES = os.cpu_count() or 1


@contextlib.contextmanager
def _second_core(job: Callable[[], CheckResult | None] | None) -> Iterator[_Outcome]:
    """Run ``job`` on a second core while the body runs; its result is set on leaving.

    With one core, or while another assessment uses the side thread, ``job`` runs here after the
    body instead: the results are the same either way.
    """
    out = _Outcome()
    if job is None:
        yield out
        return
    if _CORES < 2 or not _SIDE_FREE.acquire(blocking=False):
        yield out
        out.result = job()
        return
    try:
        future = _SIDE_POOL.submit(job)
        try:
            yield out
        finally:
            out.result = future.result()  # re-raises what the job raised
    finally:
        _SIDE_FREE.release()
