"""A faint change on the rim of a pigmented spot is judged with the whole spot.

A spot's rim is where the lightness falls steeply from skin to pigment: a different tone curve,
contrast, focus or a fraction of a pixel of misregistration each shift it by a little L*, on one
side of the spot or all round. So a faint (size-aware) region that lies mostly on a spot that both
photos show counts only when the spot as a whole, rim included, darkened too: a spot darkening
all over passes, a crescent on one side of an unchanged spot does not. A faint region in the
spot's deep inside (far from the steep rim) is measured as on plain skin. A strong change (above the
per-pixel threshold: a growth ring) is never judged this way.

A region of any strength lying almost wholly on pigment that was already there, and darker in
proportion to how dark that pigment was, is the photos' contrast, not the skin: local contrast
(a phone's "clarity", sharpening, another exposure) multiplies every spot's difference from the
skin, while new pigment (a growth ring, a patch darkening) adds darkness where it lies, whatever
was there before.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from skintrack.core.change.detection import Region
from skintrack.core.change.maps import DeltaMaps
from skintrack.core.change.settings import ChangeSettings

_K5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
SPOT_CONTRAST_L = ChangeSettings().spot_contrast_L  # L* below the skin's median in both photos
RIM_SHARE = 0.25  # the rim reaches this share of the spot's equivalent radius beyond it (>= 3 px)
ON_SPOT = 0.5  # share of a faint region on a spot (rim included) that makes the spot its judge
SPOT_SHARE = 0.5  # the whole spot's mean ΔL* must reach this share of the region's
DEEP = 0.5  # the spot's deep inside: darker than the skin by this share of the spot's depth
ON_PIGMENT = 0.25  # share of a region on pigment already there (contrast_L darker than the skin)
FOLLOWS_PIGMENT = 0.5  # correlation of ΔL* with the pigment's depth that makes it a contrast change
EXPLAINED = 2.0 / 3.0  # ... when the part in proportion to the depth is this share of the darkening
ENCLOSED_SHARE = 0.1  # a closed band's inside is at least this share of the band and its inside
ENCIRCLED_CONTRAST = 0.5  # ... and, to be a spot's growth, this share of contrast_L darker than the skin


def spot_extents(maps: DeltaMaps, min_area: float, contrast_L: float = SPOT_CONTRAST_L) -> np.ndarray:
    """(H, W) int32 labels: each spot both photos show (``contrast_L`` darker than the median skin),
    dilated over its rim (0: no spot)."""
    ref_l, later_l = maps.ref_lab[..., 0], maps.later_lab[..., 0]
    seen = maps.compared
    if not seen.any():
        return np.zeros(seen.shape, np.int32)
    core = (ref_l < float(np.median(ref_l[seen])) - contrast_L) & (
        later_l < float(np.median(later_l[seen])) - contrast_L
    )
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    out = np.zeros(seen.shape, np.int32)
    h, w = seen.shape
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1:  # each spot in its window
        area = int(stats[i, cv2.CC_STAT_AREA])
        r = max(3, round(RIM_SHARE * math.sqrt(area / math.pi)))
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        win = (slice(max(0, y - r), min(h, y + bh + r)), slice(max(0, x - r), min(w, x + bw + r)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        grown = cv2.dilate((labels[win] == i).astype(np.uint8), kernel) > 0
        free = out[win] == 0
        out[win][grown & free] = i
    return out


def judged_by_spot(region: Region, maps: DeltaMaps, spots: np.ndarray) -> bool:
    """True when the faint ``region`` lies on a spot's rim (not its deep inside, where a faint
    patch is measured as anywhere) and the spot's whole extent did not darken with it."""
    on = spots[region.win][region.sel]
    if not on.size or float(np.mean(on > 0)) < ON_SPOT:
        return False
    label = int(np.bincount(on[on > 0]).argmax())
    extent = spots == label
    ref_l = maps.ref_lab[..., 0]
    seen = maps.compared
    skin = (
        float(np.median(ref_l[seen & ~extent])) if (seen & ~extent).any() else float(np.median(ref_l[seen]))
    )
    depth = skin - float(np.percentile(ref_l[extent], 5))
    deep = ref_l[region.win][region.sel] < skin - DEEP * depth
    if float(np.mean(deep)) >= 0.5:
        return False
    region_dl = float(np.nanmean(maps.dL[region.win][region.sel]))
    spot_dl = maps.dL[extent]
    spot_dl = spot_dl[np.isfinite(spot_dl)]
    if not spot_dl.size or region_dl >= 0:
        return False
    return float(spot_dl.mean()) > SPOT_SHARE * region_dl


