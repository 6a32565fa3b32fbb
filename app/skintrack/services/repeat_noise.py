"""Repeat noise: how much repeat shots of one check-in disagree, and what follows from it.

Two or three shots of a region taken a moment apart show no real change; their ΔL* after the
same alignment and comparison as any measurement (:func:`skintrack.services.pipeline.measure_pair`)
is the repeatability of this person's camera, light and framing. Per check-in we store the robust
spread (1.4826·MAD of per-pixel ΔL* on the watched area, the whole overlap without one) and the
|mean ΔL*|. It is the same kind of difference of two photos a measurement takes, so it compares
directly with a measurement's ΔL*:

* detection: the per-pixel darkening threshold is at least ``repeat_noise_k`` × the region's
  repeat noise (median over its check-ins), stored with each measurement under ``repeat_noise``;
* the trend chart draws ±k × repeat noise as its noise band when there is one.

A check-in is measured through its best-quality shot (stored capture quality), see ``best_shot``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skintrack.core.change import ChangeSettings
from skintrack.errors import InvalidInputError, LibraryError
from skintrack.library import AlignmentRecord, CheckIn, Library, Region, RepeatNoiseRecord
from skintrack.library.settings import load_settings
from skintrack.library.shots import best_shot, measured_shots, region_repeat_noise
from skintrack.progress import CancelToken, Progress
from skintrack.services import pipeline
from skintrack.services.pipeline import Analysed

__all__ = [
    "MIN_PIXELS",
    "REPEAT_VERSION",
    "RepeatMeasurement",
    "RepeatStatistics",
    "best_shot",
    "current_region_noise",
    "measure_region",
    "measure_repeats",
    "measured_shots",
    "region_repeat_noise",
    "region_summary",
    "repeat_pair_count",
    "repeat_statistics",
    "repeat_version",
    "stale_checkins",
    "with_repeat_floor",
]

PhotoSource = Callable[[int], Analysed]  # photo id -> decoded photo (the analysis photo cache)

REPEAT_VERSION = "repeat-1"
MAD_TO_SIGMA = 1.4826  # a normal distribution's sigma per median absolute deviation
MIN_PIXELS = 200  # compared pixels (analysis resolution) a pair needs to say anything


@dataclass(frozen=True)
class RepeatStatistics:
    """ΔL* between two aligned shots: robust spread, |mean| and how many pixels (L* units)."""

    robust_std: float
    abs_mean: float
    pixels: int


def repeat_statistics(delta_l: np.ndarray) -> RepeatStatistics | None:
    """Spread and offset of the finite ΔL* values; None with fewer than MIN_PIXELS of them."""
    values = np.asarray(delta_l, np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < MIN_PIXELS:
        return None
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return RepeatStatistics(MAD_TO_SIGMA * mad, abs(float(np.mean(values))), int(values.size))


# --------------------------------------------------------------------------- measuring


def repeat_version(settings: ChangeSettings, region: Region, checkin: CheckIn) -> str:
    """What a stored repeat noise depends on: the pipeline's measurement version and the shots."""
    basis = {"measurement": pipeline.measurement_version(settings, region), "shots": list(checkin.photo_ids)}
    digest = hashlib.sha1(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:10]
    return f"{REPEAT_VERSION}/{digest}"


@dataclass
class RepeatMeasurement:
    """A check-in's repeat noise and the alignments made to measure it (for the writer to store)."""

    record: RepeatNoiseRecord
    alignments: list[AlignmentRecord] = field(default_factory=list)


def measure_repeats(
    lib: Library,
    region: Region,
    checkin: CheckIn,
    region_reference_id: int,
    settings: ChangeSettings,
    token: CancelToken | None = None,
    photos: PhotoSource | None = None,
) -> RepeatMeasurement:
    """Align each later shot onto the first with the one pipeline and measure their ΔL*.

    Reads the library only; the caller stores the record and the new alignments. ``photos``
    hands out decoded shots (the analysis passes its photo cache, so no shot is decoded twice);
    without it each shot is decoded here. A check-in none of whose pairs could be measured gets
    ``robust_std_delta_L`` None (and is not retried until its shots, areas or settings change).
    """
    decoded = photos or _decoder(lib, settings)
    first, *others = checkin.photo_ids
    areas = pipeline.region_areas(lib, region, first, region_reference_id)
    first_photo = decoded(first)
    made: list[AlignmentRecord] = []
    measured: list[RepeatStatistics] = []
    for other in others:
        stored = lib.alignment(other, first)
        reuse = pipeline.alignment_from_record(stored) if pipeline.reuse_alignment(stored) else None
        pair = pipeline.measure_pair(
            first_photo,
            decoded(other),
            alignment=reuse,
            areas=areas,
            settings=settings,
            token=token,
        )
        if reuse is None:
            made.append(pipeline.alignment_record(other, first, pair.alignment))
        if pair.change is not None:
            compared = np.asarray(pair.change.compared_small, bool)
            stats = repeat_statistics(np.asarray(pair.change.delta_L_small)[compared])
            if stats is not None:
                measured.append(stats)
    metrics: dict[str, Any] = {
        "photo_ids": list(checkin.photo_ids),
        "pairs": len(measured),
        "pairs_failed": len(others) - len(measured),
        "area": "watched area" if areas.watched else "whole overlap",
        "unit": "L*",
        "robust_std_delta_L": None,
        "abs_mean_delta_L": None,
        "compared_px": 0,
    }
    if measured:
        spread = math.sqrt(sum(s.robust_std**2 for s in measured) / len(measured))
        metrics["robust_std_delta_L"] = round(spread, 3)
        metrics["abs_mean_delta_L"] = round(sum(s.abs_mean for s in measured) / len(measured), 3)
        metrics["compared_px"] = int(sum(s.pixels for s in measured))
    record = RepeatNoiseRecord(checkin.id, metrics, repeat_version(settings, region, checkin))
    return RepeatMeasurement(record, made)


