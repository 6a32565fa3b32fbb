"""CIELAB of both normalised photos, the ΔL*/Δb* maps over the compared pixels, and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from skintrack.core import colour
from skintrack.core.change.pixels import linear_to_lab32, rounded
from skintrack.core.change.scales import smooth
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
    censored: np.ndarray | None = None  # earlier photo clipped: ΔL* is an upper bound (darkening only)
    filled: np.ndarray | None = None  # under hair or ink: ΔL* of the skin around (see fill_under_lines)

    @property
    def detectable(self) -> np.ndarray:
        """Where a darkening can be shown: compared pixels, censored ones and those under lines."""
        out = self.compared
        for extra in (self.censored, self.filled):
            if extra is not None:
                out = out | extra
        return out

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


def _watch(pair: Pair, m: np.ndarray) -> np.ndarray:
    """``m`` within the overlap and the watched area, minus control patch and card."""
    out = pair.valid & m
    for keep, extra in ((True, pair.roi), (False, pair.control), (False, pair.card)):
        if extra is not None:
            out &= extra if keep else ~extra
    return out


def compared_pixels(pair: Pair, unreliable: Unreliable) -> np.ndarray:
    """Overlap ∩ watched area with a channel measured in both photos, minus control patch and card."""
    return _watch(pair, ~unreliable.excluded)


def censored_pixels(pair: Pair, unreliable: Unreliable) -> np.ndarray:
    """Watched pixels clipped (every channel) in the earlier photo only: can prove a darkening."""
    return _watch(pair, unreliable.earlier_only)


LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Y of linear sRGB (D65)


def lightness_from_channels(lin: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """L* from the usable channels only: their luminance weights renormalised to sum to 1.

    Where a channel is clipped, the other two still measure a change of lightness: the same
    channels are used in both photos, so the difference is a change of L* (for pigment, which
    lowers every channel, close to the full-channel ΔL*).
    """
    w = usable.astype(np.float32) * LUMA
    y = (np.clip(lin, 1e-5, None) * w).sum(axis=-1) / np.maximum(w.sum(axis=-1), 1e-6)
    return (116.0 * np.cbrt(np.maximum(y, 0.008856)) - 16.0).astype(np.float32)


def delta_maps(
    norm: Normalised,
    compared: np.ndarray,
    unreliable: Unreliable | None = None,
    censored: np.ndarray | None = None,
) -> DeltaMaps:
    """CIELAB (D65) of both photos and later − reference ΔL*, Δb* maps.

    Partly clipped pixels take ΔL* from their unclipped channels; censored pixels (clipped in the
    earlier photo) keep the measured ΔL*, which overstates the later lightness: a bound on darkening.
    """
    ref_lab, later_lab = both(linear_to_lab32, norm.ref, norm.later)
    raw = later_lab[..., 0] - ref_lab[..., 0]
    if unreliable is not None:
        part = unreliable.partial & compared
        if part.any():
            use = unreliable.usable[part]
            raw[part] = lightness_from_channels(norm.later[part], use) - lightness_from_channels(
                norm.ref[part], use
            )
    domain = compared if censored is None else compared | censored
    dL = np.where(domain, raw, np.nan).astype(np.float32, copy=False)
    del raw
    db = np.where(domain, later_lab[..., 2] - ref_lab[..., 2], np.nan).astype(np.float32, copy=False)
    return DeltaMaps(ref_lab, later_lab, dL, db, compared, censored)


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


def fill_under_lines(maps: DeltaMaps, lines: np.ndarray, width: float) -> DeltaMaps:
    """ΔL* and Δb* under hair and ink lines taken from the compared skin around them.

    As DullRazor inpaints the photo, the maps are inpainted: a normalised Gaussian average of the
    compared neighbours (sigma ``width``) where at least a third of the kernel is compared. The
    filled pixels can carry a patch across a hair but take no part in the noise or the means.
    """
    todo = lines & ~maps.compared
    if not todo.any():
        return maps
    dL, db = maps.dL.copy(), maps.db.copy()
    near_dl, den = smooth(maps.dL, maps.compared, width)
    ok = todo & (den >= 1.0 / 3.0)
    dL[ok] = near_dl[ok]
    db[ok] = smooth(maps.db, maps.compared, width)[0][ok]
    return DeltaMaps(maps.ref_lab, maps.later_lab, dL, db, maps.compared, maps.censored, ok)
