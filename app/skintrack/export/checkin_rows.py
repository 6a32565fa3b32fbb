"""Check-ins in exports: which check-in a photo belongs to, which shot stands for it, its noise.

A check-in with repeat shots is one entry in a report: its measured shot (the reference in its
check-in, else the best-quality shot measured, ``library.shots.standing_shots``) with the repeat
noise of its shots when it was measured (ΔL* spread between the aligned shots, L* units).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from skintrack.library import Library
from skintrack.library.shots import standing_shots


class _HasPhoto(Protocol):
    photo_id: int


T = TypeVar("T", bound=_HasPhoto)


@dataclass(frozen=True)
class CheckinFacts:
    """What an export says about a photo's check-in."""

    checkin_id: int | None
    shots: int
    measured_shot: bool  # this photo stands for its check-in
    repeat_noise_L: float | None  # robust ΔL* spread between the check-in's shots (L*)


def checkin_facts(lib: Library, region_id: int, reference_id: int | None) -> dict[int, CheckinFacts]:
    """Photo id -> its check-in's facts, for every live photo of the region."""
    standing = standing_shots(lib, region_id, reference_id)
    noise = lib.repeat_noise_for_region(region_id)
    out: dict[int, CheckinFacts] = {}
    for checkin in lib.list_checkins(region_id):
        record = noise.get(checkin.id)
        value = None if record is None else record.metrics.get("robust_std_delta_L")
        repeat = float(value) if isinstance(value, int | float) and checkin.shots > 1 else None
        known = checkin.id if checkin.id > 0 else None  # a photo stored without a check-in row
        for photo_id in checkin.photo_ids:
            out[photo_id] = CheckinFacts(known, checkin.shots, standing.get(checkin.id) == photo_id, repeat)
    return out


def one_per_checkin(items: Sequence[T], facts: dict[int, CheckinFacts]) -> list[tuple[T, int]]:
    """``items`` (in order) with one per check-in, the measured shot's when listed, and how many
    of the check-in's shots are listed."""
    groups: dict[object, list[T]] = {}
    for item in items:
        fact = facts.get(item.photo_id)
        key = ("photo", item.photo_id) if fact is None or fact.checkin_id is None else fact.checkin_id
        groups.setdefault(key, []).append(item)
    out = []
    for members in groups.values():
        chosen = (
            next((m for m in members if facts[m.photo_id].measured_shot), None) if len(members) > 1 else None
        )
        out.append((chosen or members[0], len(members)))
    return out