def skin_around(region: Region, maps: DeltaMaps) -> float | None:
    """The reference's median L* of the compared skin in a window three times the region's size
    (None when nothing there was compared): the frame's own shading (one side of a limb darker)
    must not make every band in the shade look like pigment."""
    rows, cols = region.win
    ph, pw = rows.stop - rows.start, cols.stop - cols.start
    around = (slice(max(0, rows.start - ph), rows.stop + ph), slice(max(0, cols.start - pw), cols.stop + pw))
    local = maps.ref_lab[..., 0][around][maps.compared[around]]
    return float(np.median(local)) if len(local) else None


def contrast_of_pigment(region: Region, maps: DeltaMaps, contrast_L: float = SPOT_CONTRAST_L) -> bool:
    """True when ``region`` darkened only on pigment the reference already shows, and in proportion
    to that pigment's depth: a difference of contrast between the photos, not a change of the skin.

    The skin is the median reference L* over a window three times the region's size (as for a
    growth ring's rim). On the region's pigment (``contrast_L`` darker than that skin, at least
    ON_PIGMENT of the region: smoothing spreads a thin line's change onto the skin beside it), a contrast
    change makes ΔL* follow the depth (correlation >= FOLLOWS_PIGMENT, darker where darker), and
    the part in proportion to the depth (a line fitted to ΔL* against depth) is most of the
    darkening (EXPLAINED). A patch or a spot darkening adds about the same ΔL* at every depth (a
    large offset, even when a tone curve left some contrast on top), and a growth ring darkens
    the spot's edge more than its inside (a correlation near zero or below).
    """
    skin = skin_around(region, maps)
    if skin is None:
        return False
    depth = maps.ref_lab[..., 0][region.win][region.sel] - skin
    dl = maps.dL[region.win][region.sel]
    finite = np.isfinite(dl)
    pigment = finite & (depth <= -contrast_L)
    if not finite.any() or float(pigment.sum()) < ON_PIGMENT * float(finite.sum()) or pigment.sum() < 10:
        return False
    d, change = depth[pigment].astype(np.float64), dl[pigment].astype(np.float64)
    if float(d.std()) < 1e-6 or float(change.std()) < 1e-6 or float(change.mean()) >= 0:
        return False
    if float(np.corrcoef(d, change)[0, 1]) < FOLLOWS_PIGMENT:
        return False
    slope, _offset = np.polyfit(d, change, 1)  # ΔL* = offset + slope · depth
    return float(slope * d.mean()) <= EXPLAINED * float(change.mean())


def encircles_a_spot(
    region: Region, maps: DeltaMaps, contrast_L: float = SPOT_CONTRAST_L, lines: np.ndarray | None = None
) -> bool:
    """True when ``region`` is a closed band around pigment the reference already shows: a spot
    growing all round. A hair, an ink stroke or a misregistered edge makes an open line or a
    crescent; only a ring closes on itself. Closure is the strong cue, so the inside need only be
    ENCIRCLED_CONTRAST of ``contrast_L`` darker than the skin around (its median), where a band
    that merely hugs a spot's rim needs the full contrast. Hair and ink (``lines``) inside are not
    pigment.
    """
    band = cv2.morphologyEx(region.sel.astype(np.uint8), cv2.MORPH_CLOSE, _K5)
    padded = np.pad(band, 1)
    outside = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(padded, outside, (0, 0), 1)
    inside = (padded == 0)[1:-1, 1:-1] & maps.compared[region.win]
    if lines is not None:
        inside &= ~lines[region.win]
    n_inside = int(inside.sum())
    if n_inside < 10 or n_inside < ENCLOSED_SHARE * (n_inside + int(region.sel.sum())):
        return False
    skin = skin_around(region, maps)
    if skin is None:
        return False
    inner = float(np.median(maps.ref_lab[..., 0][region.win][inside]))
    return inner <= skin - ENCIRCLED_CONTRAST * contrast_L