def _decoder(lib: Library, settings: ChangeSettings) -> PhotoSource:
    side = pipeline.decode_side(settings)
    return lambda photo_id: pipeline.load(lib.original_path(lib.photo(photo_id)), side, find_card=True)


def stale_checkins(
    lib: Library, region: Region, settings: ChangeSettings, *, force: bool = False
) -> list[CheckIn]:
    """The region's check-ins with several shots whose stored repeat noise is missing or stale."""
    stored = lib.repeat_noise_for_region(region.id)
    return [
        c
        for c in lib.list_checkins(region.id)
        if c.shots >= 2
        and (
            force
            or c.id not in stored
            or stored[c.id].algorithm_version != repeat_version(settings, region, c)
        )
    ]


def repeat_pair_count(checkins: list[CheckIn]) -> int:
    """How many shot pairs measuring ``checkins`` compares (the unit of its progress)."""
    return sum(c.shots - 1 for c in checkins)


def measure_region(
    lib: Library,
    region: Region,
    region_reference_id: int,
    settings: ChangeSettings,
    *,
    token: CancelToken | None = None,
    force: bool = False,
    todo: list[CheckIn] | None = None,
    photos: PhotoSource | None = None,
) -> Generator[Progress, None, None]:
    """Measure the repeat noise of ``todo`` (default: ``stale_checkins``).

    Progress counts shot pairs (``repeat_pair_count``), so a caller can join it with the pairs
    that follow into one progress. ``photos`` hands out decoded photos (the analysis's cache).
    The region's areas reach a check-in through its first shot's alignment onto the region
    reference; when that is missing it is aligned (and stored) here, and the pair is then only
    compared by the pair rounds.
    """
    todo = stale_checkins(lib, region, settings, force=force) if todo is None else todo
    decoded = photos or _decoder(lib, settings)
    total, done = repeat_pair_count(todo), 0
    for checkin in todo:
        if token is not None:
            token.raise_if_cancelled()
        done += checkin.shots - 1
        try:
            _ensure_reference_alignment(lib, checkin.photo_ids[0], region_reference_id, decoded, token)
            measured = measure_repeats(lib, region, checkin, region_reference_id, settings, token, decoded)
        except (InvalidInputError, LibraryError, OSError) as exc:
            yield Progress(done, total, f"repeat shots not measured: {exc}")
            continue
        for record in measured.alignments:
            lib.save_alignment(record)
        lib.save_repeat_noise(measured.record)
        yield Progress(done, total, "measured the repeat shots")


def _ensure_reference_alignment(
    lib: Library, photo_id: int, reference_id: int, photos: PhotoSource, token: CancelToken | None
) -> None:
    if photo_id == reference_id or pipeline.reuse_alignment(lib.alignment(photo_id, reference_id)):
        return
    ref, mov = photos(reference_id), photos(photo_id)
    alignment = pipeline.align_analysed(ref, mov, token=token)
    lib.save_alignment(pipeline.alignment_record(photo_id, reference_id, alignment))


# --------------------------------------------------------------------------- using it


def with_repeat_floor(
    settings: ChangeSettings, noise: tuple[float, int] | None
) -> tuple[ChangeSettings, dict[str, Any] | None]:
    """Settings whose darkening threshold is at least k × repeat noise, and what to store about it."""
    if noise is None:
        return settings, None
    value, checkins = noise
    k = float(settings.repeat_noise_k)
    floor = round(k * value, 1)  # to 0.1 L*: a new repeat shot does not re-measure every pair
    info = {
        "robust_std_delta_L": round(value, 3),
        "checkins": checkins,
        "k": k,
        "floor_L": floor,
        "threshold_L_setting": float(settings.threshold_L),
        "raised": floor > settings.threshold_L,
    }
    if floor <= settings.threshold_L:
        return settings, info
    maximum = dataclasses.fields(ChangeSettings)
    limit = next(f.metadata["max"] for f in maximum if f.name == "threshold_L")
    return dataclasses.replace(settings, threshold_L=min(floor, float(limit))), info


def current_region_noise(lib: Library, region_id: int) -> tuple[float, int] | None:
    """The region's repeat noise over the check-ins that still have several shots."""
    live = {c.id for c in lib.list_checkins(region_id) if c.shots >= 2}
    records = {k: v for k, v in lib.repeat_noise_for_region(region_id).items() if k in live}
    return region_repeat_noise(records)


def region_summary(lib: Library, region_id: int) -> dict[str, Any] | None:
    """The region's repeat noise and the threshold floor it sets, as the analysis applies them."""
    return with_repeat_floor(load_settings(lib), current_region_noise(lib, region_id))[1]
