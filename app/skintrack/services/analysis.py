"""Align and measure: the use cases behind ``compare``, ``analyze`` and the compare window.

Each is a thin caller of :func:`skintrack.services.pipeline.measure_pair` (load, find charts,
align or reuse, rasterise the areas, compare) with the library's settings from
:mod:`skintrack.library.settings`, so a pair gives the same numbers in the CLI, the GUI and the
exports. Resolution conventions are described in the pipeline module; ``analysis_scale``
(analysis long side / original long side) is reported with every result so nobody mistakes it
for a full-resolution measurement.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from skintrack.core.align import Alignment
from skintrack.core.change import ChangeResult, ChangeSettings
from skintrack.errors import AlignmentFailedError, InvalidInputError, LibraryError
from skintrack.library.db import Library
from skintrack.library.models import MeasurementRecord, Photo, Region
from skintrack.library.settings import load_settings
from skintrack.progress import CancelToken, Progress, rescaled
from skintrack.services import pipeline, repeat_noise
from skintrack.services.pipeline import (  # re-exported: the CLI, tests and the GUI use these names
    ANALYSIS_SIDE,
    MEASURE_VERSION,
    Analysed,
    Areas,
    MeasuredPair,
    PairPlan,
    align_analysed,
    load,
    measurement_version,
    rasterise,
    to_reference_px,
)

__all__ = [
    "ANALYSIS_SIDE",
    "MEASURE_VERSION",
    "AlignedPair",
    "Analysed",
    "AnalysisReport",
    "CompareOutcome",
    "align_analysed",
    "aligned_pair",
    "analyze_region",
    "compare_files",
    "load",
    "measurement_version",
    "rasterise",
    "to_reference_px",
]


# --------------------------------------------------------------------------- data


@dataclass
class CompareOutcome:
    alignment: Alignment  # homography in full-resolution pixels
    change: ChangeResult | None  # analysis resolution, reference geometry
    analysis_scale: float = 1.0
    reference_size: tuple[int, int] = (0, 0)  # full-resolution (width, height)
    analysis_size: tuple[int, int] = (0, 0)
    reference_rgb: np.ndarray | None = field(default=None, repr=False)  # analysis resolution
    pair: MeasuredPair | None = field(default=None, repr=False)

    def full_mask(self) -> np.ndarray:
        """The darkened mask at the full reference size (uint8 0/255; 0 without a result)."""
        w, h = self.reference_size
        if self.change is None:
            return np.zeros((h, w), np.uint8)
        m = (np.asarray(self.change.mask) > 0).astype(np.uint8) * 255
        compared = self.change.compared_mask
        if np.shape(compared) == m.shape:
            m[~np.asarray(compared, bool)] = 0  # nothing outside the compared overlap
        if m.shape[:2] == (h, w):
            return m
        return cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)

    def to_json(self) -> dict[str, Any]:
        out = self.pair.metrics() if self.pair is not None else pipeline.unmeasured(self.alignment)
        refinement = (out.get("alignment") or {}).get("refinement")
        out["alignment"] = self.alignment.to_json()
        if refinement:  # the dense refinement measured with the pair belongs to its alignment
            out["alignment"]["refinement"] = refinement
        if "analysis_scale" not in out:
            out["analysis_scale"] = round(self.analysis_scale, 6)
        out["decode_scale"] = round(self.analysis_scale, 6)
        out["analysis_size"] = list(self.analysis_size)
        out["reference_size"] = list(self.reference_size)
        return out


@dataclass
class AnalysisReport:
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)


@dataclass
class AlignedPair:
    """A pair in the geometry of photo A for the compare view and exports."""

    alignment: Alignment
    reference: np.ndarray  # uint8 RGB
    later_warped: np.ndarray  # uint8 RGB in reference geometry
    later_normalised: np.ndarray  # lighting-normalised when change offers it, else = later_warped
    valid: np.ndarray  # bool
    change: ChangeResult | None
    analysis_scale: float = 1.0
    metrics: dict[str, Any] | None = None  # as ``analyze`` stores them (reference px)
    normalised: bool = False  # later_normalised really is normalised


# --------------------------------------------------------------------------- compare two files


def compare_files(
    reference_path: str | Path,
    later_path: str | Path,
    *,
    roi: np.ndarray | None = None,
    control: np.ndarray | None = None,
    settings: ChangeSettings | None = None,
    exclude: np.ndarray | None = None,
    token: CancelToken | None = None,
    use_card: bool = True,
) -> CompareOutcome:
    """Align LATER onto REFERENCE and measure the change (masks in full reference pixels).

    Returns an outcome with ``change=None`` when no trustworthy alignment exists (the caller
    decides: the CLI exits 3). Raises InvalidInputError for unusable files.
    """
    areas = Areas(watched_mask=roi, control_mask=control, exclude=exclude)
    pair = pipeline.measure_pair(
        reference_path, later_path, areas=areas, settings=settings, token=token, use_card=use_card
    )
    ref = pair.reference
    return CompareOutcome(
        pair.alignment,
        pair.change,
        ref.analysis_scale,
        ref.full_size,
        ref.analysis_size,
        reference_rgb=ref.rgb,
        pair=pair,
    )


# --------------------------------------------------------------------------- a region


ANALYSIS_THREADS = max(1, min(2, os.cpu_count() or 1))  # OpenCV and numpy release the GIL


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    photo: Analysed | None = None


class PhotoCache:
    """Decoded photos (and their charts) of one run, shared by the analysis threads.

    Each photo is decoded and its chart detected once, under its own lock; the region reference
    stays, other photos rotate out once ``size`` are held.
    """

    def __init__(self, lib: Library, photos: Sequence[Photo], keep_id: int, side: int | None, size: int = 3):
        self.lib = lib
        self.by_id = {p.id: p for p in photos}
        self.keep_id = keep_id
        self.side = side
        self.size = size
        self._lock = threading.Lock()
        self._slots: dict[int, _Slot] = {}

    def get(self, photo_id: int) -> Analysed:
        with self._lock:
            slot = self._slots.get(photo_id)
            if slot is None:
                while len(self._slots) >= self.size and any(k != self.keep_id for k in self._slots):
                    del self._slots[next(k for k in self._slots if k != self.keep_id)]
                slot = self._slots[photo_id] = _Slot()
        with slot.lock:
            if slot.photo is None:
                path = self.lib.original_path(self.by_id[photo_id])
                slot.photo = pipeline.load(path, self.side, find_card=True)
            return slot.photo


@dataclass
class _Outcome:
    item: PairPlan
    pair: MeasuredPair | None
    reused: bool  # the stored alignment was used (nothing to store)
    error: str | None = None


def _region_reference(region: Region, photos: list[Photo]) -> Photo | None:
    ids = {p.id: p for p in photos}
    if region.reference_photo_id in ids:
        return ids[region.reference_photo_id]
    return photos[0] if photos else None


def analyze_region(
    lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False
) -> Generator[Progress, None, AnalysisReport]:
    """Align and measure every photo of a region; yields Progress, returns an AnalysisReport.

    The pairs and what is stale come from ``pipeline.plan_pairs``; up-to-date rows are skipped
    unless ``force``; a manual alignment is reused and never overwritten. Pairs are measured on
    ANALYSIS_THREADS threads; this generator is the one writer, and reports each finished pair.
    Pairs against the previous photo come second: their areas are carried over through the
    alignments onto the region reference, which the first round stores. The repeat shots of each
    check-in are measured first (``services.repeat_noise``), so every pair is measured once with
    a darkening threshold of at least ``repeat_noise_k`` × the region's repeat noise. Both
    phases share one photo cache and one progress (shot pairs, then pairs, in one count).
    """
    region = lib.region(region_id)
    photos = list(lib.list_photos(region_id))
    report = AnalysisReport()
    ref_photo = _region_reference(region, photos)
    if ref_photo is None or len(photos) < 2:
        yield Progress(0, 0, "nothing to analyse")
        return report
    base = load_settings(lib)
    cache = PhotoCache(lib, photos, ref_photo.id, pipeline.decode_side(base), size=2 * ANALYSIS_THREADS + 1)
    repeats = repeat_noise.stale_checkins(lib, region, base, force=force)
    repeat_units = repeat_noise.repeat_pair_count(repeats)
    units = repeat_units + len(pipeline.pair_list(photos, ref_photo.id))
    yield from rescaled(
        repeat_noise.measure_region(
            lib, region, ref_photo.id, base, token=token, todo=repeats, photos=cache.get
        ),
        0,
        repeat_units,
        units,
    )
    floor = repeat_noise.with_repeat_floor(base, repeat_noise.current_region_noise(lib, region_id))
    outcomes: dict[tuple[int, int], str | None] = {}  # pair -> None when measured, else why not
    pairs = _analyse_pairs(lib, region, photos, ref_photo, floor, token, force, outcomes, cache)
    total = yield from rescaled(pairs, repeat_units, units - repeat_units, units)
    report.analysed = sum(1 for why in outcomes.values() if why is None)
    report.failed = len(outcomes) - report.analysed
    report.skipped = total - len(outcomes)
    report.messages = [why for why in outcomes.values() if why is not None]
    return report


def _analyse_pairs(
    lib: Library,
    region: Region,
    photos: list[Photo],
    ref_photo: Photo,
    floor: tuple[ChangeSettings, dict[str, Any] | None],
    token: CancelToken | None,
    force: bool,
    outcomes: dict[tuple[int, int], str | None],
    cache: PhotoCache,
) -> Generator[Progress, None, int]:
    """Measure the stale pairs with ``floor``'s settings; records each in ``outcomes``; returns
    how many pairs the region has."""
    settings, repeat = floor
    version = measurement_version(settings, region)  # covers a threshold raised by repeat noise
    plan = pipeline.plan_pairs(
        photos,
        ref_photo.id,
        alignment_of=lib.alignment,
        measurement_of=lib.measurement,
        version=version,
        force=force,
    )
    stale = [item for item in plan if item.stale]
    skipped = len(plan) - len(stale)
    todo = f"analysing {len(stale)} of {len(plan)} pairs" if stale else f"all {len(plan)} pairs up to date"
    yield Progress(skipped, len(plan), todo)
    job = functools.partial(_measure_planned, lib, region, ref_photo.id, cache, settings, token)
    rounds = (
        [i for i in stale if i.reference_id == ref_photo.id],
        [i for i in stale if i.reference_id != ref_photo.id],
    )
    done = skipped
    for items in rounds:
        for outcome in _in_parallel(job, items, token):
            message = _store(lib, outcome, version, repeat)
            item = outcome.item
            outcomes[(item.photo_id, item.reference_id)] = (
                None if message is None else f"{item.label}: {message}"
            )
            done += 1
            yield Progress(done, len(plan), f"analysed {item.label}")
    yield Progress(len(plan), len(plan), "analysis complete")
    return len(plan)


def _in_parallel(
    job: Callable[[PairPlan], _Outcome], items: Sequence[PairPlan], token: CancelToken | None
) -> Iterator[_Outcome]:
    """``job`` over ``items`` on ANALYSIS_THREADS threads, in the order they finish (bounded)."""
    if not items:
        return
    queue = iter(items)
    pending: set[Future[_Outcome]] = set()
    with ThreadPoolExecutor(max_workers=ANALYSIS_THREADS, thread_name_prefix="skintrack-analysis") as pool:
        try:
            while True:
                for item in itertools.islice(queue, ANALYSIS_THREADS - len(pending)):
                    if token is not None:
                        token.raise_if_cancelled()
                    pending.add(pool.submit(job, item))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()  # re-raises Cancelled or a failure
        finally:
            for fut in pending:
                fut.cancel()


def _measure_planned(
    lib: Library,
    region: Region,
    region_ref_id: int,
    cache: PhotoCache,
    settings: ChangeSettings,
    token: CancelToken | None,
    item: PairPlan,
) -> _Outcome:
    """Measure one planned pair (on an analysis thread: reads the library, never writes)."""
    try:
        ref, mov = cache.get(item.reference_id), cache.get(item.photo_id)
    except (InvalidInputError, LibraryError, OSError) as exc:  # an unreadable original: keep going
        return _Outcome(item, None, False, str(exc))
    stored = None
    if item.reuse_alignment:
        stored = pipeline.alignment_from_record(lib.alignment(item.photo_id, item.reference_id))
    areas = pipeline.region_areas(lib, region, item.reference_id, region_ref_id)
    pair = pipeline.measure_pair(ref, mov, alignment=stored, areas=areas, settings=settings, token=token)
    return _Outcome(item, pair, stored is not None)


def _store(lib: Library, outcome: _Outcome, version: str, repeat: dict[str, Any] | None = None) -> str | None:
    """Write one pair's alignment and measurement; None when measured, else why not.

    ``repeat`` (the region's repeat noise and the threshold floor it set) is stored with it."""
    item, pair = outcome.item, outcome.pair
    if pair is None:
        return outcome.error or "could not be read"
    if not outcome.reused:
        lib.save_alignment(pipeline.alignment_record(item.photo_id, item.reference_id, pair.alignment))
    if not pair.ok:
        if lib.measurement(item.photo_id, item.reference_id) is not None:
            # an older measurement must not outlive the alignment it relied on
            lib.save_measurement(
                MeasurementRecord(item.photo_id, item.reference_id, "none", pair.metrics(), version)
            )
        return pair.alignment.message or "no trustworthy alignment"
    from skintrack.services.quality import capture_warnings  # stored photos only: compare skips it

    metrics = pair.metrics()
    metrics["notes"] = list(metrics.get("notes") or []) + capture_warnings(
        lib, item.photo_id, item.reference_id
    )
    if repeat is not None:
        metrics["repeat_noise"] = repeat
    if repeat is not None and repeat["raised"]:
        metrics["notes"].append(
            f"the darkening threshold was raised to {repeat['floor_L']:.1f} L*: "
            f"{repeat['k']:g} × the repeat-shot noise of this set-up ({repeat['robust_std_delta_L']:.2f} L*)"
        )
    record = MeasurementRecord(item.photo_id, item.reference_id, pair.calibration, metrics, version)
    lib.save_measurement(record)
    return None


# --------------------------------------------------------------------------- the compare view


def _shrink(img: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == size:
        return img
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(img, size, interpolation=interp)


def _uint8(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def _pair_alignment(lib: Library, photo_a_id: int, photo_b_id: int) -> Alignment | None:
    """The stored alignment of B onto A when the reuse rule allows it (identity for one photo)."""
    if photo_a_id == photo_b_id:
        return Alignment(True, np.eye(3), 1.0, "none", 0, "same photo")
    rec = lib.alignment(photo_b_id, photo_a_id)
    return pipeline.alignment_from_record(rec) if pipeline.reuse_alignment(rec) else None


def aligned_pair(
    lib: Library,
    region_id: int,
    photo_a_id: int,
    photo_b_id: int,
    max_side: int | None = None,
    *,
    pixels_only: bool = False,
) -> AlignedPair:
    """Photo B aligned onto photo A (A's geometry) with its change; raises AlignmentFailedError.

    Measured exactly as ``analyze`` measures (analysis resolution, the library's settings, the
    region's areas, both photos' charts); ``max_side`` only shrinks the returned pictures. Uses
    the stored alignment under the reuse rule; otherwise aligns now and stores it.
    ``pixels_only``: the pictures are all the caller needs (it shows a stored measurement), so
    the pair is normalised at ``max_side`` and comes without ``change`` and ``metrics``.
    """
    region = lib.region(region_id)
    settings = load_settings(lib)
    if pixels_only and max_side and max_side < (settings.analysis_side or max_side + 1):
        settings = dataclasses.replace(settings, analysis_side=int(max_side))
    path_a = lib.original_path(lib.photo(photo_a_id))
    a: Analysed | Path = path_a
    b: Analysed | Path = lib.original_path(lib.photo(photo_b_id))
    if photo_a_id == photo_b_id:
        a = b = load(path_a, pipeline.decode_side(settings))
    stored = _pair_alignment(lib, photo_a_id, photo_b_id)
    ref_photo = _region_reference(region, list(lib.list_photos(region_id)))
    areas = pipeline.region_areas(lib, region, photo_a_id, ref_photo.id if ref_photo else photo_a_id)
    pair = pipeline.measure_pair(a, b, alignment=stored, areas=areas, settings=settings)
    ref = pair.reference
    if stored is None:
        lib.save_alignment(pipeline.alignment_record(photo_b_id, photo_a_id, pair.alignment))
    if pair.change is None or pair.later_warped is None or pair.valid is None:
        raise AlignmentFailedError(pair.alignment.message or "no trustworthy alignment")
    result = pair.change
    normalised = result.later_normalised
    later = pair.later_warped if normalised is None else _uint8(normalised)
    w, h = ref.analysis_size
    f = min(1.0, max_side / max(w, h)) if max_side else 1.0
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return AlignedPair(
        pair.alignment,
        _shrink(ref.rgb, size),
        _shrink(pair.later_warped, size),
        _shrink(later, size),
        _shrink(pair.valid.astype(np.uint8), size, nearest=True) > 0,
        None if pixels_only else result,
        ref.analysis_scale * size[0] / w,
        metrics=None if pixels_only else pair.metrics(),
        normalised=normalised is not None,
    )
