"""CIELAB of both normalised photos, the ΔL*/Δb* maps over the compared pixels, and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from skintrack.core import colour
from skintrack.core.change.pixels import rounded
from skintrack.core.parallel import both

if TYPE_CHECKING:
    from skintrack.core.change.calibration import Normalised
    from skintrack.core.change.prepare import Geometry, Pair, Unreliable

MAX_STAT_SAMPLES = 400_000  # summary statistics use an even subsample of the compared pixels
MAX_E2000_SAMPLES = 100_000


@dataclass
class DeltaMaps:
    """Lab of both photos and ΔL*, Δb* (float32, analysis size, NaN outside ``compared``)."""

    ref_lab: np.ndarray
    later_lab: np.ndarray
    dL: np.ndarray
    db: np.ndarray
    compared: np.ndarray

    @property
    def n_compared(self) -> int:
        return int(self.compared.sum())

    def sample(self) -> np.ndarray:
        """Flat indices of an even subsample (<= MAX_STAT_SAMPLES) of the compared pixels."""
        cidx = np.flatnonzero(self.compared.ravel())
        return cidx[:: max(1, len(cidx) // MAX_STAT_SAMPLES)]


@dataclass
class MeanChange:
    """Mean changes over the compared pixels and both photos' mean Lab (None when nothing compared)."""

    L: float | None = None
    a: float | None = None
    b: float | None = None
    ita: float | None = None
    e2000: float | None = None
    ref_lab: np.ndarray | None = None
    later_lab: np.ndarray | None = None


def compared_pixels(pair: Pair, unreliable: Unreliable) -> np.ndarray:
    """Overlap ∩ watched area, minus unreliable pixels, control patch and card (analysis size)."""
    compared = pair.valid & ~unreliable.excluded
    for keep, m in ((True, pair.roi), (False, pair.control), (False, pair.card)):
        if m is not None:
            compared &= m if keep else ~m
    return compared


def delta_maps(norm: Normalised, compared: np.ndarray) -> DeltaMaps:
    """CIELAB (D65) of both photos and later − reference ΔL*, Δb* maps."""
    ref_lab, later_lab = both(
        lambda lin: colour.linear_to_lab(np.clip(lin, 1e-5, None)), norm.ref, norm.later
    )
    dL = np.where(compared, later_lab[..., 0] - ref_lab[..., 0], np.nan).astype(np.float32)
    db = np.where(compared, later_lab[..., 2] - ref_lab[..., 2], np.nan).astype(np.float32)
    return DeltaMaps(ref_lab, later_lab, dL, db, compared)


def mean_change(maps: DeltaMaps, sidx: np.ndarray) -> MeanChange:
    """Mean ΔL*, Δa*, Δb*, ΔITA° and ΔE00 over the sampled compared pixels ``sidx``."""
    rl = maps.ref_lab.reshape(-1, 3)[sidx]
    ll = maps.later_lab.reshape(-1, 3)[sidx]
    d_ita = colour.ita(ll[:, 0], ll[:, 2]) - colour.ita(rl[:, 0], rl[:, 2])
    e_idx = sidx[:: max(1, len(sidx) // MAX_E2000_SAMPLES)]
    e = colour.delta_e2000(maps.ref_lab.reshape(-1, 3)[e_idx], maps.later_lab.reshape(-1, 3)[e_idx])
    return MeanChange(
        L=float(np.mean(maps.dL.ravel()[sidx])),
        a=float(np.mean(ll[:, 1] - rl[:, 1])),
        b=float(np.mean(ll[:, 2] - rl[:, 2])),
        ita=float(np.mean(d_ita)),
        e2000=float(np.mean(e)),
        ref_lab=rl.mean(axis=0).astype(np.float64),
        later_lab=ll.mean(axis=0).astype(np.float64),
    )


def control_summary(
    maps: DeltaMaps, norm: Normalised, ctrl: np.ndarray | None, geo: Geometry
) -> dict[str, Any] | None:
    """The control patch's own change (it should be ~0 with calibration 'control') and gains."""
    if ctrl is None or not ctrl.any():
        return None
    ctl_dL = maps.later_lab[..., 0][ctrl] - maps.ref_lab[..., 0][ctrl]
    ctl_db = maps.later_lab[..., 2][ctrl] - maps.ref_lab[..., 2][ctrl]
    return {
        "mean_delta_L": rounded(float(np.mean(ctl_dL))),
        "mean_delta_b": rounded(float(np.mean(ctl_db))),
        "area_px": rounded(float(ctrl.sum()) * geo.area_scale, 1),
        "gains": [rounded(float(g), 4) for g in norm.gains] if norm.method == "control" else None,
    }
