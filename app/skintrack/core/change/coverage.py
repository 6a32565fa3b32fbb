"""Coverage: which part of the watched area was compared, and why the rest was left out.

Every result carries it (DESIGN.md): ``compared_fraction`` of the watched area (the ROI, or the whole
reference frame), ``excluded`` {cause: fraction of the watched area} and, when under half could be
compared, a plain warning that says so instead of letting "no change" stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from skintrack.core.change.prepare import any3

if TYPE_CHECKING:
    from skintrack.core.change.prepare import Pair, Unreliable

MIN_COMPARED_FRACTION = 0.5  # below this a warning replaces any "no change" reading
# cause key -> (code in the cause map, why, in a warning's words)
CAUSES: dict[str, tuple[int, str]] = {
    "outside_overlap": (1, "most of it lies outside the part both photos show"),
    "card": (2, "the calibration card covers it"),
    "control": (3, "the control patch covers it"),
    "specular": (4, "specular reflections cover it"),
    "thin_structures": (5, "hair or other thin dark structures cover it"),
    "clipped_earlier": (6, "the earlier photo is overexposed"),
    "clipped_later": (7, "the later photo is overexposed"),
    "clipped_both": (8, "both photos are overexposed"),
}


@dataclass
class Coverage:
    """``fraction`` compared, ``excluded`` by cause (fractions of the watched area), ``causes`` map."""

    fraction: float
    excluded: dict[str, float]
    causes: np.ndarray  # uint8, analysis size: 0 compared or not watched, else a CAUSES code
    watched_px: int

    def warnings(self) -> list[str]:
        """A sentence when under ``MIN_COMPARED_FRACTION`` of the watched area could be compared."""
        if self.watched_px == 0:
            return ["the watched area lies outside the photos"]
        if self.fraction >= MIN_COMPARED_FRACTION or not self.excluded:
            return []
        top = max(self.excluded, key=lambda k: self.excluded[k])
        pct = 100.0 * self.fraction
        amount = f"{pct:.0f} %" if pct >= 1 else f"{pct:.1f} %"
        return [f"only {amount} of the area could be measured: {CAUSES[top][1]}"]


def coverage(
    pair: Pair, unreliable: Unreliable, compared: np.ndarray, censored: np.ndarray | None, flagged: np.ndarray
) -> Coverage:
    """Compared share of the watched area and a cause for every watched pixel left out.

    Censored pixels (clipped in the earlier photo) count as compared where they proved a darkening
    (``flagged``), else as "clipped_earlier". Causes are assigned in the order of CAUSES.
    """
    watched = pair.roi if pair.roi is not None else np.ones(compared.shape, bool)
    done = compared | (flagged & censored) if censored is not None else compared
    left = watched & ~done
    ref_any = any3(unreliable.ref_clipped)
    later_any = any3(unreliable.later_clipped)
    masks = {
        "outside_overlap": ~pair.valid,
        "card": pair.card,
        "control": pair.control,
        "specular": unreliable.specular,
        "thin_structures": unreliable.thin,
        "clipped_earlier": ref_any & ~later_any,
        "clipped_later": later_any & ~ref_any,
        "clipped_both": ref_any & later_any,
    }
    causes = np.zeros(compared.shape, np.uint8)
    rest = left.copy()
    n_watched = int(watched.sum())
    excluded: dict[str, float] = {}
    for key, m in masks.items():
        if m is None:
            continue
        hit = rest & m
        n = int(hit.sum())
        if n:
            causes[hit] = CAUSES[key][0]
            excluded[key] = n / max(1, n_watched)
            rest &= ~hit
    if rest.any():  # nothing above explains it: the overlap's eroded rim
        causes[rest] = CAUSES["outside_overlap"][0]
        excluded["outside_overlap"] = excluded.get("outside_overlap", 0.0) + int(rest.sum()) / max(
            1, n_watched
        )
    fraction = int((watched & done).sum()) / n_watched if n_watched else 0.0
    return Coverage(fraction, excluded, causes, n_watched)
