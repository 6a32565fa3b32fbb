"""Where a timeline tile sits in its check-in: the shots of one check-in are drawn as one group.

The timeline lists photos (oldest first); the photos of one check-in that follow each other form
a group with one date label and one frame, and the shot that stands for the check-in (the one
measured, see ``library.shots.standing_shots``) is marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skintrack.library.models import Photo


@dataclass(frozen=True)
class ShotGroup:
    """A tile's place in its check-in: ``index`` of ``count`` shots; ``standing``: it is measured."""

    checkin_id: int | None
    index: int
    count: int
    standing: bool

    @property
    def grouped(self) -> bool:
        return self.count > 1

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def last(self) -> bool:
        return self.index == self.count - 1

    def label(self) -> str:
        """Words for the tile's place ("shot 2 of 3", "1 of 2 shots, measured")."""
        if not self.grouped:
            return ""
        text = f"shot {self.index + 1} of {self.count}"
        return text + (", the measured one" if self.standing else "")


def shot_groups(photos: Sequence[Photo], standing: Mapping[int, int]) -> list[ShotGroup]:
    """One ShotGroup per photo: runs of neighbouring photos of the same check-in form a group.

    ``standing`` maps a check-in id to the photo that stands for it.
    """
    runs: list[list[int]] = []
    for i, photo in enumerate(photos):
        if runs and photo.checkin_id is not None and photos[runs[-1][0]].checkin_id == photo.checkin_id:
            runs[-1].append(i)
        else:
            runs.append([i])
    out: list[ShotGroup | None] = [None] * len(photos)
    for run in runs:
        checkin_id = photos[run[0]].checkin_id
        best = standing.get(checkin_id) if checkin_id is not None else None
        for index, row in enumerate(run):
            out[row] = ShotGroup(checkin_id, index, len(run), len(run) > 1 and photos[row].id == best)
    return [g for g in out if g is not None]
