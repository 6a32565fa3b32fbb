"""Which shot stands for a check-in, and the region's repeat noise, from stored rows.

A check-in is measured through its best-quality shot: the best stored capture quality
(pass, then warn, then fail, then none; fewer failed and warned checks; the earliest on a tie).
The region's repeat noise is the median of its check-ins' stored repeat noise.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping

from skintrack.library.db import Library
from skintrack.library.models import CheckIn, RepeatNoiseRecord
from skintrack.library.quality_store import StoredQuality, qualities_for_region

_STATUS_RANK = {"pass": 0, "warn": 1, "fail": 2}


def _quality_key(quality: StoredQuality | None, index: int) -> tuple[float, ...]:
    if quality is None:
        return (len(_STATUS_RANK), 0.0, 0.0, index)
    statuses = [c.status for c in quality.report.checks.values()]
    return (
        float(_STATUS_RANK.get(quality.overall, len(_STATUS_RANK))),
        float(statuses.count("fail")),
        float(statuses.count("warn")),
        float(index),
    )


def ranked_shots(checkin: CheckIn, qualities: Mapping[int, StoredQuality]) -> list[int]:
    """The check-in's photo ids, best stored capture quality first (the earliest on a tie)."""
    ids = list(checkin.photo_ids)
    order = sorted(range(len(ids)), key=lambda i: _quality_key(qualities.get(ids[i]), i))
    return [ids[i] for i in order]


def shot_note(checkin: CheckIn, photo_id: int, qualities: Mapping[int, StoredQuality]) -> str:
    """Which shot stands for the check-in, in words ("best of 2 shots (quality pass)")."""
    if checkin.shots <= 1:
        return "the only shot"
    quality = qualities.get(photo_id)
    status = "no stored quality" if quality is None else f"quality {quality.overall}"
    best = ranked_shots(checkin, qualities)[0] == photo_id
    return f"{'best' if best else 'next best measured'} of {checkin.shots} shots ({status})"


def best_shot(checkin: CheckIn, qualities: Mapping[int, StoredQuality]) -> tuple[int, str]:
    """(photo id, why): the shot with the best stored capture quality, the earliest on a tie."""
    photo_id = ranked_shots(checkin, qualities)[0]
    return photo_id, shot_note(checkin, photo_id, qualities)


def measured_shots(lib: Library, region_id: int) -> dict[int, tuple[CheckIn, str]]:
    """Photo id of each check-in's best shot -> (its check-in, why that shot)."""
    qualities = qualities_for_region(lib, region_id)
    out = {}
    for checkin in lib.list_checkins(region_id):
        photo_id, why = best_shot(checkin, qualities)
        out[photo_id] = (checkin, why)
    return out


def region_repeat_noise(records: dict[int, RepeatNoiseRecord]) -> tuple[float, int] | None:
    """(median repeat noise in L*, how many check-ins) over the region's measured check-ins."""
    values = sorted(
        float(r.metrics["robust_std_delta_L"])
        for r in records.values()
        if isinstance(r.metrics.get("robust_std_delta_L"), int | float)
    )
    if not values:
        return None
    n = len(values)
    median = values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])
    return median, n


def standing_shots(lib: Library, region_id: int, reference_id: int | None) -> dict[int, int]:
    """Check-in id -> the photo that stands for it (see :func:`standing_from`), read from ``lib``."""
    measured = {m.photo_id for m in lib.measurements_for_region(region_id) if m.reference_id == reference_id}
    return standing_from(
        lib.list_checkins(region_id), qualities_for_region(lib, region_id), measured, reference_id
    )


def standing_from(
    checkins: Iterable[CheckIn],
    qualities: Mapping[int, StoredQuality],
    measured: Container[int],
    reference_id: int | None,
) -> dict[int, int]:
    """Check-in id -> the photo that stands for it: the region reference in its check-in, else
    the best-quality shot measured against the reference (the best shot before any measurement)."""
    out = {}
    for checkin in checkins:
        if reference_id in checkin.photo_ids:
            out[checkin.id] = reference_id
            continue
        ranked = ranked_shots(checkin, qualities)
        out[checkin.id] = next((pid for pid in ranked if pid in measured), ranked[0])
    return out
